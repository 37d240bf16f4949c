"""What the playbook engine needs from outside: deployment targets and probes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.deploy.ports import DeploymentTarget


class NoTarget(Exception):
    """The service has no deployment target configured."""


class Targets(Protocol):
    def for_service(self, service: str) -> DeploymentTarget:
        """Raises NoTarget."""
        ...


@dataclass(frozen=True)
class ProbeResponse:
    status: int
    body: Any
    duration_s: float


class ProbeError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Probe(Protocol):
    """Plain HTTP, for templated requests and for waits on an HTTP check or a Prometheus query."""

    async def send(
        self, *, method: str, url: str, headers: Mapping[str, str], json: Any, timeout_s: float
    ) -> ProbeResponse: ...

    async def prometheus(self, *, base_url: str, query: str, timeout_s: float) -> float | None:
        """The value of an instant query that returns one sample; None when it returns none."""
        ...


class RunMeter(Protocol):
    """Counts playbook runs as they end (the edge exports them as metrics)."""

    def run_finished(self, *, playbook: str, outcome: str, seconds: float | None) -> None: ...
