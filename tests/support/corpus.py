"""The small guidance fixture and its fake-embedder index: where they live, how to build the
index once, and how to hand a test a private copy it may change; and the real-model assistant
the integration tests open over a fixture corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.paths import DATA

__all__ = ["DATA", "GUIDANCE", "OPERATOR_KEY", "build_fake_index", "copy_built", "e5_assistant_over",
           "fake_assistant_over", "working_copy"]

GUIDANCE = DATA / "guidance"
OPERATOR_KEY = "test-operator-key-0123456789"


def build_fake_index(root: Path) -> Path:
    """Index root/corpus into root/index with the fake embedder; returns root."""
    settings = Settings(_env_file=None, corpus_dir=root / "corpus", index_dir=root / "index", embedder="fake")
    Assistant(settings, embedder=FakeEmbedder()).open()
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
