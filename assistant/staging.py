"""Upload staging: an upload is written to a hidden folder inside the corpus folder (never
indexed) and checked there, in the build worker with the per-document caps and time limit,
before any job is queued. A file that cannot be read is refused with the loader's reason and
never reaches the corpus."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistant.build_worker import prepare_in_worker
from assistant.config import Settings
from assistant.filenames import sanitise_filename
from assistant.ingest import DocumentCaps
from assistant.refusals import ManagementError, StorageFailed, UnreadableDocument, UploadTooLarge

STAGING_DIR = ".staging"
_COPY_BLOCK = 1 << 20


@dataclass
class StagedUpload:
    """A validated upload waiting in the staging folder."""

    path: Path
    name: str
    document: dict  # id, title, format, lang, pages, clauses, passages


class UploadStaging:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def folder(self) -> Path:
        return Path(self.settings.corpus_dir) / STAGING_DIR

    def cleanup(self) -> None:
        """Remove uploads that were staged but never became part of the corpus (a process that
        exited between the upload and its job). Folders holding files that a job set aside
        (``upload-*/replaced``, ``delete-*``) are kept for an operator to look at."""
        for leftover in self.folder.glob("upload-*"):
            if not (leftover / "replaced").exists():
                shutil.rmtree(leftover, ignore_errors=True)

    def stage(self, source: BinaryIO, filename: str | None) -> StagedUpload:
        """Copy an upload into the staging folder (at most max_upload_bytes) and check that it
        loads and parses. Raises a ManagementError and leaves nothing behind."""
        name = sanitise_filename(filename)
        limit = self.settings.max_upload_bytes
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            folder = Path(os.path.realpath(self.folder / f"upload-{uuid.uuid4().hex}"))
            folder.mkdir()
        except OSError as exc:
            raise StorageFailed(f"cannot store the upload in the corpus folder: {exc.strerror or exc}") from exc
        target = folder / name
        try:
            written = 0
            with open(target, "xb") as out:
                while block := source.read(_COPY_BLOCK):
                    written += len(block)
                    if written > limit:
                        raise UploadTooLarge(
                            f"the file is larger than the upload limit ({limit} bytes, ASSISTANT_MAX_UPLOAD_BYTES)"
                        )
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if written == 0:
                raise UnreadableDocument(f"{name}: empty file")
            document = self._check(target, name)
        except ManagementError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise StorageFailed(f"cannot store the upload: {exc.strerror or exc}") from exc
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return StagedUpload(target, name, document)

    def _check(self, path: Path, name: str) -> dict:
        """Load and parse the staged file as an index build would, in the build worker."""
        prepared, errors = prepare_in_worker(
            [path], self.settings.passage_chars, max_bytes=self.settings.max_upload_bytes,
            caps=DocumentCaps.from_settings(self.settings),
        )
        if errors:
            raise UnreadableDocument(f"{name}: {errors[0].reason}")
        if not prepared or not prepared[0].passages:
            raise UnreadableDocument(f"{name}: no text to index")
        document = prepared[0]
        counts = {"clauses": len(document.clauses), "passages": len(document.passages)}
        return {**document.summary, "source": name, **counts}

    def discard(self, staged: StagedUpload) -> None:
        shutil.rmtree(staged.path.parent, ignore_errors=True)
