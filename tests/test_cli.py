import json

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
