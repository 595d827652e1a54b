"""Small hardening items of issue 15: CLI bounds like the API's, one-line errors for bad
settings, operator keys that can match, a full disk said plainly."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant import cli
from assistant.config import MIN_OPERATOR_KEY_CHARS, SettingsError, load_settings
from tests.support.corpus import working_copy
from tests.support.live_server import assistant_cmd, assistant_env


@pytest.fixture
def base(built, tmp_path):
    settings = working_copy(built, tmp_path)
    return ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--embedder", "fake"]


@pytest.mark.parametrize("command, k", [("ask", "-5"), ("ask", "0"), ("ask", str(10**9)), ("ask", "21"),
                                        ("search", "-5"), ("search", str(10**9)), ("search", "51"), ("ask", "x")])
def test_cli_k_is_bounded_like_the_api(base, command, k, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*base, command, "录音保存多久", "-k", k])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument -k" in err and ("out of range" in err or "not a whole number" in err)
    assert "Traceback" not in err


def test_cli_k_within_bounds_still_answers(base, capsys):
    assert cli.main([*base, "ask", "录音保存多久", "-k", "20", "--json"]) == 0
    assert cli.main([*base, "search", "录音", "-k", "50", "--json"]) == 0


@pytest.mark.parametrize("env, expected", [
    ({"ASSISTANT_TOP_K": "0"}, "ASSISTANT_TOP_K='0': Input should be greater than or equal to 1"),
    ({"ASSISTANT_TOP_K": "many"}, "ASSISTANT_TOP_K='many': Input should be a valid integer"),
    ({"ASSISTANT_REQUEST_TIMEOUT": "-1"}, "ASSISTANT_REQUEST_TIMEOUT='-1'"),
    ({"ASSISTANT_AUTO_BUILD": "perhaps"}, "ASSISTANT_AUTO_BUILD='perhaps'"),
    ({"ASSISTANT_RATE_LIMIT": "lots"}, "ASSISTANT_RATE_LIMIT='lots': not a rate"),
    ({"ASSISTANT_MAX_QUESTION_CHARS": "0"}, "ASSISTANT_MAX_QUESTION_CHARS='0'"),
    ({"ASSISTANT_MAX_WORKER_MEMORY_MB": "10"},
     "ASSISTANT_MAX_WORKER_MEMORY_MB='10': Input should be greater than or equal to 64"),
    ({"ASSISTANT_OPERATOR_KEY": "short"}, f"ASSISTANT_OPERATOR_KEY: must be at least {MIN_OPERATOR_KEY_CHARS}"),
    ({"ASSISTANT_OPERATOR_KEY": "clé-de-l-opérateur-secrète"}, "ASSISTANT_OPERATOR_KEY: use only ASCII"),
])
@pytest.mark.system
@pytest.mark.parametrize("command", [["ask", "录音"], ["serve", "--port", "1"]])
def test_a_bad_setting_is_one_line_from_the_cli_and_serve(built, tmp_path, env, expected, command):
    settings = working_copy(built, tmp_path)
    environment = {**assistant_env(settings.corpus_dir, settings.index_dir), **env}
    result = subprocess.run(assistant_cmd(*command), cwd=tmp_path, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "secrète" not in result.stderr


def test_operator_key_rules():
    assert load_settings(_env_file=None, operator_key="A" * MIN_OPERATOR_KEY_CHARS).operator_key == "A" * 16
    assert load_settings(_env_file=None, operator_key="  ").operator_key is None  # empty: routes off
    assert load_settings(_env_file=None, operator_key="abc-DEF_123.456~7+8/9==").operator_key
    for bad in ("has space inside key", "ключ-оператора-длинный", "tab\tinside-the-key-x", "a" * 15):
        with pytest.raises(SettingsError, match="ASSISTANT_OPERATOR_KEY"):
            load_settings(_env_file=None, operator_key=bad)


def test_the_worker_memory_cap_setting():
    assert load_settings(_env_file=None).max_worker_memory_mb == 2048
    assert load_settings(_env_file=None, max_worker_memory_mb=512).max_worker_memory_mb == 512
    for bad in (10, "lots"):
        with pytest.raises(SettingsError, match="ASSISTANT_MAX_WORKER_MEMORY_MB"):
            load_settings(_env_file=None, max_worker_memory_mb=bad)


def test_the_secret_key_is_never_echoed_in_the_error():
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, operator_key="tiny-secret")
    assert "tiny-secret" not in str(error.value)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_vectors_on_a_full_disk_fail_with_enospc_not_a_truncated_file():
    from assistant.vector_store import FaissFlatStore

    with pytest.raises(OSError) as error:
        FaissFlatStore.write(Path("/dev/full"), np.ones((64, 8), dtype=np.float32))
    assert error.value.errno == errno.ENOSPC


def test_ingest_on_a_full_disk_says_so_plainly(base, monkeypatch, capsys):
    from assistant.vector_store import FaissFlatStore

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(FaissFlatStore, "write", staticmethod(full))
    assert cli.main([*base, "ingest", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: cannot write the new index (no space left on device (" in err
    assert "the previous index is unchanged" in err


def test_a_rebuild_gives_its_freed_memory_back(fake_settings, monkeypatch):
    import assistant.service as service
    from assistant.embedding import FakeEmbedder
    from assistant.memory import release_freed_memory

    calls = []
    monkeypatch.setattr(service, "release_freed_memory", lambda: calls.append(1) or True)
    service.Assistant(fake_settings, embedder=FakeEmbedder()).rebuild()
    assert calls == [1]
    assert isinstance(release_freed_memory(), bool)  # glibc here: really called, no error
