"""CPU time of everything `Assistant.ask` does besides the model, per question.

    PYTHONPATH=<checkout> .venv/bin/python scripts/bench_ask_cpu.py --index DIR [--rounds 15]

The bench's questions (bench_helpers.QUESTIONS) are asked once so that every query vector is in
the assistant's cache; then each round asks them all again with the answer cache emptied before
each, timing the asking thread with time.thread_time(). The model does not run, so this is the
analysis, retrieval, the scope decision and composition alone. On a shared machine contention
inflates CPU time too: compare checkouts by the *minimum* round mean, several processes each, in
turn (docs/benchmarks.md, "Stop 13"). Runs against older checkouts as well (only the public
Assistant API and its answer cache are used).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_helpers as H  # noqa: E402

# bench_helpers puts this repository first on the path; the checkout measured is PYTHONPATH's.
if str(H.REPO) in sys.path and "assistant" not in sys.modules:
    sys.path.remove(str(H.REPO))
    sys.path.append(str(H.REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a built index of the corpus")
    parser.add_argument("--corpus", type=Path, default=H.REPO / "corpus")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from assistant.config import Settings
    from assistant.service import Assistant

    settings = Settings(corpus_dir=args.corpus.resolve(), index_dir=args.index.resolve(), auto_build=False,
                        rate_limit="0")
    assistant = Assistant(settings)
    assistant.warm_up()
    assistant.open(build_if_needed=False)
    questions = list(H.QUESTIONS)
    for question in questions:  # fills the query-vector cache (and lazy imports)
        assistant.ask(question)
    rounds = []
    for _ in range(args.rounds):
        spent = []
        for question in questions:
            assistant._answer_cache.clear()
            mark = time.thread_time()
            assistant.ask(question)
            spent.append((time.thread_time() - mark) * 1000.0)
        rounds.append(statistics.mean(spent))
    print(json.dumps({"questions": len(questions), "rounds": len(rounds),
                      "min_round_mean_ms": round(min(rounds), 3),
                      "median_round_mean_ms": round(statistics.median(rounds), 3)}))


if __name__ == "__main__":
    main()
