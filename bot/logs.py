"""Logging: plain text or one JSON object per line, and the incident a log line is about.

Flows and listeners that work on one incident run inside `incident_logs(incident_id)`; every
record logged meanwhile (in that task, and in tasks it starts) carries `incident: "INC-7"`.
A contextvar rather than a parameter: the lines come from deep inside SQLAlchemy, slack_sdk
and our own helpers, which know nothing of the incident.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

from bot.refs import format_ref

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(incident_tag)s: %(message)s"

_incident: ContextVar[str | None] = ContextVar("firebreak_incident", default=None)
# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "incident",
    "incident_tag",
    "taskName",
}


@contextmanager
def incident_logs(incident_id: int) -> Iterator[None]:
    token = _incident.set(format_ref(incident_id))
    try:
        yield
    finally:
        _incident.reset(token)


class IncidentFilter(logging.Filter):
    """Stamps each record with the incident being worked on (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        incident = _incident.get()
        record.incident = incident
        record.incident_tag = f" [{incident}]" if incident else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        incident = getattr(record, "incident", None)
        if incident:
            line["incident"] = incident
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    out = _Handler(stream)
    out.addFilter(IncidentFilter())
    out.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return out


def configure(*, level: str, log_format: LogFormat, stream: IO[str] | None = None) -> None:
    """The process's logging, at start (the `firebreak` command). Replaces only a handler it
    added before: others (a test runner's) stay."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler(log_format, stream))
    root.setLevel(level.upper())


class _Handler(logging.StreamHandler):
    """Ours, so configure() can tell it from the handlers others installed."""
