"""Turn pydantic validation errors into messages that name the field at fault."""

from __future__ import annotations

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
