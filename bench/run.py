"""`make bench`: every scenario against a real `firebreak serve`, on SQLite and on PostgreSQL
(when its server programs are installed), written to docs/benchmarks.md.

Per database: a quiet server (alert → announcement and command acks one at a time, the
postmortem of 10,000 timeline entries through the API), then a fresh server for the storm
(bench/storm.py: the no-op baseline, the storm, its checks, the paced run). Once: the
postmortem rendered in process, and intake's cost as the groups and alerts grow (bench/intake.py,
in process).

Run: .venv/bin/python -m bench.run [--notifications 20000 --groups 200 --quiet 200] [--out F]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import alert_to_announcement, intake, postmortem_render, wrk
from bench.server import postgres_urls, running_bot, sqlite_urls, workspace
from bench.stats import Progress, percentile, percentiles
from bench.storm import SETTLE_DRAWING_S, StormResult, storm, tables
from bot.localslack.server import LocalSlackServer
from tests import postgres

ROOT = Path(__file__).parent.parent
LIBRARIES = (
    "uvicorn",
    "fastapi",
    "starlette",
    "SQLAlchemy",
    "aiosqlite",
    "asyncpg",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "APScheduler",
    "prometheus_client",
)


@dataclass
class Backend:
    name: str
    quiet: dict[str, list[float]]
    quiet_n: int
    postmortem_ms: list[float]
    postmortem_chars: int
    storm: StormResult
    seconds: float
    wrk: wrk.WrkResult | None = None  # the storm's ratio as wrk measures it (when installed)
    one_process: StormResult | None = None  # the storm with the chat follow-ups in serve


@dataclass
class Sizes:
    notifications: int
    groups: int
    quiet: int
    entries: int
    paced: int
    rate: float
    settle_s: float = SETTLE_DRAWING_S  # how long the RSS waits for the drawing process to stop
    per_group: int = 30  # notifications a group, where intake's cost is measured as it grows


def measure(name: str, urls: Iterator[str], tmp: Path, sizes: Sizes) -> Backend:
    started = time.monotonic()
    progress = Progress(f"quiet on {name}")
    runs = ("quiet", "storm", "wrk", "one")
    quiet_dir, storm_dir, wrk_dir, one_dir = (tmp / f"{name}-{run}" for run in runs)
    for folder in (quiet_dir, storm_dir, wrk_dir, one_dir):
        folder.mkdir()
    with LocalSlackServer(workspace()) as slack:
        url = next(urls)
        with running_bot(quiet_dir, slack, database_url=url) as bot:
            progress("server started")
            quiet = alert_to_announcement.quiet(bot, sizes.quiet)
            progress("alerts and commands one at a time")
            postmortem_ms, chars = postmortem_render.served(
                bot, database_url=url, entries=sizes.entries, runs=5
            )
            progress("postmortem")
        progress("server stopped")
    stormed = _storm(storm_dir, next(urls), sizes)
    progress = Progress(f"wrk on {name}")
    with LocalSlackServer(workspace()) as slack:
        crossed = wrk.cross_check(
            wrk_dir,
            slack,
            database_url=next(urls),
            notifications=sizes.notifications,
            groups=sizes.groups,
        )
        progress("the storm sent by wrk" if crossed else "not installed: skipped")
    # What the chat process costs and buys, in the same run (docs/benchmarks.md).
    one = _storm(one_dir, next(urls), sizes, one_process=True)
    return Backend(
        name=name,
        quiet=quiet,
        quiet_n=sizes.quiet,
        postmortem_ms=postmortem_ms,
        postmortem_chars=chars,
        storm=stormed,
        seconds=time.monotonic() - started,
        wrk=crossed,
        one_process=one,
    )


def _storm(folder: Path, url: str, sizes: Sizes, *, one_process: bool = False) -> StormResult:
    """The storm on a fresh server and stand-in; `one_process`: with the chat follow-ups in
    the serve process, and without the paced run."""
    with LocalSlackServer(workspace()) as slack:
        return storm(
            folder,
            slack,
            database_url=url,
            notifications=sizes.notifications,
            groups=sizes.groups,
            paced_rate=None if one_process else sizes.rate or None,
            paced_notifications=sizes.paced,
            settle_s=sizes.settle_s,
            one_process=one_process,
        )


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    versions = ", ".join(f"{lib} {metadata.version(lib)}" for lib in LIBRARIES)
    pg = "not installed"
    with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
        pg = subprocess.run(
            [str(postgres._bindir() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} CPUs, {cpu}; {platform.system()} {platform.release()}",
        f"- Load average when starting: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- Python {platform.python_version()}; {versions}",
        f"- PostgreSQL: {pg}",
    ]


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def targets(backends: list[Backend], postmortem_ms: list[float]) -> str:
    rows = ["| target | " + " | ".join(b.name for b in backends) + " |"]
    rows.append("|---|" + "---|" * len(backends))

    def row(name: str, cells: list[tuple[str, bool]]) -> None:
        rows.append(f"| {name} | " + " | ".join(f"{v} ({verdict(m)})" for v, m in cells) + " |")

    def limit(b: Backend, sqlite: float, postgresql: float) -> float:
        return sqlite if b.name == "SQLite" else postgresql

    ratio = [(tables(b.storm)["ratio"], limit(b, 0.5, 0.3), b.wrk) for b in backends]
    row(
        "storm throughput ÷ no-op throughput ≥ 0.5 (SQLite), 0.3 (PostgreSQL); wrk's in brackets",
        [(f"{r:.2f}" + (f" (wrk: {w.ratio:.2f})" if w else ""), r >= want) for r, want, w in ratio],
    )
    storm_p99 = [(percentile(b.storm.storm.latencies_ms, 0.99), b) for b in backends]
    row(
        "webhook p99 during the storm < 100 ms (SQLite), 150 ms (PostgreSQL)",
        [(f"{v:.0f} ms", v < limit(b, 100, 150)) for v, b in storm_p99],
    )
    acks = [percentile(b.storm.ack_ms, 0.99) if b.storm.ack_ms else 0.0 for b in backends]
    row("`/incident` ack p99 during the storm < 200 ms", [(f"{a:.0f} ms", a < 200) for a in acks])
    quiet = [(percentile(b.quiet["announce"], 0.99), b) for b in backends]
    row(
        "alert → announcement p99, quiet < 150 ms (SQLite), 200 ms (PostgreSQL)",
        [(f"{q:.0f} ms", q < limit(b, 150, 200)) for q, b in quiet],
    )
    stormy = [
        (percentile(b.storm.check.announce_ms, 0.99) if b.storm.check.announce_ms else 0.0, b)
        for b in backends
    ]
    row(
        "alert → announcement p99 during the storm < 2 s (SQLite), 3 s (PostgreSQL)",
        [(f"{a:.0f} ms", a < limit(b, 2000, 3000)) for a, b in stormy],
    )
    served = [max(b.postmortem_ms) for b in backends]
    row(
        "postmortem of 10,000 entries < 1 s (GET, slowest of 5)",
        [(f"{s:.0f} ms", s < 1000) for s in served],
    )
    # The bot is two processes while it draws graphs: both count, once it is idle again.
    rss = [b.storm for b in backends]
    row(
        "RSS < 200 MB after the storm (serve and its children, once idle; in brackets: while "
        "graphs were still being drawn, and their PSS once idle)",
        [
            (
                f"{s.rss_settled_mb:.0f} MB ({s.rss_after_mb:.0f} + {s.rss_children_mb:.0f} MB; "
                f"PSS {s.pss_settled_mb:.0f} MB)",
                s.rss_settled_mb < 200,
            )
            for s in rss
        ],
    )
    lost = [(b.storm.check.lost, b.storm.check.incidents, b.storm.check.channels) for b in backends]
    row(
        "invariants: incidents = channels = groups, 0 lost",
        [
            (f"{i}/{c} of {b.storm.groups}, {lo} lost", lo == 0 and i == c == b.storm.groups)
            for (lo, i, c), b in zip(lost, backends, strict=True)
        ],
    )
    rows.append("")
    rows.append(
        f"In process, without the database: the same 10,000-entry postmortem renders in "
        f"{percentiles(postmortem_ms)} ms (p50 | p99 | max of 5)."
    )
    return "\n".join(rows)


def document(backends: list[Backend], sizes: Sizes, postmortem_ms: list[float], grows: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`); every number comes from one run of a",
        "real `firebreak serve` process (uvicorn, one worker), the Slack stand-in in the bench's",
        "process, and the load generator (bench/load.py: asyncio's protocols on uvloop, with",
        "httptools' parser) in a process of its own, all on this one machine: they share its",
        "CPUs, so a busy machine shows as slower numbers. The storm's ratio is measured with",
        "wrk too (bench/wrk.py), on a fresh server of its own.",
        "",
        *machine(),
        "",
        f"Storm: {sizes.notifications:,} Alertmanager notifications over {sizes.groups} alert "
        "groups (repeats, new alerts, resolves and re-fires; each group's notifications in "
        "order, one at a time, as Alertmanager sends them), 32 concurrent senders. The same "
        "load goes first to POST /bench/noop on the same server (it reads the body and answers,",
        "as a FastAPI route: through the app's middleware and routing, which the alert webhooks",
        "skip since bot/http/direct.py; so a repeat can cost about what the no-op costs).",
        "Once the storm is checked, it is sent again: every notification is then a repeat, so",
        "that row is what intake costs when nothing changes, beside the same no-op.",
        "Each incident's graph is drawn: the bot's config points the alerts' graphs at a",
        "Prometheus stand-in in the bench's process that answers every range query at once with",
        "three series (as a reachable Prometheus would; drawn in the bot's drawing process).",
        "",
        '"Server CPU ms each" is the serve process\'s own CPU time (user and system, from',
        "/proc) over the run divided by the notifications sent: unlike the rates, it does not",
        "move with what else the machine is doing. In brackets it counts on, until every",
        "incident was announced, then until the bot had no chat work left (no background task,",
        "no Slack call unsent): cards brought up to date after the storm are counted too.",
        "",
        "## Targets",
        "",
        targets(backends, postmortem_ms),
    ]
    for b in backends:
        shown = tables(b.storm)
        lines += [
            "",
            f"## {b.name}",
            "",
            f"({b.seconds:.0f} s for this database.)",
            "",
            "### Alert storm",
            "",
            shown["throughput"],
            "",
            shown["invariants"],
            "",
            *_under_wrk(b),
            "### Latency during the storm",
            "",
            shown["latency"],
            "",
            f"### Quiet system ({b.quiet_n} incidents one at a time, then {b.quiet_n} commands)",
            "",
            alert_to_announcement.table(b.quiet, b.quiet_n),
            "",
            "### Postmortem and memory",
            "",
            "| measurement | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|",
            f"| GET /api/incidents/INC-n/postmortem, {sizes.entries:,} timeline entries "
            f"({b.postmortem_chars:,} chars) | {percentiles(b.postmortem_ms)} |",
            "",
            shown["memory"],
        ]
    lines += ["", *_one_or_two(backends)]
    lines += [
        "",
        "## How intake's cost grows",
        "",
        "In process, on SQLite, without HTTP or Slack (bench/intake.py: the process's Intake,",
        f"{intake.SENDERS} senders): {sizes.per_group} notifications a group, like",
        "Alertmanager's (each carries every alert of its group; one in ten resolves one and",
        "fires a new one).",
        "",
        grows,
    ]
    return "\n".join(lines) + "\n"


def _one_or_two(backends: list[Backend]) -> list[str]:
    """The storm with the chat follow-ups in the serve process (FIREBREAK_CHAT_PROCESS=false)
    beside the storm above, where they run in the chat process: what the second process
    costs in memory and gives in throughput and latency."""
    runs = [(b.name, b.storm, b.one_process) for b in backends if b.one_process is not None]
    if not runs:
        return []
    head = "| measure | " + " | ".join(
        f"{name}: two processes | {name}: one process" for name, _, _ in runs
    )
    rows = [head + " |", "|---|" + "---|---|" * len(runs)]

    def row(measure: str, value: Callable[[StormResult], str]) -> None:
        cells = [f"{value(two)} | {value(one)}" for _, two, one in runs]
        rows.append(f"| {measure} | " + " | ".join(cells) + " |")

    row("storm ÷ no-op", lambda r: f"{tables(r)['ratio']:.2f}")
    row("notifications/s in the storm", lambda r: f"{r.storm.rate:.0f}")
    row(
        "webhook p99 during the storm", lambda r: f"{percentile(r.storm.latencies_ms, 0.99):.0f} ms"
    )
    row("`/incident` ack p99 during the storm", lambda r: _p99_ms(r.ack_ms))
    row("alert → announcement p99 during the storm", lambda r: _p99_ms(r.check.announce_ms))
    row(
        "RSS after the storm, once idle (serve and its children)",
        lambda r: f"{r.rss_settled_mb:.0f} MB",
    )
    row("their PSS", lambda r: f"{r.pss_settled_mb:.0f} MB")
    row("alerts lost", lambda r: str(r.check.lost))
    return [
        "## One process or two",
        "",
        "The same storm on a fresh server with `FIREBREAK_CHAT_PROCESS=false` (the chat",
        "follow-ups in the serve process, no chat process), beside the storm above:",
        "",
        *rows,
    ]


def _p99_ms(samples: list[float]) -> str:
    return f"{percentile(samples, 0.99):.0f} ms" if samples else "none"


def _under_wrk(b: Backend) -> list[str]:
    if b.wrk is None:
        return []
    return [
        "The same storm and no-op sent by wrk instead (bench/wrk.py: two threads, 32",
        "connections; a group's notifications in the plan's order but not one at a time):",
        "",
        wrk.table(b.wrk),
        "",
    ]


def run(sizes: Sizes, *, out: Path, with_postgres: bool) -> list[Backend]:
    postmortem_ms, _ = postmortem_render.timed(postmortem_render.big_timeline(sizes.entries), 5)
    backends = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        backends.append(measure("SQLite", sqlite_urls(tmp), tmp, sizes))
        if with_postgres and postgres.available():
            with postgres_urls() as urls:
                backends.append(measure("PostgreSQL", urls, tmp, sizes))
        elif with_postgres:
            print("PostgreSQL is not installed: SQLite only", file=sys.stderr)
    grows = intake.scaling(per_group=sizes.per_group)
    out.write_text(document(backends, sizes, postmortem_ms, grows))
    return backends


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--quiet", type=int, default=200, help="incidents of the quiet run")
    parser.add_argument("--entries", type=int, default=10_000, help="of the postmortem")
    parser.add_argument("--paced", type=int, default=2500, help="notifications at --rate")
    parser.add_argument("--rate", type=float, default=500.0, help="notifications/s; 0: none")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    sizes = Sizes(
        notifications=args.notifications,
        groups=args.groups,
        quiet=args.quiet,
        entries=args.entries,
        paced=args.paced,
        rate=args.rate,
    )
    started = time.monotonic()
    run(sizes, out=args.out, with_postgres=not args.sqlite_only)
    print(f"{args.out} written in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
