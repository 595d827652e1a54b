"""Cross-edition evidence: a clause of one language edition is ranked on its counterpart's cosine too."""

import numpy as np
import pytest

from assistant.embedding import FakeEmbedder
from assistant.retrieval import RetrievalConfig, Retriever

WEIGHTS = {"en": 1.0, "zh": 1.0}


def _retriever(index, **config) -> Retriever:
    return Retriever(index, FakeEmbedder(), RetrievalConfig(**config))


def test_each_clause_is_paired_with_its_counterpart_in_the_other_edition(fake_assistant):
    index = fake_assistant.live.index
    retriever = _retriever(index)
    pairs = 0
    for row, clause in enumerate(index.clauses):
        other = retriever._counterpart_rows[row]
        if other < 0:
            continue
        pairs += 1
        counterpart = index.clauses[other]
        assert (counterpart.number, counterpart.lang != clause.lang) == (clause.number, True)
    assert pairs >= 10


def test_a_passages_edition_evidence_is_its_counterparts_best_cosine(fake_assistant):
    index = fake_assistant.live.index
    retriever = _retriever(index)
    vector = retriever.embed_query("data security backup encryption")
    cosines = index.passage_scores(vector)
    evidence = retriever._edition_evidence(cosines)
    best = retriever.best_passage_cosines(vector)
    row_of = {clause.id: row for row, clause in enumerate(index.clauses)}
    for passage_row, passage in enumerate(index.passages):
        other = retriever._counterpart_rows[row_of[passage.clause_id]]
        if other < 0:
            assert np.isnan(evidence[passage_row])
        else:
            assert evidence[passage_row] == pytest.approx(best[other])


def test_the_counterparts_cosine_decides_between_clauses_that_tie_in_their_own_edition(fake_assistant):
    index = fake_assistant.live.index
    retriever = _retriever(index, dense_weight={"en": 1.0}, document_prior=0.0, edition_weight=WEIGHTS)
    row_of = {p.clause_id: row for row, p in enumerate(index.passages)}
    first, second, third = "ccso-en:4.8", "ccso-en:4.5", "ccso-en:4.6"  # 4.5 comes first among equals without the evidence
    rows = np.array(sorted([row_of[first], row_of[second]] + [row_of[third]]), dtype=np.int64)
    dense = np.zeros(len(index.passages), dtype=np.float32)
    dense[[row_of[first], row_of[second]]] = 0.8
    dense[row_of[third]] = 0.2
    lexical = np.zeros_like(dense)
    evidence = np.full(len(index.passages), np.nan)
    evidence[row_of[first]], evidence[row_of[second]], evidence[row_of[third]] = 0.9, 0.5, 0.5

    without = [h.clause.id for h in retriever._fuse(rows, dense, dense, lexical, "en")]
    with_evidence = [h.clause.id for h in retriever._fuse(rows, dense, dense, lexical, "en", edition=evidence)]
    assert without[:2] == sorted([first, second], key=lambda c: row_of[c])
    assert with_evidence[:2] == [first, second]


@pytest.mark.parametrize("question, lang", [("How is data backed up and encrypted?", "en"), ("数据备份和加密", "zh")])
def test_only_the_questions_own_edition_gains_the_other_editions_evidence(fake_assistant, question, lang):
    index = fake_assistant.live.index
    plain = {h.clause.id: h.score for h in _retriever(index).search(question, k=60).cited}
    crossed = {h.clause.id: h.score for h in _retriever(index, edition_weight=WEIGHTS).search(question, k=60).cited}
    other_edition = [c for c in plain.keys() & crossed.keys() if index.clause_by_id[c].lang != lang]
    own_edition = [c for c in plain.keys() & crossed.keys() if index.clause_by_id[c].lang == lang]
    assert other_edition and own_edition
    # The other edition's clauses keep their scores (they would otherwise rise on the cosine of
    # their question-language counterparts and crowd the top); the question's own edition moves.
    assert all(crossed[c] == pytest.approx(plain[c]) for c in other_edition)
    assert any(crossed[c] != pytest.approx(plain[c]) for c in own_edition)


