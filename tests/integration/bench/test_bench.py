"""The benchmarks at a tiny size, so they cannot rot: they run, and the storm's checks hold.

Nothing here is timed; `make bench` measures."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import intake, load
from bench.run import Sizes, run
from bench.server import workspace
from bench.storm import storm
from bench.storm_plan import plan
from bot.db.migrate import upgrade
from bot.localslack.server import LocalSlackServer
from tests.paths import ROOT
from tests.postgres import create_database

# settle_s=0: the RSS is read at once, without waiting for the drawing process's idle stop.
TINY = Sizes(
    notifications=50, groups=5, quiet=3, entries=200, paced=20, rate=50.0, settle_s=0, per_group=1
)


def test_the_plan_keeps_each_groups_order_and_sends_what_it_expects() -> None:
    storm_plan = plan(notifications=50, groups=5)
    assert len(storm_plan.order) == 50
    for g in range(5):
        seqs = [n.seq for n in storm_plan.order if n.group == g]
        assert seqs == list(range(10))
    sent = {(a["fingerprint"], a["startsAt"]) for n in storm_plan.order for a in n.body["alerts"]}
    expected = {
        (fp, starts.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for g in storm_plan.groups
        for fp, starts in g.occurrences
    }
    assert sent == expected
    assert any(resolved for g in storm_plan.groups for resolved in g.occurrences.values())


def test_a_webhook_answer_says_whether_the_notification_changed_something() -> None:
    assert load.changed(b'{"incident": "INC-1", "opened": true, "firing": 2, "resolved": 0}')
    assert load.changed(b'{"incident": "INC-1", "opened": false, "firing": 0, "resolved": 1}')
    assert not load.changed(b'{"incident": "INC-1", "opened": false, "firing": 0, "resolved": 0}')
    assert not load.changed(b'{"ok": true}')  # the no-op's
    assert not load.changed(b"not json") and not load.changed(b"[1]")


async def _refusing_then_answering(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[tuple[bytes, bytes]]
) -> None:
    """A server for the load generator's client: its first request is refused (503), its
    second is cut off (the connection closed unanswered), its third is answered chunked and
    says it opened an incident, its fourth is answered and its connection closed (as the
    answer says); the rest get a plain 200."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            break
        length = int(re.search(rb"Content-Length: (\d+)", head)[1])  # type: ignore[index]
        seen.append((head, await reader.readexactly(length)))
        if len(seen) == 1:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}")
        elif len(seen) == 2:
            break
        elif len(seen) == 3:
            body = b'{"opened": true}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            )
        elif len(seen) == 4:
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            break
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
    writer.close()


