"""The README documents what the code offers, and code comments leave figures to the docs."""

import ast
import io
import json
import re
import tokenize
from dataclasses import asdict
from pathlib import Path

from assistant.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_settings_table():
    missing = [name for name in Settings.model_fields if f"| `ASSISTANT_{name.upper()}` |" not in README]
    assert not missing, f"README's settings table lacks {missing}"


def test_the_readme_example_host_page_has_a_viewport_meta_tag():
    page = re.search(r"cat > /tmp/site/index.html <<'HTML'\n(.*?)\nHTML\n", README, re.S)
    assert page, "README's example host page (the /tmp/site heredoc) is missing"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.group(1)
    assert "/widget.js" in page.group(1)


# -- benchmark figures belong in docs/benchmarks.md, not in code comments ---------------------------

REPO = Path(__file__).parent.parent
CODE_ROOTS = (REPO / "assistant", REPO / "scripts")
# What a pasted measurement looks like: a latency, a share, a throughput or a size, a score with
# three decimals, a before -> after pair, a duration something "took" or "about" so long, a cosine.
FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s?(?:ms|%|％|req/s|tokens/s|passages/s|MB|GB|MiB|GiB)(?![A-Za-z])"
    r"|(?<![\d.])0\.\d{3}"
    r"|\d(?:[\d,.]*\d)?\s?(?:ms|s|%)?\s?(?:->|→)\s?\d"
    r"|(?:R@|Recall@|MAP@|MRR@?)\d*\s?[+-]?\d?\.\d"
    r"|\btook (?:about |~)?\d"
    r"|\bfrom \d*\.\d+ to \d*\.\d+"
    r"|(?:\babout |~)[\d,.]+\s?(?:s|ms|seconds?)\b"
    r"|\bcosine (?:of )?~?\d*\.\d+|\d*\.\d+ in cosine",
    re.IGNORECASE,
)
# Comments where a number like that is a parameter, an example or a data set's make-up, not a
# measurement: (file relative to the repository, text the figure sits in).
FIGURE_ALLOWED = {
    ("assistant/documents.py", "at least 20% of the letters"),  # the language rule itself
    ("assistant/documents.py", "over 30 %"),  # the unreadable-text-layer thresholds
    ("assistant/documents.py", "under 15 %"),
    ("assistant/chunking/text.py", '"8 GB"'),  # an example of wrapped text
    ("scripts/eval_guidance.py", "about 30 % not answerable"),  # what the question set holds
    ("scripts/make_heldout_standards.py", "(35 % of the numbers"),  # the damage it applies
}


def _comments_and_docstrings(path: Path):
    source = path.read_text(encoding="utf-8")
    # Comments and docstrings are part of the source, so a file whose whole text (spaces folded
    # as below) holds no figure has none in them: most files are skipped before the tokenizer,
    # which is pure Python here and was most of this test's second of CPU.
    if not FIGURE.search(" ".join(source.split())):
        return
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.body[0].lineno, doc


def figures_in_comments(roots: tuple[Path, ...] = CODE_ROOTS, base: Path = REPO) -> list[str]:
    found = []
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        name = path.relative_to(base).as_posix()
        allowed = [text for file, text in FIGURE_ALLOWED if file == name]
        for line, text in _comments_and_docstrings(path):
            flat = " ".join(text.split())
            for match in FIGURE.finditer(flat):
                context = flat[max(0, match.start() - 40): match.end() + 40]
                if not any(a in flat and flat.find(a) <= match.start() < flat.find(a) + len(a)
                           for a in allowed):
                    found.append(f"{name}:{line}: …{context}…")
    return found


def test_no_benchmark_figures_in_code_comments():
    """assistant/ and scripts/: a comment states the decision and points to docs/benchmarks.md."""
    found = figures_in_comments()
    assert not found, ("benchmark figures in comments (state the decision and point to a "
                       "docs/benchmarks.md section instead):\n" + "\n".join(found))


def test_the_figure_scan_catches_a_pasted_measurement(tmp_path):
    (tmp_path / "pasted.py").write_text(
        '"""Fast: 22 ms a question."""\n'
        "X = 1  # R@10 0.802 -> 0.809\n"
        "Y = 2  # HTTP c=8: 124 -> 142 req/s\n"
        "Z = 3  # a 3,000-row table took 9 s; lifts it from 0.77 to 0.97\n"
        "W = 4  # a parameter: 5 s idle timeout, clause 4.5\n",
        encoding="utf-8",
    )
    flagged = {int(found.split(":")[1]) for found in figures_in_comments((tmp_path,), base=tmp_path)}
    assert flagged == {1, 2, 3, 4}  # line 5's parameter and clause number are not figures


def test_the_readme_settings_table_is_the_one_generated_from_settings():
    import re

    from assistant.config import settings_table

    match = re.search(r"<!-- settings-table:[^\n]*-->\n(.*?)<!-- end settings-table -->", README, re.S)
    assert match, "README.md lacks the settings-table markers"
    assert match.group(1) == settings_table(), (
        "README's settings table and the Settings fields disagree: run scripts/settings_table.py"
    )


def test_the_settings_table_changes_with_a_fields_description(monkeypatch):
    from assistant.config import Settings, settings_table

    monkeypatch.setattr(Settings.model_fields["top_k"], "description", "how many citations")
    assert "| `ASSISTANT_TOP_K` | `5` | how many citations |" in settings_table()


def test_the_readme_answer_json_has_the_fields_a_real_answer_has(fake_assistant):
    # The example is what a newcomer codes against: its keys, and what a bare clause number gives
    # (the whole clause, no sentence marked, a link without ?hl=), must be what the service sends.
    block = re.search(r"The answer JSON:\n\n```json\n(.*?)\n```", README, re.S)
    assert block, "README's answer JSON example is missing"
    example = json.loads(block.group(1))
    real = asdict(fake_assistant.ask(example["question"]))
    assert set(example) == set(real)
    shown, cited = example["citations"][0], real["citations"][0]
    assert set(shown) == set(cited)
    assert set(example["timings_ms"]) <= set(real["timings_ms"])
    assert cited["id"] == shown["id"] and cited["highlights"] == shown["highlights"] == []
    assert cited["link"] == shown["link"] == "/documents/ccso-zh#4.5"


def test_the_document_ids_the_readmes_give_are_the_ones_made():
    from assistant.documents import document_id_for
    from assistant.filenames import sanitise_filename

    corpus_readme = (Path(__file__).parent.parent / "corpus" / "README.md").read_text(encoding="utf-8")
    assert "`NIST.SP.800-63b.pdf` is\n`nist-sp-800-63b`" in corpus_readme
    assert document_id_for("NIST.SP.800-63b.pdf") == "nist-sp-800-63b"
    assert document_id_for("official-ccso.pdf") == "official-ccso"
    assert re.fullmatch(r"doc-[0-9a-f]{8}", document_id_for("指导要求.pdf"))
    assert "becomes\n`My-Annex-v2.pdf`" in README and "`doc-<hash>.pdf`" in README
    assert sanitise_filename("My Annex (v2).pdf") == "My-Annex-v2.pdf"
    assert document_id_for(sanitise_filename("My Annex (v2).pdf")) == "my-annex-v2"
    assert sanitise_filename("投诉办法.pdf") == document_id_for("投诉办法.pdf") + ".pdf"
