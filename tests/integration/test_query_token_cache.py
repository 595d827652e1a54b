"""A question's token ids are remembered (e5_engine.E5Model._query_ids): the same ids as the
tokenizer gives a batch, so pricing a question and embedding it tokenise it once."""

from __future__ import annotations

import pytest

from assistant.embedding import E5SmallEmbedder

pytestmark = pytest.mark.integration


def test_remembered_query_ids_are_the_tokenizers_and_vectors_do_not_change():
    embedder = E5SmallEmbedder()
    questions = ["录音保存多久", "What should the complaint handling process include?", "  tabs\tand  spaces ", "",
                 "第4.5条 " * 80]
    first = embedder.embed_queries(questions)
    model = embedder._model
    batch = model._tokenizer.encode([model._normalise("query: " + q) for q in questions])
    assert model.token_ids(questions, True) == batch
    hits = model._query_ids.cache_info().hits
    assert model.token_ids(questions, True) == batch
    assert model._query_ids.cache_info().hits == hits + len(questions)
    assert (embedder.embed_queries(questions) == first).all()
    passages = model.token_ids(questions, False)
    assert passages == model._tokenizer.encode([model._normalise("passage: " + q) for q in questions])
