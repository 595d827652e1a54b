import json

import numpy as np
import pytest

from assistant.abstention import SIGNALS, ScopeModel, auroc, fit_logistic, signals
from assistant.cli import main
from assistant.evaluation import ScopeRow, load_benchmark, score_scope
from tests.support.paths import DATA, REPO

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


def _pseudo_near_misses_one_by_one(retriever, sample=200):
    """pseudo_near_misses as main a67bf83 wrote it, one question after another with every mask
    and vector made per question: the reference the present code must equal."""
    from dataclasses import replace

    index = retriever.index
    sentences = index.sentences
    picked = np.linspace(0, len(sentences) - 1, num=min(sample, len(sentences))).astype(np.int64)
    passage_owner = np.array([p.clause_id for p in index.passages])
    sentence_owner = np.array([s.clause_id for s in sentences])
    out = []
    for row in picked.tolist():
        sentence = sentences[row]
        text = index.clause_by_id[sentence.clause_id].text[sentence.start : sentence.end]
        analysis = retriever.analyse(text)
        result = retriever.search(text, k=20, query_vector=np.asarray(index.sentence_store.vectors(row)),
                                  analysis=analysis)
        keep_p = passage_owner != sentence.clause_id
        masked = replace(
            result,
            hits=[h for h in result.hits if h.clause.id != sentence.clause_id and h.matched_by != "number"],
            cosines=result.cosines[keep_p],
            lexical_scores=result.lexical_scores[keep_p],
            sentence_cosines=None if result.sentence_cosines is None
            else result.sentence_cosines[sentence_owner != sentence.clause_id],
        )
        if masked.hits:
            out.append(signals(analysis, masked, retriever))
    return out


def test_pseudo_near_misses_equal_the_one_by_one_reference(fake_assistant):
    from assistant.abstention import pseudo_near_misses, stored_near_misses

    retriever = fake_assistant.live.retriever
    reference = _pseudo_near_misses_one_by_one(retriever)
    langs = {retriever.index.clause_by_id[s.clause_id].lang for s in retriever.index.sentences}
    assert len(reference) > 100 and langs == {"zh", "en"}
    # What the session's build stored (through JSON, which keeps every float), to the last bit.
    assert stored_near_misses(fake_assistant.live.index) == reference
    assert pseudo_near_misses(retriever, sample=40) == _pseudo_near_misses_one_by_one(retriever, sample=40)


def test_pseudo_near_misses_run_blas_on_one_thread_whatever_the_caller_set(fake_assistant, monkeypatch):
    # Two threads gave other last bits than one (the CLI's build against the server's).
    from threadpoolctl import threadpool_info, threadpool_limits

    from assistant.abstention import pseudo_near_misses

    retriever = fake_assistant.live.retriever
    seen = []
    search = retriever.search

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return search(*args, **kwargs)

    monkeypatch.setattr(retriever, "search", recording)
    blas_threads = lambda: {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}  # noqa: E731
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        pseudo_near_misses(retriever, sample=3)
        assert blas_threads() == before  # the caller's setting is given back
    assert len(seen) == 3 and all(threads == {1} for threads in seen)


def test_the_operating_point_moves_with_the_index_near_miss_level(fake_assistant):
    model = _model(threshold=0.5)
    model.min_confidence_by_lang = {"zh": 0.2}
    model.index_threshold = {"intercept": -1.0, "slope": 0.5}
    low, high = model.threshold_for("zh", level=0.0), model.threshold_for("zh", level=2.0)
    assert low == pytest.approx(1 / (1 + np.exp(1.0))) and high == pytest.approx(0.5)
    assert model.threshold_for("zh") == 0.2  # no index to measure: the per-language point
    model.index_threshold["max_level"] = 1.0  # the highest level the line was fitted on
    capped = model.threshold_for("zh", level=2.0)
    assert capped == pytest.approx(model.threshold_for("zh", level=1.0)) and capped < high
    assert model.threshold_for("zh", level=0.0) == pytest.approx(low)  # below it the line holds
    del model.index_threshold["max_level"]
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


