"""Run the example model service on a real socket, and read its Prometheus metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from examples.model_service.app import build_app
from examples.model_service.state import Clock, utc_now
from tests.servers import ServerThread, free_port, tls

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

_SAMPLE = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class ServiceHost:
    """One uvicorn server for many tests; `serve` swaps in a freshly built app (fresh state).

    Starting and stopping uvicorn costs ~0.2 s, which a server per test would pay dozens of times.
    """

    def __init__(self) -> None:
        self._app: ASGIApp = build_app()
        self._server = ServerThread(self, free_port())
        self.url = self._server.url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    def serve(
        self,
        *,
        services: dict[str, list[str]] | None = None,
        token: str | None = None,
        bad_error_every: int = 0,
        clock: Clock = utc_now,
    ) -> str:
        self._app = build_app(
            services=services, token=token, bad_error_every=bad_error_every, clock=clock
        )
        return self.url

    def __enter__(self) -> ServiceHost:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.__exit__(*exc)


@contextmanager
def client(url: str, **headers: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers=headers, timeout=5, verify=tls()) as http:
        yield http


def metrics(api: httpx.Client) -> Samples:
    """{(name, labels): value} from GET /metrics; checks the exposition format on the way."""
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) \w+ ", line), line
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        labels = frozenset(_LABEL.findall(match["labels"]))
        samples[match["name"], labels] = float(match["value"])
    return samples


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))
