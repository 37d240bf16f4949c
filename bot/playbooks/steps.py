"""What each action does when a step runs. Each returns the step's result (templates of later
steps read it as steps['name']) plus what was sent, for the timeline."""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.deploy.ports import (
    Action,
    DeployError,
    DeploymentTarget,
    Probe,
    ProbeError,
    Request,
    State,
    Targets,
)
from bot.durations import parse_duration
from bot.incidents import service as incidents
from bot.incidents import timeline
from bot.incidents.models import Incident
from bot.mrkdwn import escape
from bot.playbooks.actions import ACTIONS, HttpRequestArgs, WaitForArgs
from bot.playbooks.ports import PlaybookContext

COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


class StepFailed(Exception):
    """The step did not do what it should. `transient`: trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        requests: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.transient, self.status, self.requests = transient, status, requests


@dataclass
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    status: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepEnv:
    ctx: PlaybookContext
    targets: Targets
    probe: Probe
    incident: Incident
    key: str  # the idempotency key of this step, the same on every attempt
    timeout_s: float


async def run_action(action: str, args: dict[str, Any], env: StepEnv) -> Outcome:
    ACTIONS[action].check(args)  # rendered values are checked again
    if action in DEPLOY_ACTIONS:
        return await _deploy(Action(action), args, env)
    return await HANDLERS[action](args, env)


async def plan_requests(action: str, args: dict[str, Any], env: StepEnv) -> list[str]:
    """What a dry run shows: the exact requests, prepared but not sent."""
    if action in DEPLOY_ACTIONS:
        prepared = await _target(args, env).prepare(
            action=Action(action),
            service=str(args["service"]),
            args=_deploy_args(args),
            idempotency_key=env.key,
        )
        return [_show(r) for r in prepared.requests] + ([prepared.note] if prepared.note else [])
    return describe_other(action, args)


def describe_other(action: str, args: dict[str, Any]) -> list[str]:
    """What a step that is no deployment action will send or post (no I/O)."""
    if action == "http_request":
        spec = HttpRequestArgs.model_validate(args)
        return [f"{spec.method} {spec.url}" + (f" {spec.json_body}" if spec.json_body else "")]
    if action == "wait_for":
        spec_w = WaitForArgs.model_validate(args)
        return [f"wait until {spec_w.condition}" + (f" ({spec_w.url})" if spec_w.url else "")]
    return [f"{action}: {args.get('text', '')}"]


DEPLOY_ACTIONS = {a.value for a in Action}


def describe_change(action: str, args: dict[str, Any], now: State | str) -> str:
    """One line of the approval card's plan: what a deployment step will change, from the
    service's state read just now, or (`now` a string) why that state is unknown."""
    service = str(args["service"])
    act = Action(action)
    if not isinstance(now, State):
        unknown = f"current version unknown ({now})"
        if act is Action.ROLLBACK:
            to = args.get("to_version") or "the version before the current one"
            return f"{service}: {unknown} → {to} (rollback)"
        if act is Action.SET_MODE:
            return f"{service}: current mode unknown ({now}) → {args.get('mode')}"
        if act is Action.FREEZE:
            return f"{service}: deploys frozen (reason: {args.get('reason')}); {unknown}"
        if act is Action.UNFREEZE:
            return f"{service}: deploys unfrozen; {unknown}"
        return f"{service}: reads its state; {unknown}"
    active = now.active_version or "no version"
    if act is Action.ROLLBACK:
        to = args.get("to_version") or (now.previous_versions[0] if now.previous_versions else "")
        if not to:
            return f"{service}: {active} → ? (rollback: no earlier version known)"
        if to == now.active_version:
            return f"{service}: already at {active} (rollback: nothing to change)"
        return f"{service}: {active} → {to} (rollback)"
    if act is Action.SET_MODE:
        mode = str(args.get("mode"))
        if mode == now.mode:
            return f"{service}: already {mode} (nothing to change)"
        return f"{service}: {now.mode} → {mode}"
    was = f"frozen now (reason: {now.freeze_reason or 'none given'})" if now.frozen else ""
    if act is Action.FREEZE:
        change = f"{service}: deploys frozen (reason: {args.get('reason')})"
        return change + (f"; {was}, the reason is replaced" if was else f", at {active}")
    if act is Action.UNFREEZE:
        return f"{service}: deploys unfrozen" + (f"; {was}" if was else "; not frozen now")
    frozen = ", frozen" if now.frozen else ""
    return f"{service}: reads its state (now {active}, {now.mode}{frozen})"


