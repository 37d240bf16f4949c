"""Run the example model service on a real socket, and read its Prometheus metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from examples.model_service.app import build_app
from examples.model_service.state import Clock, utc_now
from tests.servers import ServerThread, free_port

_SAMPLE = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@contextmanager
def running_service(
    *,
    services: dict[str, list[str]] | None = None,
    token: str | None = None,
    bad_error_every: int = 0,
    clock: Clock = utc_now,
) -> Iterator[ServerThread]:
    app = build_app(services=services, token=token, bad_error_every=bad_error_every, clock=clock)
    with ServerThread(app, free_port()) as server:
        yield server


def metrics(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """{(name, labels): value} from GET /metrics; checks the exposition format on the way."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) \w+ ", line), line
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        labels = frozenset(_LABEL.findall(match["labels"]))
        samples[match["name"], labels] = float(match["value"])
    return samples


def sample(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))