def test_the_pseudo_near_misses_are_stored_with_the_index_at_build(fake_assistant):
    from assistant.abstention import SCOPE_PROFILE_FILE, SIGNALS_VERSION, pseudo_near_misses, stored_near_misses

    index = fake_assistant.live.index
    assert SCOPE_PROFILE_FILE in index.manifest.files  # checksummed like every other index file
    stored = json.loads((index.root / SCOPE_PROFILE_FILE).read_text(encoding="utf-8"))
    assert stored["signals_version"] == SIGNALS_VERSION
    fresh = pseudo_near_misses(fake_assistant.live.retriever)
    assert len(stored["near_misses"]) == len(fresh) > 0
    for kept, again in zip(stored["near_misses"], fresh):
        assert kept == pytest.approx(again)
    assert stored_near_misses(index) == stored["near_misses"]


def test_the_clauses_coverage_terms_are_stored_at_build_and_equal_those_tokenised_on_first_use(
        fake_assistant, tmp_path):
    import dataclasses

    from assistant.abstention import stored_clause_terms
    from assistant.retrieval import Retriever

    index = fake_assistant.live.index
    stored = stored_clause_terms(index)
    assert len(stored) == 2 * len(index.clauses) > 0
    # A version folder without the file tokenises on first use: the same terms.
    old = dataclasses.replace(index, root=tmp_path)
    assert stored_clause_terms(old) == {}
    fresh = Retriever(old, fake_assistant.embedder, fake_assistant.live.retriever.config).profile
    for clause in index.clauses[:40]:
        assert fresh.clause_terms(clause.id) == stored["t:" + clause.id]
        assert fresh.clause_terms(clause.id, with_text=False) == stored["h:" + clause.id]
    assert fake_assistant.live.retriever.profile.clause_terms(index.clauses[0].id) == stored["t:" + index.clauses[0].id]


def test_an_index_without_a_stored_profile_computes_it_at_load(fake_assistant, tmp_path, monkeypatch):
    # Built without retrieval.index_artifacts (or before PIPELINE_VERSION 6), or by other signal code.
    import dataclasses

    from assistant import abstention
    from assistant.abstention import SCOPE_PROFILE_FILE, stored_near_misses
    from assistant.retrieval import Retriever

    old = dataclasses.replace(fake_assistant.live.index, root=tmp_path)  # a version folder without the file
    assert stored_near_misses(old) is None
    (tmp_path / SCOPE_PROFILE_FILE).write_text(json.dumps({"signals_version": "0", "near_misses": []}))
    assert stored_near_misses(old) is None  # rows of other signal code are not read
    calls = []
    real = abstention.pseudo_near_misses
    monkeypatch.setattr(abstention, "pseudo_near_misses", lambda r: calls.append(1) or real(r))
    retriever = Retriever(old, fake_assistant.embedder, fake_assistant.live.retriever.config)
    model = _model(threshold=0.5)
    model.index_threshold = {"intercept": -1.0, "slope": 0.5}
    level = retriever.profile.near_miss_level(model, retriever, "zh")
    assert calls == [1] and level is not None
    stored_level = fake_assistant.live.retriever.profile.near_miss_level(model, fake_assistant.live.retriever, "zh")
    assert level == pytest.approx(stored_level)


