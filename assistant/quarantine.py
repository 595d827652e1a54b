"""Documents that crashed or stalled a build: remembered by content, skipped until replaced.

``<index>/quarantine.json`` maps a corpus file name to the checksum of the content that failed
and why. A build skips a listed file while its content is the same (reported like any unreadable
file, so it is named in the index status); a replaced file (new content) is tried again and
leaves the list. Written only under the build lock.

A process killed while its worker reads a document (SIGKILL, the OOM killer taking the server)
cannot quarantine anything itself. So ``<index>/building.json`` names the document being read,
with its checksum, from before it goes to the worker until its answer is in; a graceful exit
clears it too. The next build finds a leftover marker and quarantines that content, so a restart
does not read the same file, and die on it, for ever.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.documents import DocumentError
from assistant.ingest import file_sha256

QUARANTINE_FILE = "quarantine.json"
MARKER_FILE = "building.json"
INTERRUPTED = "a build was killed while reading it (the server or its build worker stopped mid-document)"

_open_markers: set[Path] = set()  # this process's, cleared at a graceful exit
_markers_guard = threading.Lock()


def _clear_open_markers() -> None:
    with _markers_guard:
        for marker in list(_open_markers):
            marker.unlink(missing_ok=True)
        _open_markers.clear()


atexit.register(_clear_open_markers)


@dataclass
class Quarantine:
    index_dir: Path

    @property
    def path(self) -> Path:
        return Path(self.index_dir) / QUARANTINE_FILE

    def entries(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged list quarantines nothing; the caps and timeouts still hold
        return data if isinstance(data, dict) else {}

    @property
    def marker(self) -> Path:
        return Path(self.index_dir) / MARKER_FILE

    def add(self, path: Path, reason: str, digest: str | None = None) -> None:
        entries = self.entries()
        try:
            current = file_sha256(path)
        except OSError:
            return  # gone already: nothing to skip next time
        if digest is not None and digest != current:
            return  # replaced since it failed: the new content gets its own try
        digest = current
        entries[path.name] = {"sha256": digest, "reason": reason,
                              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._write(entries)

    def split(self, paths: list[Path]) -> tuple[list[Path], list[DocumentError]]:
        """The paths to build, and an error for each quarantined one; drops entries whose file
        was replaced or removed."""
        entries = self.entries()
        if not entries:
            return paths, []
        keep, skipped, still = [], [], {}
        for path in paths:
            entry = entries.get(path.name)
            if entry is not None:
                try:
                    same = file_sha256(path) == entry.get("sha256")
                except OSError:
                    same = False
                if same:
                    still[path.name] = entry
                    skipped.append(DocumentError(
                        path, f"quarantined: {entry.get('reason')}; replace the file to try it again"))
                    continue
            keep.append(path)
        if still != entries:
            self._write(still)
        return keep, skipped

    @contextmanager
    def reading(self, path: Path):
        """The marker naming ``path`` for as long as the block runs; left behind only when the
        process dies inside it."""
        try:
            digest = file_sha256(path)
        except OSError:
            digest = None  # the reader will say why it cannot be read
        record = {"file": path.name, "path": str(path), "sha256": digest, "pid": os.getpid(),
                  "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._write_json(self.marker, record)
        with _markers_guard:
            _open_markers.add(self.marker)
        try:
            yield
        finally:
            with _markers_guard:
                _open_markers.discard(self.marker)
            self.marker.unlink(missing_ok=True)

    def recover_interrupted(self) -> str | None:
        """Quarantine the document a killed build was reading, if any; its file name."""
        try:
            record = json.loads(self.marker.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            record = None  # a marker torn by the kill names nothing reliably
        name = None
        if isinstance(record, dict) and record.get("path") and record.get("sha256"):
            path = Path(record["path"])
            self.add(path, f"{INTERRUPTED}; not indexed", digest=record["sha256"])
            name = path.name if path.name in self.entries() else None
        self.marker.unlink(missing_ok=True)
        return name

    def _write(self, entries: dict[str, dict]) -> None:
        self._write_json(self.path, entries)

    def _write_json(self, target: Path, data) -> None:
        Path(self.index_dir).mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, target)
