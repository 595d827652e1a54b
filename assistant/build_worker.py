"""Reading and splitting documents in a worker process, away from the serving process.

Parsing is pure Python: in the server it would hold the GIL, and one pathological file could
stall /healthz and every question for as long as it takes. Here a spawned child process reads
one document at a time (assistant/ingest.py, with the per-document caps); the parent waits for
each with a time limit. A document that runs past the limit, or kills the child (a crash, the
OOM killer), is reported with the reason, quarantined (assistant/quarantine.py) and not indexed;
a fresh child takes the next document. Embedding stays in the calling process, where the model
already is (see docs/reliability.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from assistant.documents import DocumentError, without_id_clashes
from assistant.ingest import (
    Cancelled,
    DocumentCaps,
    PreparedCorpus,
    PreparedDocument,
    assemble,
    corpus_fingerprint,
    prepare_document,
)
from assistant.quarantine import Quarantine

_POLL_S = 0.1  # how often a wait looks at the cancel flag
# A healthy child is kept between builds (starting one costs about half a second), and replaced
# after this many documents so that what the parser's heap grew to is given back.
_REUSE_DOCUMENTS = 200
_START_S = 60.0  # for a fresh worker to import the loaders, on a loaded machine
_idle: "_Child | None" = None
_idle_guard = threading.Lock()


def _take_child() -> "_Child":
    global _idle
    with _idle_guard:
        child, _idle = _idle, None
    if child is not None and child.alive():
        return child
    if child is not None:
        child.stop(force=True)
    child = _Child()
    try:
        kind, _ = _wait(child, _START_S, None)
    except BaseException:
        child.stop(force=True)
        raise
    if kind != "ready":
        child.stop(force=True)
        raise RuntimeError(f"the build worker did not start ({kind}); see the server log")
    return child


def _park_child(child: "_Child") -> None:
    global _idle
    if child.served >= _REUSE_DOCUMENTS or not child.alive():
        child.stop()
        return
    with _idle_guard:
        if _idle is None:
            child, _idle = None, child
    if child is not None:
        child.stop()


@dataclass
class _Request:
    path: str
    passage_chars: int
    max_bytes: int | None
    caps: DocumentCaps


OUT_OF_MEMORY = "oom"


def _limit_memory(memory_mb: int | None) -> None:  # in the child
    """RLIMIT_AS for the next document only: the soft limit, under an unchanged hard one, so a
    later request may raise it again. Address space rather than RSS because the kernel enforces
    it at allocation, where Python turns it into MemoryError; the worker itself maps little
    beside the document (docs/reliability.md, rows 11-13)."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if memory_mb is None else memory_mb << 20
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _ran_out_of_memory(exc: BaseException) -> bool:
    """The loaders wrap what fails inside them (``raise DocumentError(...) from None`` keeps
    the original as __context__), and C parsers report a failed allocation in their own words."""
    while exc is not None:
        if isinstance(exc, MemoryError) or "memory allocation failed" in str(exc).lower():
            return True
        exc = exc.__context__
    return False


_WARM_UP = "# Warm-up\n\n## 1 Rule\n\nStaff answer calls. 员工接听电话。\n"


def _warm_up() -> None:  # in the child
    """The loaders' lazy imports and first-use set-up (about a second on a loaded machine) paid
    before "ready", so that a document's time limit counts its own work only."""
    import tempfile

    for module in ("pypdf", "docx"):
        try:
            __import__(module)
        except ImportError:
            pass
    with tempfile.TemporaryDirectory(prefix="assistant-warm-up-") as folder:
        path = Path(folder) / "warm-up.md"
        path.write_text(_WARM_UP, encoding="utf-8")
        try:
            prepare_document(path, 1000)
        except DocumentError:
            pass


def _serve(inbox: Connection, outbox: Connection) -> None:  # runs in the child
    _warm_up()
    outbox.send(("ready", None))  # imports done: the time limits count from here
    while True:
        try:
            request = inbox.recv()
        except EOFError:
            return
        if request is None:
            return
        result = None
        try:
            _limit_memory(request.caps.memory_mb)
            result = ("ok", prepare_document(Path(request.path), request.passage_chars, request.max_bytes, request.caps))
        except BaseException as exc:  # noqa: BLE001 - the loaders wrap what they know; say what else it was
            if _ran_out_of_memory(exc):
                result = (OUT_OF_MEMORY, request.caps.memory_mb)
            elif isinstance(exc, DocumentError):
                result = ("error", exc.reason)
            elif isinstance(exc, Exception):
                result = ("error", f"cannot read: {type(exc).__name__}: {str(exc)[:200]}")
            else:
                raise
        finally:
            _limit_memory(None)  # room to send the answer
        outbox.send(result)
        if result[0] == OUT_OF_MEMORY:
            return  # a heap that hit its limit may be in any state: the next document gets a fresh worker


