"""The audit log as a Markdown table (`firebreak audit`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from bot.audit.models import AuditEntry

HEADER = "| when (UTC) | who | decision | action | playbook | incident | run | reason |"

_NO_NAMES: Mapping[str, str] = MappingProxyType({})
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def table(entries: Sequence[AuditEntry], *, names: Mapping[str, str] = _NO_NAMES) -> str:
    """One row per decision. `names`: display names by Slack user ID, shown beside the ID."""
    if not entries:
        return "No approve or run decisions in that time."
    rows = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for e in entries:
        cells = [
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            who(e.actor, names=names),
            "allowed" if e.allowed else "REFUSED",
            e.action,
            e.playbook,
            f"INC-{e.incident_id}",
            f"#{e.run_id}" if e.run_id is not None else "-",
            e.reason,
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def who(actor: str, *, names: Mapping[str, str]) -> str:
    """`Ana Lima (U0ANA0001)`, or the ID alone when the name is not known.

    An audit record keeps the ID: a display name is neither unique nor fixed (anyone may take
    a colleague's), so it only helps read the row.
    """
    name = names.get(actor)
    return f"{name} ({actor})" if name else actor


def _cell(text: str) -> str:
    # Backslashes first: a typed `\|` would otherwise become `\\|`, an escaped backslash and
    # then a column break.
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return _LINE_BREAKS.sub(" ", escaped)
