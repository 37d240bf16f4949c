"""`firebreak audit`'s table: who, by name beside the ID, and cells that stay cells."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.audit.models import AuditEntry
from bot.audit.table import table, who

ANA, BEN = "U0ANA0001", "U0BEN0002"


def entry(*, actor: str = ANA, reason: str = "the incident commander") -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 11, 27, 3, 0, tzinfo=UTC),
        actor=actor,
        action="approve",
        playbook="rollback",
        incident_id=7,
        run_id=3,
        allowed=True,
        reason=reason,
    )


def cells(row: str) -> list[str]:
    """A row's cells as a GFM table reads them: split at pipes no backslash escapes."""
    out, cell, chars = [], "", iter(row.strip().strip("|"))
    for char in chars:
        if char == "\\":
            cell += char + next(chars, "")
        elif char == "|":
            out.append(cell.strip())
            cell = ""
        else:
            cell += char
    return [*out, cell.strip()]


def test_people_are_named_beside_their_id() -> None:
    assert who(ANA, names={ANA: "Ana Ortiz"}) == "Ana Ortiz (U0ANA0001)"
    assert who(BEN, names={ANA: "Ana Ortiz"}) == BEN
    rows = table([entry(), entry(actor=BEN)], names={ANA: "Ana Ortiz"}).splitlines()
    assert cells(rows[2])[1] == "Ana Ortiz (U0ANA0001)"
    assert cells(rows[3])[1] == BEN
    assert cells(table([entry()]).splitlines()[2])[1] == ANA  # no names given


def test_a_name_or_reason_cannot_break_the_row() -> None:
    names = {ANA: "ana | admin \\"}
    reason = "typed \\| by hand\r\nthen a pipe | and a break\rend"
    *_, row = table([entry(reason=reason)], names=names).splitlines()
    found = cells(row)
    assert len(found) == 8
    assert found[1] == "ana \\| admin \\\\ (U0ANA0001)"
    assert found[7] == "typed \\\\\\| by hand then a pipe \\| and a break end"
