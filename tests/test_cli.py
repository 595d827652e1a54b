import json
import socket

import pytest

from assistant.cli import main


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ingest_ask_search(fake_settings, capsys, tmp_path):
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    code, out, _ = run(capsys, *base, "ingest", "--quiet")
    assert code == 0 and "indexed 3 documents" in out

    code, out, _ = run(capsys, *base, "ask", "第4.5条", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["citations"][0]["id"] == "ccso-zh:4.5"

    code, out, _ = run(capsys, *base, "ask", "第4.5条")
    assert code == 0 and "Answer:" in out and "[1] 4.5" in out

    code, out, _ = run(capsys, *base, "search", "数据安全", "-k", "3")
    assert code == 0 and len(out.strip().splitlines()) == 3

    code, _, err = run(capsys, *base, "ask", "   ")
    assert code == 2 and "empty" in err

    for command in ("ask", "search"):
        code, out, err = run(capsys, *base, command, "数据安全", "--document", "ccso-zhh")
        assert code == 2 and out == ""
        assert "error: no document 'ccso-zhh'; the indexed documents are ccso-en, ccso-zh" in err


def test_ingest_adds_good_files_and_names_bad_ones(fake_settings, capsys, tmp_path):
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    good = tmp_path / "extra-guide.md"
    good.write_text("## 1 Scope\n\nThis extra guide covers parking for visitors.\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = run(capsys, *base, "ingest", str(good), str(empty), "--quiet")
    assert code == 0  # something was indexed: the bad file is named and counted, not fatal
    assert "empty.txt" in err and "empty" in err and "skipped 1 file " in err
    assert "indexed 4 documents" in out
    code, out, _ = run(capsys, *base, "ask", "parking for visitors", "--json")
    assert json.loads(out)["citations"][0]["document"] == "extra-guide"


def test_ask_without_index_and_auto_build_off_explains(fake_settings, capsys, monkeypatch):
    monkeypatch.setenv("ASSISTANT_AUTO_BUILD", "false")
    code, _, err = run(capsys, "--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir),
                       "--embedder", "fake", "ask", "数据安全")
    assert code == 2 and "assistant ingest" in err


def test_a_model_setting_that_names_no_model_is_a_clear_error(fake_settings, capsys, monkeypatch):
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir)]
    code, _, err = run(capsys, *base, "--embedder", "bogus", "ask", "数据安全")
    assert code == 2 and err.startswith("error: unknown embedder 'bogus'")
    monkeypatch.setenv("ASSISTANT_RERANKER", "bogus")
    code, _, err = run(capsys, *base, "--embedder", "fake", "ask", "数据安全")
    assert code == 2 and err.startswith("error: unknown reranker 'bogus'")


def test_an_empty_or_overlong_question_is_refused_before_the_index_is_opened(fake_settings, capsys, monkeypatch):
    # Opening would build the missing index (and load the model): a refused question must cost neither.
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    monkeypatch.setenv("ASSISTANT_MAX_QUESTION_CHARS", "20")
    for command, text, said in (("ask", "   ", "empty"), ("search", "\t", "empty"),
                                ("ask", "x" * 21, "too long (21 characters; the limit is 20)")):
        code, out, err = run(capsys, *base, command, text)
        assert code == 2 and said in err and out == ""
    assert not fake_settings.index_dir.exists()


def test_a_folder_given_to_ingest_is_named_as_a_folder(fake_settings, capsys, tmp_path):
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    folder = tmp_path / "new-docs"
    folder.mkdir()
    (folder / "extra-guide.md").write_text("## 1 Scope\n\nParking for visitors.\n", encoding="utf-8")
    code, _, err = run(capsys, *base, "ingest", str(folder), "--quiet")
    assert code == 1
    assert f"skipped {folder}: is a folder; name its files instead (assistant ingest {folder}/*)" in err
    assert "unsupported file type" not in err


def test_a_corpus_folder_with_nothing_to_index_is_named(tmp_path, capsys):
    missing = tmp_path / "no-such-corpus"
    code, _, err = run(capsys, "--corpus", str(missing), "--index", str(tmp_path / "index"), "--embedder", "fake",
                       "ask", "数据安全")
    assert code == 2 and "no readable documents to index" in err
    assert f"the corpus folder {missing} does not exist; pass --corpus" in err
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    (empty / "README.md").write_text("not indexed\n", encoding="utf-8")
    code, _, err = run(capsys, "--corpus", str(empty), "--index", str(tmp_path / "index"), "--embedder", "fake",
                       "ingest", "--quiet")
    assert code == 2 and f"the corpus folder {empty} holds no PDF, DOCX, Markdown, text or HTML file" in err


@pytest.mark.system
def test_serve_on_a_taken_port_says_so_before_starting(fake_settings, capsys):
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = run(capsys, *base, "serve", "--port", str(port))
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}: already in use (is another server running?)" in err
    assert not fake_settings.index_dir.exists()  # nothing was built for a server that could not start
    # an address this machine does not have (TEST-NET-1) is said as such: no other port would help
    code, _, err = run(capsys, *base, "serve", "--host", "192.0.2.1", "--port", str(port))
    assert code == 2 and err.startswith("error: cannot listen on 192.0.2.1:") and "--port" not in err


def test_the_printed_answer_says_when_it_may_not_be_covered(fake_assistant):
    from dataclasses import replace

    from assistant.cli import format_answer

    answer = fake_assistant.ask("第4.5条")
    assert "may not cover" not in format_answer(answer)
    shaky = format_answer(replace(answer, uncertain=True, confidence=0.71))
    assert shaky.splitlines()[1] == ("Note: the guidance may not cover this question "
                                     "(confidence 0.71, close to where it would abstain).")
    untitled = replace(answer, citations=[replace(answer.citations[0], title="")])
    assert "[1] 4.5 — ccso-zh" in format_answer(untitled)  # a 第X条 article has no title of its own
    refusal = replace(answer, abstained=True, citations=[], reason="no clause 99.9 in ccso-en.")
    assert format_answer(refusal).startswith("No answer in the guidance. No clause 99.9 in ccso-en.")


def test_ingest_draws_no_progress_bars_into_a_log(fake_settings, capsys):
    # stderr captured here is not a terminal, as when ingest runs under cron or into a log file:
    # one plain line per stage, no bars redrawn with carriage returns.
    base = ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]
    code, out, err = run(capsys, *base, "ingest")
    assert code == 0 and "indexed 3 documents" in out
    assert "\r" not in err and "it/s" not in err and "text/s" not in err
    assert "embedding passages: " in err and "embedding sentences: " in err
