from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant

DATA = Path(__file__).parent / "data"
GUIDANCE = DATA / "guidance"
OPERATOR_KEY = "test-operator-key-0123456789"


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


def build_fake_index(root: Path) -> Path:
    """Index root/corpus into root/index with the fake embedder; returns root."""
    settings = Settings(_env_file=None, corpus_dir=root / "corpus", index_dir=root / "index", embedder="fake")
    Assistant(settings, embedder=FakeEmbedder()).open()
    return root


def working_copy(built: Path, target: Path) -> Settings:
    """A private copy of a built corpus and index, with the operator routes on."""
    shutil.copytree(built / "corpus", target / "corpus")
    shutil.copytree(built / "index", target / "index")
    return Settings(_env_file=None, corpus_dir=target / "corpus", index_dir=target / "index",
                    embedder="fake", rate_limit="0", operator_key=OPERATOR_KEY)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The guidance fixture and its fake-embedder index, built once; tests work on copies."""
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(GUIDANCE, root / "corpus")
    return build_fake_index(root)


@pytest.fixture
def operator_settings(built: Path, tmp_path: Path) -> Settings:
    return working_copy(built, tmp_path)
