"""Following the index another process switched to (another `assistant serve` worker's job, or
`assistant ingest` next to a live server)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from assistant.index import CURRENT_POINTER
from assistant.service import Assistant

log = logging.getLogger("assistant.follower")


class IndexFollower:
    """Keeps a server on the version that CURRENT names. ``poke()`` is cheap (at most one small
    file read per ``interval_s``, ASSISTANT_FOLLOW_INTERVAL) and is called on requests; a change
    is loaded in a background thread with the usual checks (checksums, freshness against the
    corpus) and swapped in like any other new index. A version that does not load is reported in the log once and the current
    one kept."""

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