def test_the_load_generator_sends_again_what_was_refused_or_cut_off() -> None:
    storm_plan = plan(notifications=4, groups=2)
    seen: list[tuple[bytes, bytes]] = []

    async def scenario() -> load.Result:
        server = await asyncio.start_server(
            lambda r, w: _refusing_then_answering(r, w, seen), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await load.send(
                f"http://127.0.0.1:{port}/webhooks/alertmanager",
                storm_plan.order,
                [g.key for g in storm_plan.groups],
                concurrency=1,
                rate=None,
                token="t0ken",
            )

    result = asyncio.run(scenario())
    assert (result.sent, result.failed, result.errors) == (4, 0, 2)
    assert result.statuses == {"503": 1, "ConnectionError": 1, "200": 4}
    assert len(result.changed_ms) == 1 and len(result.unchanged_ms) == 3
    first = storm_plan.order[0]
    # The refused and the cut-off request were the first notification, sent again as it was.
    assert [body for _, body in seen[:3]] == [json.dumps(first.body).encode()] * 3
    assert [json.loads(body) for _, body in seen[2:]] == [n.body for n in storm_plan.order]
    assert all(b"POST /webhooks/alertmanager HTTP/1.1\r\n" in head for head, _ in seen)
    assert all(b"Authorization: Bearer t0ken\r\n" in head for head, _ in seen)


def test_a_child_that_ended_and_is_not_yet_reaped_counts_as_no_memory() -> None:
    from bench.server import _gone_as_zero, _pss_mb, _rss_mb
    from tests.polling import wait_until

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_until(
            lambda: "State:\tZ" in Path(f"/proc/{ended.pid}/status").read_text(),
            what="the child a zombie",
        )
        assert _gone_as_zero(_rss_mb, ended.pid) == 0.0
        assert _gone_as_zero(_pss_mb, ended.pid) == 0.0
        assert 0 < _pss_mb(os.getpid()) <= _rss_mb(os.getpid())
    finally:
        ended.wait()


def test_make_bench_at_a_tiny_size_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    [sqlite] = run(TINY, out=out, with_postgres=False)
    check = sqlite.storm.check
    assert check.incidents == check.channels == check.announced == TINY.groups
    assert check.lost == 0 and check.occurrences_sent > TINY.groups
    assert check.graphs == TINY.groups  # drawn, from the bench's Prometheus stand-in
    assert check.errors == []  # no background task failed, nothing else logged an error
    assert sqlite.storm.storm.sent == sqlite.storm.noop.sent == TINY.notifications
    assert sqlite.storm.paced_check is not None and sqlite.storm.paced_check.lost == 0
    assert len(sqlite.quiet["announce"]) == TINY.quiet and len(sqlite.postmortem_ms) == 5
    assert sqlite.storm.rss_after_mb > 0
    webhooks = sqlite.storm.storm
    # Each notification on one side of the split; each group's first opens its incident.
    assert len(webhooks.changed_ms) + len(webhooks.unchanged_ms) == TINY.notifications
    assert len(webhooks.changed_ms) >= TINY.groups and webhooks.unchanged_ms
    assert not sqlite.storm.noop.changed_ms  # the no-op's answer says nothing changed
    # wrk (make servers installs it) sent the same storm to a server of its own.
    crossed = sqlite.wrk
    assert crossed is not None and crossed.incidents == TINY.groups
    assert crossed.storm.errors == crossed.noop.errors == 0
    assert crossed.storm.rate > 0 and crossed.noop.rate > 0
    # The same storm sent again changes nothing: every notification is a repeat.
    repeats = sqlite.storm.repeats
    assert repeats is not None and repeats.sent == TINY.notifications
    assert not repeats.changed_ms and len(repeats.unchanged_ms) == TINY.notifications
    # The same storm with the chat follow-ups in the serve process: no chat process then.
    one = sqlite.one_process
    assert one is not None and one.check.lost == 0 and one.check.announced == TINY.groups
    assert one.rss_chat_mb == 0 and sqlite.storm.rss_chat_mb > 0
    assert one.storm.sent == TINY.notifications
    text = out.read_text()
    assert "## One process or two" in text
    assert "| alerts lost | 0 | 0 |" in text[text.index("## One process or two") :]
    assert "a notification that changed something" in text
    assert "| alerts lost | 0 | 0 |" in text
    assert "| notifications of the storm sent again that changed something | 0 | 0 |" in text
    assert f"| incidents created | {TINY.groups} | {TINY.groups} |" in text
    assert "## Targets" in text and "## SQLite" in text
    assert f"| incidents opened by the storm | {TINY.groups} of {TINY.groups} |" in text
    grows = text[text.index("## How intake's cost grows") :]
    assert all(f"| {groups:,} | {alerts} |" in grows for groups, alerts in intake.SCALES)


def test_the_storm_on_postgresql(tmp_path: Path, postgres: str) -> None:
    url = asyncio.run(create_database(postgres, "bench_tiny"))
    upgrade(url)
    with LocalSlackServer(workspace()) as slack:
        result = storm(
            tmp_path,
            slack,
            database_url=url,
            notifications=50,
            groups=5,
            paced_rate=None,
            settle_s=0,
        )
    assert result.check.incidents == result.check.channels == 5
    assert result.check.lost == 0 and result.storm.failed == 0
    assert result.check.graphs == 5 and result.drawing_cpu_s > 0
    assert result.check.errors == []
    assert result.repeats is not None and not result.repeats.changed_ms


def test_the_scaling_notifications_are_alertmanagers() -> None:
    from bench.intake import steady

    sent = steady(notifications=60, groups=3, alerts=4)
    assert [(g, seq) for g, seq, _ in sent[:4]] == [(0, 0), (1, 0), (2, 0), (0, 1)]
    assert all(len(batch.alerts) in (4, 5) for _, _, batch in sent)
    tenth = next(batch for g, seq, batch in sent if g == 0 and seq == 10)
    statuses = [a.status for a in tenth.alerts]
    assert statuses.count("resolved") == 1 and statuses.count("firing") == 4
    assert len({a.fingerprint for _, _, b in sent for a in b.alerts}) > 3 * 4  # new ones fired


@pytest.mark.parametrize(
    "script",
    [
        ["bench.alert_to_announcement", "--n", "2"],
        ["bench.approval_to_deploy", "--n", "1"],
        ["bench.postmortem_render", "--entries", "50", "--runs", "1"],
        ["bench.storm", "--notifications", "20", "--groups", "2", "--rate", "0", "--settle-s", "0"],
        ["bench.intake", "--notifications", "60", "--groups", "3", "--concurrency", "4"],
    ],
)
def test_each_script_runs_on_its_own(script: list[str], tmp_path: Path) -> None:
    assert "| p50 ms | p99 ms | max ms |" in _ran(script)


def test_the_outbox_bench_runs_on_its_own() -> None:
    row = _ran(["bench.outbox", "--calls", "40", "--runs", "1"]).strip().splitlines()[-1]
    assert re.fullmatch(r"\| 1 \| [\d.]+ \([\d.]+\) \| [\d.]+ \([\d.]+\) \|", row), row


def _ran(script: list[str]) -> str:
    """What `python -m <script>` printed; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", *script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
