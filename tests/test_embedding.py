import threading
import time

import numpy as np
import pytest

from assistant.embedding import FakeEmbedder, QueryBatcher, make_embedder


def test_fake_embedder_is_deterministic_and_normalised():
    first = FakeEmbedder().embed_passages(["数据安全", "call recordings"])
    second = FakeEmbedder().embed_passages(["数据安全", "call recordings"])
    assert first.dtype == np.float32 and np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)


def test_passages_come_back_in_input_order_whatever_the_batching():
    embedder = FakeEmbedder()
    texts = ["a much longer text about call recordings", "short", "数据安全与加密", "medium text"]
    together = embedder.embed_passages(texts, batch_size=2)
    one_by_one = np.vstack([embedder.embed_passages([t]) for t in texts])
    assert np.allclose(together, one_by_one)


class SlowCounting(FakeEmbedder):
    def __init__(self):
        super().__init__()
        self.batches = []

    def embed_queries(self, texts):
        self.batches.append(len(texts))
        time.sleep(0.02)  # a model call long enough for other questions to arrive meanwhile
        if "boom" in texts:
            raise RuntimeError("model failed")
        return super().embed_queries(texts)


def test_concurrent_questions_share_model_calls_and_get_their_own_vectors():
    inner = SlowCounting()
    batcher = QueryBatcher(inner)
    questions = [f"question number {i} about data security" for i in range(24)]
    results = {}

    def ask(question):
        results[question] = batcher.embed(question)

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    direct = FakeEmbedder()
    for question in questions:
        assert np.allclose(results[question], direct.embed_queries([question])[0])
    assert sum(inner.batches) == len(questions)
    assert max(inner.batches) > 1 and len(inner.batches) < len(questions)


def test_a_failed_model_call_reaches_every_caller_in_its_batch_and_the_next_call_works():
    batcher = QueryBatcher(SlowCounting())
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.embed("boom")
    assert batcher.embed("fine").shape == (256,)


def test_unknown_backend_is_a_clear_error():
    from assistant.embedding import EmbedderError

    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")


def test_q4_blocks_dequantise_low_nibbles_first_then_high_nibbles_times_the_scale():
    import numpy as np

    from assistant.e5_engine import Q4_BLOCK, dequantise_q4

    block = np.zeros(1, dtype=Q4_BLOCK)
    block["scale"] = 0.5
    block["nibbles"][0] = [(15 << 4) | j for j in range(16)]  # low nibble j, high nibble 15
    weights = dequantise_q4(block)
    assert weights.shape == (32,)
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [(15 - 8) * 0.5] * 16


@pytest.mark.system
def test_e5_engine_module_imports_without_loading_torch():
    import subprocess
    import sys

    code = "import sys, assistant.e5_engine, assistant.embedding; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_batch_shapes_come_from_a_few_sizes_with_at_most_a_quarter_of_padding():
    from assistant.e5_engine import bucket

    sizes = {bucket(n) for n in range(1, 513)}
    assert len(sizes) == 32 and max(sizes) == 512
    for n in range(1, 2000):
        assert n <= bucket(n) <= 1.25 * n and bucket(bucket(n)) == bucket(n)
        assert bucket(n, down=True) <= n and bucket(bucket(n, down=True)) == bucket(n, down=True)


def test_the_model_thread_ends_when_idle_and_a_later_question_starts_another():
    batcher = QueryBatcher(FakeEmbedder(), idle_seconds=0.05)
    first = batcher.embed("recordings")
    deadline = time.time() + 5
    while batcher._worker is not None and time.time() < deadline:
        time.sleep(0.01)
    assert batcher._worker is None
    assert np.allclose(batcher.embed("recordings"), first)
