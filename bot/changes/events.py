"""What happens in the change feed."""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Event


@dataclass(frozen=True)
class ChangeRecorded(Event):
    """A change event seen for the first time (a replay of its id announces nothing)."""

    change_id: int
    freeze_id: int | None = None  # the freeze it arrived during
