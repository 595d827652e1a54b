import pytest

from tests.support.corpus import GUIDANCE, e5_assistant_over


@pytest.fixture(scope="session")
def e5_assistant(tmp_path_factory):
    """The default pipeline with the real packaged model over the small guidance fixture."""
    return e5_assistant_over(GUIDANCE, tmp_path_factory)
