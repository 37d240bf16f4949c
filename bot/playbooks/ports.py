"""What the playbook engine needs from outside besides deployment targets and probes
(bot.deploy.ports): the run's progress message in the incident channel, and a meter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.context import Context
from bot.incidents.ports import IncidentChat, MessageRef


class RunMeter(Protocol):
    """Counts playbook runs as they end (the edge exports them as metrics)."""

    def run_finished(self, *, playbook: str, outcome: str, seconds: float | None) -> None: ...


@dataclass(frozen=True)
class StepLine:
    name: str
    status: str  # pending, running, succeeded, failed, skipped
    detail: str = ""


@dataclass(frozen=True)
class RunView:
    """A playbook run as its progress message shows it (updated in place as steps run)."""

    run_id: int
    incident_id: int
    ref: str  # the incident's
    playbook: str
    description: str
    status: str
    params: Mapping[str, str]
    requested_by: str
    approved_by: str | None
    steps: Sequence[StepLine]
    awaiting_approval: bool = False
    dry_run: bool = False


class RunMessages(Protocol):
    async def post_run(self, *, channel: str, run: RunView) -> MessageRef:
        """The run's progress message (with Approve/Reject buttons while it awaits approval)."""
        ...

    async def update_run(self, *, message: MessageRef, run: RunView) -> None: ...


class PlaybookChat(IncidentChat, RunMessages, Protocol):
    """What playbook runs ask of the chat platform: the incident's, and their own messages."""


PlaybookContext = Context[PlaybookChat]
