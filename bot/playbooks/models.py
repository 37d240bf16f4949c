"""A playbook as written in playbooks/*.yaml, validated with pydantic.

    name: rollback
    description: Roll the model back to the previous version
    needs_approval: true
    parameters:
      service: {default: "{{ incident.service }}"}
      to_version: {required: false}
    steps:
      - name: roll back
        action: rollback
        with: {service: "{{ params.service }}", to_version: "{{ params.to_version }}"}
        retries: 3
        timeout: 30s
        on_failure: abort        # or: continue, compensate (runs `compensate:` steps)

Values are Jinja2 templates over `params`, `incident` and `steps` (earlier steps' results,
by name).
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.durations import Duration
from bot.playbooks.actions import ACTIONS

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class OnFailure(StrEnum):
    ABORT = "abort"
    CONTINUE = "continue"
    COMPENSATE = "compensate"


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    required: bool = True
    default: str | None = None  # a template, e.g. "{{ incident.service }}"
    choices: list[str] | None = None


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=80)
    action: str
    args: dict[str, Any] = Field(default_factory=dict, alias="with")
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(0, ge=0, le=10)
    on_failure: OnFailure = OnFailure.ABORT
    compensate: list[Step] = Field(default_factory=list)

    @field_validator("action")
    @classmethod
    def _known_action(cls, action: str) -> str:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of: {', '.join(sorted(ACTIONS))}")
        return action

    @model_validator(mode="after")
    def _arguments_fit_the_action(self) -> Step:
        ACTIONS[self.action].check(self.args)
        if self.on_failure is OnFailure.COMPENSATE and not self.compensate:
            raise ValueError("on_failure: compensate needs `compensate:` steps to run")
        return self

    @property
    def changes_state(self) -> bool:
        return ACTIONS[self.action].changes_state


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = Field(min_length=1)
    needs_approval: bool = True
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("lowercase letters, digits and '-', starting with a letter")
        return name

    @model_validator(mode="after")
    def _unique_step_names(self) -> Playbook:
        seen: set[str] = set()
        for index, step in enumerate(self.steps):
            if step.name in seen:
                raise ValueError(
                    f"steps[{index}].name {step.name!r} is used twice; "
                    "later steps refer to results by name"
                )
            seen.add(step.name)
        return self

    @property
    def changes_state(self) -> bool:
        return any(
            s.changes_state or any(c.changes_state for c in s.compensate) for s in self.steps
        )
