"""One scope profile per fake-embedder index content in a test session.

Every index load builds the index's scope profile (assistant.abstention.IndexProfile: IDF,
vocabulary, pseudo near-miss levels, and what it reads from scope_profile.json); in the unit
tests that was most of the CPU of opening an assistant, and almost every test opens a private
copy of the same session-built index. A profile is made from two things: the loaded index (its
files, named by the manifest's checksums) and the scope_profile.json really in the folder it is
loaded from. Loads that agree on both share: the second and later take the first one's computed
values instead of computing them again. The file's own checksum is part of the key because a
test may point an index at a folder that does not hold the file its manifest lists (an index
"built before the file existed"); such a load computes its own profile, as the service would.
Only fake-embedder indexes are shared (the integration tests with real models build theirs as
the service does), and each load still gets its own profile object: per-instance caches and
locks (whatever is an empty container or a lock when __init__ returns) are made fresh for it.

A build stores what the scope decision derives from the new index (abstention.scope_profile:
its pseudo near misses, a few hundred searches, and every clause's coverage terms), and the
tests build the same fixture corpus dozens of times (docs/benchmarks.md, "Test suite", t4-tests).
It is a pure function of the index files (the manifest's checksums before the file is added),
the embedder and the retrieval configuration it searches with, so fake-embedder builds of the
same content share it too (share_fake_build_profiles). The shared value is handed out as it
is, not copied: build_index only writes it out as JSON.

The homophone tables (assistant.homophones.Homophones: every span of the Chinese clauses'
text and a key per corpus word and reading) are a pure function of the Chinese texts and the
longer words they are made from, in that order; pypinyin and jieba never change during a run.
Each build stores them, and an index loaded without them builds them on its first Chinese
question; the tests' builds mostly differ from the fixture in an English or a small added
document, so their Chinese text, and the tables, are the same (share_homophone_tables).

This patches one private constructor, one function looked up when a build calls it, and one
private method.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}
_lock = threading.Lock()
_profiles: dict[tuple, tuple[dict, frozenset[str]]] = {}
_built: dict[tuple, dict] = {}
_tables: dict[tuple, tuple] = {}


def _key(index) -> tuple:
    from assistant.abstention import SCOPE_PROFILE_FILE
    from assistant.ingest import file_sha256

    manifest = index.manifest
    stored = Path(index.root) / SCOPE_PROFILE_FILE
    return (manifest.embedder, manifest.dimension, tuple(sorted(manifest.files.items())),
            file_sha256(stored) if stored.is_file() else None)


def _per_instance(value) -> bool:
    return type(value) in _LOCKS or (type(value) in (dict, list, set) and not value)


def _fresh(value):
    return _LOCKS.get(type(value), type(value))()


def share_fake_index_profiles() -> Callable[[], None]:
    """Share IndexProfile values between fake-embedder loads of the same index files; returns
    the function that undoes it."""
    from assistant.abstention import IndexProfile

    original = IndexProfile.__init__

    def init(self, index) -> None:
        if index.manifest.embedder != "fake":
            original(self, index)
            return
        key = _key(index)
        with _lock:
            known = _profiles.get(key)
        if known is None:
            original(self, index)
            state = dict(vars(self))
            with _lock:
                _profiles.setdefault(key, (state, frozenset(n for n, v in state.items() if _per_instance(v))))
            return
        state, fresh = known
        vars(self).update({name: _fresh(value) if name in fresh else value for name, value in state.items()})

    init.computes = original  # the unshared constructor, for a test to compare against
    IndexProfile.__init__ = init

    def undo() -> None:
        IndexProfile.__init__ = original

    return undo


def share_fake_build_profiles() -> Callable[[], None]:
    """Share abstention.scope_profile's result between fake-embedder builds of the same index
    files with the same retrieval configuration; returns the function that undoes it."""
    from assistant import abstention

    original = abstention.scope_profile

    def scope_profile(retriever) -> dict:
        manifest = retriever.index.manifest
        if manifest.embedder != "fake":
            return original(retriever)
        key = (manifest.embedder, manifest.dimension, tuple(sorted(manifest.files.items())), repr(retriever.config))
        with _lock:
            known = _built.get(key)
        if known is None:
            known = original(retriever)
            with _lock:
                known = _built.setdefault(key, known)
        return known

    scope_profile.computes = original  # the unshared function, for a test to compare against
    abstention.scope_profile = scope_profile

    def undo() -> None:
        abstention.scope_profile = original

    return undo


def share_homophone_tables() -> Callable[[], None]:
    """Share Homophones' built tables between instances made from the same texts and words;
    returns the function that undoes it."""
    from assistant.homophones import Homophones

    original = Homophones._build

    def build(self) -> None:
        key = (tuple(self._texts), tuple(self._words))
        with _lock:
            known = _tables.get(key)
        if known is None:
            original(self)
            with _lock:
                known = _tables.setdefault(key, (self._spans, self._keys))
        # Never changed once built (Homophones only looks them up), so handed out as they are.
        self._spans, self._keys = known

    build.computes = original  # the unshared method, for a test to compare against
    Homophones._build = build

    def undo() -> None:
        Homophones._build = original

    return undo