def test_the_scope_decision_keeps_the_ranking_it_was_fitted_on(fake_assistant):
    index = fake_assistant.live.index
    question = "How is data backed up and encrypted?"
    plain = _retriever(index).search(question, k=10)
    crossed = _retriever(index, edition_weight=WEIGHTS).search(question, k=10)
    assert plain.edition_hits is None and plain.cited is plain.hits
    # ``hits`` (what abstention.signals reads) are the same with and without the evidence;
    # the citations follow ``cited``, which is ranked with it.
    assert [(h.clause.id, h.score) for h in crossed.hits] == [(h.clause.id, h.score) for h in plain.hits]
    assert crossed.edition_hits is not None and crossed.cited is crossed.edition_hits
    assert all(h.sentence is not None for h in crossed.cited if index.sentence_rows(h.clause.id))


def test_the_edition_weight_comes_from_the_embedders_registry_entry():
    assert RetrievalConfig.for_embedder("e5-small").edition_weight == {"en": 1.0, "zh": 0.7}
    assert RetrievalConfig.for_embedder("e5-small-q4").edition_weight == {"en": 1.0, "zh": 0.7}
    # Only a multilingual model's cross-lingual cosine is evidence.
    assert RetrievalConfig.for_embedder("fake").edition_weight == {}
    assert RetrievalConfig.for_embedder("e5-small", edition_weight={}).edition_weight == {}


@pytest.mark.parametrize("question", ["How is data backed up and encrypted?", "客户信息保密有什么要求"])
def test_with_edition_evidence_an_answer_cites_each_clause_once_in_the_asked_edition(fake_assistant, question):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    fake_assistant.live.retriever.config = RetrievalConfig(edition_weight=WEIGHTS)
    own = "en" if question.isascii() else "zh"
    other = "zh" if own == "en" else "en"
    with TestClient(create_app(fake_assistant.settings, assistant=fake_assistant)) as client:
        answers = {lang: client.post("/api/ask", json={"question": question, **({"lang": lang} if lang else {})}).json()
                   for lang in (None, other)}
    for lang, body in answers.items():
        assert not body["abstained"], body
        numbers = [c["clause"] for c in body["citations"]]
        assert len(numbers) == len(set(numbers))
        assert {c["lang"] for c in body["citations"]} == {lang or own}
    # The filter ranks across both editions, then cites the requested edition's clause by number.
    unfiltered = [c["clause"] for c in answers[None]["citations"]]
    assert answers[other]["citations"][0]["clause"] in unfiltered[:3]


def test_fusion_makes_hits_only_for_the_clauses_kept_and_the_named_ones(fake_assistant):
    index = fake_assistant.live.index
    retriever = _retriever(index, edition_weight=WEIGHTS)
    rows = np.arange(len(index.passages))
    vector = retriever.embed_query("How is data backed up and encrypted?")
    cosines = index.passage_scores(vector)
    lexical = index.lexical.scores("data backup encryption")
    every = retriever._fuse(rows, cosines, cosines, lexical, "en")
    named = every[-1].clause.id
    boosted = [h.clause.id for h in retriever._fuse(rows, cosines, cosines, lexical, "en", boost_clauses={named})]
    kept = retriever._fuse(rows, cosines, cosines, lexical, "en", boost_clauses={named}, limit=5)
    assert [h.clause.id for h in kept] == boosted[:5] + ([named] if named not in boosted[:5] else [])
    # One pass gives the ranking without and with the other edition's evidence, as two calls would.
    evidence = retriever._edition_evidence(cosines)
    plain, crossed = retriever._fuse_variants(rows, cosines, cosines, lexical, "en", frozenset(), (None, evidence), None)
    assert [(h.clause.id, h.score) for h in plain] == [(h.clause.id, h.score) for h in every]
    alone = retriever._fuse(rows, cosines, cosines, lexical, "en", edition=evidence)
    assert [(h.clause.id, h.score) for h in crossed] == [(h.clause.id, h.score) for h in alone]