def test_scope_profile_json_is_read_once_per_index_load(fake_settings, built, monkeypatch):
    # Opening reads it for the clause terms and the near-miss levels of both languages, and the
    # first questions use them: one read in all.
    import pathlib
    import shutil

    from assistant import abstention
    from assistant.abstention import SCOPE_PROFILE_FILE, IndexProfile
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    shutil.copytree(built / "index", fake_settings.index_dir)
    # This load computes its own profile instead of sharing one (tests/support/profiles.py).
    monkeypatch.setattr(IndexProfile, "__init__", IndexProfile.__init__.computes)
    reads, computed = [], []
    real_read = pathlib.Path.read_text
    monkeypatch.setattr(pathlib.Path, "read_text",
                        lambda self, *a, **kw: (self.name == SCOPE_PROFILE_FILE and reads.append(self))
                        or real_read(self, *a, **kw))
    monkeypatch.setattr(abstention, "pseudo_near_misses", lambda r: computed.append(1) or [])
    assistant = Assistant(fake_settings, embedder=FakeEmbedder())
    assistant.open()
    for question in ("坐席培训有哪些要求？", "What does the guidance say about staff training?"):
        assistant.ask(question)
    # The fake embedder's fitted model has no index-moving threshold: ask for the levels the
    # e5 models' opening asks for.
    model = _model(threshold=0.5)
    model.index_threshold = {"intercept": -1.0, "slope": 0.5}
    retriever = assistant.live.retriever
    for lang in ("zh", "en"):
        model.threshold_for(lang, retriever)
    assert reads == [assistant.live.index.root / SCOPE_PROFILE_FILE]
    assert computed == []  # the stored near misses were used, not recomputed
    assert assistant.live.retriever.profile._terms  # and the stored clause terms


@pytest.mark.parametrize("question, asks", [
    ("How many days of annual leave are agents entitled to?", True),
    ("What is the average salary of an agent?", True),
    ("how long are call recordings kept", True),
    ("坐席每年有几天年假", True),
    ("平均处理时长多少秒算合格", True),
    ("What does the guidance say about data security?", False),
    ("指导要求对数据安全有什么规定？", False),
    ("数据安全", False),
])
def test_questions_asking_for_a_figure_are_recognised(question, asks):
    from assistant.abstention import asks_for_figure

    assert asks_for_figure(question) is asks


@pytest.mark.parametrize("text, has", [
    ("战略计划的周期宜为3年至5年", True), ("录音保存三个月", True), ("kept for six months", True),
    ("at least 90 % of calls", True), ("按5.4.1的规定统一管理", False), ("see 6.5.5", False), ("统一管理", False),
])
def test_figures_in_clause_text_are_found_but_clause_references_are_not(text, has):
    from assistant.abstention import _FIGURE

    assert (_FIGURE.search(text) is not None) is has


def test_figure_gap_is_set_only_when_the_best_clause_states_no_figure(fake_assistant):
    retriever = fake_assistant.live.retriever
    profile = retriever.profile
    for question in ("战略计划的周期是几年", "数据安全有什么要求"):
        analysis = retriever.analyse(question)
        result = retriever.search(question, k=10, analysis=analysis)
        values = signals(analysis, result, retriever)
        best = [h for h in result.hits if h.matched_by != "number"][0].clause
        if "几" in question:
            assert values["figure_gap"] == (0.0 if profile.clause_has_figure(best.id) else 1.0)
        else:
            assert values["figure_gap"] == 0.0  # no figure asked for
        assert 0.0 <= values["miss_top1"] <= 1.0


def test_an_operating_point_fitted_for_one_corpus_applies_to_that_corpus_only(fake_assistant):
    retriever = fake_assistant.live.retriever
    model = _model(threshold=0.5)
    model.index_threshold = {"intercept": -1.0, "slope": 0.5}
    moving = model.threshold_for("zh", retriever)
    model.corpus_thresholds = {"another corpus": {"zh": 0.9}}
    assert model.threshold_for("zh", retriever) == pytest.approx(moving)
    model.corpus_thresholds[retriever.index.manifest.corpus_fingerprint] = {"zh": 0.7}
    assert model.threshold_for("zh", retriever) == 0.7
    assert model.threshold_for("en", retriever) == pytest.approx(model.threshold_for("en", level=(
        retriever.profile.near_miss_level(model, retriever, "en"))))  # a language it has no point for
    again = ScopeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.corpus_thresholds == model.corpus_thresholds


