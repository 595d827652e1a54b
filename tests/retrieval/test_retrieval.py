import dataclasses

import numpy as np
import pytest

from assistant.embedding import FakeEmbedder
from assistant.retrieval import RetrievalConfig, Retriever, clause_numbers_in, question_lang


@pytest.mark.parametrize(
    "question, numbers",
    [
        ("第4.5条", ["4.5"]),
        ("4.5", ["4.5"]),
        ("clause 4.5", ["4.5"]),
        ("What does 11.5 say?", ["11.5"]),
        ("第十二条规定了什么", ["十二"]),
        ("第 4 章", ["4"]),
        ("4", ["4"]),
        ("Who won the football world cup in 2018?", []),
        ("服务水平80/20是什么意思", []),
    ],
)
def test_clause_numbers_in_questions(question, numbers):
    assert clause_numbers_in(question) == numbers


def test_question_language():
    assert question_lang("数据安全有什么要求？") == "zh"
    assert question_lang("What about data security?") == "en"
    assert question_lang("IVR 菜单") == "zh"


def test_number_lookup_puts_the_clause_first_in_the_question_language(fake_assistant):
    hits = fake_assistant.live.retriever.search("第4.5条", k=5).hits
    assert hits[0].clause.id == "ccso-zh:4.5" and hits[0].matched_by == "number"
    hits = fake_assistant.live.retriever.search("what does clause 4.5 say", k=5).hits
    assert hits[0].clause.id == "ccso-en:4.5"


def test_a_clause_number_asked_with_a_topic_is_evidence_not_an_order(fake_assistant):
    search = fake_assistant.live.retriever.search
    # 4.5 is about senior leadership: a question about data security that names it gets the
    # data-security clauses first, with 4.5 still marked as the clause it named.
    hits = search("第4.5条 数据安全 数据备份 加密", k=5).hits
    assert hits[0].clause.number != "4.5" and "数据" in hits[0].clause.text
    # ... and stays among the results, last if it must.
    assert len(hits) == 5 and [h.matched_by for h in hits if h.clause.id == "ccso-zh:4.5"] == ["number"]
    # When the topic agrees with the clause, the boost keeps it first.
    hits = search("clause 4.5 senior leadership support", k=5).hits
    assert hits[0].clause.id == "ccso-en:4.5" and hits[0].matched_by == "number"


def test_a_heading_without_body_is_found_as_its_section(fake_assistant):
    hits = fake_assistant.live.retriever.search("第4章", k=5).hits
    assert hits[0].clause.id == "ccso-zh:4" and hits[0].matched_by == "number"
    assert hits[0].clause.children[0] == "ccso-zh:4.1"


def test_filters_by_document_and_language(fake_assistant):
    search = fake_assistant.live.retriever.search
    assert {h.clause.document for h in search("data security", k=10, document="ccso-zh").hits} == {"ccso-zh"}
    assert {h.clause.lang for h in search("数据安全", k=10, lang="en").hits} == {"en"}
    assert search("数据安全", k=10, document="no-such-document").hits == []


def test_results_are_grouped_by_clause(fake_assistant):
    hits = fake_assistant.live.retriever.search("数据安全 数据备份 加密", k=50).hits
    ids = [h.clause.id for h in hits]
    assert len(ids) == len(set(ids))


def test_hybrid_search_finds_topical_clause(fake_assistant):
    hits = fake_assistant.live.retriever.search("客户信息保密", k=3).hits
    assert "客户信息" in hits[0].clause.title or "客户信息" in hits[0].clause.text


def _small_index(tmp_path, records):
    from assistant.evaluation import prepare_benchmark
    from assistant.index import BuildOptions, build_index

    corpus = prepare_benchmark(records, 1000, fingerprint="test")
    return build_index(tmp_path / "index", corpus, FakeEmbedder(), BuildOptions("fake"))


FILLER = " ".join(
    f"Paragraph {n} covers unrelated {topic} matters in some detail." for n, topic in
    enumerate(["zoning", "fisheries", "aviation", "mining", "forestry", "shipping", "railway", "postal"])
)
RECORDS = [
    # The answer is one sentence inside a long passage of other matters.
    {"_id": "long", "title": "Rulebook A", "text": f"{FILLER} Complaint records must be kept for five years. {FILLER}"},
    # Shares a few of the question's words across the whole (short) passage.
    {"_id": "short", "title": "Rulebook B", "text": "Records of training may be kept by the firm."},
]


