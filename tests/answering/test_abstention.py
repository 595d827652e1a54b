import json

import numpy as np
import pytest

from assistant.abstention import SIGNALS, ScopeModel, auroc, fit_logistic, signals
from assistant.cli import main
from assistant.evaluation import ScopeRow, load_benchmark, score_scope
from tests.support.paths import DATA

SCOPE = DATA / "beir-scope"


def _model(threshold=0.5, margin=0.1):
    # Confidence = sigmoid(cov_top - 0.5) / 0.1 scale: 0.5 at cov_top 0.5.
    return ScopeModel(["cov_top"], [0.5], [0.1], [1.0], 0.0, threshold, margin)


def test_auroc_counts_pairs_and_ties():
    assert auroc(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 1, 0, 0])) == 1.0
    assert auroc(np.array([0.1, 0.2, 0.9, 0.8]), np.array([1, 1, 0, 0])) == 0.0
    assert auroc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5
    assert auroc(np.array([0.9, 0.3, 0.5]), np.array([1, 1, 0])) == pytest.approx(0.5)


def test_logistic_fit_finds_the_direction_that_separates():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.2 * rng.normal(size=400) > 0).astype(float)
    weights, _ = fit_logistic(x, y, l2=1.0)
    assert weights[0] > 2.0 and abs(weights[1]) < 0.5 * weights[0]


def test_confidence_is_monotone_and_bounded():
    model = _model()
    values = [model.confidence({"cov_top": v}) for v in (0.0, 0.4, 0.5, 0.6, 1.0)]
    assert values == sorted(values) and 0.0 < values[0] < values[-1] < 1.0
    assert values[2] == pytest.approx(0.5)
    again = ScopeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.confidence({"cov_top": 0.6}) == pytest.approx(values[3])


def test_shipped_parameters_name_known_signals():
    model = ScopeModel.load("e5-small")
    assert set(model.features) <= set(SIGNALS)
    assert len(model.weights) == len(model.features) == len(model.mean) == len(model.scale)
    assert 0.0 < model.min_confidence < 1.0
    # A model without parameters of its own falls back to these.
    assert ScopeModel.load("st:some/model").features == model.features


def test_decision_abstains_below_the_threshold_and_flags_the_margin(fake_assistant):
    retriever = fake_assistant.live.retriever
    analysis = retriever.analyse("数据安全")
    result = retriever.search("数据安全", k=10, analysis=analysis)
    values = signals(analysis, result, retriever)
    assert set(values) == set(SIGNALS)
    assert all(np.isfinite(v) for v in values.values())
    model = ScopeModel(["cov_top"], [0.0], [1.0], [1.0], 0.0, 0.5, 0.1)
    confidence = model.confidence(values)
    assert model.decide(analysis, result, retriever, min_confidence=confidence + 0.01).abstain
    decision = model.decide(analysis, result, retriever, min_confidence=confidence - 0.05)
    assert not decision.abstain and decision.uncertain and decision.reason is None
    decision = model.decide(analysis, result, retriever, min_confidence=confidence - 0.2)
    assert not decision.abstain and not decision.uncertain


def test_a_named_clause_is_in_scope_with_full_confidence(fake_assistant):
    retriever = fake_assistant.live.retriever
    analysis = retriever.analyse("第4.5条")
    result = retriever.search("第4.5条", k=10, analysis=analysis)
    decision = _model(threshold=0.999).decide(analysis, result, retriever)
    assert not decision.abstain and decision.confidence == 1.0


@pytest.mark.parametrize(
    "templated, bare",
    [
        ("What does the guidance say about data security?", "data security"),
        ("What are the requirements for staff training?", "staff training"),
        ("指导要求对数据安全有什么规定？", "数据安全"),
        ("员工培训有什么要求", "员工培训"),
    ],
)
def test_templates_reach_the_same_decision_and_first_clause_as_the_bare_topic(fake_assistant, templated, bare):
    asked, plain = fake_assistant.ask(templated), fake_assistant.ask(bare)
    assert asked.abstained == plain.abstained
    assert asked.confidence == pytest.approx(plain.confidence)
    assert [c.id for c in asked.citations[:1]] == [c.id for c in plain.citations[:1]]


def test_answers_carry_confidence_and_the_reason_names_it(fake_assistant):
    answer = fake_assistant.ask("Who won the football world cup in 2018?")
    assert answer.abstained and "confidence" in answer.reason
    assert 0.0 <= answer.confidence < fake_assistant.min_confidence
    assert fake_assistant.ask("第4.5条").confidence == 1.0


def test_index_profile_knows_its_vocabulary_and_score_levels(fake_assistant):
    profile = fake_assistant.live.retriever.profile
    assert profile.n_docs == len(fake_assistant.live.index.passages)
    assert profile.idf_of("zzzunknownzzz") == profile.max_idf
    assert 0 < min(profile.idf.values()) < profile.max_idf
    assert set(profile.pseudo) == {c.lang for c in fake_assistant.live.index.clauses}


def test_scope_benchmarks_keep_unanswerable_queries():
    benchmark = load_benchmark(SCOPE / "corpus.jsonl", SCOPE / "queries.jsonl", SCOPE / "qrels.tsv")
    assert set(benchmark.queries) == {"q1", "q2", "q3", "q4"}
    # Unanswerable queries are kept for the scope metrics; an answerable one without judgements is not.
    assert set(benchmark.scope_queries) == {"q1", "q2", "q3", "q4", "n1", "n2", "n3"}
    assert [q for q, label in benchmark.answerable.items() if not label] == ["n1", "n2", "n3"]


