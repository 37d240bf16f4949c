"""bot.incidents.known: what a process remembers of occurrences and groups, and when it must
not trust it; and the process's Intake answering repeats from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import intake
from bot.incidents.events import InChat, IncidentResolved
from bot.incidents.known import GROUP_TTL_S, Known
from bot.severity import Severity
from tests.payloads import am_alert, am_notification

T = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class NoStore:
    def __call__(self) -> None:
        raise AssertionError("a repeat reached the store")

    begin = __call__


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_occurrence_once_resolved_stays_resolved() -> None:
    known = Known()
    known.learn_statuses("am", {("fp", T): "resolved"})
    known.learn_statuses("am", {("fp", T): "firing"})  # an older read, answered later
    assert known.status("am", "fp", T) == "resolved"
    assert known.status("am", "other", T) is None


def test_the_oldest_learned_occurrences_are_forgotten_first() -> None:
    known = Known(most=2)
    known.learn_statuses("am", {("a", T): "firing", ("b", T): "firing"})
    known.learn_statuses("am", {("a", T): "firing"})  # learned again: now the newest
    known.learn_statuses("am", {("c", T): "firing"})
    assert [known.status("am", fp, T) for fp in "abc"] == ["firing", None, "firing"]


def test_a_group_is_trusted_for_its_ttl_only() -> None:
    ticks = Ticks()
    known = Known(clock=ticks)
    known.learn_group("am", "g", incident_id=7, severity=Severity.SEV2, chat_done=True)
    ticks.now += GROUP_TTL_S
    assert known.group("am", "g") is not None
    ticks.now += 0.001
    assert known.group("am", "g") is None


def test_a_read_older_than_a_write_cannot_replace_it() -> None:
    known = Known()
    before = known.mark()  # a store read begins
    known.learn_group("am", "g", incident_id=7, severity=Severity.SEV2, chat_done=False)
    known.learn_group("am", "g", incident_id=None, severity=None, chat_done=False, as_of=before)
    group = known.group("am", "g")
    assert group is not None and group.incident_id == 7


async def test_a_resolved_incident_is_forgotten_and_stays_forgotten() -> None:
    known = Known()
    known.learn_group("am", "g", incident_id=7, severity=Severity.SEV2, chat_done=True)
    before = known.mark()  # a read that saw INC-7 open began before the resolve
    await known.on_resolved(IncidentResolved(7))
    assert known.group("am", "g") is None
    known.learn_group(
        "am", "g", incident_id=7, severity=Severity.SEV2, chat_done=True, as_of=before
    )
    assert known.group("am", "g") is None


async def test_a_set_up_said_complete_is_remembered_for_the_group_as_it_stands() -> None:
    known = Known()
    known.learn_group("am", "g", incident_id=7, severity=Severity.SEV2, chat_done=False)
    before = known.mark()  # a read that saw the set-up unfinished began before it ended
    await known.on_in_chat(InChat(7))
    known.learn_group(
        "am", "g", incident_id=7, severity=Severity.SEV2, chat_done=False, as_of=before
    )
    group = known.group("am", "g")
    assert group is not None and (group.incident_id, group.chat_done) == (7, True)
    # The group's next incident is not the one whose set-up ended; nor is an unknown one.
    known.learn_group("am", "g", incident_id=9, severity=Severity.SEV1, chat_done=False)
    await known.on_in_chat(InChat(7))
    await known.on_in_chat(InChat(8))
    group = known.group("am", "g")
    assert group is not None and (group.incident_id, group.chat_done) == (9, False)
    # Resolving the old incident leaves the group's new one known.
    await known.on_resolved(IncidentResolved(7))
    assert known.group("am", "g") is not None


async def test_the_process_intake_answers_a_repeat_without_the_store(
    ctx: Context,
) -> None:
    own = intake.Intake(ctx=ctx, known=Known())
    body = am_notification()
    first = await own.receive(alertmanager.parse(body))
    assert first.opened and first.incident_id is not None

    # The same memory, over a store that fails every use.
    own = intake.Intake(ctx=replace(ctx, sessions=NoStore()), known=own.known)  # type: ignore[arg-type]
    again = await own.receive(alertmanager.parse(body))
    assert (again.incident_id, again.opened, again.firing) == (first.incident_id, False, 0)
    # A resolved copy of an alert nobody stored, for a group with no open incident: ignored
    # from memory too.
    stray = am_notification(
        am_alert(fingerprint="ffff000000000001", status="resolved", ends_at="2026-11-27T03:10:00Z"),
        group_key='{}:{alertname="Stray"}',
    )
    own.known.learn_group(
        "alertmanager", '{}:{alertname="Stray"}', incident_id=None, severity=None, chat_done=False
    )
    assert (await own.receive(alertmanager.parse(stray))).ignored == 1
