"""Rendering step arguments: Jinja2 in a sandbox, strict about undefined names."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.incidents.models import Incident


class RenderError(Exception):
    """A template could not be rendered; the message names the value and the reason."""


@cache
def environment() -> SandboxedEnvironment:
    # Sandboxed: playbooks are data edited by many people, not code.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(value: Any, context: dict[str, Any], *, where: str = "with") -> Any:
    """Render every string in a nested value."""
    if isinstance(value, dict):
        return {k: render(v, context, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        try:
            return environment().from_string(value).render(context)
        except TemplateError as exc:
            raise RenderError(f"{where}: {exc}") from exc
    return value


def incident_vars(incident: Incident) -> dict[str, Any]:
    """What templates see as `incident`."""
    return {
        "ref": incident.ref,
        "id": incident.id,
        "title": incident.title,
        "service": incident.service or "",
        "severity": incident.severity,
        "status": incident.status,
        "commander": incident.commander or "",
    }
