"""Invariants of clipping, merging and accounting over a few hundred random impact sets.

Times fall on whole minutes and fractions on tenths, so a minute-by-minute brute force is an
exact oracle: over each minute the service is degraded at the highest active fraction.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from bot.budget.account import account
from bot.budget.burn import burn_down
from bot.budget.impact import Impact, clip, merge
from bot.budget.slo import Slo

T0 = datetime(2024, 5, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SLO = Slo(target=99.0, window="1d")  # 14.4-minute budget
SEEDS = range(300)


def at(minute: int) -> datetime:
    return T0 + minute * MINUTE


def random_impacts(rng: random.Random) -> list[Impact]:
    impacts = []
    for _ in range(rng.randint(0, 8)):
        start = rng.randint(0, 180)
        end = None if rng.random() < 0.15 else start + rng.randint(0, 60)
        impacts.append(
            Impact(
                start=at(start),
                end=None if end is None else at(end),
                fraction=rng.randint(1, 10) / 10,
                incident_id=rng.randint(1, 5),
                drill=rng.random() < 0.1,
            )
        )
    return impacts


def closed(impacts: list[Impact]) -> list[Impact]:
    """Ongoing impacts end at minute 240 (all starts are earlier)."""
    return clip(impacts, window_start=at(0), now=at(240))


def union_length(impacts: list[Impact]) -> timedelta:
    """Wall-clock time covered by the counted (non-drill) impacts, by the textbook sweep."""
    covered, reach = timedelta(0), None
    for i in sorted((i for i in impacts if not i.drill), key=lambda i: i.start):
        assert i.end is not None
        if reach is None or i.start > reach:
            covered += i.end - i.start
            reach = i.end
        elif i.end > reach:
            covered += i.end - reach
            reach = i.end
    return covered


def brute_force(impacts: list[Impact]) -> dict[int, timedelta]:
    """Bad time per incident, minute by minute, by the documented attribution rule."""
    out: dict[int, timedelta] = {}
    for minute in range(0, 300):
        active = [
            i
            for i in impacts
            if not i.drill
            and i.end is not None
            and i.start <= at(minute)
            and at(minute + 1) <= i.end
        ]
        if active:
            top = max(i.fraction for i in active)
            owner = min(
                (i for i in active if i.fraction == top), key=lambda i: (i.start, i.incident_id)
            )
            out[owner.incident_id] = out.get(owner.incident_id, timedelta(0)) + MINUTE * top
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_invariants(seed: int) -> None:
    rng = random.Random(seed)
    impacts = closed(random_impacts(rng))
    segments = merge(impacts)
    total = sum((s.bad for s in segments), timedelta(0))
    counted = [i for i in impacts if not i.drill]

    assert total <= union_length(impacts)
    top = max((i.fraction for i in counted), default=0.0)
    assert total <= union_length(impacts) * top
    for i in counted:
        assert i.end is not None
        assert total >= (i.end - i.start) * i.fraction

    # Segments are ordered and disjoint, and each minute of one lies in an impact of its
    # incident at its fraction (a segment may join touching impacts of one incident).
    for before, after in pairwise(segments):
        assert before.end <= after.start
    for s in segments:
        assert s.start < s.end
        minute = s.start
        while minute < s.end:
            assert any(
                i.incident_id == s.incident_id
                and i.fraction == s.fraction
                and i.start <= minute
                and minute + MINUTE <= i.end
                for i in counted
                if i.end is not None
            )
            minute += MINUTE

    per_incident: dict[int, timedelta] = {}
    for s in segments:
        per_incident[s.incident_id] = per_incident.get(s.incident_id, timedelta(0)) + s.bad
    assert per_incident == brute_force(impacts)
    assert sum(per_incident.values(), timedelta(0)) == total

    shuffled = impacts[:]
    rng.shuffle(shuffled)
    assert merge(shuffled) == segments


@pytest.mark.parametrize("seed", SEEDS)
def test_account_invariants(seed: int) -> None:
    rng = random.Random(seed)
    impacts = random_impacts(rng)
    now = at(rng.randint(0, 250))
    report = account(slo=SLO, impacts=impacts, now=now)

    assert sum(report.per_incident.values(), timedelta(0)) == report.consumed
    assert report.remaining == report.budget - report.consumed
    assert report.consumed <= now - report.window_start
    assert 0 <= report.burn_rate <= 1 / SLO.error_fraction
    if report.burn_rate and not report.exhausted:
        assert report.projected_exhaustion is not None
        assert report.projected_exhaustion > now
    else:
        assert report.projected_exhaustion is None

    # Clipping to [now - 1d, now] then merging is the same as the brute force over that span.
    in_window = clip(impacts, window_start=report.window_start, now=now)
    assert report.per_incident == brute_force(in_window)

    shuffled = impacts[:]
    rng.shuffle(shuffled)
    assert account(slo=SLO, impacts=shuffled, now=now) == report


@pytest.mark.parametrize("seed", SEEDS)
def test_remaining_never_grows_while_incidents_burn(seed: int) -> None:
    """Nothing ages out of the 1-day window within these 5 hours, so the budget left can only
    fall, and it falls wherever a counted impact is going on."""
    rng = random.Random(seed)
    impacts = random_impacts(rng)
    points = burn_down(slo=SLO, impacts=impacts, start=at(0), end=at(300))
    for before, after in pairwise(points):
        assert after.remaining <= before.remaining
        middle = before.at + (after.at - before.at) / 2
        burning = any(
            not i.drill and i.start <= middle and (i.end is None or middle < i.end) for i in impacts
        )
        assert (after.remaining < before.remaining) == burning
    assert points[-1].remaining == account(slo=SLO, impacts=impacts, now=at(300)).remaining
