"""How often the assistant cites the right clause, and how often it rightly abstains.

Runs the labelled set in tests/data/abstention.jsonl (answerable questions with gold clause
numbers, and out-of-scope ones) against the configured corpus and index, and reports per language:

- right clause in the top 3 citations, for answerable questions (an abstention counts as a miss);
- correct abstention, for out-of-scope questions.

With --sweep it also prints both rates over a range of confidence thresholds, from one pass.

    .venv/bin/python scripts/eval_abstention.py [--corpus DIR] [--index DIR] [--sweep] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.service import Assistant

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "abstention.jsonl"


def is_right(citation, gold: list[str]) -> bool:
    return citation.clause in gold or citation.document in gold


def score(rows: list[dict], answers: list, threshold: float) -> dict:
    """Rates when abstaining below ``threshold``; ``answers`` were asked with no threshold."""
    report: dict[str, dict] = {}
    for lang in ("zh", "en", "all"):
        chosen = [i for i, row in enumerate(rows) if lang == "all" or row["lang"] == lang]
        answerable = [i for i in chosen if rows[i]["answerable"]]
        out_of_scope = [i for i in chosen if not rows[i]["answerable"]]
        right = sum(
            answers[i].confidence >= threshold and any(is_right(c, rows[i]["gold"]) for c in answers[i].citations[:3])
            for i in answerable
        )
        abstained_ok = sum(answers[i].confidence < threshold for i in out_of_scope)
        report[lang] = {
            "answerable": len(answerable),
            "right_clause_top3": round(right / len(answerable), 3) if answerable else None,
            "out_of_scope": len(out_of_scope),
            "correct_abstention": round(abstained_ok / len(out_of_scope), 3) if out_of_scope else None,
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--sweep", action="store_true", help="rates over a range of thresholds")
    parser.add_argument("--misses", action="store_true", help="list the questions it gets wrong")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in (("corpus_dir", args.corpus), ("index_dir", args.index)) if v is not None}
    assistant = Assistant(Settings(**overrides, min_confidence=0.0))
    assistant.open()
    threshold = assistant.scope_model.min_confidence
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = [assistant.ask(row["question"], k=3) for row in rows]

    report = {"threshold": threshold, "embedder": assistant.embedder.id, "default": score(rows, answers, threshold)}
    if args.sweep:
        report["sweep"] = {f"{t:.2f}": score(rows, answers, float(t)) for t in np.arange(0.05, 0.96, 0.05)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"embedder {report['embedder']}, threshold {report['threshold']}")
        for lang, figures in report["default"].items():
            print(f"  {lang:>3}: right clause in top 3 {figures['right_clause_top3']} of {figures['answerable']}, "
                  f"correct abstention {figures['correct_abstention']} of {figures['out_of_scope']}")
        for threshold, by_lang in report.get("sweep", {}).items():
            print(f"  t={threshold}: " + "  ".join(
                f"{lang} top3 {f['right_clause_top3']} abstain {f['correct_abstention']}" for lang, f in by_lang.items()))
    if args.misses:
        for row, answer in zip(rows, answers):
            cited = answer.citations[:3]
            abstained = answer.confidence < threshold
            ok = (not abstained and any(is_right(c, row["gold"]) for c in cited)) if row["answerable"] else abstained
            if not ok:
                got = "abstained" if abstained else ", ".join(f"{c.document}:{c.clause}" for c in cited)
                print(f"MISS {row['id']} {row['question']} gold={row['gold']} got={got} (confidence {answer.confidence:.2f})",
                      file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
