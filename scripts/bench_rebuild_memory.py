"""Server memory across rebuilds: start `assistant serve` on a copy of the corpus, ask
--questions questions, then run --rebuilds reindex jobs over HTTP (each followed by the same
questions), reading VmRSS after each step.

    .venv/bin/python scripts/bench_rebuild_memory.py --rebuilds 3            # e5-small
    .venv/bin/python scripts/bench_rebuild_memory.py --embedder fake --rebuilds 3

Figures go to docs/reliability.md ("Memory after rebuilds").
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_helpers as H  # noqa: E402

KEY = "bench-operator-key-0123456789"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default="e5-small")
    parser.add_argument("--corpus", type=Path, default=H.REPO / "corpus")
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="assistant-rebuild-memory-"))
    try:
        corpus, index = work / "corpus", work / "index"
        shutil.copytree(args.corpus, corpus)
        env = {"ASSISTANT_OPERATOR_KEY": KEY, "ASSISTANT_AUTO_BUILD": "true"}
        questions = (H.question_pool() * 10)[: args.questions]
        steps = []
        with H.Server(index, corpus, args.embedder, env=env) as server:  # started by `with`
            server.wait_ready()
            auth = {"Authorization": f"Bearer {KEY}"}
            with httpx.Client(base_url=server.base_url, timeout=120) as client:

                def ask_all() -> None:
                    for question in questions:
                        client.post("/api/ask", json={"question": question}).raise_for_status()

                def record(step: str) -> None:
                    memory = server.memory_kib()
                    steps.append({"step": step, **{k.replace("_kib", "_mib"): round(v / 1024, 1)
                                                   for k, v in memory.items() if k.endswith("_kib") and v}})
                    print(json.dumps(steps[-1]), file=sys.stderr)

                record("loaded")
                ask_all()
                record(f"after {len(questions)} questions")
                for n in range(1, args.rebuilds + 1):
                    client.post("/api/reindex", headers=auth).raise_for_status()
                    deadline = time.monotonic() + 900
                    while client.get("/api/index/status", headers=auth).json().get("busy"):
                        assert time.monotonic() < deadline, "reindex did not finish"
                        time.sleep(0.2)
                    record(f"after rebuild {n}")
                    ask_all()
                    record(f"after rebuild {n} + {len(questions)} questions")
        print(json.dumps({"embedder": args.embedder, "load": H.machine_load(), "steps": steps}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
