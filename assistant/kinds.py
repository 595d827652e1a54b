"""Document kinds: guidance (the default) or background (reports, news), read from the corpus's
documents.toml sidecar. Background is cited only when no guidance clause qualifies."""

from __future__ import annotations

import tomllib
from pathlib import Path

KINDS = ("guidance", "background")
DEFAULT_KIND = "guidance"
KINDS_FILE = "documents.toml"


class KindsError(ValueError):
    """The documents.toml sidecar is unreadable or names an unknown kind."""


def read_kinds(corpus_dir: Path) -> dict[str, str]:
    """Document id -> kind from ``corpus_dir/documents.toml``; documents not listed are guidance.

    The file looks like::

        [meeting-report-2022]
        kind = "background"
    """
    path = Path(corpus_dir) / KINDS_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KindsError(f"cannot read {path}: {exc}") from exc
    kinds: dict[str, str] = {}
    for document, entry in data.items():
        kind = entry.get("kind", DEFAULT_KIND) if isinstance(entry, dict) else None
        if kind not in KINDS:
            raise KindsError(f"{path}: [{document}] kind must be one of {', '.join(KINDS)}, not {kind!r}")
        kinds[document] = kind
    return kinds
