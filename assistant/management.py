"""Document management for operators: add and remove corpus files, reindex in the background.

Every change is a *job*. Jobs run one at a time, in order, on one background thread, so two
reindex requests never interleave (and the Assistant's own build lock serialises them with the
index build that runs at startup). A job:

1. applies its corpus change (moves an uploaded file in, or moves a deleted file aside),
2. rebuilds the index through ``Assistant.rebuild()``, which builds next to the live index,
   verifies the new version and only then swaps it in; the live index keeps answering
   throughout,
3. on success drops what it set aside; on failure puts the corpus back as it was, so the corpus
   and the served index still agree, and records the error on the job.

Uploads are checked before a job is queued: the file is written to a staging folder inside the
corpus folder (hidden, so never indexed), loaded and parsed there with the same code the index
build uses; a file that cannot be read is refused with the loader's reason and never reaches the
corpus.

Several server processes on the same folders (``assistant serve --workers N``) each have their
own queue; a lock file in the index folder makes their jobs run one at a time, and
``IndexFollower`` lets every process pick up a version another one switched to.

A crash (kill -9) during a job leaves the previous index live (see assistant/index.py). The
corpus change of an accepted upload or delete has then been applied or not, depending on when
the crash came; the next start notices that the corpus and the index differ and rebuilds
(``ASSISTANT_AUTO_BUILD``). Files set aside by an interrupted job are left in
``<corpus>/.staging/`` for an operator to look at; uploads that were never queued are removed
at the next start.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from hashlib import sha1
from pathlib import Path
from typing import BinaryIO, Literal

from assistant.config import Settings
from assistant.documents import SUPPORTED_SUFFIXES, DocumentError, discover, document_id_for
from assistant.index import CURRENT_POINTER, build_lock, prepare_files
from assistant.service import Assistant

log = logging.getLogger("assistant.management")

STAGING_DIR = ".staging"
MAX_NAME_CHARS = 100
KEEP_JOBS = 50
_COPY_BLOCK = 1 << 20

JobState = Literal["queued", "running", "succeeded", "failed"]
Action = Literal["upload", "delete", "reindex"]


class ManagementError(Exception):
    """A request the operator must change; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
    note: str | None = None  # what a running job is waiting for, e.g. another process's build

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StagedUpload:
    """A validated upload waiting in the staging folder."""

    path: Path
    name: str
    document: dict  # id, title, format, lang, pages, clauses, passages


