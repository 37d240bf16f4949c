"""Intake alone, in process, without HTTP or Slack: the storm's notifications recorded through
the process's own intake (memory for repeats, group commit for changes; bot.incidents.intake.
Intake) and, as the baseline in the same run, one transaction per notification
(intake.receive), each on a fresh SQLite database.

`concurrency` senders take notifications in the plan's order; a group's next waits for its
previous one, as Alertmanager sends them (bench/load.py does the same over HTTP).

Run: .venv/bin/python -m bench.intake [--notifications 6000 --groups 200 --concurrency 32]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=6000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    storm = plan(notifications=args.notifications, groups=args.groups)
    batches = [(n.group, n.seq, alertmanager.parse(n.body)) for n in storm.order]
    runs = []
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


if __name__ == "__main__":
    main()
