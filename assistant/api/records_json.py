"""JSON straight from the answer records (assistant/records.py), without copying them first.

``JSONResponse(dataclasses.asdict(answer))`` deep-copies every citation, path, highlight and
link into new dicts and lists before encoding them: on the event loop, about a tenth of the
server's Python time per /api/ask (docs/benchmarks.md, "s4-bounded: HTTP throughput"). Here the
C JSON encoder walks the records themselves and asks for a dataclass's fields only when it meets
one; the bytes are the same as before.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any

from fastapi.responses import JSONResponse

_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields_of(obj: Any) -> dict:
    names = _FIELDS.get(type(obj))
    if names is None:
        if not is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        names = _FIELDS[type(obj)] = tuple(f.name for f in fields(obj))
    return {name: getattr(obj, name) for name in names}


def dumps(content: Any) -> bytes:
    """What ``JSONResponse(asdict(content))`` would send."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"),
                      default=_fields_of).encode("utf-8")


class RecordJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
