"""The storm's ratio as wrk measures it: the C load generator the issue names, beside
bench/load.py's, against a fresh `firebreak serve` on the same database.

wrk cannot keep a group's notifications in order: each of its two threads sends every other
notification of the plan, in the plan's order, with up to 16 of them on the wire at once. So a
group's next notification may go before its previous one is answered (rarely: a group's
notifications are about `groups` places apart in the plan). Intake takes them in any order;
the storm's checks stay bench/storm.py's, on its own run. What wrk adds is a sender that costs
next to nothing: its rates are the bot's, not the sender's.

Skipped (None) where wrk is not installed (`make servers` installs it).

Run: .venv/bin/python -m bench.wrk [--notifications 20000 --groups 200] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.server import Bot, one_database, running_bot, workspace
from bench.storm import graph_source
from bench.storm_plan import plan
from bot.localslack.server import LocalSlackServer

SCRIPT = Path(__file__).with_name("wrk_storm.lua")
THREADS = 2
CONNECTIONS = 32  # bench/load.py's senders
LONGEST_S = 120  # at most (_wrk ends it once all is answered); the script times its share


@dataclass(frozen=True)
class Run:
    requests: int
    rate: float  # requests/s, from the first request to the last answer
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers, and connect, read, write and timeout errors


@dataclass(frozen=True)
class WrkResult:
    noop: Run
    storm: Run
    incidents: int  # the storm's, as GET /api/incidents lists them after it
    groups: int

    @property
    def ratio(self) -> float:
        return self.storm.rate / self.noop.rate if self.noop.rate else 0.0


def installed() -> bool:
    return shutil.which("wrk") is not None


def cross_check(
    tmp: Path, slack: LocalSlackServer, *, database_url: str, notifications: int, groups: int
) -> WrkResult | None:
    if not installed():
        return None
    if notifications < THREADS:
        raise ValueError(f"wrk's {THREADS} threads need a notification each at least")
    storm = plan(notifications=notifications, groups=groups, prefix="Storm")
    bodies = tmp / "bodies.jsonl"
    bodies.write_text("".join(json.dumps(n.body) + "\n" for n in storm.order), encoding="utf-8")
    with (
        graph_source(tmp, graphs=True) as env,
        running_bot(tmp, slack, database_url=database_url, env=env, log_name="wrk.log") as bot,
    ):
        noop = _wrk(bot, "/bench/noop", bodies)
        stormed = _wrk(bot, "/webhooks/alertmanager", bodies)
        # Each incident was stored before its notification was answered.
        listed = bot.http.get("/api/incidents", params={"limit": 1000}).json()
        incidents = sum(1 for i in listed if i["title"].startswith("Storm"))
    return WrkResult(noop=noop, storm=stormed, incidents=incidents, groups=groups)


def _wrk(bot: Bot, path: str, bodies: Path) -> Run:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{LONGEST_S}s", "--timeout", "30s"]
    command += ["-s", str(SCRIPT), bot.url + path, "--", str(bodies), str(THREADS)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        lines, sent = [], 0
        for line in proc.stdout:
            lines.append(line)
            sent += line == "WRK-SENT\n"
            if sent == THREADS:  # all sent and answered: wrk reports at once, not after -d
                proc.send_signal(signal.SIGINT)
                sent = 0
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed with exit code {proc.returncode}")
    out = "".join(lines)
    said = re.search(r"^WRK (.*)$", out, re.MULTILINE)
    if said is None:
        raise RuntimeError(f"wrk said no result: {out!r}")
    fields = dict(pair.split("=") for pair in said[1].split())
    return Run(
        requests=int(fields["requests"]),
        rate=float(fields["rate"]),
        p50_ms=float(fields["p50_ms"]),
        p99_ms=float(fields["p99_ms"]),
        errors=int(fields["errors"]),
    )


def table(result: WrkResult) -> str:
    rows = [
        "| endpoint (wrk) | requests | notifications/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in (
        ("POST /webhooks/alertmanager", result.storm),
        ("POST /bench/noop", result.noop),
    ):
        rows.append(
            f"| {name} | {run.requests} | {run.rate:.0f} | {run.p50_ms:.1f} | "
            f"{run.p99_ms:.1f} | {run.errors} |"
        )
    rows.append(f"| ratio (webhook / no-op) | | {result.ratio:.2f} | | | |")
    rows.append(
        f"| incidents opened by the storm | {result.incidents} of {result.groups} | | | | |"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL server, not SQLite"
    )
    args = parser.parse_args()
    if not installed():
        sys.exit("wrk is not installed (make servers installs it)")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        slack = stack.enter_context(LocalSlackServer(workspace()))
        url = stack.enter_context(one_database(tmp, postgres=args.postgres))
        result = cross_check(
            tmp, slack, database_url=url, notifications=args.notifications, groups=args.groups
        )
    assert result is not None
    print(table(result))


if __name__ == "__main__":
    main()
