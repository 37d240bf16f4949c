"""The incident's moments, defined once (bot.incidents.moments): the INC-1 story, each rule, and
a property test over random incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.models import AlertOccurrence
from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.moments import Moments, moments_of
from bot.playbooks.runs import PlaybookRun

T0 = datetime(2026, 11, 27, 3, 0, 0, tzinfo=UTC)  # Firebreak opens the incident
ANA, BEN = "U0ANA0001", "U0BEN0002"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def incident(**changes: Any) -> Incident:
    values: dict[str, Any] = {
        "id": 1,
        "title": "RankerNDCGDrop on search-ranker",
        "status": "resolved",
        "severity": "SEV1",
        "service": "search-ranker",
        "source": "alertmanager",
        "commander": ANA,
        "created_at": at(0),
        "updated_at": at(0),
        "acknowledged_at": None,
        "mitigated_at": None,
        "resolved_at": None,
        "impact_started_at": None,
    }
    values.update(changes)
    return Incident(**values)


def alert(starts: float, ends: float | None = None) -> AlertOccurrence:
    return AlertOccurrence(
        incident_id=1,
        source="alertmanager",
        fingerprint=f"a{starts}",
        name="RankerNDCGDrop",
        severity="SEV1",
        status="firing" if ends is None else "resolved",
        starts_at=at(starts),
        ends_at=None if ends is None else at(ends),
        labels={},
        annotations={},
        received_at=at(starts),
    )


def entry(
    seconds: float, kind: str, actor: str | None, text: str = "", **data: Any
) -> TimelineEntry:
    return TimelineEntry(
        incident_id=1,
        at=at(seconds),
        kind=kind,
        text=text or kind,
        actor=actor,
        data=data or None,
        recorded_at=at(seconds),
    )


def run(status: str, finished: float | None, *, run_id: int = 2, changes: bool = True) -> Any:
    return PlaybookRun(
        id=run_id,
        incident_id=1,
        playbook="rollback",
        params={},
        changes_state=changes,
        status=status,
        requested_by=ANA,
        created_at=at(0),
        finished_at=None if finished is None else at(finished),
    )


def inc1() -> dict[str, Any]:
    """INC-1 as it ran: the on-call rotation made Ana commander; she never clicked Acknowledge,
    but typed commands, approved the rollback and resolved. The rollback finished 54 s before
    the resolve, the alert resolved 32 s before it; the resolve stamped mitigated_at."""
    return {
        "incident": incident(mitigated_at=at(114), resolved_at=at(114)),
        "alerts": [alert(-120, 80)],
        "timeline": [
            entry(-120, "alert.firing", "alertmanager"),
            entry(0, "incident.opened", "alertmanager"),
            entry(1, "role.commander", "firebreak", user=ANA, on_call=True),
            entry(20, "command", ANA, "ran `/incident hlep`"),
            entry(25, "command", ANA, "ran `/incident timeline`"),
            entry(40, "playbook.run", BEN, "asked to run rollback; awaiting approval", run=2),
            entry(45, "playbook.run", ANA, "approved rollback", run=2),
            entry(60, "playbook.run", "firebreak", "rollback succeeded", run=2),
            entry(82, "alerts.all_resolved", "alertmanager"),
            entry(114, "incident.resolved", ANA),
        ],
        "runs": [run("dry_run", None, run_id=1), run("succeeded", 60)],
    }


def test_inc1_acknowledged_at_the_approval_and_mitigated_at_the_rollback() -> None:
    m = moments_of(**inc1())
    assert m == Moments(
        impact_started=at(-120),
        detected=at(0),
        acknowledged=at(45),  # approving; typed commands are not acting
        mitigated=at(60),  # the rollback's success, before the alert resolved and the resolve
        resolved=at(114),
    )


def test_every_alert_resolved_mitigates_when_it_comes_first() -> None:
    story = inc1()
    story["runs"] = [run("succeeded", 100)]
    assert moments_of(**story).mitigated == at(80)  # the alert's own end, before the entry


def test_a_status_change_to_mitigated_counts() -> None:
    story = inc1()
    story["runs"], story["alerts"] = [], [alert(-120)]
    story["timeline"] = [
        e for e in story["timeline"] if e.kind not in ("alerts.all_resolved", "playbook.run")
    ]
    story["timeline"].append(entry(70, "status.changed", ANA, status="mitigated"))
    assert moments_of(**story).mitigated == at(70)
    story["timeline"][-1] = entry(70, "status.changed", ANA, status="identified")
    assert moments_of(**story).mitigated == at(114)  # only the resolve is left


def test_dry_failed_and_read_only_runs_do_not_mitigate() -> None:
    story = inc1()
    story["alerts"] = [alert(-120)]
    story["timeline"] = [e for e in story["timeline"] if e.kind != "alerts.all_resolved"]
    story["runs"] = [
        run("dry_run", 50, run_id=1),
        run("failed", 55, run_id=2),
        run("succeeded", 57, run_id=3, changes=False),
    ]
    assert moments_of(**story).mitigated == at(114)


def test_an_open_incident_is_not_mitigated_without_a_sign() -> None:
    m = moments_of(incident=incident(), alerts=[alert(-60)], timeline=[], runs=[])
    assert (m.mitigated, m.resolved, m.acknowledged) == (None, None, None)


def test_a_stored_acknowledgement_wins_when_earlier() -> None:
    story = inc1()
    story["incident"] = incident(acknowledged_at=at(30), resolved_at=at(114))
    assert moments_of(**story).acknowledged == at(30)


def test_someone_else_acting_is_not_the_commander_acknowledging() -> None:
    story = inc1()
    story["timeline"] = [
        entry(1, "role.commander", "firebreak", user=ANA, on_call=True),
        entry(10, "note", BEN, "looking at the dashboards"),
        entry(15, "role.commander", BEN, f"<@{BEN}> took command", user=BEN),
    ]
    assert moments_of(**story).acknowledged == at(15)  # Ben, commander from then on


def test_a_handoff_makes_the_new_commander_the_one_who_acknowledges() -> None:
    story = inc1()
    story["timeline"] = [
        entry(1, "role.commander", "firebreak", user=ANA, on_call=True),
        entry(5, "role.commander", ANA, "handed", user=BEN, handed_by=ANA),
        entry(9, "note", ANA, "still here"),
        entry(12, "severity.changed", BEN, severity="SEV2"),
    ]
    assert moments_of(**story).acknowledged == at(12)


def test_stated_impact_start_comes_first() -> None:
    story = inc1()
    story["incident"] = incident(impact_started_at=at(-300), resolved_at=at(114))
    assert moments_of(**story).impact_started == at(-300)
    story["alerts"] = []
    story["incident"] = incident(resolved_at=at(114))
    assert moments_of(**story).impact_started == at(0)  # no alert, nothing stated: detection


# --- the property test --------------------------------------------------------------------------

SECONDS = st.integers(min_value=-900, max_value=7200)
KINDS = (
    "command",
    "message",
    "note",
    "status.update",
    "severity.changed",
    "playbook.run",
    "incident.acknowledged",
    "alerts.all_resolved",
    "alert.firing",
)
PEOPLE = st.sampled_from([ANA, BEN, "firebreak", "alertmanager", None])


@st.composite
def incidents(draw: st.DrawFn) -> dict[str, Any]:
    """An incident with alerts, timeline entries and runs at random times: what could be stored."""
    resolved = draw(st.none() | st.integers(min_value=0, max_value=7200))
    latest = 7200 if resolved is None else resolved

    def before_resolve(low: int = 0) -> st.SearchStrategy[int | None]:
        return st.none() | st.integers(min_value=low, max_value=max(low, latest))

    alerts = []
    for start, length in draw(
        st.lists(st.tuples(SECONDS, st.none() | st.integers(0, 3600)), max_size=3)
    ):
        alerts.append(alert(start, None if length is None else start + length))
    entries = []
    for seconds, kind, actor in draw(
        st.lists(st.tuples(SECONDS, st.sampled_from(KINDS), PEOPLE), max_size=8)
    ):
        entries.append(entry(seconds, kind, actor))
    for seconds, user, by in draw(st.lists(st.tuples(SECONDS, PEOPLE, PEOPLE), max_size=2)):
        entries.append(entry(seconds, "role.commander", by, user=user))
    for seconds, status in draw(
        st.lists(st.tuples(SECONDS, st.sampled_from(["identified", "mitigated", "monitoring"])))
    ):
        entries.append(entry(seconds, "status.changed", ANA, status=status))
    runs = [
        run(status, finished, run_id=i, changes=changes)
        for i, (status, finished, changes) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["dry_run", "succeeded", "failed", "rejected"]),
                        st.none() | SECONDS,
                        st.booleans(),
                    ),
                    max_size=3,
                )
            )
        )
    ]
    mitigated = draw(before_resolve())
    if resolved is not None and draw(st.booleans()):
        mitigated = resolved  # stamped by the resolve
    row = incident(
        commander=draw(PEOPLE),
        acknowledged_at=None if (a := draw(before_resolve())) is None else at(a),
        mitigated_at=None if mitigated is None else at(mitigated),
        resolved_at=None if resolved is None else at(resolved),
        impact_started_at=None if (i := draw(st.none() | SECONDS)) is None else at(i),
        status="resolved" if resolved is not None else "investigating",
    )
    return {"incident": row, "alerts": alerts, "timeline": entries, "runs": runs}


def ordered(*moments: datetime | None) -> bool:
    known = [m for m in moments if m is not None]
    return known == sorted(known)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(incidents())
def test_moments_are_always_in_order(story: dict[str, Any]) -> None:
    m = moments_of(**story)
    assert m.detected == story["incident"].created_at
    assert m.resolved == story["incident"].resolved_at
    assert m.impact_started is not None
    assert ordered(m.impact_started, m.mitigated, m.resolved)
    assert ordered(m.detected, m.acknowledged, m.resolved)
    assert ordered(m.mitigated, m.resolved)
    if m.resolved is not None:
        assert m.mitigated is not None  # a resolved incident is mitigated, at the latest then
