import pytest

from assistant.config import Settings
from assistant.service import Assistant


@pytest.fixture(scope="session")
def e5_assistant(tmp_path_factory):
    """The default pipeline with the real packaged model over the small guidance fixture."""
    from tests.support.corpus import GUIDANCE

    root = tmp_path_factory.mktemp("e5")
    settings = Settings(_env_file=None, corpus_dir=GUIDANCE, index_dir=root / "index", embedder="e5-small")
    assistant = Assistant(settings)
    assistant.open()
    return assistant
