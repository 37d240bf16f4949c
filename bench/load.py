"""The load generator: a process of its own that sends a storm plan over HTTP and times it.

`concurrency` senders (asyncio tasks sharing one aiohttp session) take notifications in the
plan's order; a group's next notification waits for its previous one, as Alertmanager's groups do.
Answers other than 2xx count as errors and are sent again after a back-off (Alertmanager
retries too). With `--rate`, notification k is due at start + k/rate and its latency counts
from then, so a server that falls behind shows it (no coordinated omission).

aiohttp, not httpx: on this 2-core machine httpx's AsyncClient spent about 5 ms of CPU per
request at 32 concurrent requests against 0.3 ms for aiohttp, and the load generator, not the
server, set the pace.

Run: python -m bench.load URL PATH --notifications N --groups G [--rate R] --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

from bench.storm_plan import Notification, plan

RETRIES = 5
BACKOFF_S = 0.2


@dataclass
class Result:
    sent: int = 0  # notifications delivered (a 2xx in the end)
    failed: int = 0  # gave up after the retries
    errors: int = 0  # answers that were not 2xx, and connection failures
    statuses: dict[str, int] = field(default_factory=dict)
    # Latencies, by the answer: the notifications that changed something (opened an incident,
    # new or resolved alerts: recorded by a write) and those that changed nothing.
    changed_ms: list[float] = field(default_factory=list)
    unchanged_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    first_sent: dict[str, float] = field(default_factory=dict)  # group key → wall time


async def send(
    url: str,
    order: list[Notification],
    groups: list[str],
    *,
    concurrency: int,
    rate: float | None,
    token: str | None,
) -> Result:
    result = Result()
    queue: asyncio.Queue[tuple[int, Notification]] = asyncio.Queue()
    for item in enumerate(order):
        queue.put_nowait(item)
    done = {  # (group, seq) → set once delivered (or given up)
        (n.group, n.seq): asyncio.Event() for n in order
    }
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=30),
    ) as http:
        started = time.perf_counter()

        async def sender() -> None:
            while not queue.empty():
                k, note = queue.get_nowait()
                if note.seq:
                    await done[(note.group, note.seq - 1)].wait()
                due = started + k / rate if rate else None
                if due is not None and (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                if note.seq == 0:
                    result.first_sent[groups[note.group]] = time.time()
                begin = due if due is not None else time.perf_counter()
                changed = await deliver(http, url, note, result)
                took = (time.perf_counter() - begin) * 1000
                (result.changed_ms if changed else result.unchanged_ms).append(took)
                done[(note.group, note.seq)].set()

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        result.elapsed_s = time.perf_counter() - started
    return result


async def deliver(
    http: aiohttp.ClientSession, url: str, note: Notification, result: Result
) -> bool:
    """Whether the delivered notification changed something (as its answer says)."""
    body = json.dumps(note.body).encode()
    for attempt in range(RETRIES + 1):
        try:
            async with http.post(url, data=body) as response:
                answer = await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status.startswith("2"):
            result.sent += 1
            return changed(answer)
        result.errors += 1
        if attempt < RETRIES:
            await asyncio.sleep(BACKOFF_S * 2**attempt)
    result.failed += 1
    return False


def changed(answer: bytes) -> bool:
    """A webhook's answer says it opened an incident or recorded alerts firing or resolved
    (the no-op's answer says neither)."""
    try:
        said = json.loads(answer)
    except ValueError:
        return False
    if not isinstance(said, dict):
        return False
    return bool(said.get("opened") or said.get("firing") or said.get("resolved"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("path", help="/webhooks/alertmanager or /bench/noop")
    parser.add_argument("--notifications", type=int, required=True)
    parser.add_argument("--groups", type=int, required=True)
    parser.add_argument("--prefix", default="Storm")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=None, help="notifications/s (open loop)")
    parser.add_argument("--token", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    storm = plan(notifications=args.notifications, groups=args.groups, prefix=args.prefix)
    result = asyncio.run(
        send(
            args.url.rstrip("/") + args.path,
            storm.order,
            [g.key for g in storm.groups],
            concurrency=args.concurrency,
            rate=args.rate,
            token=args.token,
        )
    )
    args.out.write_text(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
