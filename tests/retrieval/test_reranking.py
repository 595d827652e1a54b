import numpy as np
import pytest

from assistant.embedding import FakeEmbedder
from assistant.reranking import CrossEncoderReranker, FakeReranker, RerankerError, make_reranker
from assistant.retrieval import RetrievalConfig, Retriever
from assistant.service import Assistant


class Reversing:
    """Scores the hits in the reverse of the order it was given them."""

    id = "reversing"

    def __init__(self):
        self.calls = []

    def warm_up(self):
        pass

    def score(self, question, texts):
        self.calls.append(list(texts))
        return np.arange(len(texts), dtype=np.float32)


def test_reranker_settings_values():
    assert make_reranker(None) is None and make_reranker("") is None
    assert isinstance(make_reranker("fake"), FakeReranker)
    built = make_reranker("st:BAAI/bge-reranker-v2-m3")
    assert isinstance(built, CrossEncoderReranker) and built.id == "st:BAAI/bge-reranker-v2-m3"
    assert built._model is None, "building a reranker must not load its model"
    with pytest.raises(RerankerError, match="unknown reranker"):
        make_reranker("bge")


def test_the_reranker_orders_the_best_hits_and_leaves_the_rest(fake_assistant):
    index = fake_assistant.live.index
    question = "数据安全 数据备份"
    plain = Retriever(index, FakeEmbedder()).search(question, k=8).hits
    assert all(h.rerank is None for h in plain)

    reversing = Reversing()
    config = RetrievalConfig(rerank_depth=5)
    hits = Retriever(index, FakeEmbedder(), config, reversing).search(question, k=8).hits
    assert len(reversing.calls) == 1 and len(reversing.calls[0]) == 5
    assert [h.clause.id for h in hits[:5]] == [h.clause.id for h in plain[:5]][::-1]
    assert [h.rerank for h in hits[:5]] == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert [h.clause.id for h in hits[5:]] == [h.clause.id for h in plain[5:8]]
    assert all(h.rerank is None for h in hits[5:])
    # It reads each clause as the reader would: its title, then its text.
    assert reversing.calls[0][0] == f"{plain[0].clause.title}\n{plain[0].clause.text}".strip()


def test_a_bare_lookup_stays_first_whatever_the_reranker_thinks(fake_assistant):
    hits = Retriever(fake_assistant.live.index, FakeEmbedder(), reranker=Reversing()).search("第4.5条", k=5).hits
    assert hits[0].clause.id == "ccso-zh:4.5" and hits[0].matched_by == "number" and hits[0].rerank is None


def test_search_reports_the_rerank_score_only_with_a_reranker(fake_settings):
    plain = Assistant(fake_settings, embedder=FakeEmbedder())
    plain.open()
    assert all("rerank" not in hit for hit in plain.search("数据安全", k=3))

    fake_settings.reranker = "fake"
    reranked = Assistant(fake_settings, embedder=FakeEmbedder())
    reranked.open()
    hits = reranked.search("数据安全", k=3)
    assert all(isinstance(hit["rerank"], float) for hit in hits)
    assert [hit["rerank"] for hit in hits] == sorted((hit["rerank"] for hit in hits), reverse=True)