def test_the_shipped_operating_point_is_for_the_shipped_corpus():
    # corpus_thresholds is keyed by the corpus fingerprint; a corpus/ change without a refit
    # (scripts/fit_scope.py --write) would silently fall back to the index-moving point.
    from assistant.documents import discover
    from assistant.ingest import corpus_fingerprint

    model = ScopeModel.load("e5-small")
    shipped = corpus_fingerprint(discover(REPO / "corpus"))
    assert set(model.corpus_thresholds) == {shipped}
    assert set(model.corpus_thresholds[shipped]) == {"zh", "en"}
    assert all(0.0 < t < 1.0 for t in model.corpus_thresholds[shipped].values())


# -- the specificity signals (spec_miss, spec_unknown, spec_share) ---------------------------------


def test_rare_words_are_more_specific_than_common_ones():
    from assistant.abstention import _specificity

    assert _specificity("canteen", False) > _specificity("forever", False) > _specificity("security", False) > 0
    assert _specificity("病假", True) > _specificity("工资", True) > _specificity("安全", True) > 0
    assert _specificity("twilioish", False) == 1.0  # no dictionary knows it: a name or a typo
    # A word jieba's HMM made up is as specific as its characters on average, not maximally.
    assert _specificity("这算", True) < 0.7


def test_question_words_keep_content_words_with_their_stems():
    from assistant.abstention import question_words

    words = {w.word: w for w in question_words("Can we use Twilio for the IVR recordings?")}
    assert "can" not in words and "the" not in words
    assert words["recordings"].keys[0] == "record" and "recordings" in words["recordings"].keys
    assert {w.word for w in question_words("员工请病假工资怎么发")} >= {"病假", "工资"}


@pytest.mark.parametrize("word, terms, texts, covered", [
    ("客服", set(), ("为客户提供服务",), False),  # 客 and 服 too far apart
    ("客服", set(), ("客户服务中心",), True),  # 客服 abbreviates 客户服务
    ("月工资", {"月工", "工资"}, (), True),  # every bigram known
    ("声纹识别", {"识别"}, ("语音识别",), False),
])
def test_a_chinese_word_is_covered_by_its_bigrams_or_its_characters_close_together(word, terms, texts, covered):
    from assistant.abstention import QuestionWord, _covered

    assert _covered(QuestionWord(word, (word,), 0.5), terms, texts) is covered


def test_specific_absence_names_the_words_the_top_clauses_and_the_corpus_lack(fake_assistant):
    from assistant.abstention import question_words, specific_absence

    retriever = fake_assistant.live.retriever
    profile = retriever.profile
    for question, absent in (("数据安全", False), ("Is voice biometrics allowed for call recording?", True)):
        analysis = retriever.analyse(question)
        result = retriever.search(question, k=10, analysis=analysis)
        values = specific_absence(analysis.search_text, result.hits, profile)
        assert set(values) == {"spec_miss", "spec_unknown", "spec_share"} <= set(SIGNALS)
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert values["spec_unknown"] <= values["spec_miss"]  # not in the corpus: not in its top clauses
        if absent:  # "biometrics": the corpus never uses it
            rare = {w.word: w.specificity for w in question_words(analysis.search_text)}["biometrics"]
            assert values["spec_unknown"] >= rare > 0.5
            assert values["spec_share"] > 0
        else:
            assert values == {"spec_miss": 0.0, "spec_unknown": 0.0, "spec_share": 0.0}
        assert signals(analysis, result, retriever)["spec_miss"] == values["spec_miss"]


