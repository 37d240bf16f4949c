"""The Slack outbox's own cost per call: CPU of storing, claiming and recording a call, with a
Slack client that answers at once (no network), on a fresh SQLite database.

Baseline in the same run: the same calls made straight to that client, without the outbox.
Calls go to 50 channels, 10 at a time, each caller waiting for Slack's answer (as a channel's
set-up does); "loop's thread" leaves out the commits' fsync thread.

Run: .venv/bin/python -m bench.outbox [--calls 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.context import utcnow
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import upgrade
from bot.slack.outbox import Outbox

CHANNELS = 50
AT_ONCE = 10
# A card's worth of Block Kit, so the stored call and Slack's answer are a realistic size.
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 200}}] * 8


class _Answer:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


class InstantSlack:
    """Answers every Web API method as Slack would a posted message, without a network."""

    def __getattr__(self, method: str) -> Callable[..., Awaitable[_Answer]]:
        async def call(**args: Any) -> _Answer:
            await asyncio.sleep(0)  # one turn of the loop, as a real answer takes at least
            message = {"text": args.get("text"), "blocks": args.get("blocks")}
            return _Answer(
                {"ok": True, "channel": args["channel"], "ts": "1.0", "message": message}
            )

        return call


async def _timed(calls: int, one: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """CPU ms per call: the whole process's, and the loop's thread's alone."""
    cpu, loop = time.process_time(), time.thread_time()
    for start in range(0, calls, AT_ONCE):
        await asyncio.gather(*(one(i) for i in range(start, start + AT_ONCE)))
    return (
        1000 * (time.process_time() - cpu) / calls,
        1000 * (time.thread_time() - loop) / calls,
    )


async def measure(url: str, calls: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(outbox, straight to the client): CPU ms per call, process and loop's thread."""
    engine = make_engine(url)
    client = InstantSlack()
    box = Outbox(sessions=make_sessions(engine), client=client, clock=utcnow)  # type: ignore[arg-type]
    box.start()
    try:

        async def through_outbox(i: int) -> object:
            channel = f"C{i % CHANNELS}"
            args = {"channel": channel, "text": f"m{i}", "blocks": BLOCKS}
            return await box.send("chat_postMessage", queue=channel, args=args, wait=True)

        async def straight(i: int) -> object:
            channel = f"C{i % CHANNELS}"
            return await client.chat_postMessage(channel=channel, text=f"m{i}", blocks=BLOCKS)

        await _timed(AT_ONCE * 10, through_outbox)  # warm: statements compiled, pool filled
        return await _timed(calls, through_outbox), await _timed(calls, straight)
    finally:
        await box.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.calls:,} chat.postMessage calls, {AT_ONCE} at a time over {CHANNELS} channels")
    print()
    print("| run | outbox: CPU ms per call (loop's thread) | straight to the client (baseline) |")
    print("|---|---|---|")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'outbox.db'}"
            upgrade(url)
            (cpu, loop), (base_cpu, base_loop) = asyncio.run(measure(url, args.calls))
        print(f"| {run} | {cpu:.2f} ({loop:.2f}) | {base_cpu:.3f} ({base_loop:.3f}) |")


if __name__ == "__main__":
    main()