def sanitise_filename(raw: str | None) -> str:
    """A safe corpus file name from what the client sent.

    Keeps the last path component only (``/`` and ``\\`` both count), keeps ``[A-Za-z0-9._-]``
    and turns every other run of characters into ``-``; no leading dot (hidden files are not
    indexed); the suffix must be one the loaders read. A name with nothing left (a purely
    Chinese name, say) gets ``document-<hash>``.
    """
    name = unicodedata.normalize("NFC", (raw or "").replace("\x00", ""))
    name = re.split(r"[\\/]", name)[-1].strip()
    if not name or name in (".", ".."):
        raise ManagementError(422, "the upload has no file name")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        raise ManagementError(
            415, f"'{name[:80]}' has no file type suffix; send one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ManagementError(
            415, f"unsupported file type '{suffix[:20]}'; send one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")
    safe = re.sub(r"\.{2,}", ".", safe)
    if not safe:
        safe = "document-" + sha1(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    safe = safe[: MAX_NAME_CHARS - len(suffix)].rstrip(".-_") or "document"
    if safe.lower().startswith("readme"):
        raise ManagementError(422, "files named README* are not indexed; rename the file")
    return safe + suffix


class DocumentManager:
    """Corpus changes and background reindexing for one Assistant (one per app)."""

    def __init__(self, assistant: Assistant, settings: Settings,
                 on_swap: Callable[[str], None] | None = None) -> None:
        self.assistant = assistant
        self.settings = settings
        self.on_swap = on_swap  # called with the new version after each successful build
        self._lock = threading.Lock()  # guards _jobs, _pending and the queued-reindex lookup
        self._jobs: list[Job] = []
        self._queue: queue.Queue[tuple[Job, Callable[[], Callable[[bool], None]]]] = queue.Queue()
        self._worker: threading.Thread | None = None
        # Names and document ids that queued jobs will add or remove: conflicts are refused at
        # request time, before the job waits its turn.
        self._pending_ids: dict[str, str] = {}
        self._cleanup_staging()

    # -- folders -----------------------------------------------------------------------------
    @property
    def corpus_dir(self) -> Path:
        return Path(self.settings.corpus_dir)

    @property
    def staging_dir(self) -> Path:
        return self.corpus_dir / STAGING_DIR

    def _cleanup_staging(self) -> None:
        """Remove uploads that were staged but never became part of the corpus (a process that
        exited between the upload and its job). Folders holding files that a job set aside
        (``upload-*/replaced``, ``delete-*``) are kept for an operator to look at."""
        for leftover in self.staging_dir.glob("upload-*"):
            if not (leftover / "replaced").exists():
                shutil.rmtree(leftover, ignore_errors=True)

    def corpus_files(self) -> list[Path]:
        return discover(self.corpus_dir)

    def corpus_documents(self) -> dict[str, Path]:
        """Document id -> corpus file, for the files the index is built from."""
        out: dict[str, Path] = {}
        for path in discover(self.corpus_dir):
            out.setdefault(document_id_for(path), path)
        return out

    # -- uploads -------------------------------------------------------------------------------
    def stage_upload(self, source: BinaryIO, filename: str | None) -> StagedUpload:
        """Copy an upload into the staging folder (at most max_upload_bytes) and check that it
        loads and parses. Raises ManagementError (413, 415, 422, 507) and leaves nothing behind."""
        name = sanitise_filename(filename)
        limit = self.settings.max_upload_bytes
        try:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
            folder = Path(os.path.realpath(self.staging_dir / f"upload-{uuid.uuid4().hex}"))
            folder.mkdir()
        except OSError as exc:
            raise ManagementError(507, f"cannot store the upload in the corpus folder: {exc.strerror or exc}") from exc
        target = folder / name
        try:
            written = 0
            with open(target, "xb") as out:
                while block := source.read(_COPY_BLOCK):
                    written += len(block)
                    if written > limit:
                        raise ManagementError(
                            413, f"the file is larger than the upload limit ({limit} bytes, ASSISTANT_MAX_UPLOAD_BYTES)"
                        )
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if written == 0:
                raise ManagementError(422, f"{name}: empty file")
            document = self._check_document(target, name)
        except ManagementError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ManagementError(507, f"cannot store the upload: {exc.strerror or exc}") from exc
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return StagedUpload(target, name, document)

    def _check_document(self, path: Path, name: str) -> dict:
        """Load and parse the staged file exactly as an index build would."""
        corpus = prepare_files([path], self.settings.passage_chars, max_bytes=self.settings.max_upload_bytes)
        if corpus.errors:
            error: DocumentError = corpus.errors[0]
            raise ManagementError(422, f"{name}: {error.reason}")
        if not corpus.documents or not corpus.passages:
            raise ManagementError(422, f"{name}: no text to index")
        summary = corpus.documents[0]
        counts = {"clauses": len(corpus.clauses), "passages": len(corpus.passages)}
        return {**summary, "source": name, **counts}

    def discard(self, staged: StagedUpload) -> None:
        shutil.rmtree(staged.path.parent, ignore_errors=True)

    def submit_upload(self, staged: StagedUpload, *, replace: bool = False) -> Job:
        """Queue a job that adds the staged file; 409 when its document id is taken and replace
        is false (replace=true swaps out the file(s) with that document id)."""
        doc_id = staged.document["id"]
        with self._lock:
            owner = self._pending_ids.get(doc_id)
            if owner is not None:
                self.discard(staged)
                raise ManagementError(409, f"a queued job ({owner}) already changes document '{doc_id}'; wait for it")
            existing = self.corpus_documents().get(doc_id)
            if existing is not None and not replace:
                self.discard(staged)
                raise ManagementError(
                    409,
                    f"document '{doc_id}' already exists (file {existing.name}); "
                    "send ?replace=true to replace it",
                )
            job = Job(id=uuid.uuid4().hex[:12], action="upload", document=doc_id, file=staged.name)
            self._pending_ids[doc_id] = job.id
            self._enqueue(job, lambda: self._apply_upload(staged, doc_id))
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
        """Queue a job that removes a document's corpus file. 404 for an unknown id; 409 when it
        is the last document (the service must keep something to serve) or a job is pending."""
        with self._lock:
            documents = self.corpus_documents()
            # The id is only ever compared with the ids of the files found in the corpus folder;
            # it never becomes part of a path.
            path = documents.get(document_id)
            if path is None:
                raise ManagementError(404, f"no document '{document_id[:200]}' in the corpus")
            owner = self._pending_ids.get(document_id)
            if owner is not None:
                raise ManagementError(409, f"a queued job ({owner}) already changes document '{document_id}'; wait for it")
            leaving = {doc for doc, job in self._pending_ids.items() if self._job(job).action == "delete"}
            if not set(documents) - leaving - {document_id}:
                raise ManagementError(409, f"'{document_id}' is the last document; upload another before deleting it")
            job = Job(id=uuid.uuid4().hex[:12], action="delete", document=document_id, file=path.name)
            self._pending_ids[document_id] = job.id
            self._enqueue(job, lambda: self._apply_delete(document_id))
        return job

    def _apply_delete(self, document_id: str) -> Callable[[bool], None]:
        paths = [p for p in discover(self.corpus_dir) if document_id_for(p) == document_id]
        folder = self.staging_dir / f"delete-{uuid.uuid4().hex}"
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

    # -- reindex -------------------------------------------------------------------------------
    def submit_reindex(self) -> Job:
        """Queue a rebuild of the corpus as it is. A reindex that is still queued already covers
        this request, so it is returned instead of queueing a second identical build."""
        with self._lock:
            for job in self._jobs:
                if job.action == "reindex" and job.state == "queued":
                    return job
            job = Job(id=uuid.uuid4().hex[:12], action="reindex")
            self._enqueue(job, lambda: (lambda ok: None))
        return job

    # -- the worker ----------------------------------------------------------------------------
    def _job(self, job_id: str) -> Job:
        return next(job for job in self._jobs if job.id == job_id)

    def _enqueue(self, job: Job, apply: Callable[[], Callable[[bool], None]]) -> None:
        # caller holds self._lock
        self._jobs.append(job)
        finished = [j for j in self._jobs if j.state in ("succeeded", "failed")]
        for old in finished[: max(0, len(self._jobs) - KEEP_JOBS)]:
            self._jobs.remove(old)
        self._queue.put((job, apply))
        if self._worker is None or not self._worker.is_alive():
            # Daemon: a rebuild in progress must not keep a stopping server alive; the index
            # build is crash-safe, and an interrupted corpus change is picked up at next start.
            self._worker = threading.Thread(target=self._work, name="reindex-worker", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            job, apply = self._queue.get()
            try:
                with self._across_processes(job):
                    job.note = None
                    self._run(job, apply)
            except BaseException:  # pragma: no cover - _run records every failure itself
                log.exception("job %s crashed", job.id)
            finally:
                with self._lock:
                    if job.document and self._pending_ids.get(job.document) == job.id:
                        del self._pending_ids[job.document]
                self._queue.task_done()

    @contextmanager
    def _across_processes(self, job: Job):
        """Hold the index folder's build lock for the whole job (corpus change, build, undo), so
        that jobs of several server processes on the same folders (``assistant serve --workers
        N``) and `assistant ingest` run one at a time instead of removing each other's work."""
        def waiting(message: str) -> None:
            job.state = "running"
            job.started_at = _now()
            job.note = f"waiting for the build lock: {message}"
            log.info("job %s: %s", job.id, job.note)

        with build_lock(Path(self.settings.index_dir), on_wait=waiting):
            yield

    def _current_version(self) -> str | None:
        return self.assistant.status().get("version")

    def _run(self, job: Job, apply: Callable[[], Callable[[bool], None]]) -> None:
        job.state = "running"
        job.started_at = _now()
        job.version_before = self._current_version()
        log.info("job %s: %s %s", job.id, job.action, job.document or "")
        finish: Callable[[bool], None] | None = None
        try:
            finish = apply()
            index = self.assistant.rebuild()
            if job.action == "upload" and not any(d["id"] == job.document for d in index.documents):
                problems = [str(e) for e in self.assistant.last_build_errors if Path(e.path).name == job.file]
                raise ManagementError(422, "the document was not indexed" + (f": {problems[0]}" if problems else ""))
        except BaseException as exc:
            message = exc.message if isinstance(exc, ManagementError) else f"{type(exc).__name__}: {exc}"
            if finish is not None:
                try:
                    finish(False)
                except Exception as undo:  # noqa: BLE001 - report both, never hide the first
                    message += (
                        f"; and the corpus change could not be undone ({type(undo).__name__}: {undo}): "
                        f"the corpus folder now differs from the served index; check {self.corpus_dir}"
                    )
            job.error = message
            job.state = "failed"
            job.version_after = self._current_version()
            job.finished_at = _now()
            log.error("job %s failed: %s (serving %s)", job.id, message, job.version_after)
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
            return [job.to_dict() for job in reversed(self._jobs)]

    def job(self, job_id: str) -> dict | None:
        with self._lock:
            found = next((job for job in self._jobs if job.id == job_id), None)
            return found.to_dict() if found else None

    def busy(self) -> bool:
        with self._lock:
            return any(job.state in ("queued", "running") for job in self._jobs)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and scripts: wait until no job is queued or running."""
        deadline = time.monotonic() + timeout
        while self.busy():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


class IndexFollower:
    """Keeps a server on the version that CURRENT names when another process switched it: a
    second `assistant serve` worker that ran an upload job, or `assistant ingest` run next to a
    live server. ``poke()`` is cheap (at most one small file read a second) and is called on
    requests; a change is loaded in a background thread with the usual checks (checksums,
    freshness against the corpus) and swapped in like any other new index. A version that does
    not load is reported in the log once and the current one kept."""

    def __init__(self, assistant: Assistant, index_dir: Path, interval_s: float = 1.0) -> None:
        self.assistant = assistant
        self.index_dir = Path(index_dir)
        self.interval_s = interval_s
        self._next_check = 0.0
        self._loading = threading.Lock()
        self._refused: str | None = None

    def poke(self) -> None:
        now = time.monotonic()
        if now < self._next_check or not self.assistant.ready or self._loading.locked():
            return
        self._next_check = now + self.interval_s
        try:
            named = (self.index_dir / CURRENT_POINTER).read_text(encoding="utf-8").strip()
        except OSError:
            return
        if not named or named == self.assistant.status().get("version") or named == self._refused:
            return
        threading.Thread(target=self._load, args=(named,), name="index-follower", daemon=True).start()

    def _load(self, named: str) -> None:
        if not self._loading.acquire(blocking=False):
            return
        try:
            before = self.assistant.status().get("version")
            self.assistant.open(build_if_needed=False)
            log.info("index switched by another process: %s -> %s", before, self.assistant.status().get("version"))
        except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
            self._refused = named
            log.warning("not following the index to %s: %s", named, exc)
        finally:
            self._loading.release()
