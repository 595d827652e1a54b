"""How long the viewer page takes to render, first time and from the per-version cache.

    python scripts/bench_viewer.py [--corpus corpus] [--repeat 20]

Indexes the corpus with the deterministic fake embedder into a temporary folder (the page does
not depend on the embedder), then renders /documents/{id} for every document through the real
app with FastAPI's TestClient: once cold (the cache emptied before each round) and once warm.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, corpus_dir=args.corpus, index_dir=Path(tmp) / "index",
                            embedder="fake", rate_limit="0")
        assistant = Assistant(settings, embedder=FakeEmbedder())
        assistant.open()
        app = create_app(settings, assistant)
        with TestClient(app) as client:
            for document in assistant.documents():
                path = f"/documents/{document['id']}"
                cold, warm = [], []
                size = 0
                for _ in range(args.repeat):
                    app.state.__dict__.get("_state", {}).pop("viewer_cache", None)
                    started = time.perf_counter()
                    response = client.get(path)
                    cold.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    client.get(path)
                    warm.append((time.perf_counter() - started) * 1000)
                    size = len(response.content)
                print(f"{document['id']:<24} {document['clauses']:>4} clauses {size / 1024:>7.0f} KiB  "
                      f"cold median {statistics.median(cold):6.1f} ms  cached median {statistics.median(warm):5.1f} ms")


if __name__ == "__main__":
    main()
