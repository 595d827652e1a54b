"""`python tests/api/costly_server.py PORT`: the real app on uvicorn, with settings from ASSISTANT_*
(see live_server.assistant_env), whose query model costs what e5-small costs on these two
cores: time grows with the batch's rows and, within a 512-token window, with the square of the
longest question (fitted to e5-small batches measured here: 22 tokens x 25 rows 0.27 s, 450
tokens alone 0.5 s, longer questions cut into 512-token windows). It sleeps, which releases the
GIL as torch does, so the scheduling under test is the server's own. Vectors are the fake
embedder's, so the fake index loads."""

from __future__ import annotations

import math
import sys
import time

import uvicorn

from assistant.api import create_app
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant


def tokens(text: str) -> int:
    """About e5's tokens: one a CJK character, one per four other characters."""
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return max(1, wide + (len(text) - wide + 3) // 4 + 2)


def model_seconds(rows: int, tokens: int) -> float:
    windows = max(1, math.ceil(tokens / 512))
    width = min(tokens, 512)
    return 0.02 + rows * windows * (0.0004 * width + 1.5e-6 * width * width)


class CostlyEmbedder(FakeEmbedder):
    def embed_queries(self, texts):
        longest = max((tokens(text) for text in texts), default=1)
        time.sleep(model_seconds(len(texts), longest))
        return super().embed_queries(texts)


if __name__ == "__main__":
    settings = Settings()
    app = create_app(settings, Assistant(settings, embedder=CostlyEmbedder()))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
