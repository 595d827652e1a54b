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

from assistant.embedding import EMBEDDERS

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

    # Each description is the setting's row in the README's settings table (Markdown), written
    # there by scripts/settings_table.py; `readme_default` is shown where the default value alone
    # would mislead.
    corpus_dir: Path = Field(
        Path("corpus"),
        description="folder whose documents are indexed (files directly inside it; `README*` is skipped)",
    )
    index_dir: Path = Field(Path("index"), description="where the index artifact is built and loaded")
    embedder: str = Field(DEFAULT_EMBEDDER, description=", ".join(entry.readme for entry in EMBEDDERS))
    reranker: str | None = Field(
        None,
        description="optional second stage: `st:<cross-encoder id or path>` (e.g. `st:BAAI/bge-reranker-v2-m3` "
        "where a model hub is reachable) re-orders the best hits; none ships on PyPI, so it is off by default and "
        "unmeasured here. Abstention still uses the embedder's similarity.",
    )
    rerank_depth: int = Field(30, ge=1, le=200, description="hits the reranker re-scores")
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="confidence (0–1) below which the assistant abstains; unset uses the operating point fitted "
        "in `assistant/scope_params/<embedder>.json`, which moves with each index's own near-miss level "
        "(embedders without a file use e5-small's)",
        json_schema_extra={"readme_default": "per embedder"},
    )
    refusal_contact: str | None = Field(
        None,
        description="optional contact line added to every refusal's `reason` and given as `contact` "
        "(e.g. `Ask the service desk: 010-1234 5678`)",
    )
    top_k: int = Field(5, ge=1, le=50, description="citations returned by default")
    max_question_chars: int = Field(
        MAX_QUESTION_CHARS, ge=1, le=10_000,
        description="longest question accepted, in characters (real ones are shorter; a longer one costs the "
        "model more: docs/reliability.md)",
    )
    max_upload_bytes: int = Field(20_000_000, ge=1, description="largest document file accepted")
    passage_chars: int = Field(
        DEFAULT_PASSAGE_CHARS, ge=100,
        description="clauses longer than this are split into passages that cite the same clause",
    )
    cache_size: int = Field(
        2048, ge=0,
        description="repeated questions remembered (answers and query vectors, per index version); `0` turns "
        "caching off",
    )
    auto_build: bool = Field(
        True,
        description="build the index at start (as a job) when it is missing, stale or damaged; `false` reports "
        "instead",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated origins allowed to call the API from a browser (CORS)",
    )
    operator_key: str | None = Field(
        None,
        description=f"bearer key for the document-management routes (at least {MIN_OPERATOR_KEY_CHARS} "
        "characters of `A-Za-z0-9-._~+/`, else the server refuses to start); unset turns them off",
    )
    rate_limit: str = Field("60/minute", description="per-client limit on `/api/ask`; `0` turns rate limiting off")
    search_rate_limit: str | None = Field(
        None,
        description="per-client limit on `/api/search` (`300/minute` by default); `0` turns it off",
        json_schema_extra={"readme_default": f"{SEARCH_RATE_FACTOR} × the above"},
    )
    request_timeout: float = Field(
        10.0, gt=0,
        description="seconds `/api/ask` or `/api/search` may take before the answer is 503 with `Retry-After`",
    )
    follow_interval: float = Field(
        1.0, gt=0,
        description="seconds between a server's checks of which index version `CURRENT` names, so that it follows "
        "a version another process (a worker's job, `assistant ingest`) switched to within about that long",
    )

    # Per-document caps: a file over one is refused with the cap's name and not indexed.
    max_document_chars: int | None = Field(
        5_000_000, ge=1,
        description="most characters of text one document may expand to; over it the file is refused "
        "(422 / skipped), naming the setting",
    )
    max_document_paragraphs: int | None = Field(
        100_000, ge=1, description="most non-empty lines in one document"
    )
    max_document_clauses: int | None = Field(20_000, ge=1, description="most clauses in one document")
    max_document_sentences: int | None = Field(
        200_000, ge=1, description="most sentences in one document (each one is embedded)"
    )
    max_document_seconds: float | None = Field(
        60.0, gt=0,
        description="seconds the build worker may spend reading one document (or checking an upload); past it "
        "the reading is stopped, and a corpus file is quarantined until replaced",
    )
    max_worker_memory_mb: int | None = Field(
        2048, ge=64, description="address space (MiB, at least 64) the build worker may use while reading one "
        "document; a document that needs more is refused as \"ran out of memory\" and quarantined until replaced"
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

    @property
    def ask_rate(self) -> Rate | None:
        """ASSISTANT_RATE_LIMIT as a Rate (None: off). RateLimitSettingError, one line, when it is
        not a rate (a copy made with model_copy skips the validators, so it is parsed again)."""
        return parse_rate(self.rate_limit)

    @property
    def search_rate(self) -> Rate | None:
        """ASSISTANT_SEARCH_RATE_LIMIT as a Rate; unset: SEARCH_RATE_FACTOR times the ask rate."""
        if self.search_rate_limit is not None:
            return parse_rate(self.search_rate_limit, "ASSISTANT_SEARCH_RATE_LIMIT")
        rate = self.ask_rate
        return Rate(rate.limit * SEARCH_RATE_FACTOR, rate.period) if rate else None

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


def settings_table() -> str:
    """The README's settings table (Markdown), one row per Settings field, from its description."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra or {}
        default = extra.get("readme_default") or _shown_default(info.get_default(call_default_factory=True))
        rows.append(f"| `ASSISTANT_{name.upper()}` | {default} | {info.description} |")
    return "\n".join(rows) + "\n"


def _shown_default(value) -> str:
    if value is None:
        return "unset"
    if value == []:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"
