"""`firebreak audit` and `postmortem` with a Slack token: people shown by the name Slack shows."""

from __future__ import annotations

from pathlib import Path

from bot.context import Context
from tests.processes import run_cli as run


async def test_with_a_slack_token_people_are_named(
    ctx: Context, db_url: str, tmp_path: Path
) -> None:
    import asyncio
    import socket
    from datetime import UTC, datetime

    from bot.audit import service
    from bot.incidents import roles
    from bot.localslack.server import LocalSlackServer
    from bot.localslack.state import Workspace
    from tests.domain import incident_with_channel

    ana, ben, token = "U0ANA0001", "U0BEN0002", "xoxb-cli-names"
    incident = await incident_with_channel(ctx)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ana, by=ana)
    async with ctx.sessions.begin() as session:
        for actor in (ana, ben):
            service.record(
                session=session,
                at=datetime.now(UTC),
                actor=actor,
                action="approve",
                playbook="rollback",
                incident_id=incident.id,
                run_id=None,
                allowed=True,
                reason="the incident commander",
            )
    workspace = Workspace(tokens=[token])
    workspace.add_user(ana, "ana", real_name="Ana Ortiz")  # Ben is not in the workspace
    env = {"FIREBREAK_DATABASE_URL": db_url, "SLACK_BOT_TOKEN": token}
    with LocalSlackServer(workspace) as slack:
        env["FIREBREAK_SLACK_API_URL"] = slack.base_url
        audit = await asyncio.to_thread(run, ["audit"], tmp_path, **env)
        shown = await asyncio.to_thread(run, ["postmortem", "INC-1", "--stdout"], tmp_path, **env)
    assert audit.returncode == 0, audit.stderr
    rows = audit.stdout.strip().splitlines()[2:]
    assert [row.split(" | ")[1] for row in rows] == ["Ana Ortiz (U0ANA0001)", "U0BEN0002"]
    assert shown.returncode == 0, shown.stderr
    assert "- **Incident commander:** Ana Ortiz\n" in shown.stdout

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        env["FIREBREAK_SLACK_API_URL"] = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    # Slack out of reach: the IDs, as without a token.
    unreachable = await asyncio.to_thread(run, ["audit"], tmp_path, **env)
    assert unreachable.returncode == 0, unreachable.stderr
    rows = unreachable.stdout.strip().splitlines()[2:]
    assert [row.split(" | ")[1] for row in rows] == ["U0ANA0001", "U0BEN0002"]
