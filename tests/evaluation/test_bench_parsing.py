"""The scoring rules of scripts/bench_parsing.py, as ../shared/realdocs/README.md defines them."""

from __future__ import annotations

import importlib.util
import sys

from assistant.records import Clause
from tests.support.paths import REPO

_spec = importlib.util.spec_from_file_location(
    "bench_parsing", REPO / "scripts" / "bench_parsing.py"
)
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_parsing", bench)  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def clause(number: str, title: str, page: int | None = None, path: list[str] | None = None) -> Clause:
    return Clause(f"d:{number}", "d", number, title, path or [f"{number} {title}"], "text", page, page, "en")


def test_normalisation_and_title_rules():
    assert bench.norm_number("附 录 A") == bench.norm_number("附录A") == "附录a"
    assert bench.norm_number("4.1.") == "4.1"
    assert bench.norm_title("— Strength of Memorized") == "strengthofmemorized"
    assert bench.titles_match("", "anything")
    assert bench.titles_match("Limit system access to authorized users, processes", "Limit system access")
    assert not bench.titles_match("Limit system access", "Lim")  # a contained title needs 4 characters
    assert bench.titles_match("Authenticator Assurance Levels", "Authenticator Assurance Level")


def test_recall_precision_pages_and_path_matching():
    rows = [bench.Row("4", "Levels", 14), bench.Row("4.1", "Level 1", 14), bench.Row("4.1.1", "Types", 14),
            bench.Row("5", "Verifiers", 20)]
    clauses = [
        clause("¶1", "cover", 1),
        clause("4", "Levels", 12),  # a table row on the wrong page …
        clause("4", "Levels", 14),  # … and the real heading: the row on the truth page is preferred
        clause("4.1.1", "Types", 14, ["4 Levels", "4.1 Level 1", "4.1.1 Types"]),  # 4.1 only in a path
        clause("4.1.1.1", "Deeper", 14),  # deeper than the truth lists: fine
        clause("7", "Not in truth", 30),
    ]
    s = bench.score("d", rows, clauses)
    assert s.matched == 3 and s.by_path == 1 and s.misses == ["5\tVerifiers\tp20"]
    assert s.clauses == 5 and s.correct_clauses == 3  # the second "4" and "7" are errors
    assert s.page_right == 2 and s.paged == 2
