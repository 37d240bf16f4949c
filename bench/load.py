"""The load generator: a process of its own that sends a storm plan over HTTP and times it.

`concurrency` senders, each on a keep-alive connection of its own, take notifications in the
plan's order; a group's next notification waits for its previous one, as Alertmanager's groups
do. Answers other than 2xx count as errors and are sent again after a back-off (Alertmanager
retries too). With `--rate`, notification k is due at start + k/rate and its latency counts
from then, so a server that falls behind shows it (no coordinated omission).

The HTTP client is a few lines on asyncio's protocols, with uvloop's loop and httptools'
parser (both C). On this 2-core machine the generator shares the CPU with the server it
measures, so its own cost moves the storm's rate (bench.storm's "load generator CPU ms each"):
aiohttp spent 0.11 ms of CPU a no-op request and 0.13 ms a webhook, this client 0.04 and 0.05
ms (httpx's AsyncClient, before aiohttp, about 5 ms). wrk (bench/wrk.py) agrees with this
client's rates: with aiohttp the no-op ran at 8,500-9,100/s, with this client and with wrk at
7,300-7,700/s, and the storm about 10% slower with aiohttp.

Run: python -m bench.load URL PATH --notifications N --groups G [--rate R] --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import httptools
import uvloop

from bench.storm_plan import Notification, plan

RETRIES = 5
BACKOFF_S = 0.2
TIMEOUT_S = 30.0


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
    sender_cpu_s: float = 0.0  # this process's own CPU while sending


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.keep_alive = True  # as the last answer said (Connection: close, or HTTP/1.0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unparsable answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionError("connection closed"))

    # httptools' callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.answer is not None and not self.answer.done():
            self.answer.set_result((self.parser.get_status_code(), b"".join(self.body)))
        self.body = []

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.transport is None:
            raise ConnectionError("connection closed")
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await asyncio.wait_for(self.answer, TIMEOUT_S)


class Client:
    """A connection that reconnects after a failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection: Connection | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.connection is None or self.connection.transport is None:
            _, self.connection = await asyncio.get_running_loop().create_connection(
                Connection, self.host, self.port
            )
        try:
            answer = await self.connection.send(request)
        except BaseException:
            self.close()
            raise
        if not self.connection.keep_alive:  # not sent again on a connection being closed
            self.close()
        return answer

    def close(self) -> None:
        if self.connection is not None and self.connection.transport is not None:
            self.connection.transport.close()
        self.connection = None


def requests(url: str, order: list[Notification], token: str | None) -> list[bytes]:
    """Every notification's request, encoded before the clock starts."""
    parts = urlsplit(url)
    head = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    prefix = "\r\n".join(head).encode()
    encoded = []
    for note in order:
        body = json.dumps(note.body).encode()
        encoded.append(prefix + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return encoded


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
    encoded = requests(url, order, token)
    queue: asyncio.Queue[tuple[int, Notification]] = asyncio.Queue()
    for item in enumerate(order):
        queue.put_nowait(item)
    done = {  # (group, seq) → set once delivered (or given up)
        (n.group, n.seq): asyncio.Event() for n in order
    }
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    cpu = time.process_time()
    started = time.perf_counter()

    async def sender() -> None:
        client = Client(host, port)
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
            changed = await deliver(client, encoded[k], result)
            took = (time.perf_counter() - begin) * 1000
            (result.changed_ms if changed else result.unchanged_ms).append(took)
            done[(note.group, note.seq)].set()
        client.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    result.sender_cpu_s = time.process_time() - cpu
    return result


async def deliver(client: Client, request: bytes, result: Result) -> bool:
    """Whether the delivered notification changed something (as its answer says)."""
    for attempt in range(RETRIES + 1):
        try:
            code, answer = await client.send(request)
            status = str(code)
        except (OSError, TimeoutError) as exc:
            status, answer = type(exc).__name__, b""
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
    result = uvloop.run(
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
