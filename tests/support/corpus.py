"""The small guidance fixture and its fake-embedder index: where they live, how to build the
index once, and how to hand a test a private copy it may change; and the real-model assistant
the integration tests open over a fixture corpus."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.paths import DATA

__all__ = ["DATA", "GUIDANCE", "OPERATOR_KEY", "build_fake_index", "built_once", "copy_built", "e5_assistant_over",
           "fake_assistant_over", "working_copy"]

GUIDANCE = DATA / "guidance"
OPERATOR_KEY = "test-operator-key-0123456789"


def build_fake_index(root: Path) -> Path:
    """Index root/corpus into root/index with the fake embedder; returns root."""
    settings = Settings(_env_file=None, corpus_dir=root / "corpus", index_dir=root / "index", embedder="fake")
    Assistant(settings, embedder=FakeEmbedder()).open()
    return root


def built_once(tmp_path_factory) -> Path:
    """The guidance fixture and its fake-embedder index, built once per test run; returns the
    folder holding corpus/ and index/, which tests copy and never change.

    With -n each worker process asked for its own build of the same files, about a tenth of a
    worker's CPU (docs/benchmarks.md, "Test suite", w4-fast). The first worker to get here builds
    it in the run's temporary root, which all workers share (pytest-xdist's basetemp is one
    folder per worker inside it), under a file lock; the others wait for the lock and use the
    finished folder (a marker file says it is whole). Without -n it is built as before.

    The other workers do not take its stored scope profile as their own build's
    (tests/support/profiles.py shares those within a process only): the same corpus built in
    another process had other BM25 file bytes (bm25/vocab.index.json and the arrays numbered by
    it differ), so another key, and its scores need not agree to the last bit.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        root = tmp_path_factory.mktemp("built")
        shutil.copytree(GUIDANCE, root / "corpus")
        return build_fake_index(root)
    shared = tmp_path_factory.getbasetemp().parent
    root, done = shared / "built", shared / "built.done"
    with open(shared / "built.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if a worker dies
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # a build a dead worker left half done
            shutil.copytree(GUIDANCE, root / "corpus")
            build_fake_index(root)
            done.touch()
    return root


def copy_built(built: Path, target: Path) -> tuple[Path, Path]:
    """Copies a built corpus and index under target; returns (corpus, index)."""
    shutil.copytree(built / "corpus", target / "corpus", dirs_exist_ok=True)
    shutil.copytree(built / "index", target / "index", dirs_exist_ok=True)
    return target / "corpus", target / "index"


def working_copy(built: Path, target: Path) -> Settings:
    """A private copy of a built corpus and index, with the operator routes on."""
    corpus, index = copy_built(built, target)
    return Settings(_env_file=None, corpus_dir=corpus, index_dir=index,
                    embedder="fake", rate_limit="0", operator_key=OPERATOR_KEY)


def e5_assistant_over(corpus: Path, tmp_path_factory) -> Assistant:
    """The default pipeline with the real packaged e5-small model over a fixture corpus (read
    in place, never changed), its index built in a fresh temporary folder."""
    root = tmp_path_factory.mktemp(f"e5-{corpus.name}")
    settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=root / "index", embedder="e5-small")
    assistant = Assistant(settings)
    assistant.open()
    return assistant


def fake_assistant_over(corpus: Path, tmp_path_factory, **settings) -> tuple[Assistant, Settings]:
    """The fake-embedder pipeline over a fixture corpus (read in place, never changed), its index
    built in a fresh temporary folder; ``settings`` are passed on to Settings."""
    root = tmp_path_factory.mktemp(f"fake-{corpus.name}")
    built = Settings(_env_file=None, corpus_dir=corpus, index_dir=root / "index", embedder="fake", **settings)
    assistant = Assistant(built, embedder=FakeEmbedder())
    assistant.open()
    return assistant, built
