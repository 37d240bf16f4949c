"""The registry of step actions: each action's arguments, and whether it changes anything.

Argument values may be Jinja2 templates, so types are checked after rendering; here we check
names, required arguments, and literal values where they are not templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.validation import describe


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceArgs(_Args):
    service: str = "{{ params.service }}"


class RollbackArgs(ServiceArgs):
    to_version: str = ""  # empty: the version before the current one


class SetModeArgs(ServiceArgs):
    mode: str  # "model" or "heuristic"


class FreezeArgs(ServiceArgs):
    reason: str = "frozen by Firebreak during {{ incident.ref }}"


class HttpRequestArgs(_Args):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    json_body: Any = Field(None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    expect_status: list[int] = Field(default_factory=lambda: list(range(200, 300)))


class WaitForArgs(_Args):
    condition: Literal["alerts_resolved", "http", "prometheus"]
    interval: str = "5s"
    url: str | None = None  # http: the URL to GET; prometheus: the server's base URL
    expect_status: int = 200
    query: str | None = None  # prometheus: an instant query returning one number
    op: Literal["<", "<=", ">", ">=", "=="] = "<"
    threshold: float | None = None


class SlackMessageArgs(_Args):
    text: str
    channel: Literal["incident", "broadcast"] = "incident"


class TimelineNoteArgs(_Args):
    text: str


@dataclass(frozen=True)
class ActionSpec:
    args: type[_Args]
    changes_state: bool
    summary: str

    def check(self, raw: dict[str, Any]) -> _Args:
        try:
            parsed = self.args.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"with.{e['field']}: {e['message']}" for e in describe(exc))
            raise ValueError(problems) from None
        if isinstance(parsed, WaitForArgs):
            _check_wait(parsed)
        return parsed


def _check_wait(args: WaitForArgs) -> None:
    if args.condition in ("http", "prometheus") and not args.url:
        raise ValueError(f"with.url: a {args.condition} wait needs a url")
    if args.condition == "prometheus" and (args.query is None or args.threshold is None):
        raise ValueError("with.query and with.threshold: a prometheus wait needs both")


ACTIONS: dict[str, ActionSpec] = {
    "get_state": ActionSpec(ServiceArgs, False, "read the service's deployment state"),
    "rollback": ActionSpec(RollbackArgs, True, "roll the model back"),
    "set_mode": ActionSpec(SetModeArgs, True, "serve from the model or the heuristic"),
    "freeze": ActionSpec(FreezeArgs, True, "freeze deploys and traffic shifts"),
    "unfreeze": ActionSpec(ServiceArgs, True, "lift a freeze"),
    "http_request": ActionSpec(HttpRequestArgs, True, "send a templated HTTP request"),
    "wait_for": ActionSpec(WaitForArgs, False, "wait until a condition holds"),
    "slack_message": ActionSpec(SlackMessageArgs, False, "post a message"),
    "timeline_note": ActionSpec(TimelineNoteArgs, False, "note on the timeline"),
}
