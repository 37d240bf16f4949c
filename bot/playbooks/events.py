"""What happens in playbook runs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Event


@dataclass(frozen=True)
class StepConfirmed(Event):
    """A step's change reached the deployment target and was confirmed there."""

    run_id: int
    incident_id: int
    action: str  # the deployment action: rollback, set_mode, freeze …
    drill: bool = False
