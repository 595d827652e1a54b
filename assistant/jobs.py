"""The job queue: every corpus change and rebuild is a job, run one at a time in order.

A job:

1. waits for the index folder's build lock (held by this process's current job, another
   server process's job, or `assistant ingest`; it says so in ``note`` while it waits),
2. applies its corpus change (moves an uploaded file in, or moves a deleted file aside),
3. rebuilds the index through ``Assistant.rebuild()``: documents are read in the build worker
   with the per-document caps, the new version is built next to the live one, verified and
   only then swapped in; the live index keeps answering throughout,
4. on success drops what it set aside; on failure or cancellation puts the corpus back as it
   was, so the corpus and the served index still agree, and records why on the job.

Operators can cancel a queued job (it never runs) or a running one (its build stops at the next
document or embedding batch). The start-up build is a job too (action ``startup``).

A crash (kill -9) during a job leaves the previous index live (see assistant/index.py). The
corpus change of an accepted upload or delete has then been applied or not, depending on when
the crash came; the next start notices that the corpus and the index differ and rebuilds
(``ASSISTANT_AUTO_BUILD``). Files set aside by an interrupted job are left in
``<corpus>/.staging/`` for an operator to look at; uploads never queued are removed at start.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from assistant.build_worker import Cancelled
from assistant.config import Settings
from assistant.documents import discover, document_id_for
from assistant.index import build_lock
from assistant.quarantine import Quarantine
from assistant.refusals import Conflict, NotFound, UnreadableDocument
from assistant.service import Assistant
from assistant.staging import StagedUpload, UploadStaging

log = logging.getLogger("assistant.jobs")

KEEP_JOBS = 50

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Action = Literal["upload", "delete", "reindex", "startup"]
FINISHED = ("succeeded", "failed", "cancelled")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Job:
    id: str
    action: Action
    state: JobState = "queued"
    document: str | None = None
    file: str | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    version_before: str | None = None
    version_after: str | None = None
    error: str | None = None
    skipped: list[str] = field(default_factory=list)  # other corpus files the build could not read
    note: str | None = None  # what a running job waits for; why a start-up build runs

    def to_dict(self) -> dict:
        return asdict(self)


Apply = Callable[[], Callable[[bool], None]]


@dataclass
class _Entry:
    job: Job
    apply: Apply
    cancel: threading.Event = field(default_factory=threading.Event)
    discard: Callable[[], None] | None = None  # drops what the job would have used, if it never runs


class DocumentManager:
    """Corpus changes and background rebuilds for one Assistant (one per app)."""

    def __init__(self, assistant: Assistant, settings: Settings,
                 on_swap: Callable[[str], None] | None = None,
                 on_fail: Callable[[Job], None] | None = None) -> None:
        self.assistant = assistant
        self.settings = settings
        self.on_swap = on_swap  # called with the new version after each successful build
        self.on_fail = on_fail  # called with each job that failed
        self.staging = UploadStaging(settings)
        self._lock = threading.Lock()  # guards _entries, _pending_ids
        # Notified (under _lock) whenever a job reaches a final state, so that wait_for and
        # wait_idle return when it happens instead of polling.
        self._finished = threading.Condition(self._lock)
        self._entries: list[_Entry] = []
        self._queue: queue.Queue[_Entry] = queue.Queue()
        self._worker: threading.Thread | None = None
        # Document ids that queued jobs will add or remove: conflicts are refused at request
        # time, before the job waits its turn.
        self._pending_ids: dict[str, str] = {}
        self.staging.cleanup()

    # -- corpus --------------------------------------------------------------------------------
    @property
    def corpus_dir(self) -> Path:
        return Path(self.settings.corpus_dir)

    def corpus_files(self) -> list[Path]:
        return discover(self.corpus_dir)

    def corpus_documents(self) -> dict[str, Path]:
        """Document id -> corpus file, for the files the index is built from."""
        out: dict[str, Path] = {}
        for path in discover(self.corpus_dir):
            out.setdefault(document_id_for(path), path)
        return out

    def quarantined(self) -> list[dict]:
        return [{"file": name, **entry} for name, entry in sorted(Quarantine(self.settings.index_dir).entries().items())]

    def _served_ids(self) -> set[str]:
        try:
            return {doc["id"] for doc in self.assistant.live.index.documents}
        except Exception:  # noqa: BLE001 - nothing served yet
            return set()

    # -- uploads -------------------------------------------------------------------------------
    def stage_upload(self, source: BinaryIO, filename: str | None) -> StagedUpload:
        return self.staging.stage(source, filename)

    def discard(self, staged: StagedUpload) -> None:
        self.staging.discard(staged)

    def submit_upload(self, staged: StagedUpload, *, replace: bool = False) -> Job:
        """Queue a job that adds the staged file; Conflict when its document id is taken and
        replace is false (replace=true swaps out the file(s) with that document id)."""
        doc_id = staged.document["id"]
        with self._lock:
            owner = self._pending_ids.get(doc_id)
            if owner is not None:
                self.discard(staged)
                raise Conflict(f"a queued job ({owner}) already changes document '{doc_id}'; wait for it")
            existing = self.corpus_documents().get(doc_id)
            if existing is not None and not replace:
                self.discard(staged)
                raise Conflict(f"document '{doc_id}' already exists (file {existing.name}); "
                               "send ?replace=true to replace it")
            job = Job(id=uuid.uuid4().hex[:12], action="upload", document=doc_id, file=staged.name)
            self._pending_ids[doc_id] = job.id
            self._enqueue(_Entry(job, lambda: self._apply_upload(staged, doc_id),
                                 discard=lambda: self.discard(staged)))
        return job

    def _apply_upload(self, staged: StagedUpload, doc_id: str) -> Callable[[bool], None]:
        """Move the upload into the corpus, setting aside the files it replaces."""
        aside = staged.path.parent / "replaced"
        moved_aside: list[tuple[Path, Path]] = []
        target = self.corpus_dir / staged.name
        for path in discover(self.corpus_dir):
            if document_id_for(path) == doc_id or path.name == staged.name:
                aside.mkdir(exist_ok=True)
                backup = aside / path.name
                os.replace(path, backup)
                moved_aside.append((backup, path))
        try:
            os.replace(staged.path, target)
        except OSError:
            for backup, original in moved_aside:
                os.replace(backup, original)
            shutil.rmtree(staged.path.parent, ignore_errors=True)
            raise

        def finish(ok: bool) -> None:
            if not ok:
                os.replace(target, staged.path)  # keep it with the job's folder, then drop it
                for backup, original in moved_aside:
                    os.replace(backup, original)
            shutil.rmtree(staged.path.parent, ignore_errors=True)

        return finish

    # -- deletes -------------------------------------------------------------------------------
    def submit_delete(self, document_id: str) -> Job:
        """Queue a job that removes a document's corpus file (or, for a document still served
        whose file is already gone, just rebuilds). NotFound for an id neither in the corpus nor
        served; Conflict when it is the last document or a job is pending for it."""
        with self._lock:
            documents = self.corpus_documents()
            # The id is only ever compared with the ids of the files found in the corpus folder
            # and of the served index; it never becomes part of a path.
            path = documents.get(document_id)
            if path is None and document_id not in self._served_ids():
                # A file name (`NIST.SP.800-63b.pdf`) is the usual mistake: name the id it has.
                meant = [i for i in {document_id_for(document_id), document_id_for(f"{document_id}.md")}
                         if i != document_id and i in documents]
                hint = f"; its id is '{meant[0]}'" if meant else ""
                raise NotFound(f"no document '{document_id[:200]}' in the corpus{hint}")
            owner = self._pending_ids.get(document_id)
            if owner is not None:
                raise Conflict(f"a queued job ({owner}) already changes document '{document_id}'; wait for it")
            leaving = {doc for doc, job in self._pending_ids.items() if self._entry(job).job.action == "delete"}
            if not set(documents) - leaving - {document_id}:
                raise Conflict(f"'{document_id}' is the last document; upload another before deleting it")
            job = Job(id=uuid.uuid4().hex[:12], action="delete", document=document_id,
                      file=path.name if path is not None else None)
            self._pending_ids[document_id] = job.id
            self._enqueue(_Entry(job, lambda: self._apply_delete(document_id)))
        return job

    def _apply_delete(self, document_id: str) -> Callable[[bool], None]:
        paths = [p for p in discover(self.corpus_dir) if document_id_for(p) == document_id]
        folder = self.staging.folder / f"delete-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        moved = []
        for path in paths:
            backup = folder / path.name
            os.replace(path, backup)
            moved.append((backup, path))

        def finish(ok: bool) -> None:
            if not ok:
                for backup, original in moved:
                    os.replace(backup, original)
            shutil.rmtree(folder, ignore_errors=True)

        return finish

    # -- rebuilds ------------------------------------------------------------------------------
    def submit_reindex(self) -> Job:
        """Queue a rebuild of the corpus as it is. A reindex that is still queued already covers
        this request, so it is returned instead of queueing a second identical build."""
        with self._lock:
            for entry in self._entries:
                if entry.job.action == "reindex" and entry.job.state == "queued":
                    return entry.job
            job = Job(id=uuid.uuid4().hex[:12], action="reindex")
            self._enqueue(_Entry(job, lambda: (lambda ok: None)))
        return job

    def submit_startup(self, reason: str) -> Job:
        """The start-up build (missing, stale or damaged index), as a job like any other."""
        with self._lock:
            job = Job(id=uuid.uuid4().hex[:12], action="startup", note=reason)
            self._enqueue(_Entry(job, lambda: (lambda ok: None)))
        return job

    # -- cancel --------------------------------------------------------------------------------
    def cancel(self, job_id: str) -> Job:
        """Cancel a queued job (it will not run) or a running one (its build stops at the next
        document or batch of texts, and its corpus change is undone). NotFound for an unknown
        job, Conflict for one that has finished."""
        with self._lock:
            entry = next((e for e in self._entries if e.job.id == job_id), None)
            if entry is None:
                raise NotFound(f"no job '{job_id[:40]}'")
            job = entry.job
            if job.state in FINISHED:
                raise Conflict(f"job {job_id} has already {job.state}")
            entry.cancel.set()
            if job.state == "queued":
                self._finish_cancelled(entry)
        return job

    def _finish_cancelled(self, entry: _Entry) -> None:
        # caller holds self._lock
        job = entry.job
        job.state = "cancelled"
        job.error = "cancelled by an operator"
        job.note = None
        job.finished_at = _now()
        if job.document and self._pending_ids.get(job.document) == job.id:
            del self._pending_ids[job.document]
        if entry.discard is not None:
            entry.discard()
        self._finished.notify_all()

    # -- the worker ----------------------------------------------------------------------------
    def _entry(self, job_id: str) -> _Entry:
        return next(entry for entry in self._entries if entry.job.id == job_id)

    def _enqueue(self, entry: _Entry) -> None:
        # caller holds self._lock
        self._entries.append(entry)
        finished = [e for e in self._entries if e.job.state in FINISHED]
        for old in finished[: max(0, len(self._entries) - KEEP_JOBS)]:
            self._entries.remove(old)
        self._queue.put(entry)
        if self._worker is None or not self._worker.is_alive():
            # Daemon: a rebuild in progress must not keep a stopping server alive; the index
            # build is crash-safe, and an interrupted corpus change is picked up at next start.
            self._worker = threading.Thread(target=self._work, name="reindex-worker", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            entry = self._queue.get()
            job = entry.job
            try:
                if entry.cancel.is_set():
                    continue  # cancelled while queued: already recorded
                with self._holding_build_lock(entry):
                    if entry.cancel.is_set():
                        with self._lock:
                            self._finish_cancelled(entry)
                        continue
                    job.note = None if job.action != "startup" else job.note
                    self._run(entry)
            except Cancelled:  # while it waited for another process's build
                with self._lock:
                    self._finish_cancelled(entry)
            except BaseException:  # pragma: no cover - _run records every failure itself
                log.exception("job %s crashed", job.id)
            finally:
                with self._lock:
                    if job.document and self._pending_ids.get(job.document) == job.id:
                        del self._pending_ids[job.document]
                    self._finished.notify_all()
                self._queue.task_done()

    def _holding_build_lock(self, entry: _Entry):
        """The index folder's build lock for the whole job (corpus change, build, undo), so that
        jobs of several server processes on the same folders and `assistant ingest` run one at
        a time instead of removing each other's work."""
        job = entry.job

        def waiting(message: str) -> None:
            job.state = "running"
            job.started_at = _now()
            job.note = f"waiting for the build lock: {message}"
            log.info("job %s: %s", job.id, job.note)

        return build_lock(Path(self.settings.index_dir), on_wait=waiting, cancel=entry.cancel)

    def _current_version(self) -> str | None:
        return self.assistant.status().get("version")

    def _run(self, entry: _Entry) -> None:
        job = entry.job
        job.state = "running"
        job.started_at = job.started_at or _now()
        job.version_before = self._current_version()
        log.info("job %s: %s %s", job.id, job.action, job.document or "")
        finish: Callable[[bool], None] | None = None
        try:
            finish = entry.apply()
            index = self.assistant.rebuild(cancel=entry.cancel, serving=self.assistant.ready)
            if job.action == "upload" and not any(d["id"] == job.document for d in index.documents):
                problems = [str(e) for e in self.assistant.last_build_errors if Path(e.path).name == job.file]
                raise UnreadableDocument("the document was not indexed" + (f": {problems[0]}" if problems else ""))
        except BaseException as exc:
            cancelled = isinstance(exc, Cancelled)
            if cancelled:
                message = "cancelled by an operator"
            elif hasattr(exc, "message"):
                message = exc.message
            else:
                message = f"{type(exc).__name__}: {exc}"
            if finish is not None:
                try:
                    finish(False)
                except Exception as undo:  # noqa: BLE001 - report both, never hide the first
                    message += (
                        f"; and the corpus change could not be undone ({type(undo).__name__}: {undo}): "
                        f"the corpus folder now differs from the served index; check {self.corpus_dir}"
                    )
            job.error = message
            job.state = "cancelled" if cancelled else "failed"
            job.version_after = self._current_version()
            job.finished_at = _now()
            (log.warning if cancelled else log.error)(
                "job %s %s: %s (serving %s)", job.id, job.state, message, job.version_after)
            if self.on_fail is not None:
                self.on_fail(job)
            if not isinstance(exc, Exception):
                raise
            return
        try:
            finish(True)
        except OSError as exc:  # leftovers in .staging only; the job itself is done
            log.warning("job %s: cannot clean up the staging folder: %s", job.id, exc)
        job.version_after = index.version
        job.skipped = [str(e) for e in self.assistant.last_build_errors]
        if self.on_swap is not None:
            self.on_swap(index.version)
        job.state = "succeeded"
        job.finished_at = _now()
        log.info("job %s succeeded: now serving %s", job.id, index.version)

    # -- status --------------------------------------------------------------------------------
    def jobs(self) -> list[dict]:
        with self._lock:
            return [entry.job.to_dict() for entry in reversed(self._entries)]

    def job(self, job_id: str) -> dict | None:
        with self._lock:
            found = next((entry.job for entry in self._entries if entry.job.id == job_id), None)
            return found.to_dict() if found else None

    def busy(self) -> bool:
        with self._lock:
            return any(entry.job.state in ("queued", "running") for entry in self._entries)

    def building_at_start(self) -> bool:
        """A start-up build is queued or running."""
        with self._lock:
            return any(e.job.action == "startup" and e.job.state in ("queued", "running") for e in self._entries)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and scripts: wait until no job is queued or running (False: not within
        ``timeout`` seconds)."""
        return self._wait(lambda: not any(e.job.state in ("queued", "running") for e in self._entries), timeout)

    def wait_for(self, job_id: str, timeout: float = 60.0) -> dict | None:
        """For tests and scripts: wait until the job has finished (succeeded, failed or been
        cancelled) and return it as ``job()`` does; None for an unknown job or one still
        unfinished after ``timeout`` seconds."""
        def finished() -> bool:
            found = next((e.job for e in self._entries if e.job.id == job_id), None)
            return found is None or found.state in FINISHED

        if not self._wait(finished, timeout):
            return None
        found = self.job(job_id)
        return found if found and found["state"] in FINISHED else None

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._finished:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Woken when a job finishes; the bound only guards against a state change
                # made without notifying, which would then cost a quarter second, not a hang.
                self._finished.wait(min(left, 0.25))
        return True