def _target(args: dict[str, Any], env: StepEnv) -> DeploymentTarget:
    return env.targets.for_service(str(args["service"]))


def _deploy_args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != "service" and v not in ("", None)}


def _show(request: Request) -> str:
    headers = " ".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.describe()}" + (f" [{headers}]" if headers else "")


async def _deploy(action: Action, args: dict[str, Any], env: StepEnv) -> Outcome:
    target = _target(args, env)
    try:
        prepared = await target.prepare(
            action=action,
            service=str(args["service"]),
            args=_deploy_args(args),
            idempotency_key=env.key,
        )
        result = await target.execute(prepared, timeout_s=env.timeout_s)
    except DeployError as exc:
        raise StepFailed(str(exc), transient=exc.transient, status=exc.status) from exc
    last = result.responses[-1] if result.responses else None
    state = asdict(result.state) if result.state else {}
    if state:
        state["previous_versions"] = list(state["previous_versions"])
    return Outcome(
        result={"state": state, "note": prepared.note},
        requests=[_show(r) for r in prepared.requests],
        status=last.status if last else None,
        detail=f"{target.kind} {action.value}"
        + (f" → {result.state.active_version} ({result.state.mode})" if result.state else ""),
    )


async def _http_request(args: dict[str, Any], env: StepEnv) -> Outcome:
    spec = HttpRequestArgs.model_validate(args)
    headers = {"Idempotency-Key": env.key, **spec.headers}
    try:
        response = await env.probe.send(
            method=spec.method,
            url=spec.url,
            headers=headers,
            json=spec.json_body,
            timeout_s=env.timeout_s,
        )
    except ProbeError as exc:
        raise StepFailed(str(exc), transient=exc.transient) from exc
    shown = [f"{spec.method} {spec.url}"]
    if response.status not in spec.expect_status:
        raise StepFailed(
            f"answered {response.status}",
            status=response.status,
            transient=response.status >= 500,
            requests=tuple(shown),
        )
    return Outcome(
        result={"status": response.status, "body": response.body},
        requests=shown,
        status=response.status,
        detail=f"answered {response.status}",
    )


async def _wait_for(args: dict[str, Any], env: StepEnv) -> Outcome:
    """Polls until the condition holds; the step's timeout bounds the whole wait."""
    spec = WaitForArgs.model_validate(args)
    interval = parse_duration(spec.interval).total_seconds()
    checks = 0
    while True:
        checks += 1
        if await _holds(spec, env):
            return Outcome(
                result={"checks": checks}, detail=f"{spec.condition} after {checks} checks"
            )
        await asyncio.sleep(interval)


async def _holds(spec: WaitForArgs, env: StepEnv) -> bool:
    if spec.condition == "alerts_resolved":
        async with env.ctx.reading() as session:
            return await incidents.firing_count(session=session, incident_id=env.incident.id) == 0
    assert spec.url is not None
    try:
        if spec.condition == "http":
            response = await env.probe.send(
                method="GET", url=spec.url, headers={}, json=None, timeout_s=env.timeout_s
            )
            return response.status == spec.expect_status
        assert spec.query is not None and spec.threshold is not None
        value = await env.probe.prometheus(
            base_url=spec.url, query=spec.query, timeout_s=env.timeout_s
        )
        return value is not None and COMPARE[spec.op](value, spec.threshold)
    except ProbeError:
        return False  # not reachable yet counts as "not yet"


async def _slack_message(args: dict[str, Any], env: StepEnv) -> Outcome:
    """The text is plain: its template fills in parameters people typed and answers of remote
    APIs, so all of it is escaped (emoji, *bold* and `code` still work; links and @-mentions
    from a playbook do not)."""
    channel = (
        env.incident.channel_id
        if args.get("channel", "incident") == "incident"
        else env.ctx.config.broadcast_channel
    )
    if channel:
        await env.ctx.chat.say(channel=channel, text=escape(args["text"]))
    return Outcome(detail="posted" if channel else "no channel to post in")


async def _timeline_note(args: dict[str, Any], env: StepEnv) -> Outcome:
    now = env.ctx.clock()
    async with env.ctx.sessions.begin() as session:
        await timeline.record(
            session=session,
            incident_id=env.incident.id,
            kind="note",
            text=str(args["text"]),
            actor="firebreak",
            now=now,
        )
    return Outcome(detail="noted")


HANDLERS: dict[str, Callable[[dict[str, Any], StepEnv], Awaitable[Outcome]]] = {
    "http_request": _http_request,
    "wait_for": _wait_for,
    "slack_message": _slack_message,
    "timeline_note": _timeline_note,
}
