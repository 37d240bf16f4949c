"""Turn pydantic validation errors into messages that name the field at fault."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError


def field_path(loc: tuple[int | str, ...]) -> str:
    """('alerts', 0, 'startsAt') → 'alerts[0].startsAt'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(body)"


def describe(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": field_path(err["loc"]), "message": err["msg"]} for err in exc.errors()]


def unstorable_text(value: Any, where: str = "(body)") -> str | None:
    """Where in a parsed JSON document a string holds NUL or a lone UTF-16 surrogate (None if
    nowhere). JSON allows both as escapes; PostgreSQL text and UTF-8 encoding refuse them."""
    if isinstance(value, str):
        return where if _unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where != "(body)" else str(key)
            if _unstorable(key):
                return f"a key in {where}"
            if (found := unstorable_text(item, path)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := unstorable_text(item, f"{where}[{index}]")) is not None:
                return found
    return None


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None
