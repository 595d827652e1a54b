"""The small guidance fixture and its fake-embedder index: where they live, how to build the
index once, and how to hand a test a private copy it may change."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from tests.support.paths import DATA

__all__ = ["DATA", "GUIDANCE", "OPERATOR_KEY", "build_fake_index", "copy_built", "working_copy"]

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
