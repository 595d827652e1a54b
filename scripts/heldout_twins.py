"""How much of a held-out figure rests on near twins among the fit questions.

The scope decision of the shipped corpus compares each question with the labelled fit questions
(abstention.Exemplars). A held-out question that has a near twin among them (a rewording of the
same question, written independently) is easier than a new user's question. This script scores
the abstention figures of an `eval_guidance.py --json --misses` run again, keeping only the
questions whose closest fit question is below each cosine bound.

    PYTHONPATH=$PWD .venv/bin/python scripts/heldout_twins.py /tmp/heldout.json
    PYTHONPATH=$PWD .venv/bin/python scripts/heldout_twins.py /tmp/natural.json --set tests/data/natural_set.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from assistant.embedding import make_embedder

ROOT = Path(__file__).resolve().parents[1]
GUIDANCE_SET = ROOT / "tests" / "data" / "guidance_set.jsonl"


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="eval_guidance.py --json --misses outputs")
    parser.add_argument("--set", type=Path, default=GUIDANCE_SET, help="the question set the runs scored")
    parser.add_argument("--split", default="heldout", help="the split the runs scored ('all' for every row)")
    parser.add_argument("--embedder", default="e5-small")
    parser.add_argument("--bounds", default="0.93,0.95", help="cosine bounds to a fit question, comma-separated")
    args = parser.parse_args()

    fit = [r for r in read_rows(GUIDANCE_SET) if r["split"] == "fit"]
    scored = [r for r in read_rows(args.set) if args.split == "all" or r["split"] == args.split]
    embedder = make_embedder(args.embedder)
    embedder.warm_up()
    closest = (embedder.embed_queries([r["question"] for r in scored])
               @ embedder.embed_queries([r["question"] for r in fit]).T).max(axis=1)
    bounds = [float(b) for b in args.bounds.split(",")] + [float("inf")]

    print("| run | closest fit question below | lang | answerable n | false abstention | unanswerable n | correct abstention |")
    print("|---|---|---|---|---|---|---|")
    for run in args.runs:
        misses = {m["id"]: m["why"] for m in json.loads(run.read_text(encoding="utf-8"))["run"]["misses"]}
        for bound in bounds:
            for lang in ("zh", "en"):
                kept = [r for r, c in zip(scored, closest) if r["lang"] == lang and c < bound]
                answerable = [r for r in kept if r["answerable"]]
                unanswerable = [r for r in kept if not r["answerable"]]
                false_abstention = sum(misses.get(r["id"], "").startswith("abstained") for r in answerable)
                correct_abstention = sum(r["id"] not in misses for r in unanswerable)
                label = "any" if bound == float("inf") else f"{bound:.2f}"
                print(f"| {run.name} | {label} | {lang} | {len(answerable)} | "
                      f"{false_abstention / max(len(answerable), 1):.3f} | {len(unanswerable)} | "
                      f"{correct_abstention / max(len(unanswerable), 1):.3f} |")


if __name__ == "__main__":
    main()
