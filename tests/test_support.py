"""The shared helpers of tests/support that need no process: percentiles, the command line, and
the scope profiles shared between loads of the same fake index."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from assistant.embedding import FakeEmbedder
from assistant.index import load_index
from assistant.service import Assistant
from tests.support.corpus import working_copy
from tests.support.load import median, pct
from tests.support.profiles import _per_instance
from tests.support.servers import REPO, Server


def test_percentiles_interpolate_and_say_none_for_nothing():
    assert pct([], 50) is None
    assert pct([10.0], 99) == 10.0
    assert pct([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert pct(list(range(101)), 95) == pytest.approx(95.0)
    assert median([None, 3.0, 1.0]) == 2.0
    assert median([None]) is None


def test_the_server_command_is_the_cli_on_loopback_unless_replaced(tmp_path):
    server = Server(env={}, global_args=["--embedder", "fake"], serve_args=["--workers", "1"])
    assert server.command[:3] == [sys.executable, "-m", "assistant.cli"]
    assert server.command[3:] == ["--embedder", "fake", "serve", "--host", "127.0.0.1", "--port", str(server.port),
                                  "--workers", "1"]
    assert server.url == f"http://127.0.0.1:{server.port}" and server.cwd == REPO
    other = Server(env={}, command=lambda port: ["uvicorn", "--port", str(port)], log=tmp_path / "log")
    assert other.command == ["uvicorn", "--port", str(other.port)]
    server.stop(), other.stop()  # never started: nothing to stop, no error


def _profile(settings):
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    return assistant.live.retriever.profile


def _stored(settings):
    index = load_index(settings.index_dir)
    return json.loads((index.root / "scope_profile.json").read_text(encoding="utf-8"))


def _profile_inputs(settings):
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    return (assistant.live.retriever.index,)


def test_copies_of_one_index_share_the_computed_profile_but_not_its_caches_or_locks(built, tmp_path):
    first = _profile(working_copy(built, tmp_path / "a"))
    second = _profile(working_copy(built, tmp_path / "b"))
    assert second is not first
    assert second.idf is first.idf and second.vocabulary is first.vocabulary  # computed once
    assert second.pseudo == first.pseudo
    own = [name for name, value in vars(second).items() if _per_instance(value)]
    assert own, "the profile has caches and locks of its own"
    assert all(vars(second)[name] is not vars(first)[name] for name in own)
    first.clause_has_figure(next(iter(first._clause_text)))  # fills one of its own caches
    assert any(vars(first)[name] for name in own if not _per_instance(vars(first)[name]))
    assert all(_per_instance(vars(second)[name]) for name in own)  # second's caches still empty

    # The same values as a profile computed from scratch for this load, without any sharing.
    from assistant.abstention import IndexProfile

    scratch = IndexProfile.__new__(IndexProfile)
    IndexProfile.__init__.computes(scratch, *_profile_inputs(working_copy(built, tmp_path / "c")))
    assert scratch.idf == second.idf and scratch.max_idf == second.max_idf and scratch.n_docs == second.n_docs
    assert scratch.pseudo == second.pseudo and scratch.vocabulary.counts == second.vocabulary.counts


def test_a_changed_index_gets_its_own_profile(built, tmp_path):
    first = _profile(working_copy(built, tmp_path / "a"))
    changed = working_copy(built, tmp_path / "b")
    (changed.corpus_dir / "ccso-en.md").unlink()
    assistant = Assistant(changed, embedder=FakeEmbedder())
    assistant.rebuild()
    other = assistant.live.retriever.profile
    assert other.idf is not first.idf and other.n_docs < first.n_docs
    # What the build stored was its own too, not the first index's.
    stored = json.loads((assistant.live.index.root / "scope_profile.json").read_text(encoding="utf-8"))
    assert stored["clause_terms"].keys() < _stored(working_copy(built, tmp_path / "c"))["clause_terms"].keys()


def test_a_folder_without_the_stored_profile_file_gets_a_profile_of_its_own(built, tmp_path):
    # Same manifest, but the folder does not hold the scope_profile.json it lists: what the
    # profile reads from the folder differs, so nothing is shared.
    import dataclasses

    from assistant.abstention import IndexProfile

    first = _profile(working_copy(built, tmp_path / "a"))
    index = _profile_inputs(working_copy(built, tmp_path / "b"))[0]
    (tmp_path / "old").mkdir()
    old = IndexProfile(dataclasses.replace(index, root=tmp_path / "old"))
    assert old.idf is not first.idf and old.idf == first.idf
    assert first._near_miss and old._near_miss is None and old._terms == {}


def test_builds_of_the_same_index_files_share_what_they_store(fake_assistant):
    from assistant import abstention

    retriever = fake_assistant.live.retriever
    first = abstention.scope_profile(retriever)
    assert abstention.scope_profile(retriever) is first  # computed once
    assert abstention.scope_profile.computes(retriever) == first  # what the unshared function stores


def test_homophone_tables_of_the_same_text_are_built_once_and_equal_the_unshared_build(fake_assistant):
    from assistant import abstention
    from assistant.homophones import Homophones

    index = fake_assistant.live.index
    terms = abstention._clause_terms_of(abstention.stored_scope_profile(index))
    first, second = abstention.chinese_homophones(index, terms), abstention.chinese_homophones(index, terms)
    first.stored_form(), second.stored_form()
    assert second._keys is first._keys and second._spans is first._spans  # built once
    scratch = abstention.chinese_homophones(index, terms)
    Homophones._build.computes(scratch)
    assert scratch._keys == first._keys and list(scratch._keys) == list(first._keys)  # same order too
    assert scratch._spans == first._spans
    # Other text gets its own tables.
    other = Homophones(["坐席密码应定期更换。"])
    other.stored_form()
    assert other._keys is not first._keys and other._keys != first._keys


def test_remembered_tokens_are_the_tokeniser_s_and_each_caller_gets_its_own_list():
    from assistant import lexical

    text = "企业高层领导应支持呼叫中心的建设 and the centres monitor calls"
    first = lexical.bm25_terms(text)
    first.append("changed by the caller")
    assert lexical.bm25_terms(text) == lexical._terms.computes(text, True)
    assert lexical.tokenize(text) == lexical._terms.computes(text, False) != lexical.bm25_terms(text)