class _Child:
    """``python -m assistant.build_worker`` with a pickle channel on two pipes. A plain
    subprocess rather than multiprocessing: spawn would re-import the caller's __main__ (a
    script, a test runner), which is neither safe nor needed."""

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant.build_worker", str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._send = Connection(to_child_w, readable=False)
        self._recv = Connection(from_child_r, writable=False)
        self.served = 0

    def send(self, request) -> None:
        self.served += 1
        self._send.send(request)

    def poll(self, timeout: float) -> bool:
        return self._recv.poll(timeout)

    def recv(self):
        return self._recv.recv()

    def alive(self) -> bool:
        return self.process.poll() is None

    def exitcode(self) -> int | None:
        try:
            return self.process.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, force: bool = False) -> None:
        if not force:
            try:
                self._send.send(None)
                self.process.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._send.close()
        self._recv.close()


class Outcome:
    TIMEOUT = "timeout"
    CRASH = "crash"


def _wait(child: _Child, seconds: float | None, cancel: threading.Event | None):
    """('ok'|'error', payload) from the child, or (Outcome.TIMEOUT|CRASH, detail)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        slice_s = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - time.monotonic()))
        try:
            if child.poll(slice_s):
                return child.recv()
        except (EOFError, OSError):
            return Outcome.CRASH, child.exitcode()
        if not child.alive() and not child.poll(0):
            return Outcome.CRASH, child.exitcode()
        if deadline is not None and time.monotonic() >= deadline:
            return Outcome.TIMEOUT, seconds


def prepare_in_worker(
    paths: list[Path],
    passage_chars: int,
    *,
    max_bytes: int | None = None,
    caps: DocumentCaps = DocumentCaps(),
    quarantine: Quarantine | None = None,
    cancel: threading.Event | None = None,
) -> tuple[list[PreparedDocument], list[DocumentError]]:
    """Each path read and split in the worker; a file that stalls or crashes it is quarantined
    (when a Quarantine is given) and reported, and the rest go on in a fresh worker."""
    prepared: list[PreparedDocument] = []
    errors: list[DocumentError] = []
    child: _Child | None = None
    try:
        for path in paths:
            if child is None:
                child = _take_child()
            with quarantine.reading(path) if quarantine is not None else nullcontext():
                child.send(_Request(str(path), passage_chars, max_bytes, caps))
                kind, payload = _wait(child, caps.seconds, cancel)
            if kind == "ok":
                prepared.append(payload)
                continue
            if kind == "error":
                errors.append(DocumentError(path, payload))
                continue
            child.stop(force=True)
            child = None
            if kind == Outcome.TIMEOUT:
                reason = (f"reading it took longer than {payload:g} s (ASSISTANT_MAX_DOCUMENT_SECONDS); "
                          "stopped and not indexed")
            elif kind == OUT_OF_MEMORY:
                reason = (f"ran out of memory while reading it (more than {payload:,} MiB, "
                          "ASSISTANT_MAX_WORKER_MEMORY_MB); not indexed")
            else:
                reason = f"the document reader crashed on it (worker exit code {payload}); not indexed"
            if quarantine is not None:
                quarantine.add(path, reason)
                reason += "; quarantined"
            errors.append(DocumentError(path, reason))
    except BaseException:
        if child is not None:
            child.stop(force=True)
            child = None
        raise
    finally:
        if child is not None:
            _park_child(child)
    return prepared, errors


def prepare_corpus(
    paths: list[Path],
    passage_chars: int,
    *,
    max_bytes: int | None,
    caps: DocumentCaps,
    quarantine: Quarantine | None,
    cancel: threading.Event | None = None,
) -> PreparedCorpus:
    """The corpus as a build sees it: quarantined files skipped, the others prepared in the
    worker. The fingerprint covers every file, so a start-up check does not rebuild for a file
    that is merely quarantined, and a replaced one makes the index stale."""
    if quarantine is not None:
        quarantine.recover_interrupted()
    fingerprint = corpus_fingerprint(paths)
    unique, clashes = without_id_clashes(paths)
    todo, skipped = quarantine.split(unique) if quarantine is not None else (unique, [])
    prepared, errors = prepare_in_worker(todo, passage_chars, max_bytes=max_bytes, caps=caps,
                                         quarantine=quarantine, cancel=cancel)
    return assemble(prepared, clashes + skipped + errors, fingerprint)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
