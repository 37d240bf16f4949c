"""Incident milestones and the times measured between them (time to detect, and so on).

The milestones are the incident's moments, defined once in bot.incidents.moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.incidents.moments import Moments

# Each milestone's name in prose, and what marks it, as a reader of the postmortem needs both.
LABELS = {
    "impact_started": "impact start",
    "detected": "detection",
    "acknowledged": "acknowledgement",
    "mitigated": "mitigation",
    "resolved": "resolution",
}
MEANINGS = {
    "impact_started": "when responders say impact began, else when the first alert began firing",
    "detected": "the incident was opened",
    "acknowledged": "the commander acknowledged it or first acted on it",
    "mitigated": (
        "the first of: a mitigation run succeeded, the status said mitigated, every alert resolved"
    ),
    "resolved": "the incident was closed",
}
# Why a milestone may be missing.
ABSENT = {
    "impact_started": "no impact start is known",
    "detected": "no detection time",
    "acknowledged": "no commander has acknowledged or acted yet",
    "mitigated": "not mitigated yet",
    "resolved": "not resolved yet",
}

# (name, measured from, measured to): the usual definitions; "to mitigate" counts from the
# start of impact, not from detection, because users felt all of it.
DEFINITIONS = (
    ("Time to detect", "impact_started", "detected"),
    ("Time to acknowledge", "detected", "acknowledged"),
    ("Time to mitigate", "impact_started", "mitigated"),
    ("Time to resolve", "detected", "resolved"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Milestones:
    """When the incident passed each stage; None when it has not (or nobody could tell)."""

    impact_started: datetime | None
    detected: datetime
    acknowledged: datetime | None
    mitigated: datetime | None
    resolved: datetime | None

    @classmethod
    def of(cls, moments: Moments) -> Milestones:
        return cls(
            impact_started=moments.impact_started,
            detected=moments.detected,
            acknowledged=moments.acknowledged,
            mitigated=moments.mitigated,
            resolved=moments.resolved,
        )

    def at(self, name: str) -> datetime | None:
        if name not in LABELS:
            raise KeyError(f"no milestone {name!r}; one of {', '.join(LABELS)}")
        moment: datetime | None = getattr(self, name)
        return moment


@dataclass(frozen=True, kw_only=True, slots=True)
class Measure:
    """A time between two milestones, with what it is measured from and to."""

    name: str
    start: str  # a milestone name, see LABELS
    end: str
    value: timedelta | None
    note: str | None = None  # why value is None

    @property
    def start_label(self) -> str:
        return LABELS[self.start]

    @property
    def end_label(self) -> str:
        return LABELS[self.end]

    @property
    def start_meaning(self) -> str:
        return MEANINGS[self.start]

    @property
    def end_meaning(self) -> str:
        return MEANINGS[self.end]


def measure(*, milestones: Milestones, name: str, start: str, end: str) -> Measure:
    """end - start, or None with a note saying which milestone is missing."""
    began, ended = milestones.at(start), milestones.at(end)
    if began is None or ended is None:
        missing = [m for m, t in ((start, began), (end, ended)) if t is None]
        return Measure(
            name=name,
            start=start,
            end=end,
            value=None,
            note="unknown (" + "; ".join(ABSENT[m] for m in missing) + ")",
        )
    if ended < began:
        # Clock skew between the alert source and the bot, most often: no meaningful value.
        return Measure(
            name=name,
            start=start,
            end=end,
            value=None,
            note=f"unknown ({LABELS[end]} is recorded before {LABELS[start]})",
        )
    return Measure(name=name, start=start, end=end, value=ended - began)


def standard_measures(*, milestones: Milestones) -> tuple[Measure, ...]:
    return tuple(
        measure(milestones=milestones, name=name, start=start, end=end)
        for name, start, end in DEFINITIONS
    )
