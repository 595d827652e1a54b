"""Documents that crashed or stalled a build: remembered by content, skipped until replaced.

``<index>/quarantine.json`` maps a corpus file name to the checksum of the content that failed
and why. A build skips a listed file while its content is the same (reported like any unreadable
file, so it is named in the index status); a replaced file (new content) is tried again and
leaves the list. Written only under the build lock.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.documents import DocumentError
from assistant.ingest import file_sha256

QUARANTINE_FILE = "quarantine.json"


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

    def add(self, path: Path, reason: str) -> None:
        entries = self.entries()
        try:
            digest = file_sha256(path)
        except OSError:
            return  # gone already: nothing to skip next time
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

    def _write(self, entries: dict[str, dict]) -> None:
        Path(self.index_dir).mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{QUARANTINE_FILE}.tmp")
        tmp.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
