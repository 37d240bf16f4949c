"""The audit log as a Markdown table (`firebreak audit`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.audit.models import AuditEntry

HEADER = "| when (UTC) | who | decision | action | playbook | incident | run | reason |"


def table(entries: Sequence[AuditEntry]) -> str:
    if not entries:
        return "No approve or run decisions in that time."
    rows = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for e in entries:
        cells = [
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            "allowed" if e.allowed else "REFUSED",
            e.action,
            e.playbook,
            f"INC-{e.incident_id}",
            f"#{e.run_id}" if e.run_id is not None else "-",
            e.reason,
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