def test_scope_metrics_on_known_confidences():
    rows = [ScopeRow(f"a{i}", True, [], {"cov_top": v}, False, 1.0) for i, v in enumerate((0.9, 0.8, 0.45))]
    rows += [ScopeRow(f"u{i}", False, [], {"cov_top": v}, False, 1.0) for i, v in enumerate((0.3, 0.7))]
    rows.append(ScopeRow("named", True, [], {"cov_top": 0.0}, True, 1.0))
    scope = score_scope(rows, _model())
    # The answerable (0.9, 0.8, 0.45, named = 1.0) against 0.3 and 0.7: all pairs but 0.45 < 0.7.
    assert scope["auroc"] == pytest.approx(7 / 8)
    assert scope["false_abstention"] == pytest.approx(1 / 4)  # 0.45 is below 0.5
    assert scope["correct_abstention"] == pytest.approx(1 / 2)
    assert scope["answerable"] == 4 and scope["unanswerable"] == 2


def test_each_question_language_gets_its_own_operating_point(fake_assistant):
    model = _model(threshold=0.5)
    model.min_confidence_by_lang = {"zh": 0.2, "en": 0.9}
    assert model.threshold_for("zh") == 0.2 and model.threshold_for("en") == 0.9
    assert model.threshold_for("fr") == 0.5  # a language without its own: the fallback
    again = ScopeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.min_confidence_by_lang == {"zh": 0.2, "en": 0.9}
    retriever = fake_assistant.live.retriever
    analysis = retriever.analyse("数据安全")
    result = retriever.search("数据安全", k=10, analysis=analysis)
    confidence = model.confidence(signals(analysis, result, retriever))
    model.min_confidence_by_lang["zh"] = confidence + 0.01
    assert model.decide(analysis, result, retriever).abstain
    model.min_confidence_by_lang["zh"] = confidence - 0.01
    assert not model.decide(analysis, result, retriever).abstain
    # A setting overrides every language's threshold.
    assert model.decide(analysis, result, retriever, min_confidence=confidence + 0.01).abstain
    # The eval scope metrics apply the same rule, by the question language recorded in the signals.
    rows = [ScopeRow("zh", True, [], {"cov_top": 0.55, "zh": 1.0}, False, 1.0),
            ScopeRow("en", True, [], {"cov_top": 0.55, "zh": 0.0}, False, 1.0)]
    model.min_confidence_by_lang = {"zh": 0.2, "en": 0.9}
    scope = score_scope(rows, model)
    assert scope["false_abstention"] == pytest.approx(1 / 2)
    assert scope["min_confidence"] == {"zh": 0.2, "en": 0.9}
    assert score_scope(rows, model, min_confidence=0.1)["false_abstention"] == 0.0


def test_pseudo_near_misses_mask_their_own_clause(fake_assistant):
    from assistant.abstention import pseudo_near_misses

    retriever = fake_assistant.live.retriever
    rows = pseudo_near_misses(retriever, sample=12)
    assert rows and all(set(r) == set(SIGNALS) for r in rows)
    assert all(np.isfinite(v) for r in rows for v in r.values())
    # Unmasked, a sentence asked as a question finds itself (cosine 1); masked, its best sentence
    # is another clause's (a duplicated sentence may still reach 1).
    exact = {lang: (1.0 - mean) / spread for lang, (mean, spread) in retriever.profile.pseudo.items()}
    below = [r["sim_pseudo"] < min(exact.values()) - 1e-6 for r in rows]
    assert sum(below) >= 0.8 * len(rows)


def test_the_operating_point_moves_with_the_index_near_miss_level(fake_assistant):
    model = _model(threshold=0.5)
    model.min_confidence_by_lang = {"zh": 0.2}
    model.index_threshold = {"intercept": -1.0, "slope": 0.5}
    low, high = model.threshold_for("zh", level=0.0), model.threshold_for("zh", level=2.0)
    assert low == pytest.approx(1 / (1 + np.exp(1.0))) and high == pytest.approx(0.5)
    assert model.threshold_for("zh") == 0.2  # no index to measure: the per-language point
    retriever = fake_assistant.live.retriever
    level = retriever.profile.near_miss_level(model, retriever, "zh")
    assert level is not None and np.isfinite(level)
    assert model.threshold_for("zh", retriever) == pytest.approx(model.threshold_for("zh", level=level))
    again = ScopeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.index_threshold == model.index_threshold


def test_eval_reports_scope_metrics_for_scope_sets(tmp_path, capsys):
    code = main(["eval", "--corpus", str(SCOPE / "corpus.jsonl"), "--queries", str(SCOPE / "queries.jsonl"),
                 "--qrels", str(SCOPE / "qrels.tsv"), "--embedder", "fake", "--cache-dir", str(tmp_path), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    scope = report["scope"]
    assert set(scope) >= {"auroc", "false_abstention", "correct_abstention", "recall@10"}
    assert scope["answerable"] == 4 and scope["unanswerable"] == 3
    assert 0.0 <= scope["auroc"] <= 1.0
    assert scope["recall@10"] == report["pipeline"]["recall@10"] == 1.0
    assert report["pipeline"]["queries"] == 4
