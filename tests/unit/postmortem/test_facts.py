"""facts_from: milestones, durations, responders, runs and the error budget."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest

from bot.budget.account import account
from bot.budget.impact import Impact
from bot.postmortem.facts import Facts, facts_from
from tests.unit.postmortem import sample as s


def build(**kw: object) -> Facts:
    values: dict[str, object] = {
        "incident": s.incident(),
        "alerts": [s.alert("RankerLatency", 2), s.alert("RankerCTRDrop", 0, 30)],
        "timeline": s.timeline(),
        "runs": s.runs(),
        "steps": s.steps(),
    }
    values.update(kw)
    return facts_from(**values)  # type: ignore[arg-type]


def test_milestones_start_at_the_earliest_alert_and_follow_the_incident() -> None:
    m = build().milestones
    assert m.impact_started == s.at(0)  # the earlier of the two alerts, though given second
    assert m.detected == s.at(3)
    assert m.acknowledged == s.at(5)
    # The rollback (a run that changes state) succeeded at 03:14, before the status change.
    assert m.mitigated == s.at(14)
    assert m.resolved == s.at(48)


def test_every_duration_is_measured_between_the_right_milestones() -> None:
    facts = build()
    assert facts.time_to_detect == timedelta(minutes=3)  # impact start → detected
    assert facts.time_to_acknowledge == timedelta(minutes=2)  # detected → acknowledged
    assert facts.time_to_mitigate == timedelta(minutes=14)  # impact start → mitigated
    assert facts.time_to_resolve == timedelta(minutes=45)  # detected → resolved
    assert [(m.name, m.start, m.end) for m in facts.measures] == [
        ("Time to detect", "impact_started", "detected"),
        ("Time to acknowledge", "detected", "acknowledged"),
        ("Time to mitigate", "impact_started", "mitigated"),
        ("Time to resolve", "detected", "resolved"),
    ]
    assert [m.value for m in facts.measures] == [
        facts.time_to_detect,
        facts.time_to_acknowledge,
        facts.time_to_mitigate,
        facts.time_to_resolve,
    ]
    assert facts.impact_duration.value == timedelta(minutes=14)


def test_durations_are_none_when_an_end_is_missing() -> None:
    facts = build(
        incident=s.incident(acknowledged_at=None, mitigated_at=None, resolved_at=None),
        alerts=[],
        timeline=[],
        runs=[],
    )
    assert facts.milestones.impact_started == s.at(3)  # no alert: impact counts from detection
    assert facts.time_to_detect == timedelta(0)
    assert facts.time_to_acknowledge is None
    assert facts.time_to_mitigate is None
    assert facts.time_to_resolve is None
    notes = [m.note for m in facts.measures]
    assert notes == [
        None,
        "unknown (no commander has acknowledged or acted yet)",
        "unknown (not mitigated yet)",
        "unknown (not resolved yet)",
    ]
    assert facts.impact_duration.value is None


def test_impact_duration_counts_from_detection_without_an_alert() -> None:
    facts = build(alerts=[])
    assert facts.milestones.impact_started == s.at(3)
    assert facts.time_to_mitigate == timedelta(minutes=11)
    assert facts.impact_duration.start == "impact_started"
    assert facts.impact_duration.value == timedelta(minutes=11)


def test_an_end_before_its_start_gives_no_value() -> None:
    # The alert source's clock runs ahead of the bot's: the alert "starts" after detection.
    facts = build(alerts=[s.alert("Skewed", 4)])
    assert facts.time_to_detect is None
    assert facts.measures[0].note == "unknown (detection is recorded before impact start)"
    assert facts.time_to_mitigate == timedelta(minutes=10)


def test_responders_are_distinct_people_in_order_of_first_action() -> None:
    facts = build()
    # Ana acts first (03:05), then Cai (03:09), then Ben (03:15); bots and alert sources are
    # not responders; the timeline was given out of order.
    assert facts.responders == (s.ANA, s.CAI, s.BEN)
    assert facts.other_responders == (s.CAI,)


def test_timeline_is_in_time_order_and_keeps_ties_in_given_order() -> None:
    entries = [s.entry(5, "b"), s.entry(1, "a"), s.entry(5, "c"), s.entry(0, "first")]
    facts = build(timeline=entries)
    assert [e.text for e in facts.timeline] == ["first", "a", "b", "c"]


def test_alerts_runs_and_steps_become_plain_values() -> None:
    facts = build()
    assert [a.name for a in facts.alerts] == ["RankerCTRDrop", "RankerLatency"]
    assert facts.alerts[0].labels == {"service": "search-ranker"}
    assert facts.alerts[0].ends_at == s.at(30)
    (run,) = facts.runs
    assert (run.playbook, run.status, run.requested_by, run.approved_by) == (
        "rollback",
        "succeeded",
        s.ANA,
        s.BEN,
    )
    assert [st.name for st in run.steps] == ["read current alias", "point champion at v41"]
    assert run.steps[1].duration == timedelta(minutes=4, seconds=12)
    assert run.steps[1].response_status == 200
    with pytest.raises(FrozenInstanceError):
        facts.title = "changed"  # type: ignore[misc]


def test_budget_block_states_this_incidents_share() -> None:
    facts = build(**s.budget_for(20))  # 20 min at 50% = 10 bad minutes of 43.2
    b = facts.budget
    assert b is not None
    assert b.slo_target == 99.9
    assert b.slo_window == timedelta(days=30)
    assert b.budget == timedelta(minutes=43.2)
    assert b.consumed == timedelta(minutes=10)
    assert b.fraction == pytest.approx(10 / 43.2)
    assert b.remaining == timedelta(minutes=33.2)
    assert facts.needs_priority_action


def test_budget_share_is_read_from_per_incident_when_the_report_is_for_the_service() -> None:
    impacts = [
        Impact(start=s.at(0), end=s.at(10), fraction=1.0, incident_id=7),
        Impact(start=s.at(100), end=s.at(104), fraction=1.0, incident_id=8),
    ]
    report = account(slo=s.SLO, impacts=impacts, now=s.at(600))  # no incident_id given
    b = build(budget=report, slo=s.SLO).budget
    assert b is not None
    assert b.consumed == timedelta(minutes=10)
    assert b.window_consumed == timedelta(minutes=14)


@pytest.mark.parametrize(
    ("minutes_at_half", "needed"),
    [(17.28, False), (17.3, True), (10, False), (0, False)],  # 17.28 min at 50% is exactly 20%
)
def test_priority_action_only_above_twenty_percent(minutes_at_half: float, needed: bool) -> None:
    kw = s.budget_for(minutes_at_half) if minutes_at_half else {}
    assert build(**kw).needs_priority_action is needed


def test_no_budget_means_no_priority_action() -> None:
    facts = build()
    assert facts.budget is None
    assert not facts.needs_priority_action


def test_names_are_kept_for_rendering() -> None:
    assert dict(build(names=s.NAMES).names) == s.NAMES
    assert dict(build().names) == {}
