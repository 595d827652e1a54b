"""Scaling of the loaders and splitters on adversarial text runs (issue 15, item 1).

    .venv/bin/python scripts/bench_adversarial.py                      # this checkout, 25k-200k
    .venv/bin/python scripts/bench_adversarial.py --sizes 1000,2000,4000 --root /tmp/old --timeout 60
    .venv/bin/python scripts/bench_adversarial.py --only "md blank lines,txt !!!" --json

Each case (a file of one adversarial run of N characters) is loaded, parsed into clauses and
split into passages and sentences (and the raw run is split too, so that a refused file
still measures the splitters), best of --repeat runs in a fresh subprocess that imports the `assistant` package
from --root (default: this checkout), so an older checkout can be measured with the same
inputs; a case that exceeds --timeout seconds is reported as such and the larger sizes of that
case are skipped. For every case the time at each size is printed with the growth exponent
between the two largest sizes measured (1 = linear, 2 = quadratic). A DocumentError (a clear
refusal) is a finished run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (suffix, Python expression of the text for size n)
CASES: dict[str, tuple[str, str]] = {
    "md blank lines": (".md", '"# T\\n\\n## 1 A\\n\\nx" + "\\n" * n + "y"'),
    "md blank lines with spaces": (".md", '"a\\n" + " \\n" * (n // 2) + "b"'),
    "md trailing spaces": (".md", '"a" + " " * n + "b\\n"'),
    "md table separator + spaces": (".md", '"|---" + " " * n + "x"'),
    "md table separator groups": (".md", '"| --- " * (n // 6) + "x"'),
    "md bold openers": (".md", '"**a " * (n // 4)'),
    "md link openers": (".md", '"[a](b" + " " * n + "x"'),
    "md image openers": (".md", '"![a](" * (n // 5)'),
    "md comment openers": (".md", '"<!--" * (n // 4)'),
    "md heading + spaces": (".md", '"## a" + " " * n + "b #"'),
    "txt !!!": (".txt", '"a" + "!" * n + "b"'),
    "txt ...": (".txt", '"a" + "." * n + "b"'),
    "txt ;;;": (".txt", '"a" + ";" * n + "b"'),
    "txt e.g. e.g.": (".txt", '"e.g. " * (n // 5)'),
    "txt 。。。": (".txt", '"甲" + "。" * n + "乙"'),
    "txt 1.1.1.1…": (".txt", '"1" + ".1" * (n // 2) + " x"'),
    "html nested <div> (n/5 deep)": (".html", '"<div>" * (n // 5) + "x" + "</div>" * (n // 5)'),
    "html spaces": (".html", '"<p>a" + " " * n + "b</p>"'),
    "html wrapped CJK": (".html", '"<p>甲" + " \\n" * (n // 2) + "乙</p>"'),
}

CHILD = r"""
import sys, time
from pathlib import Path
from assistant.documents import DocumentError, load_document
from assistant.chunking import parse_clauses, split_passages
from assistant.records import Clause
from assistant.text import sentence_spans
n, repeat = int(sys.argv[1]), int(sys.argv[4]); path = Path(sys.argv[2])
text = eval(sys.argv[3])
path.write_text(text, encoding="utf-8")
best = None
for _ in range(repeat):
    start = time.perf_counter()
    try:
        for clause in parse_clauses(load_document(path)):
            split_passages(clause); sentence_spans(clause.text)
        outcome = "ok"
    except DocumentError:
        outcome = "refused"
    # the splitters also get the raw run, so a refused file still measures them
    split_passages(Clause("d:1", "d", "1", "", [], text, None, None, "en")); sentence_spans(text)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(best, outcome)
"""


def run_case(
    root: Path, suffix: str, expr: str, n: int, timeout: float, scratch: Path, repeat: int
) -> tuple[float | None, str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    path = scratch / f"case{suffix}"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(path), expr, str(repeat)],
            env=env, capture_output=True, text=True, timeout=timeout, cwd=root,
        )
    except subprocess.TimeoutExpired:
        return None, f"> {timeout:g} s"
    if proc.returncode != 0:
        return None, "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]
    seconds, outcome = proc.stdout.split()
    return float(seconds), outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose `assistant` package is measured")
    parser.add_argument("--sizes", default="25000,50000,100000,200000", help="run lengths in characters")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run before giving up on a case")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size in one process; the fastest is kept")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    names = [x.strip() for x in args.only.split(",")] if args.only else list(CASES)
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-adversarial-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for name in names:
            suffix, expr = CASES[name]
            row = {"case": name, "times": {}, "outcome": ""}
            for n in sizes:
                seconds, outcome = run_case(args.root, suffix, expr, n, args.timeout, scratch, args.repeat)
                row["times"][n] = seconds
                row["outcome"] = outcome
                if seconds is None:
                    break
            measured = [(n, t) for n, t in row["times"].items() if t is not None and t > 0]
            row["exponent"] = None
            if len(measured) >= 2:
                (n1, t1), (n2, t2) = measured[-2], measured[-1]
                row["exponent"] = round(math.log(max(t2, 1e-4) / max(t1, 1e-4)) / math.log(n2 / n1), 2)
            results.append(row)
            if not args.json:
                cells = "  ".join(
                    f"{n:>7}: {'—' if t is None else f'{t:7.3f}s'}" for n, t in row["times"].items()
                )
                print(f"{name:32s} {cells}  exponent {row['exponent']}  ({row['outcome']})", flush=True)
    finally:
        for leftover in scratch.iterdir():
            leftover.unlink()
        scratch.rmdir()
    if args.json:
        print(json.dumps({"root": str(args.root), "sizes": sizes, "results": results}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
