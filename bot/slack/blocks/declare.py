"""The modal `/incident declare` opens when no title is given, and reading its answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import FirebreakConfig
from bot.severity import Severity
from bot.slack.blocks.actions import DECLARE_VIEW

TITLE, SERVICE, SEVERITY, DESCRIPTION = "title", "service", "severity", "description"
MAX_OPTIONS = 100  # Block Kit's limit for a static select


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value[:150]}


def declare_modal(config: FirebreakConfig, *, channel: str) -> dict[str, Any]:
    severities = [_option(s.value, s.value) for s in Severity]
    initial = next(o for o in severities if o["value"] == config.declared_severity)
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": TITLE,
            "label": {"type": "plain_text", "text": "Title"},
            "element": {
                "type": "plain_text_input",
                "action_id": TITLE,
                "max_length": 300,
                "placeholder": {"type": "plain_text", "text": "What is broken, for whom"},
            },
        },
        {
            "type": "input",
            "block_id": SEVERITY,
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": SEVERITY,
                "options": severities,
                "initial_option": initial,
            },
        },
    ]
    services = sorted(config.services)[:MAX_OPTIONS]
    if services:
        blocks.append(
            {
                "type": "input",
                "block_id": SERVICE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Service"},
                "element": {
                    "type": "static_select",
                    "action_id": SERVICE,
                    "options": [_option(name, name) for name in services],
                },
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": DESCRIPTION,
            "optional": True,
            "label": {"type": "plain_text", "text": "What we know"},
            "element": {
                "type": "plain_text_input",
                "action_id": DESCRIPTION,
                "multiline": True,
                "max_length": 3000,
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": DECLARE_VIEW,
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


@dataclass(frozen=True)
class Declaration:
    title: str
    severity: Severity
    service: str | None
    description: str | None


def read_declaration(
    view: dict[str, Any], config: FirebreakConfig
) -> tuple[Declaration | None, dict[str, str]]:
    """(the answers, {}), or (None, {block_id: what is wrong}) for response_action=errors."""
    values = (view.get("state") or {}).get("values") or {}

    def text(block: str) -> str:
        return " ".join(str((values.get(block, {}).get(block) or {}).get("value") or "").split())

    def chosen(block: str) -> str | None:
        option = (values.get(block, {}).get(block) or {}).get("selected_option") or {}
        return option.get("value")

    errors: dict[str, str] = {}
    title = text(TITLE)
    if not title:
        errors[TITLE] = "Give the incident a title."
    severity_value = chosen(SEVERITY) or config.declared_severity
    if severity_value not in Severity.__members__:
        errors[SEVERITY] = "Choose SEV1 to SEV4."
    service = chosen(SERVICE)
    if service is not None and service not in config.services:
        errors[SERVICE] = f"{service} is not a configured service."
    if errors:
        return None, errors
    raw = (values.get(DESCRIPTION, {}).get(DESCRIPTION) or {}).get("value")
    return Declaration(
        title=title,
        severity=Severity(severity_value),
        service=service,
        description=raw.strip() if raw and raw.strip() else None,
    ), {}
