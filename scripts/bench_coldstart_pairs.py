"""Cold start of several checkouts in turn: wall and server CPU seconds to the first answer, then
the wall and server CPU of a first Chinese question (docs/benchmarks.md, section w3-speed).

    .venv/bin/python scripts/bench_coldstart_pairs.py RUNS "QUESTION" old=/work/old:/tmp/old-index new=$PWD:/tmp/new-index

Each launch is `assistant serve` from that checkout (its own code on PYTHONPATH, cwd there) on
its index; the checkouts alternate, RUNS launches each, and the medians are printed.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import httpx  # noqa: E402

from scripts.bench_helpers import ZH_COLD_QUESTION  # noqa: E402
from tests.support.servers import Server  # noqa: E402


def main() -> None:
    runs, question, pairs = int(sys.argv[1]), sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
    results: dict[str, list[tuple]] = {label: [] for label, _ in pairs}
    for _ in range(runs):
        for label, spec in pairs:
            checkout, index = spec.split(":")
            env = {**os.environ, "PYTHONPATH": checkout, "PYTHONDONTWRITEBYTECODE": "1",
                   "ASSISTANT_RATE_LIMIT": "0", "ASSISTANT_AUTO_BUILD": "false"}
            server = Server(env=env, cwd=Path(checkout),
                            global_args=["--index", index, "--corpus", checkout + "/corpus"]).start()
            try:
                server.wait_ready(timeout=300, interval=0.01)
                with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as client:
                    first = client.post("/api/ask", json={"question": question})
                    wall, cpu = time.perf_counter() - server.started_at, server.cpu_seconds()
                    mark = time.perf_counter()
                    zh = client.post("/api/ask", json={"question": ZH_COLD_QUESTION})
                    zh_wall, zh_cpu = time.perf_counter() - mark, server.cpu_seconds() - cpu
                row = (round(wall, 2), round(cpu, 2), round(zh_wall, 3), round(zh_cpu, 2),
                       first.status_code, zh.status_code, round(os.getloadavg()[0], 1))
                results[label].append(row)
                print(label, "first answer s / server CPU s, first Chinese s / CPU s, statuses, load:", row, flush=True)
            finally:
                server.process.terminate()
                server.process.wait(30)
    for label, rows in results.items():
        print(label, "medians: first answer", statistics.median(r[0] for r in rows), "s, server CPU",
              statistics.median(r[1] for r in rows), "s; first Chinese question", statistics.median(r[2] for r in rows),
              "s, CPU", statistics.median(r[3] for r in rows), "s")


if __name__ == "__main__":
    main()
