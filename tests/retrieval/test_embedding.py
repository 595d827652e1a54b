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


# -- the model queue: bounded, fair, drops late work -------------------------------------------------

class Gate(FakeEmbedder):
    """A model call that blocks until released, recording what each call ran."""

    def __init__(self):
        super().__init__()
        self.calls: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def embed_queries(self, texts):
        self.calls.append(list(texts))
        self.started.set()
        assert self.release.wait(10)
        return super().embed_queries(texts)


def _asker(batcher, text, ticket, out):
    def run():
        try:
            out[text] = batcher.embed(text, ticket)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            out[text] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_full_model_queue_sheds_a_question_at_once_before_any_work():
    from assistant.embedding import ModelBusy, QueryTicket

    gate = Gate()
    batcher = QueryBatcher(gate, max_pending=2, max_per_client=10)
    out = {}
    threads = [_asker(batcher, "running", QueryTicket("a"), out)]
    assert gate.started.wait(5)
    threads += [_asker(batcher, f"waiting {i}", QueryTicket(f"c{i}"), out) for i in range(2)]
    _wait_until(lambda: batcher._waiting == 2)
    started = time.monotonic()
    with pytest.raises(ModelBusy) as shed:
        batcher.embed("one too many", QueryTicket("d"))
    assert time.monotonic() - started < 0.5 and not shed.value.per_client and shed.value.retry_after >= 1
    gate.release.set()
    for thread in threads:
        thread.join(5)
    assert all(isinstance(out[t], np.ndarray) for t in ("running", "waiting 0", "waiting 1"))
    assert "one too many" not in [text for call in gate.calls for text in call]


def test_one_client_may_have_only_a_few_questions_waiting():
    from assistant.embedding import ModelBusy, QueryTicket

    gate = Gate()
    batcher = QueryBatcher(gate, max_pending=100, max_per_client=2)
    out = {}
    threads = [_asker(batcher, f"mine {i}", QueryTicket("greedy"), out) for i in range(2)]
    _wait_until(lambda: batcher._in_flight.get("greedy") == 2)
    with pytest.raises(ModelBusy) as shed:
        batcher.embed("mine 3", QueryTicket("greedy"))
    assert shed.value.per_client
    threads.append(_asker(batcher, "someone else", QueryTicket("other"), out))  # not refused
    gate.release.set()
    for thread in threads:
        thread.join(5)
    assert isinstance(out["someone else"], np.ndarray)
    assert batcher._in_flight == {}


def test_a_question_past_its_deadline_is_dropped_and_never_run():
    from assistant.embedding import QueryTicket, QueryTimedOut

    gate = Gate()
    batcher = QueryBatcher(gate)
    out = {}
    first = _asker(batcher, "occupies the model", QueryTicket("a"), out)
    assert gate.started.wait(5)
    started = time.monotonic()
    with pytest.raises(QueryTimedOut):
        batcher.embed("too late", QueryTicket("b", deadline=time.monotonic() + 0.2))
    assert time.monotonic() - started < 1.0
    gate.release.set()
    first.join(5)
    batcher.embed("after", QueryTicket("b"))
    ran = [text for call in gate.calls for text in call]
    assert "too late" not in ran and "after" in ran and batcher.dropped == 1


def test_batches_go_round_robin_and_long_questions_do_not_carry_others():
    from assistant.embedding import QueryTicket

    gate = Gate()
    batcher = QueryBatcher(gate, max_per_client=8)
    out = {}
    long_question = "长" * 400  # ~400 tokens: a batch of its own
    threads = [_asker(batcher, "first", QueryTicket("x"), out)]
    assert gate.started.wait(5)
    threads += [_asker(batcher, long_question + str(i), QueryTicket("hog"), out) for i in range(4)]
    _wait_until(lambda: batcher._waiting == 4)
    threads.append(_asker(batcher, "short one", QueryTicket("polite"), out))
    _wait_until(lambda: batcher._waiting == 5)
    gate.release.set()
    for thread in threads:
        thread.join(5)
    # After the call that was running: the polite client's question first (a client with nothing
    # waiting is the least recently served), alone; then the hog's, one per call.
    assert gate.calls[1] == ["short one"]
    assert [len(call) for call in gate.calls] == [1] * 6
    assert all(isinstance(v, np.ndarray) for v in out.values())


def test_short_questions_from_many_clients_still_share_a_call():
    from assistant.embedding import QueryTicket

    gate = Gate()
    batcher = QueryBatcher(gate)
    out = {}
    threads = [_asker(batcher, "first", QueryTicket("x"), out)]
    assert gate.started.wait(5)
    threads += [_asker(batcher, f"question {i} about recordings", QueryTicket(f"c{i}"), out) for i in range(10)]
    _wait_until(lambda: batcher._waiting == 10)
    gate.release.set()
    for thread in threads:
        thread.join(5)
    assert [len(call) for call in gate.calls] == [1, 10]


def test_the_queue_is_bounded_by_model_tokens_too_and_uncapped_tickets_skip_the_client_cap():
    from assistant.embedding import ModelBusy, QueryTicket

    gate = Gate()
    batcher = QueryBatcher(gate, max_pending_tokens=1000, max_per_client=1)
    out = {}
    threads = [_asker(batcher, "running", QueryTicket("a"), out)]
    assert gate.started.wait(5)
    threads.append(_asker(batcher, "长" * 450, QueryTicket("b", capped=False), out))
    threads.append(_asker(batcher, "长" * 451, QueryTicket("b", capped=False), out))  # same client: not capped
    _wait_until(lambda: batcher._waiting == 2)
    with pytest.raises(ModelBusy) as shed:
        batcher.embed("长" * 200, QueryTicket("c"))
    assert not shed.value.per_client
    gate.release.set()
    for thread in threads:
        thread.join(5)
    assert all(isinstance(v, np.ndarray) for v in out.values()) and len(out) == 3


def test_each_registry_entry_builds_its_embedder_and_carries_its_traits():
    from assistant.embedding import EMBEDDERS, embedder_entry, embedder_traits

    for entry in EMBEDDERS:
        spec = entry.name + "some-model" if entry.name.endswith(":") else entry.name
        embedder = make_embedder(spec)  # built, not loaded: no model is read here
        assert embedder.id == spec
        assert embedder_entry(embedder.id) is entry
        assert embedder_traits(embedder.id).threshold == entry.threshold
    assert embedder_entry("st:") is None, "a prefix entry needs a model after it"
    neutral = embedder_traits("custom-model")
    assert (neutral.threshold, neutral.shifts, neutral.cross_lingual_shift) == (0.5, {}, 0.0)
