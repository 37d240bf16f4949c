"""The alert storm, as Alertmanager would send it: deterministic, so the load generator and the
checker agree on what was sent without passing 20,000 bodies between processes.

Each group (`{prefix}007` on service svc-<g mod 7>) gets its share of the notifications. Its
first fires one alert; then Alertmanager-like traffic: mostly repeats of what is firing, now
and then a new alert in the group, or one resolving (sent resolved once, then dropped from the
group's notifications), and a resolved alert that fires again is a new occurrence (new
startsAt). Like Alertmanager, a group's notifications go out one at a time, in order; groups
start at staggered points of the storm and interleave.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.payloads import am_alert, am_notification

START = datetime(2026, 11, 27, tzinfo=UTC)
SEVERITIES = ("critical", "high", "warning")
MAX_FIRING = 5


@dataclass(frozen=True)
class Notification:
    group: int
    seq: int  # its place in the group's own sequence
    body: dict[str, Any]


@dataclass
class Group:
    key: str
    title: str
    # Every occurrence sent, (fingerprint, startsAt) → whether it was sent resolved.
    occurrences: dict[tuple[str, datetime], bool] = field(default_factory=dict)


@dataclass
class Plan:
    groups: list[Group]
    order: list[Notification]  # the order to send in (each group's own order kept)


def plan(*, notifications: int, groups: int, prefix: str = "Storm", seed: int = 7) -> Plan:
    if not 1 <= groups <= notifications:
        raise ValueError("need at least one notification per group")
    rng = random.Random(seed)
    made: list[Group] = []
    placed: list[tuple[float, Notification]] = []
    for g in range(groups):
        count = notifications // groups + (1 if g < notifications % groups else 0)
        group, bodies = _group(g, count, prefix, random.Random(seed * 1_000_003 + g))
        made.append(group)
        # Staggered starts: a group begins somewhere in the first half and spreads to the end.
        start = rng.uniform(0, 0.5)
        for seq, body in enumerate(bodies):
            at = start + (1 - start) * seq / count
            placed.append((at, Notification(group=g, seq=seq, body=body)))
    placed.sort(key=lambda item: (item[0], item[1].group, item[1].seq))
    return Plan(groups=made, order=[n for _, n in placed])


def _group(
    g: int, count: int, prefix: str, rng: random.Random
) -> tuple[Group, list[dict[str, Any]]]:
    name = f"{prefix}{g:03d}"
    service = f"svc-{g % 7}"
    group = Group(key=f'{{}}:{{alertname="{name}"}}', title=f"{name} on {service}")
    firing: list[tuple[str, datetime]] = []
    instances = 0
    bodies = []
    for j in range(count):
        moment = START + timedelta(minutes=j, seconds=g)
        resolved: list[tuple[str, datetime]] = []
        roll = rng.random()
        if not firing or (roll < 0.08 and len(firing) < MAX_FIRING):
            # A few instances that flap; like Alertmanager's, the fingerprint hashes the labels.
            fingerprint = hashlib.sha256(f"{name}/{instances % 3}".encode()).hexdigest()[:16]
            instances += 1
            if all(fp != fingerprint for fp, _ in firing):
                firing.append((fingerprint, moment))
        elif roll < 0.14:
            resolved.append(firing.pop(rng.randrange(len(firing))))
        alerts = [
            _alert(name, service, g, fp, starts, status="firing") for fp, starts in firing
        ] + [
            _alert(name, service, g, fp, starts, status="resolved", ends=moment)
            for fp, starts in resolved
        ]
        for fp, starts in firing:
            group.occurrences.setdefault((fp, starts), False)
        for fp, starts in resolved:
            group.occurrences[(fp, starts)] = True
        bodies.append(am_notification(*alerts, group_key=group.key))
    return group, bodies


def _alert(
    name: str,
    service: str,
    g: int,
    fingerprint: str,
    starts: datetime,
    *,
    status: str,
    ends: datetime | None = None,
) -> dict[str, Any]:
    extra = {"ends_at": _iso(ends)} if ends else {}
    return am_alert(
        fingerprint=fingerprint,
        status=status,
        alertname=name,
        service=service,
        severity=SEVERITIES[g % len(SEVERITIES)],
        starts_at=_iso(starts),
        instance=f"pod-{fingerprint[:4]}",
        **extra,
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