def test_the_specificity_signals_are_computed_only_when_the_model_uses_them(fake_assistant):
    retriever = fake_assistant.live.retriever
    question = "Is voice biometrics allowed for call recording?"
    analysis = retriever.analyse(question)
    result = retriever.search(question, k=10, analysis=analysis)
    every = signals(analysis, result, retriever)
    assert every["spec_unknown"] > 0
    lean = signals(analysis, result, retriever, frozenset({"cov_top"}))
    assert lean["spec_unknown"] == lean["spec_miss"] == lean["spec_share"] == 0.0
    assert {k: v for k, v in lean.items() if not k.startswith("spec_")} == {
        k: v for k, v in every.items() if not k.startswith("spec_")}
    assert signals(analysis, result, retriever, frozenset({"spec_miss"}))["spec_unknown"] == every["spec_unknown"]


def test_a_corpus_model_scores_its_own_corpus_only_and_round_trips(fake_assistant):
    retriever = fake_assistant.live.retriever
    question = "Is voice biometrics allowed for call recording?"
    analysis = retriever.analyse(question)
    result = retriever.search(question, k=10, analysis=analysis)
    shared = _model(threshold=0.0)
    plain = shared.decide(analysis, result, retriever)
    # The corpus's own model: confidence falls with spec_unknown, which the shared model ignores.
    own = ScopeModel(["spec_unknown"], [0.0], [0.1], [-1.0], 0.0, 0.0, 0.1)
    shared.corpus_models = {"another corpus": own}
    assert shared.for_index(retriever) is shared
    assert shared.decide(analysis, result, retriever).confidence == plain.confidence
    shared.corpus_models[retriever.index.manifest.corpus_fingerprint] = own
    assert shared.for_index(retriever) is own
    decided = shared.decide(analysis, result, retriever)
    assert decided.confidence == pytest.approx(own.confidence(signals(analysis, result, retriever)))
    assert decided.confidence != pytest.approx(plain.confidence)
    again = ScopeModel.from_dict(json.loads(json.dumps(shared.to_dict())))
    assert again.corpus_models[retriever.index.manifest.corpus_fingerprint].to_dict() == own.to_dict()
    assert "corpus_models" not in _model().to_dict()  # parameter files without one stay as they are


# -- labelled questions as exemplars (exemplar_gap) -------------------------------------------------


def _unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_exemplar_gap_is_positive_near_a_labelled_near_miss_and_leaves_a_question_out(tmp_path):
    from assistant.abstention import Exemplars

    vectors = np.stack([_unit(1, 0, 0), _unit(0.9, 0.1, 0), _unit(0, 1, 0), _unit(0, 0, 1)])
    exemplars = Exemplars(vectors, np.array([True, True, False, False]))
    assert exemplars.gap(_unit(0, 1, 0.05)) > 0.5 > -0.5 > exemplars.gap(_unit(1, 0.05, 0))
    # Left out, a near miss is scored against the other near miss only, not against itself.
    assert exemplars.gap(vectors[2], leave_out=2) < exemplars.gap(vectors[2])
    assert exemplars.gap(None) == 0.0
    # k closest per side, averaged: a lone near miss next to the question counts for less.
    assert Exemplars(vectors, np.array([True, True, False, False]), k=2).gap(_unit(0, 1, 0.05)) < (
        exemplars.gap(_unit(0, 1, 0.05)))
    exemplars = Exemplars(vectors, np.array([True, True, False, False]), "x.npz", k=2)
    exemplars.save(tmp_path / "x.npz")
    again = Exemplars.read(tmp_path / "x.npz")
    assert again.k == 2 and again.gap(_unit(0, 1, 0.05)) == pytest.approx(exemplars.gap(_unit(0, 1, 0.05)), abs=1e-3)


def test_the_exemplar_vote_is_the_closeness_weighted_share_of_near_misses_among_the_closest():
    from assistant.abstention import Exemplars

    vectors = np.stack([_unit(1, 0, 0), _unit(0.95, 0.05, 0), _unit(0.9, 0.1, 0), _unit(0, 1, 0), _unit(0, 0.95, 0.05)])
    exemplars = Exemplars(vectors, np.array([True, True, True, False, False]))
    near, real = (exemplars.signals(_unit(*v))["exemplar_vote"] for v in ((0, 1, 0.02), (1, 0.02, 0)))
    assert 0.0 <= real < 0.05 < 0.95 < near <= 1.0
    # Leaving a question out removes its own vote.
    lone = Exemplars(vectors[:4], np.array([True, True, True, False]))
    assert lone.signals(vectors[3])["exemplar_vote"] > 0.95
    assert lone.signals(vectors[3], leave_out=3)["exemplar_vote"] == 0.0  # no near miss left to vote
    assert exemplars.signals(None) == {"exemplar_gap": 0.0, "exemplar_vote": 0.0}


