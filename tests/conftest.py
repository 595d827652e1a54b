from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant

DATA = Path(__file__).parent / "data"
GUIDANCE = DATA / "guidance"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the small guidance fixture, safe to modify."""
    target = tmp_path / "corpus"
    shutil.copytree(GUIDANCE, target)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        corpus_dir=corpus_dir,
        index_dir=tmp_path / "index",
        embedder="fake",
        rate_limit="0",
    )


@pytest.fixture
def fake_assistant(fake_settings: Settings) -> Assistant:
    assistant = Assistant(fake_settings, embedder=FakeEmbedder())
    assistant.open()
    return assistant
