"""Prometheus for the alert-graph tests: a stand-in answering /api/v1/query_range with a matrix,
a server that accepts connections and never answers, and the real Prometheus (Debian's binary)
with samples backfilled for the last hours."""

from __future__ import annotations

import asyncio
import math
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.demo.processes import child
from tests.processes import require_binary
from tests.servers import ServerThread, free_port

# The bot draws graphs in a process of its own, started at the first graph: that one waits for
# the process to load matplotlib (2-3 s on a 2-core machine, several times that under the suite).
GRAPH_WAIT_S = 40.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # enough of a PNG for the checks the bot makes


def ndcg(at: float) -> float:
    """A model's NDCG@10 by Unix time: 0.7 with a little wobble (what the fakes serve)."""
    return 0.7 + 0.01 * math.sin(at / 300)


@dataclass
class PrometheusStub:
    """What the stand-in was asked. It answers any query with `series` series of NDCG; while
    `held` is clear, a query waits for it (`in_flight` counts those asked and not answered)."""

    series: int = 1
    queries: list[dict[str, str]] = field(default_factory=list)
    images: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0
    most_in_flight: int = 0

    def __post_init__(self) -> None:
        self.held.set()

    def app(self) -> Starlette:
        async def query_range(request: Request) -> Response:
            asked = dict(request.query_params)
            self.queries.append(asked)
            self.in_flight += 1  # the server's one event loop: no lock needed
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await asyncio.to_thread(self.held.wait)
            finally:
                self.in_flight -= 1
            start, end = float(asked["start"]), float(asked["end"])
            step = float(asked["step"].rstrip("s"))
            times = [start + i * step for i in range(int((end - start) // step) + 1)]
            result = [
                {
                    "metric": {
                        "__name__": "ndcg_at_10",
                        "service": "search-ranker",
                        "pod": f"p{i}",
                    },
                    "values": [[t, f"{ndcg(t) - 0.05 * i:.4f}"] for t in times],
                }
                for i in range(self.series)
            ]
            return JSONResponse(
                {"status": "success", "data": {"resultType": "matrix", "result": result}}
            )

        async def image(_: Request) -> Response:
            self.images += 1
            return Response(PNG, media_type="image/png")

        return Starlette(
            routes=[
                Route("/api/v1/query_range", query_range),
                Route("/render/alert.png", image),
            ]
        )


@contextmanager
def prometheus_stub(series: int = 1) -> Iterator[tuple[str, PrometheusStub]]:
    stub = PrometheusStub(series=series)
    with ServerThread(stub.app(), free_port()) as server:
        yield server.url, stub


@contextmanager
def silent_server() -> Iterator[str]:
    """http://127.0.0.1:<port>: takes every connection and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # open, unanswered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def refused_url() -> str:
    """A local port nothing listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def real_prometheus(
    tmp_path: Path,
    *,
    samples: Callable[[float], float],
    labels: str,
    metric: str,
    now: datetime,
    span: timedelta = timedelta(hours=2),
    every: timedelta = timedelta(seconds=15),
) -> Iterator[str]:
    """Prometheus on a free port, with `metric{labels}` backfilled every `every` over the `span`
    before `now` (promtool tsdb create-blocks-from openmetrics); its URL."""
    binary = require_binary("prometheus", "prometheus")
    promtool = require_binary("promtool", "prometheus")
    data = tmp_path / "prometheus-data"
    data.mkdir()
    end = int(now.timestamp())
    start = end - int(span.total_seconds())
    lines = [f"# TYPE {metric} gauge"]
    lines += [
        f"{metric}{{{labels}}} {samples(t):.6f} {t}"
        for t in range(start, end, int(every.total_seconds()))
    ]
    lines.append("# EOF")
    source = tmp_path / "samples.om"
    source.write_text("\n".join(lines) + "\n")
    made = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    args: Sequence[str] = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with child(list(args), log=tmp_path / "prometheus.log", ready_url=f"{url}/-/ready"):
        yield url
