"""The file-name policy for uploads: what a client-sent name becomes in the corpus folder."""

from __future__ import annotations

import re
import unicodedata
from assistant.documents import SUPPORTED_SUFFIXES, document_id_for
from assistant.refusals import InvalidRequest, UnsupportedFileType

MAX_NAME_CHARS = 100


def sanitise_filename(raw: str | None) -> str:
    """A safe corpus file name from what the client sent.

    Keeps the last path component only (``/`` and ``\\`` both count), keeps ``[A-Za-z0-9._-]``
    and turns every other run of characters into ``-``; no leading dot (hidden files are not
    indexed); the suffix must be one the loaders read. A name with nothing left (a purely
    Chinese name, say) becomes the id ``assistant ingest`` gives the same file, ``doc-<hash>``,
    so a document has one id whichever way it came in.
    """
    name = unicodedata.normalize("NFC", (raw or "").replace("\x00", ""))
    name = re.split(r"[\\/]", name)[-1].strip()
    if not name or name in (".", ".."):
        raise InvalidRequest("the upload has no file name")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        raise UnsupportedFileType(
            f"'{name[:80]}' has no file type suffix; send one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"unsupported file type '{suffix[:20]}'; send one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")
    safe = re.sub(r"\.{2,}", ".", safe)
    if not safe:
        safe = document_id_for(stem + suffix)
    safe = safe[: MAX_NAME_CHARS - len(suffix)].rstrip(".-_") or "document"
    if safe.lower().startswith("readme"):
        raise InvalidRequest("files named README* are not indexed; rename the file")
    return safe + suffix
