"""The recording target drills act on: it answers as a deployment target would, keeps a
simulated state per drill and service, and writes down every request instead of sending it.

No drill reaches production: the playbook engine routes every run of a drill incident here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.deploy.ports import (
    Action,
    DeployError,
    DeploymentTarget,
    Prepared,
    ProbeResponse,
    Request,
    Response,
    Result,
    State,
)

BASE = "drill://"  # shown in the drill's requests, so nobody mistakes them for real ones


@dataclass
class RecordingTarget:
    service: str
    state: State
    sent: list[Request] = field(default_factory=list)
    kind: str = "drill"

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        read = action is Action.GET_STATE
        request = Request(
            method="GET" if read else "POST",
            url=f"{BASE}{service}" + ("" if read else f"/{action.value}"),
            headers={} if read else {"Idempotency-Key": idempotency_key},
            json=None if read else dict(args),
        )
        return Prepared(
            action=action,
            service=service,
            requests=(request,),
            idempotency_key=idempotency_key,
            note="drill: recorded, not sent",
        )

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        """Its simulated state, read without recording a request (an approval card's plan)."""
        return self.state

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        self.sent.extend(prepared.requests)
        args = prepared.requests[0].json or {}
        self.state = _apply(self.state, prepared.action, args)
        response = Response(status=200, body={"drill": True}, duration_s=0.0)
        return Result(prepared=prepared, responses=(response,), state=self.state)


def _apply(state: State, action: Action, args: Mapping[str, Any]) -> State:
    if action is Action.ROLLBACK:
        history = list(state.previous_versions)
        wanted = args.get("to_version") or (history[0] if history else None)
        if wanted is None:
            raise DeployError("nothing to roll back to", transient=False, status=409)
        if wanted == state.active_version:
            return state
        if wanted not in history:
            raise DeployError(f"unknown version {wanted!r}", transient=False, status=404)
        return replace(
            state,
            active_version=wanted,
            previous_versions=tuple(history[history.index(wanted) + 1 :]),
        )
    if action is Action.SET_MODE:
        return replace(state, mode=str(args["mode"]))
    if action is Action.FREEZE:
        return replace(state, frozen=True, freeze_reason=str(args.get("reason") or ""))
    if action is Action.UNFREEZE:
        return replace(state, frozen=False, freeze_reason=None)
    return state


class DrillTargets:
    """One recording target per drill incident and service, seeded from the drill's scenario."""

    def __init__(self) -> None:
        self._targets: dict[tuple[int, str], RecordingTarget] = {}
        self.probes: dict[int, RecordingProbe] = {}

    def seed(
        self, *, incident_id: int, service: str, active_version: str | None, previous: list[str]
    ) -> None:
        state = State(
            service=service, active_version=active_version, previous_versions=tuple(previous)
        )
        self._targets[incident_id, service] = RecordingTarget(service=service, state=state)

    def target(self, incident_id: int, service: str) -> RecordingTarget:
        key = (incident_id, service)
        if key not in self._targets:
            self._targets[key] = RecordingTarget(
                service=service, state=State(service=service, active_version=None)
            )
        return self._targets[key]

    def for_incident(self, incident_id: int) -> _IncidentTargets:
        return _IncidentTargets(self, incident_id)

    def probe(self, incident_id: int) -> RecordingProbe:
        return self.probes.setdefault(incident_id, RecordingProbe())

    def sent(self, incident_id: int) -> list[Request]:
        """Every request the drill's runs would have made, in order, by service."""
        return [
            request
            for (owner, _), target in self._targets.items()
            if owner == incident_id
            for request in target.sent
        ] + list(self.probe(incident_id).sent)


@dataclass(frozen=True)
class _IncidentTargets:
    drills: DrillTargets
    incident_id: int

    def for_service(self, service: str) -> DeploymentTarget:
        return self.drills.target(self.incident_id, service)


@dataclass
class RecordingProbe:
    """Templated requests of a drill are recorded and answered 200; Prometheus knows nothing."""

    sent: list[Request] = field(default_factory=list)

    async def send(
        self, *, method: str, url: str, headers: Mapping[str, str], json: Any, timeout_s: float
    ) -> ProbeResponse:
        self.sent.append(Request(method=method, url=url, headers=dict(headers), json=json))
        return ProbeResponse(status=200, body={"drill": True}, duration_s=0.0)

    async def prometheus(self, *, base_url: str, query: str, timeout_s: float) -> float | None:
        return None
