"""Intake alone, in process, without HTTP or Slack: the storm's notifications recorded through
the process's own intake (memory for repeats, group commit for changes; bot.incidents.intake.
Intake) and, as the baseline in the same run, one transaction per notification
(intake.receive), each on a fresh SQLite database.

`concurrency` senders take notifications in the plan's order; a group's next waits for its
previous one, as Alertmanager sends them (bench/load.py does the same over HTTP).

`--scaling`: how the process's intake's cost grows, over notifications like Alertmanager's
(each carries every alert of its group; one in ten resolves one and fires a new one), each
group sent `--per-group` of them (30): at 20, 200 and 2,000 groups (5 alerts each), and at 1,
10 and 100 alerts a notification (200 groups).

Run: .venv/bin/python -m bench.intake [--notifications 6000 --groups 200 --concurrency 32]
[--scaling]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.stats import percentiles
from bench.storm_plan import plan
from bot.alerts.schemas import AlertBatch
from bot.alerts.sources import alertmanager
from bot.config import FirebreakConfig
from bot.context import Context, utcnow
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import upgrade
from bot.events import Bus
from bot.incidents import intake
from bot.incidents.known import Known
from tests.fakes import FakeChat, FakeReminders
from tests.payloads import am_alert, am_notification


@dataclass
class Run:
    name: str
    seconds: float
    cpu_seconds: float
    latencies_ms: list[float]

    def row(self, notifications: int) -> str:
        rate = notifications / self.seconds
        per = 1000 * self.cpu_seconds / notifications
        return f"| {self.name} | {rate:.0f} | {per:.2f} | {percentiles(self.latencies_ms)} |"


async def _send(
    batches: list[tuple[int, int, AlertBatch]],
    receive: Callable[[AlertBatch], Awaitable[object]],
    concurrency: int,
) -> list[float]:
    done = {(group, seq): asyncio.Event() for group, seq, _ in batches}
    queue = list(reversed(batches))
    latencies: list[float] = []

    async def sender() -> None:
        while queue:
            group, seq, batch = queue.pop()
            if seq:
                await done[(group, seq - 1)].wait()
            started = time.perf_counter()
            await receive(batch)
            latencies.append((time.perf_counter() - started) * 1000)
            done[(group, seq)].set()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies


async def _run(name: str, url: str, batches: list[tuple[int, int, AlertBatch]], n: int) -> Run:
    engine = make_engine(url)
    ctx: Context[object] = Context(
        sessions=make_sessions(engine),
        config=FirebreakConfig(),
        chat=FakeChat(),
        reminders=FakeReminders(),
        events=Bus(),
        clock=utcnow,
    )
    own = intake.Intake(ctx=ctx, known=Known())

    async def alone(batch: AlertBatch) -> object:
        return await intake.receive(ctx=ctx, batch=batch)

    receive = own.receive if name.startswith("Intake") else alone
    started, cpu = time.perf_counter(), time.process_time()
    latencies = await _send(batches, receive, n)
    run = Run(name, time.perf_counter() - started, time.process_time() - cpu, latencies)
    await engine.dispose()
    return run


def steady(*, notifications: int, groups: int, alerts: int) -> list[tuple[int, int, AlertBatch]]:
    """Round-robin over the groups; each notification repeats its group's firing alerts, and
    every tenth of a group's resolves its oldest and fires a new one."""
    firing: list[list[int]] = [list(range(alerts)) for _ in range(groups)]
    made = [alerts] * groups
    out = []
    for k in range(notifications):
        g, seq = k % groups, k // groups
        bodies = [_alert(g, n) for n in firing[g]]
        if seq and seq % 10 == 0:
            gone = firing[g].pop(0)
            bodies = [_alert(g, gone, resolved=True), *bodies[1:]]
            firing[g].append(made[g])
            bodies.append(_alert(g, made[g]))
            made[g] += 1
        batch = am_notification(*bodies, group_key=f'{{}}:{{alertname="Steady{g}"}}')
        out.append((g, seq, alertmanager.parse(batch)))
    return out


def _alert(g: int, n: int, *, resolved: bool = False) -> dict[str, object]:
    ends = {"status": "resolved", "ends_at": "2026-11-27T03:00:00Z"} if resolved else {}
    return am_alert(
        fingerprint=f"{g:08x}{n:08x}",
        alertname=f"Steady{g}",
        starts_at="2026-11-27T02:00:00Z",
        instance=f"pod-{n}",
        **ends,
    )


SENDERS = 32  # notifications under way at once, as bench.storm's load
SCALES = ((20, 5), (200, 5), (2000, 5), (200, 1), (200, 10), (200, 100))  # (groups, alerts)


def scaling(*, per_group: int, concurrency: int = SENDERS) -> str:
    """How the process's Intake's cost grows, as a markdown table: `per_group` notifications
    for each group, at each of SCALES, each on a fresh SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(_scaling(per_group, concurrency, tmp))
    return "\n".join(
        [
            "| groups | alerts a notification | notifications/s | CPU ms each "
            "| p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


async def _scaling(per_group: int, concurrency: int, tmp: str) -> list[str]:
    rows = []
    for groups, alerts in SCALES:
        count = groups * per_group
        url = f"sqlite+aiosqlite:///{Path(tmp) / f'scale-{groups}-{alerts}.db'}"
        await asyncio.to_thread(upgrade, url)
        batches = steady(notifications=count, groups=groups, alerts=alerts)
        run = await _run("Intake", url, batches, concurrency)
        rate = count / run.seconds
        rows.append(
            f"| {groups:,} | {alerts} | {rate:.0f} | {1000 * run.cpu_seconds / count:.2f} | "
            f"{percentiles(run.latencies_ms)} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=6000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=SENDERS)
    parser.add_argument("--scaling", action="store_true", help="cost at other sizes too")
    parser.add_argument("--per-group", type=int, default=30, help="notifications, --scaling")
    args = parser.parse_args()
    storm = plan(notifications=args.notifications, groups=args.groups)
    batches = [(n.group, n.seq, alertmanager.parse(n.body)) for n in storm.order]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in (
            "intake.receive: a transaction each (baseline)",
            "Intake: memory, group commit",
        ):
            url = f"sqlite+aiosqlite:///{Path(tmp) / f'{len(runs)}.db'}"
            upgrade(url)
            runs.append(asyncio.run(_run(name, url, batches, args.concurrency)))
    print(
        f"{args.notifications:,} notifications over {args.groups} groups, "
        f"{args.concurrency} senders, SQLite, in process\n"
    )
    print("| intake | notifications/s | CPU ms each | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        print(run.row(args.notifications))
    if args.scaling:
        print("\nThe process's Intake as the storm grows (notifications like Alertmanager's):\n")
        print(scaling(per_group=args.per_group, concurrency=args.concurrency))


if __name__ == "__main__":
    main()
