"""Why an operator's request (upload, delete, job control) is refused, as types.

The HTTP layer maps each type to a status (assistant/api/routes/admin.py); nothing below it
speaks HTTP.
"""

from __future__ import annotations


class ManagementError(Exception):
    """A request the operator must change; ``message`` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(ManagementError):
    """Nothing usable was sent (no file name, a name that would never be indexed)."""


class UnsupportedFileType(ManagementError):
    pass


class UploadTooLarge(ManagementError):
    pass


class UnreadableDocument(ManagementError):
    """The file cannot be read, has no text, or is over a document cap."""


class StorageFailed(ManagementError):
    """The corpus folder cannot be written (full, read-only)."""


class Conflict(ManagementError):
    """The request clashes with the corpus or a queued job (an existing id, the last document)."""


class NotFound(ManagementError):
    pass
