"""The deployment ports: the target (what a playbook step may ask of a service's deployment
system), the targets by service, and the plain-HTTP probe for templated requests and waits.

Every change is prepared first, as the exact HTTP requests it will make, and executed second.
A dry run shows the prepared requests and stops; a real run executes them. Preparing may read
(e.g. MLflow's alias history) but never changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class Action(StrEnum):
    GET_STATE = "get_state"
    ROLLBACK = "rollback"  # args: to_version (optional: the previous version)
    SET_MODE = "set_mode"  # args: mode = "model" | "heuristic"
    FREEZE = "freeze"  # args: reason
    UNFREEZE = "unfreeze"


class Mode(StrEnum):
    MODEL = "model"
    HEURISTIC = "heuristic"


@dataclass(frozen=True)
class Request:
    """One HTTP request, as it will be sent. Secret headers are shown as '***'."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content_type: str | None = None  # when not application/json (e.g. merge-patch+json)

    def describe(self) -> str:
        # JSON, as it is sent: a Python repr ({'to_version': None}) is not what goes out.
        body = "" if self.json is None else f" {json.dumps(self.json, sort_keys=True)}"
        return f"{self.method} {self.url}{body}"


@dataclass(frozen=True)
class Prepared:
    """What executing an action will do; `requests` are shown by a dry run."""

    action: Action
    service: str
    requests: tuple[Request, ...]
    idempotency_key: str
    note: str = ""  # e.g. "previous version v41, from the alias history"


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    duration_s: float


@dataclass(frozen=True)
class State:
    service: str
    active_version: str | None
    previous_versions: tuple[str, ...] = ()
    mode: str = Mode.MODEL
    frozen: bool = False
    freeze_reason: str | None = None


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a model in a model registry, as the registry describes it."""

    model: str
    version: str
    user: str | None = None  # who registered it, when the registry knows
    created_at: datetime | None = None
    run_id: str | None = None
    link: str | None = None  # the version's page in the registry's UI


@dataclass(frozen=True)
class Result:
    prepared: Prepared
    responses: tuple[Response, ...]
    state: State | None  # the service's state after the action, when the target reports it


class DeployError(Exception):
    """A target refused or failed. `transient` errors (5xx, timeouts, connection errors) may
    be retried; others (4xx, a version that does not exist) may not."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        responses: tuple[Response, ...] = (),
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.responses = responses


class DeploymentTarget(Protocol):
    kind: str  # "http", "mlflow", "kubernetes", "dry-run"

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        """Raises DeployError when the action cannot be prepared (unknown version, …)."""
        ...

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        """Send the prepared requests. Raises DeployError; the caller decides on retries."""
        ...


@runtime_checkable
class StateReader(Protocol):
    """A target that can read a service's current state without changing anything: what the
    approval card's plan starts from. Targets that cannot (yet) leave the plan "unknown"."""

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        """Raises DeployError when the state cannot be read."""
        ...


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
