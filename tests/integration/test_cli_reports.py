"""`firebreak postmortem`, `report` and `audit`: what the command line reads back from the
store."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.context import Context
from tests.fakes import FakeClock
from tests.processes import run_cli as run


def assert_quiet(result: subprocess.CompletedProcess[str]) -> None:
    """Only the command's own output: Alembic's steps ("INFO  [alembic.runtime.migration]
    Running upgrade …", or in our log format "INFO alembic.runtime…") are not shown."""
    for line in (result.stdout + result.stderr).splitlines():
        assert "alembic" not in line.lower(), line


async def test_postmortem_and_report_from_the_command_line(
    ctx: Context, clock: FakeClock, db_url: str, tmp_path: Path
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from bot.alerts.sources import alertmanager
    from bot.incidents import intake
    from tests.payloads import am_alert, am_notification

    # `firebreak report` reads the real clock: the incident is from now, not from a fixed day
    # that `--since 365d` would one day leave behind.
    clock.now = datetime.now(UTC).replace(microsecond=0)
    started = clock.now - timedelta(seconds=119.88)
    notification = am_notification(am_alert(starts_at=started.isoformat().replace("+00:00", "Z")))
    await intake.receive(ctx=ctx, batch=alertmanager.parse(notification))
    env = {"FIREBREAK_DATABASE_URL": db_url}
    shown = await asyncio.to_thread(run, ["postmortem", "INC-1", "--stdout"], tmp_path, **env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# INC-1 postmortem: RankerNDCGDrop on search-ranker")
    assert_quiet(shown)
    written = await asyncio.to_thread(run, ["postmortem", "inc-1"], tmp_path, **env)
    assert written.stdout.strip() == (
        "postmortem draft written to postmortems/INC-1-rankerndcgdrop-on-search-ranker.md"
    )
    assert (tmp_path / "postmortems" / "INC-1-rankerndcgdrop-on-search-ranker.md").exists()
    missing = await asyncio.to_thread(run, ["postmortem", "INC-9"], tmp_path, **env)
    assert missing.returncode == 2 and "There is no INC-9" in missing.stderr

    report = await asyncio.to_thread(run, ["report", "--since", "365d"], tmp_path, **env)
    assert report.returncode == 0, report.stderr
    assert_quiet(report)
    assert report.stderr == ""
    [row] = [line for line in report.stdout.splitlines() if line.startswith("| search-ranker")]
    # Detected 1m59.88s after the alert started: 2m to detect.
    assert row == "| search-ranker | 1 | no SLO | 2m / 2m | - | - | - |"
    bad = await asyncio.to_thread(run, ["report", "--since", "lately"], tmp_path, **env)
    assert bad.returncode == 2 and "--since" in bad.stderr
