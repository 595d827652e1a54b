"""CPU time of a cold start, phase by phase, in one process (docs/benchmarks.md, section w3-speed).

    cd <checkout> && PYTHONPATH=$PWD .venv/bin/python scripts/bench_coldstart_phases.py INDEX ["QUESTION"]

Imports (the service and the HTTP app, as `assistant serve` imports them), ``warm_up()`` (the
model, jieba), opening the index and the first question, each phase's ``time.process_time()``
and wall time. CPU time is less inflated than wall time on a shared machine; compare checkouts
in turn, several runs each. Runs against older checkouts too (``open()`` where there is no
``load_existing()``); the question defaults to bench.py's cold-start question.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

marks = [(time.perf_counter(), time.process_time())]
from assistant.config import Settings  # noqa: E402
from assistant.service import Assistant  # noqa: E402
import assistant.api.app  # noqa: E402,F401  (the server imports it)

marks.append((time.perf_counter(), time.process_time()))
settings = Settings(index_dir=Path(sys.argv[1]), corpus_dir=Path("corpus").resolve(), auto_build=False, rate_limit="0")
assistant = Assistant(settings)
assistant.warm_up()
marks.append((time.perf_counter(), time.process_time()))
if hasattr(assistant, "load_existing"):
    assistant.load_existing(serve_stale=False)
else:
    assistant.open()
marks.append((time.perf_counter(), time.process_time()))
assistant.ask(sys.argv[2] if len(sys.argv) > 2 else "How long must call recordings be retained?")
marks.append((time.perf_counter(), time.process_time()))
names = ("import", "warm_up", "open", "first ask")
for label, which in (("wall", 0), ("cpu", 1)):
    parts = [f"{name} {marks[i + 1][which] - marks[i][which]:.2f}" for i, name in enumerate(names)]
    print(f"{label:4} " + " / ".join(parts) + f" / total {marks[-1][which] - marks[0][which]:.2f} s")
