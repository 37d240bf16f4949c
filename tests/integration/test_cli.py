from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.context import Context
from tests.fakes import FakeClock
from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.scenario import ENV
from tests.servers import free_port


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ENV}
    return subprocess.run(
        firebreak_command(*args),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**clean, **env},
    )


def test_serve_refuses_a_token_without_signing_secret(tmp_path: Path) -> None:
    result = run(["serve", "--port", "1"], tmp_path, SLACK_BOT_TOKEN="xoxb-secret-value-123")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not" in result.stderr
    assert "xoxb-secret-value-123" not in result.stderr + result.stdout


def test_serve_on_a_public_address_wants_a_webhook_token(tmp_path: Path) -> None:
    unsigned = {"SLACK_BOT_TOKEN": "xoxb-secret-value-123"}
    refused = run(["serve", "--host", "0.0.0.0", "--port", "1"], tmp_path, **unsigned)
    assert refused.returncode == 2 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith("firebreak: refusing to serve webhooks on 0.0.0.0 without ")
    assert "FIREBREAK_WEBHOOK_TOKEN" in line and "--insecure-webhooks" in line
    # Told explicitly, or given a token, it goes on (to the next check, here the Slack secret).
    for args, env in (
        (["--insecure-webhooks"], unsigned),
        ([], {**unsigned, "FIREBREAK_WEBHOOK_TOKEN": "webhook-token-3f9a"}),
    ):
        passed = run(["serve", "--host", "0.0.0.0", "--port", "1", *args], tmp_path, **env)
        assert passed.returncode == 2 and "SLACK_SIGNING_SECRET is not" in passed.stderr
        assert "webhook-token-3f9a" not in passed.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_without_a_slack_token_serve_binds_loopback_only(tmp_path: Path, host: str) -> None:
    """The built-in stand-in lets whoever reaches it act as anyone: never on the network,
    whatever else is set."""
    for args, env in (
        ([], {}),
        (["--insecure-webhooks"], {"FIREBREAK_WEBHOOK_TOKEN": "webhook-token-3f9a"}),
    ):
        refused = run(["serve", "--host", host, "--port", "1", *args], tmp_path, **env)
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"firebreak: refusing to serve on {host} without SLACK_BOT_TOKEN")
        assert "loopback only" in line


def test_an_empty_slack_token_is_a_configuration_error(tmp_path: Path) -> None:
    for command in (["serve", "--port", "1"], ["check"]):
        refused = run(command, tmp_path, SLACK_BOT_TOKEN="")
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.splitlines()
        assert line.startswith("firebreak: SLACK_BOT_TOKEN: Value error, set but empty")
        assert "unset SLACK_BOT_TOKEN to run with the built-in Slack stand-in" in line


def test_serve_prints_the_page_link_once_and_cuts_off_slow_request_heads(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ENV},
        "FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'firebreak.db'}",
        "FIREBREAK_HEADER_TIMEOUT_S": "1",
    }
    with process(
        firebreak_command("serve", "--port", str(port)),
        log=log,
        env=env,
        ready_url=f"{url}/healthz",
    ):
        printed = wait_until(
            lambda: re.findall(rf"open ({re.escape(url)}/\?key=[\w-]+)", log.read_text()),
            what="the page's link in the log",
        )
        assert len(printed) == 1
        with httpx.Client(base_url=url, timeout=5) as browser:
            assert browser.get("/").status_code == 403  # not without the key
            assert browser.get(printed[0]).status_code == 303  # the link sets its cookie
            page = browser.get("/")
            assert page.status_code == 200 and "Firebreak local" in page.text
        assert httpx.get(f"{url}/api/incidents").json() == []  # README's curl, no token
        # A connection that never finishes its request's head is closed (1 s here).
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.settimeout(10)
            assert slow.recv(1024) == b""


def test_bad_config_stops_every_command_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("services:\n  ranker:\n    owner: [U0ANA0001]\n")
    result = run(["check"], tmp_path, FIREBREAK_CONFIG=str(tmp_path / "bad.yaml"))
    assert result.returncode == 2
    assert "bad.yaml: services.ranker.owner: Extra inputs are not permitted" in result.stderr


def test_check_and_migrate(tmp_path: Path) -> None:
    checked = run(
        ["check"], tmp_path, FIREBREAK_CONFIG=str(Path("examples/firebreak.yaml").resolve())
    )
    assert checked.returncode == 0 and "search-ranker" in checked.stdout
    migrated = run(["migrate"], tmp_path, FIREBREAK_DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "m.db").stat().st_size > 0


def test_serve_on_postgresql_wants_migrate_first(tmp_path: Path, postgres: str) -> None:
    url = f"{postgres}/postgres"
    refused = run(["serve", "--port", "1"], tmp_path, FIREBREAK_DATABASE_URL=url)
    assert refused.returncode == 2 and "run `firebreak migrate` first" in refused.stderr
    assert run(["migrate"], tmp_path, FIREBREAK_DATABASE_URL=url).returncode == 0


def test_check_catches_a_broken_playbook_precisely(tmp_path: Path) -> None:
    books = tmp_path / "playbooks"
    books.mkdir()
    (books / "rollback.yaml").write_text(
        "name: rollback\ndescription: d\nsteps:\n  - {name: a, action: get_state}\n"
        "  - {name: b, action: rollbak}\n"
    )
    result = run(["check"], tmp_path, FIREBREAK_PLAYBOOKS=str(books))
    assert result.returncode == 2
    assert (
        f"{books / 'rollback.yaml'}: steps[1].action: Value error, unknown action 'rollbak'"
        in result.stderr
    )


def test_check_reads_each_source_sample(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  good:\n"
        '    group_key: "{{ payload.id }}"\n'
        '    title: "{{ payload.name }}"\n'
        "    sample: {id: a1, name: Drift on ranker}\n"
        "  misread:\n"
        '    group_key: "{{ payload.alert.id }}"\n'
        '    title: "{{ payload.name }}"\n'
        "    sample: {id: a1, name: Drift on ranker}\n"
    )
    result = run(["check"], tmp_path, FIREBREAK_CONFIG=str(tmp_path / "sources.yaml"))
    assert result.returncode == 2
    assert "sources: good, misread" in result.stdout
    [problem] = result.stderr.splitlines()
    assert problem == (
        "firebreak: sources.misread.sample: group_key: 'dict object' has no attribute 'alert' "
        "(expression '{{ payload.alert.id }}')"
    )


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
    written = await asyncio.to_thread(run, ["postmortem", "inc-1"], tmp_path, **env)
    assert written.stdout.strip() == (
        "postmortem draft written to postmortems/INC-1-rankerndcgdrop-on-search-ranker.md"
    )
    assert (tmp_path / "postmortems" / "INC-1-rankerndcgdrop-on-search-ranker.md").exists()
    missing = await asyncio.to_thread(run, ["postmortem", "INC-9"], tmp_path, **env)
    assert missing.returncode == 2 and "There is no INC-9" in missing.stderr

    report = await asyncio.to_thread(run, ["report", "--since", "365d"], tmp_path, **env)
    assert report.returncode == 0, report.stderr
    [row] = [line for line in report.stdout.splitlines() if line.startswith("| search-ranker")]
    # Detected 1m59.88s after the alert started: 2m to detect.
    assert row == "| search-ranker | 1 | no SLO | 2m / 2m | - | - | - |"
    bad = await asyncio.to_thread(run, ["report", "--since", "lately"], tmp_path, **env)
    assert bad.returncode == 2 and "--since" in bad.stderr


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
