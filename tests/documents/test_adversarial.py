"""Adversarial runs of 100 KB through every loader and splitter finish in linear time (issue 15).

Each input once took quadratic or cubic time in a backtracking regex (2,000 blank lines in a
Markdown file: 86 s; a 30 KB run of '!' in a .txt: 31 s). The bound is generous on purpose: a
linear pass takes well under a second here, the old patterns take minutes. It is CPU time of the
test's own thread, not wall time, so a machine busy with other jobs does not fail a linear pass
(all the work runs in that thread). The scaling itself is measured by
scripts/bench_adversarial.py, not here.
"""

from __future__ import annotations

import time

import pytest

from assistant.chunking import parse_clauses, split_passages
from assistant.documents import DocumentError, load_document
from assistant.records import Clause
from assistant.text import sentence_spans

N = 100_000
BOUND_S = 5.0

MARKDOWN_RUNS = {
    "blank lines": "# T\n\n## 1 A\n\nx" + "\n" * N + "y",
    "blank lines with spaces": "a\n" + " \n" * (N // 2) + "b",
    "spaces": "a" + " " * N + "b\n",
    "spaces before a newline": "# a" + " " * N + "\nb",
    "table separator then spaces": "|---" + " " * N + "x",
    "table separator groups": "| --- " * (N // 6) + "x",
    "rule of dashes": "- " * (N // 2) + "x",
    "bold openers": "**a " * (N // 4),
    "underscore openers": "__a " * (N // 4),
    "brackets": "[" * N,
    "link openers": "[a](b" + " " * N + "x",
    "image openers": "![a](" * (N // 5),
    "comment openers": "<!--" * (N // 4),
    "heading with spaces": "## a" + " " * N + "b #",
    "fence indent": " " * N + "x\n```",
}

TEXT_RUNS = {
    "exclamation marks": "a" + "!" * N + "b",
    "dots": "a" + "." * N + "b",
    "semicolons": "a" + ";" * N + "b",
    "question marks": "a" + "?" * N + "b",
    "marks and quotes": "a" + "!\"" * (N // 2) + "b",
    "abbreviations": "e.g. " * (N // 5),
    "chinese marks": "甲" + "。" * N + "乙",
    "dotted numbers": "1" + ".1" * (N // 2) + " x",
    "statute markers": "第" * N,
    "parentheses": "(" * N,
}


def _run(path) -> float:
    """CPU seconds to load, parse and split; a clear refusal (DocumentError) is an outcome too."""
    start = time.thread_time()
    try:
        document = load_document(path)
    except DocumentError:
        return time.thread_time() - start
    for clause in parse_clauses(document):
        split_passages(clause)
        sentence_spans(clause.text)
    return time.thread_time() - start


@pytest.mark.parametrize("name", list(MARKDOWN_RUNS))
def test_markdown_loader_is_linear(tmp_path, name):
    path = tmp_path / "run.md"
    path.write_text(MARKDOWN_RUNS[name], encoding="utf-8")
    assert _run(path) < BOUND_S


@pytest.mark.parametrize("suffix", [".md", ".txt"])
@pytest.mark.parametrize("name", list(TEXT_RUNS))
def test_text_loaders_are_linear(tmp_path, name, suffix):
    path = tmp_path / f"run{suffix}"
    path.write_text(TEXT_RUNS[name], encoding="utf-8")
    assert _run(path) < BOUND_S


HTML_RUNS = {
    "nested divs": "<div>" * 20_000 + "x" + "</div>" * 20_000,
    "spaces": "<p>a" + " " * N + "b</p>",
    "wrapped chinese": "<p>甲" + " \n" * (N // 2) + "乙</p>",
    "blank lines": "<p>a" + "\n" * N + "b</p>",
    "unclosed tags": "<b>x" * (N // 4),
    "exclamation marks": "<p>a" + "!" * N + "b</p>",
}


@pytest.mark.parametrize("name", list(HTML_RUNS))
def test_html_loader_is_linear(tmp_path, name):
    path = tmp_path / "run.html"
    path.write_text(HTML_RUNS[name], encoding="utf-8")
    assert _run(path) < BOUND_S


@pytest.mark.parametrize("run", ["!" * N, " " * N, "." * N, "#" * N + " x", "Verify" + " 1" * (N // 2) + " x"])
def test_docx_loader_is_linear(tmp_path, run):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading("1 " + run[:1000], level=1)
    d.add_paragraph("a" + run + "b")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "1.1"
    table.rows[0].cells[1].text = run
    path = tmp_path / "run.docx"
    d.save(path)
    assert _run(path) < BOUND_S


@pytest.mark.parametrize(
    "text", ["a" + "!" * N + "b", "a" + "." * N + "b", "a" + ";?" * (N // 2) + "b", "e.g. " * (N // 5), "x" * N]
)
def test_splitters_are_linear(text):
    clause = Clause("d:1", "d", "1", "t", ["1 t"], text, None, None, "en")
    start = time.thread_time()
    spans = sentence_spans(text)
    passages = split_passages(clause)
    assert time.thread_time() - start < BOUND_S
    assert spans and passages  # the text is still split, not dropped


@pytest.mark.parametrize(
    "question",
    ["1" + " " * N + "x", "1" + ".1" * (N // 4) + "." * (N // 2) + "1", "第" * N, "clause " * (N // 7)],
)
def test_clause_number_patterns_over_question_text_are_linear(question):
    from assistant.lexical import tokenize, warm_up
    from assistant.retrieval import clause_numbers_in

    warm_up()  # the Chinese segmenter's dictionary load is not part of the cost measured
    start = time.thread_time()
    clause_numbers_in(question)
    tokenize(question)
    assert time.thread_time() - start < BOUND_S
