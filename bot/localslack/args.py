"""Reading Web API arguments the way Slack does, whatever transport they came in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer; extra keys ride along in the body."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


class Args:
    """Typed access to one call's arguments.

    Form and query values are always strings while JSON bodies carry real booleans, numbers
    and lists, so every accessor accepts both spellings. Empty strings count as missing, as
    they do on Slack.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw)

    def text(self, name: str) -> str | None:
        value = self._raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value if value != "" else None
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes"}

    def integer(self, name: str, default: int, *, error: str = "invalid_arguments") -> int:
        value = self._raw.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError(error) from None

    def json_list(self, name: str, *, error: str) -> list[Any] | None:
        """A list argument sent either as a JSON array or as a JSON-encoded string."""
        value = self._json(name, error=error)
        if value is not None and not isinstance(value, list):
            raise SlackError(error)
        return value

    def json_object(self, name: str, *, error: str) -> dict[str, Any] | None:
        """An object argument sent either as a JSON object or as a JSON-encoded string."""
        value = self._json(name, error=error)
        if value is not None and not isinstance(value, dict):
            raise SlackError(error)
        return value

    def _json(self, name: str, *, error: str) -> Any:
        value = self._raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value

    def has(self, name: str) -> bool:
        return name in self._raw

    def as_dict(self) -> dict[str, Any]:
        return dict(self._raw)
