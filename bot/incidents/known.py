"""What this process knows of alert occurrences and alert groups, so that a repeated
notification (most of an alert storm) is answered without asking the store.

Filled from what intake reads from the store and from what it writes there. Safe with several
replicas, because of what each fact is:

- An occurrence's status only moves forward (firing → resolved, and resolved is final). A
  "firing" known here may have been resolved by another replica since: a firing copy is then a
  no-op either way, and a resolved copy is not a repeat, so it goes to the store.
- A group's open incident and severity can change elsewhere (resolved, reopened, severity set by
  a person on another replica), so they are trusted for `group_ttl_s` only, and forgotten at
  once when this process hears the incident was resolved. A stale answer names an incident
  that was just resolved; it never loses or skips a write: anything new goes to the store.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.alerts.schemas import AlertStatus
from bot.incidents.events import InChat, IncidentResolved
from bot.severity import Severity

OccurrenceKey = tuple[str, str, datetime]  # (source, fingerprint, startsAt)
GroupKey = tuple[str, str]  # (source, group key)

GROUP_TTL_S = 5.0
MOST_OCCURRENCES = 200_000  # ~40 MB at most; the oldest learned are forgotten first


@dataclass(frozen=True, slots=True)
class GroupState:
    """A group's open incident as last read or written here; incident_id None: none open."""

    incident_id: int | None
    severity: Severity | None
    chat_done: bool
    learned_at: float
    as_of: int  # the `mark` it is as new as


class Known:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        group_ttl_s: float = GROUP_TTL_S,
        most: int = MOST_OCCURRENCES,
    ) -> None:
        self._clock, self._ttl, self._most = clock, group_ttl_s, most
        self._occurrences: OrderedDict[OccurrenceKey, str] = OrderedDict()
        self._groups: dict[GroupKey, GroupState] = {}
        self._group_of: dict[int, GroupKey] = {}  # incident id → its group
        self._marks = 0

    def mark(self) -> int:
        """A point in this process's order of events: take one before reading the store, and
        what the read learns cannot replace anything learned after it (a write's result)."""
        self._marks += 1
        return self._marks

    def status(self, source: str, fingerprint: str, starts_at: datetime) -> str | None:
        return self._occurrences.get((source, fingerprint, starts_at))

    def group(self, source: str, group_key: str) -> GroupState | None:
        """The group's state if learned within the TTL."""
        state = self._groups.get((source, group_key))
        if state is None or self._clock() - state.learned_at > self._ttl:
            return None
        return state

    def learn_statuses(self, source: str, statuses: Mapping[tuple[str, datetime], str]) -> None:
        for (fingerprint, starts_at), status in statuses.items():
            key = (source, fingerprint, starts_at)
            if self._occurrences.get(key) == AlertStatus.RESOLVED:
                continue  # final: an older read cannot take it back
            self._occurrences[key] = status
            self._occurrences.move_to_end(key)  # the least recently learned go first
        while len(self._occurrences) > self._most:
            self._occurrences.popitem(last=False)

    def learn_group(
        self,
        source: str,
        group_key: str,
        *,
        incident_id: int | None,
        severity: Severity | None,
        chat_done: bool,
        as_of: int | None = None,
    ) -> None:
        """`as_of`: the mark taken before the read that found this (None: now, for what this
        process has just written)."""
        key = (source, group_key)
        held = self._groups.get(key)
        if as_of is not None and held is not None and held.as_of > as_of:
            return  # a later write already told more than this read saw
        self._groups[key] = GroupState(
            incident_id=incident_id,
            severity=severity,
            chat_done=chat_done,
            learned_at=self._clock(),
            as_of=self.mark() if as_of is None else as_of,
        )
        if incident_id is not None:
            self._group_of[incident_id] = key

    async def on_in_chat(self, event: InChat) -> None:
        """Its set-up is complete: a repeat of its group asks no more chat work of it."""
        key = self._group_of.get(event.incident_id)
        held = self._groups.get(key) if key else None
        if key and held and held.incident_id == event.incident_id and not held.chat_done:
            # Nothing else known changes, nor when it was learned: the TTL still holds. As new
            # as now: a read that began before cannot take it back.
            self._groups[key] = replace(held, chat_done=True, as_of=self.mark())

    async def on_resolved(self, event: IncidentResolved) -> None:
        self.forget_incidents([event.incident_id])

    def forget_incidents(self, incident_ids: Iterable[int]) -> None:
        """Their state changed here (resolved, say): the next notification reads the store.
        What is left is stale at once, and as new as now, so a read that began before the
        change cannot bring the old state back."""
        ids = set(incident_ids)
        keys = {self._group_of.pop(i) for i in ids if i in self._group_of}
        for key in [k for k in keys if k in self._groups and self._groups[k].incident_id in ids]:
            self._groups[key] = GroupState(
                incident_id=None,
                severity=None,
                chat_done=False,
                learned_at=float("-inf"),
                as_of=self.mark(),
            )