def test_a_corpus_model_with_exemplars_sets_the_gap_from_the_query_vector(fake_assistant, tmp_path):
    from assistant.abstention import Exemplars

    retriever = fake_assistant.live.retriever
    question = "数据安全"
    analysis = retriever.analyse(question)
    result = retriever.search(question, k=10, analysis=analysis)
    q = np.asarray(result.query_vector, dtype=np.float32)
    other = np.roll(q, 7)
    own = ScopeModel(["exemplar_gap", "exemplar_vote"], [0.0, 0.5], [0.1, 1.0], [-1.0, -0.1], 0.0, 0.0, 0.1)
    model = _model(threshold=0.0)
    model.corpus_models = {retriever.index.manifest.corpus_fingerprint: own}
    own.exemplars = Exemplars(np.stack([other, q, other + q * 0.01]), np.array([True, False, True]), "e.npz")
    near = model.decide(analysis, result, retriever)
    assert near.signals["exemplar_gap"] > 0 and near.confidence < 0.5  # its twin is a labelled near miss
    assert near.signals["exemplar_vote"] > 0.5
    own.exemplars = Exemplars(np.stack([q, other, other * 1.01]), np.array([True, False, False]), "e.npz")
    assert model.decide(analysis, result, retriever).confidence > 0.5
    own.exemplars.save(tmp_path / "e.npz")
    again = ScopeModel.from_dict(json.loads(json.dumps(model.to_dict())), tmp_path)
    assert again.corpus_models[retriever.index.manifest.corpus_fingerprint].exemplars.file == "e.npz"


def test_cross_validation_folds_keep_near_duplicate_questions_together():
    import sys

    sys.path.insert(0, str(REPO / "scripts"))
    from fit_scope import grouped_folds

    rows = [{"id": str(i)} for i in range(8)]
    base = [_unit(1, 0, 0, 0), _unit(0, 1, 0, 0), _unit(0, 0, 1, 0), _unit(0, 0, 0, 1)]
    # 0-1-2 a chain of near duplicates (0 and 2 joined through 1); 3..7 alone.
    vectors = {"0": base[0], "1": _unit(1, 0.2, 0, 0), "2": _unit(1, 0.45, 0, 0), "3": base[1],
               "4": base[2], "5": base[3], "6": _unit(0, 1, 1, 0), "7": _unit(0, 0, 1, 1)}
    folds = grouped_folds(rows, vectors, folds=3, join=0.97)
    assert folds[0] == folds[1] == folds[2]
    assert sorted(folds.count(f) for f in range(3)) == [2, 3, 3]


def test_the_shipped_corpus_model_uses_exemplars_of_its_own_embedder_only():
    from assistant.documents import discover
    from assistant.ingest import corpus_fingerprint

    shipped = corpus_fingerprint(discover(REPO / "corpus"))
    model = ScopeModel.load("e5-small")
    own = model.corpus_models[shipped]
    assert {"exemplar_gap", "exemplar_vote"} <= set(own.features) and own.exemplars is not None
    assert own.exemplars.vectors.shape[0] == len(own.exemplars.answerable) > 0
    assert own.exemplars.answerable.any() and not own.exemplars.answerable.all()
    # Another embedder falls back to these parameters without e5-small's exemplars or the
    # operating point set on that model's confidences.
    other = ScopeModel.load("st:some/model")
    assert shipped not in other.corpus_models and shipped not in other.corpus_thresholds
