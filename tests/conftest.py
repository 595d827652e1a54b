"""Fixtures and one collection hook; shared constants and builders live in tests/support
(import them from there)."""

from __future__ import annotations

import gc
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# pytest rewrites every test module's asserts on import and caches the result next to it only
# when bytecode may be written; with PYTHONDONTWRITEBYTECODE set (as on the shared machine) each
# process of each run re-parsed, rewrote and compiled every test module and the package, about
# half the CPU of collecting. These are caches (gitignored __pycache__ folders in the repo), so
# the test run writes them whatever the shell says (docs/benchmarks.md, "Test suite").
sys.dont_write_bytecode = False

# The package is imported by the fixtures, not here: with -n, the controlling process loads this
# file too but runs no test, and importing the package there (assistant.answering tokenises a
# word list at import, loading jieba's dictionary) took it seconds of CPU beside the workers'
# own start (docs/benchmarks.md, "Test suite", v5-fast). Type hints name the classes as strings.
if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.service import Assistant


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """Collecting imports the package, its libraries and every test module, and the collector's
    automatic full passes over that growing heap were a few tenths of a second per process; it
    is all kept for the run, so it is collected once at the end and frozen (see below)."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()
        gc.collect()
        gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _long_lived_objects_frozen():
    """The collector leaves alone what lives for the whole run.

    Every rebuild ends in a full collection (assistant.memory.release_freed_memory), and in a
    test process that traversed the package, its libraries and jieba's and the spell checker's
    dictionaries each time, dozens of times a run (docs/benchmarks.md, "Test suite", t4-tests).
    They are loaded here and moved to the permanent generation (gc.freeze); they are never
    garbage, and what the tests make is collected as before.
    """
    from assistant import lexical
    from assistant.query import english_words

    lexical.warm_up()
    english_words()
    gc.collect()
    gc.freeze()
    # Not unfrozen at the end: the process exits after the session, and pytest's own last two
    # collections (its check for unraisable exceptions) then traversed the whole heap again,
    # about a second per worker after the last test.
    yield


@pytest.fixture(scope="module", autouse=True)
def _survivors_frozen_per_module():
    """What outlived the previous test file (caches, shared profiles, modules imported since) is
    frozen too, after a collection: otherwise each rebuild's full collection traversed all of it
    again, and that heap grew through the run (docs/benchmarks.md, "Test suite", u5-tests).
    Garbage is collected first, so only live objects are frozen; the previous file's module
    fixtures are finalised before this runs."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _shared_fake_index_profiles():
    """Loads of the same fake-embedder index files share one computed scope profile (most of
    the CPU of opening an assistant; tests/support/profiles.py says what is shared and what not)."""
    from tests.support.profiles import share_fake_index_profiles

    undo = share_fake_index_profiles()
    yield
    undo()


@pytest.fixture(scope="session", autouse=True)
def _shared_fake_build_profiles():
    """Fake-embedder builds of the same index files store one computed scope profile (the pseudo
    near misses, the largest part of a repeat build; tests/support/profiles.py)."""
    from tests.support.profiles import share_fake_build_profiles

    undo = share_fake_build_profiles()
    yield
    undo()


@pytest.fixture(scope="session", autouse=True)
def _shared_homophone_tables():
    """Homophone tables of the same Chinese text are built once per process (each build stores
    them, and the tests' builds mostly share the fixture's Chinese documents;
    tests/support/profiles.py)."""
    from tests.support.profiles import share_homophone_tables

    undo = share_homophone_tables()
    yield
    undo()


@pytest.fixture(scope="session", autouse=True)
def _remembered_tokens():
    """BM25 tokens of a text are computed once per process (the fixture corpus is rebuilt by
    dozens of tests; tests/support/tokens.py says why this changes nothing but the time)."""
    from tests.support.tokens import remember_tokens

    undo = remember_tokens()
    yield
    undo()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The guidance fixture and its fake-embedder index, built once; tests work on copies."""
    from tests.support.corpus import GUIDANCE, build_fake_index

    root = tmp_path_factory.mktemp("built")
    shutil.copytree(GUIDANCE, root / "corpus")
    build_fake_index(root)
    gc.collect()
    gc.freeze()  # what the build left to last the run: caches, shared profiles (see above)
    return root


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the small guidance fixture, safe to modify (no index next to it)."""
    from tests.support.corpus import GUIDANCE

    target = tmp_path / "corpus"
    shutil.copytree(GUIDANCE, target)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    """Settings over a private corpus copy; tmp_path/index does not exist until something builds it."""
    from assistant.config import Settings

    return Settings(
        _env_file=None,
        corpus_dir=corpus_dir,
        index_dir=tmp_path / "index",
        embedder="fake",
        rate_limit="0",
    )


@pytest.fixture
def fake_assistant(fake_settings: Settings, built: Path) -> Assistant:
    """An open assistant over a private copy of the session's built index (same corpus bytes,
    so it loads as fresh instead of being rebuilt for every test)."""
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    if not fake_settings.index_dir.exists():
        shutil.copytree(built / "index", fake_settings.index_dir)
    assistant = Assistant(fake_settings, embedder=FakeEmbedder())
    assistant.open()
    return assistant


@pytest.fixture
def operator_settings(built: Path, tmp_path: Path) -> Settings:
    from tests.support.corpus import working_copy

    return working_copy(built, tmp_path)