def test_a_sentence_that_answers_lifts_its_long_clause_in_english(tmp_path):
    index = _small_index(tmp_path, RECORDS)
    question = "How long must complaint records be kept?"
    dense_only = {"en": 1.0, "zh": 1.0}

    def ranking(config):
        return [h.clause.id for h in Retriever(index, FakeEmbedder(), config).search(question, k=2).hits]

    assert ranking(RetrievalConfig(dense_weight=dense_only, sentence_discount={}, document_prior=0.0))[0] == "short"
    assert ranking(RetrievalConfig(dense_weight=dense_only, document_prior=0.0))[0] == "long"


def test_hits_carry_their_clause_best_sentence(tmp_path):
    index = _small_index(tmp_path, RECORDS)
    embedder = FakeEmbedder()
    question = "How long must complaint records be kept?"
    query = embedder.embed_queries([question])[0]
    for hit in Retriever(index, embedder).search(question, k=2).hits:
        rows = index.sentence_rows(hit.clause.id)
        assert hit.sentence == pytest.approx(float((index.sentence_store.vectors(rows) @ query).max()), abs=1e-6)


def test_document_prior_lifts_the_best_documents_other_clauses(tmp_path):
    records = [
        {"_id": "a1", "title": "Rulebook A", "text": "alpha"},
        {"_id": "a2", "title": "Rulebook A", "text": "beta"},
        {"_id": "b1", "title": "Rulebook B", "text": "gamma"},
        {"_id": "b2", "title": "Rulebook B", "text": "delta"},
    ]
    index = _small_index(tmp_path, records)
    rows = np.arange(len(index.passages))
    row_of = {p.clause_id: row for row, p in enumerate(index.passages)}
    # a1 is clearly best; b1 edges a2 on its own score; the rest trail.
    dense = np.zeros(len(rows), dtype=np.float32)
    for clause_id, value in {"a1": 0.9, "a2": 0.6, "b1": 0.62, "b2": 0.1}.items():
        dense[row_of[clause_id]] = value
    lexical = np.zeros(len(rows), dtype=np.float32)
    dense_only = {"en": 1.0}

    def order(prior):
        retriever = Retriever(index, FakeEmbedder(), RetrievalConfig(dense_weight=dense_only, document_prior=prior))
        return [h.clause.id for h in retriever._fuse(rows, dense, dense, lexical, "en")]

    assert order(0.0) == ["a1", "b1", "a2", "b2"]
    assert order(0.2) == ["a1", "a2", "b1", "b2"]


def test_a_bare_number_lists_every_clause_it_names_first(tmp_path):
    records = [
        {"_id": f"{book}-3.3", "title": f"Rulebook {book}", "text": text, "metadata": {"passage_id": "3.3"}}
        for book, text in (("A", "Client money is kept apart."), ("B", "Fees are disclosed."), ("C", "Records are kept."))
    ] + [
        # Cross-references mention "Rule 3.3" more than the rules themselves do.
        {"_id": f"A-5.{n}", "title": "Rulebook A", "text": "Rule 3.3 applies here, as Rule 3.3 and rule 3.3 say.",
         "metadata": {"passage_id": f"5.{n}"}}
        for n in range(1, 4)
    ]
    index = _small_index(tmp_path, records)
    hits = Retriever(index, FakeEmbedder()).search("Rule 3.3", k=5).hits
    assert {h.clause.id for h in hits[:3]} == {"A-3.3", "B-3.3", "C-3.3"}
    assert all(h.matched_by == "number" for h in hits[:3])


def test_retrieval_config_from_settings_takes_the_embedders_shift_and_the_rerank_depth():
    from assistant.config import Settings

    settings = Settings(_env_file=None, rerank_depth=12)
    config = RetrievalConfig.from_settings(settings, "e5-small")
    assert (config.cross_lingual_shift, config.rerank_depth) == (0.05, 12)
    assert RetrievalConfig.from_settings(settings, "fake").cross_lingual_shift == 0.0
    assert RetrievalConfig.for_embedder("use-multilingual").rerank_depth == RetrievalConfig().rerank_depth
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rerank_depth = 5  # type: ignore[misc]
