"""`firebreak audit`: what the command line reads back from the store."""

from __future__ import annotations

from pathlib import Path

from bot.context import Context
from tests.integration.test_cli_reports import assert_quiet
from tests.processes import run_cli as run


async def test_audit_shows_decisions_as_a_table(ctx: Context, db_url: str, tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from bot.audit import service

    now = datetime.now(UTC)
    async with ctx.sessions.begin() as session:
        for incident, ago, allowed, reason in (
            (1, timedelta(days=30), True, "the incident commander"),
            (1, timedelta(hours=2), False, "Only the incident commander approves | not you"),
            (2, timedelta(hours=1), True, "a responder (playbooks.approvers)"),
        ):
            service.record(
                session=session,
                at=now - ago,
                actor="U0BEN0002",
                action="approve",
                playbook="rollback",
                incident_id=incident,
                run_id=incident * 10,
                allowed=allowed,
                reason=reason,
            )
    env = {"FIREBREAK_DATABASE_URL": db_url}
    shown = await asyncio.to_thread(run, ["audit", "--incident", "INC-1"], tmp_path, **env)
    assert shown.returncode == 0, shown.stderr
    assert_quiet(shown)
    assert shown.stderr == ""
    header, rule, *rows = shown.stdout.strip().splitlines()
    assert header.startswith("| when (UTC) | who | decision |") and rule.startswith("|---|")
    assert len(rows) == 1  # the other is older than the default week, or another incident's
    assert rows[0].endswith(
        "| U0BEN0002 | REFUSED | approve | rollback | INC-1 | #10 | "
        "Only the incident commander approves \\| not you |"
    )
    month = await asyncio.to_thread(run, ["audit", "--since", "60d"], tmp_path, **env)
    assert len(month.stdout.strip().splitlines()) == 2 + 3
    bad = await asyncio.to_thread(run, ["audit", "--incident", "seven"], tmp_path, **env)
    assert bad.returncode == 2 and "--incident" in bad.stderr
