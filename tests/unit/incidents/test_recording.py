from __future__ import annotations

from sqlalchemy import select

from bot.alerts.models import AlertOccurrence
from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import recording
from bot.incidents.models import Incident, TimelineEntry
from tests.payloads import am_alert, am_notification
from tests.statements import statements

GROUP = '{}:{alertname="Round0"}'


async def _round(
    ctx: Context, bodies: list[dict]
) -> tuple[list[recording.IntakeResult], list[str]]:
    """One round of intake's writer: the notifications recorded in one transaction; what each
    changed, and the statements sent."""
    batches = [alertmanager.parse(b) for b in bodies]
    with statements() as said:
        async with ctx.sessions.begin() as session:
            results = await recording.record_round(ctx, session, batches)
    return results, said


async def test_copies_in_one_round_see_what_the_earlier_ones_recorded(ctx: Context) -> None:
    first = am_alert(fingerprint="00000000", alertname="Round0", severity="warning")
    worse = am_alert(fingerprint="00000001", alertname="Round0", severity="critical")
    opening = am_notification(first, group_key=GROUP)
    more = am_notification(first, worse, group_key=GROUP)
    resolving = am_notification({**first, "status": "resolved"}, worse, group_key=GROUP)
    # An HA pair's copies of each, in one transaction with one read of the store.
    results, said = await _round(ctx, [opening, opening, more, more, resolving, resolving])
    assert [(r.opened, r.firing, r.resolved) for r in results] == [
        (True, 1, 0),
        (False, 0, 0),
        (False, 1, 0),
        (False, 0, 0),
        (False, 0, 1),
        (False, 0, 0),
    ]
    assert {r.incident_id for r in results} == {1}
    assert results[2].severity == results[5].severity != results[0].severity  # raised once
    assert sum(s.startswith("INSERT INTO incidents") for s in said) == 1
    async with ctx.sessions() as session:
        alerts = await session.execute(
            select(AlertOccurrence.fingerprint, AlertOccurrence.status).order_by(AlertOccurrence.id)
        )
        assert alerts.all() == [("00000000", "resolved"), ("00000001", "firing")]
        kinds = await session.scalars(select(TimelineEntry.kind).order_by(TimelineEntry.id))
        assert list(kinds) == [
            "incident.opened",
            "alert.firing",
            "alert.firing",
            "severity.changed",
            "alert.resolved",
        ]


async def test_a_round_counts_firing_alerts_once_and_keeps_the_count_up_to_date(
    ctx: Context,
) -> None:
    """Whether a resolution was an incident's last is counted once for the round, then from
    the round's own writes: an alert that fires earlier in the round keeps it firing."""
    y = am_alert(fingerprint="00000000", alertname="Round0")
    x = am_alert(fingerprint="00000001", alertname="Round0")
    resolved_y, resolved_x = {**y, "status": "resolved"}, {**x, "status": "resolved"}
    await _round(ctx, [am_notification(y, group_key=GROUP)])

    results, _ = await _round(
        ctx,
        [am_notification(y, x, group_key=GROUP), am_notification(resolved_y, x, group_key=GROUP)],
    )
    assert [(r.firing, r.resolved, r.all_resolved) for r in results] == [
        (1, 0, set()),
        (0, 1, set()),  # x fires: not the last
    ]

    last = am_notification(resolved_y, resolved_x, group_key=GROUP)
    results, said = await _round(ctx, [last, last])  # an HA pair's copies
    assert [(r.resolved, r.all_resolved) for r in results] == [(1, {1}), (0, set())]
    assert sum("count(" in s.lower() for s in said) == 1


async def test_a_round_resolves_alerts_and_marks_incidents_mitigated_in_one_statement_each(
    ctx: Context,
) -> None:
    groups = [f'{{}}:{{alertname="Round{n}"}}' for n in range(3)]
    alerts = [am_alert(fingerprint=f"0000000{n}", alertname=f"Round{n}") for n in range(3)]
    await _round(
        ctx, [am_notification(a, group_key=g) for a, g in zip(alerts, groups, strict=True)]
    )

    resolving = [
        am_notification({**a, "status": "resolved"}, group_key=g)
        for a, g in zip(alerts, groups, strict=True)
    ]
    results, said = await _round(ctx, resolving)
    assert [r.all_resolved for r in results] == [{1}, {2}, {3}]
    assert sum(s.startswith("UPDATE alerts SET") for s in said) == 1
    # Touched and marked mitigated in one statement; the firing counts that say each was
    # the last came with the groups' incidents, in the round's one read of them.
    assert sum(s.startswith("UPDATE incidents SET") for s in said) == 1
    assert sum(s.startswith("SELECT incidents.") for s in said) == 1
    assert not [s for s in said if s.startswith("SELECT alerts.incident_id, count(*)")]
    async with ctx.sessions() as session:
        statuses = await session.scalars(select(AlertOccurrence.status))
        assert set(statuses) == {"resolved"}
        mitigated = await session.scalars(select(Incident.mitigated_at))
        assert None not in set(mitigated)


async def test_an_alert_that_fires_and_resolves_in_one_round_can_be_the_last_to_resolve(
    ctx: Context,
) -> None:
    """An incident the round did not expect to resolve is counted from the store, after the
    round's resolutions so far are written."""
    y = am_alert(fingerprint="00000000", alertname="Round0")
    x = am_alert(fingerprint="00000001", alertname="Round0")
    await _round(ctx, [am_notification(y, group_key=GROUP)])
    await _round(ctx, [am_notification({**y, "status": "resolved"}, group_key=GROUP)])

    fired = am_notification(x, group_key=GROUP)
    results, _ = await _round(
        ctx, [fired, am_notification({**x, "status": "resolved"}, group_key=GROUP)]
    )
    assert [(r.firing, r.resolved, r.all_resolved) for r in results] == [
        (1, 0, set()),
        (0, 1, {1}),
    ]


async def test_a_round_inserts_its_new_alerts_together_and_resolves_them_by_their_ids(
    ctx: Context,
) -> None:
    """New alerts wait for the round's one INSERT; a count of the store's firing alerts before
    the end inserts those so far, and a later resolution of one of them finds its id (the
    store gives its start back in UTC)."""
    x = am_alert(fingerprint="00000000", alertname="Round0", starts_at="2026-11-27T04:00:00+02:00")
    w = am_alert(fingerprint="00000001", alertname="Round0")
    resolved_x, resolved_w = {**x, "status": "resolved"}, {**w, "status": "resolved"}
    results, said = await _round(
        ctx,
        [
            am_notification(x, w, group_key=GROUP),  # both new: waiting to be inserted
            am_notification(x, resolved_w, group_key=GROUP),  # w's count inserts them
            am_notification(resolved_x, resolved_w, group_key=GROUP),  # x by its id
        ],
    )
    assert [(r.firing, r.resolved, r.all_resolved) for r in results] == [
        (2, 0, set()),
        (0, 1, set()),
        (0, 1, {1}),
    ]
    assert sum(s.startswith("INSERT INTO alerts") for s in said) == 1
    assert sum(s.startswith("UPDATE alerts SET") for s in said) == 1  # x's; w was inserted so
    async with ctx.sessions() as session:
        ids = dict(
            (await session.execute(select(AlertOccurrence.fingerprint, AlertOccurrence.id))).all()
        )
        statuses = await session.scalars(select(AlertOccurrence.status))
        assert set(statuses) == {"resolved"}
        entries = await session.execute(
            select(TimelineEntry.kind, TimelineEntry.dedup_key).order_by(TimelineEntry.id)
        )
        assert entries.all() == [
            ("incident.opened", None),
            ("alert.firing", f"alert:{ids['00000000']}:firing"),
            ("alert.firing", f"alert:{ids['00000001']}:firing"),
            ("alert.resolved", f"alert:{ids['00000001']}:resolved"),
            ("alert.resolved", f"alert:{ids['00000000']}:resolved"),
            ("alerts.all_resolved", None),
        ]


async def test_new_alerts_of_many_groups_are_one_insert(ctx: Context) -> None:
    groups = [f'{{}}:{{alertname="Round{n}"}}' for n in range(5)]
    bodies = [
        am_notification(
            am_alert(fingerprint=f"0000000{n}", alertname=f"Round{n}"),
            am_alert(fingerprint=f"1000000{n}", alertname=f"Round{n}"),
            group_key=g,
        )
        for n, g in enumerate(groups)
    ]
    results, said = await _round(ctx, bodies)
    assert [(r.opened, r.firing) for r in results] == [(True, 2)] * 5
    assert sum(s.startswith("INSERT INTO alerts") for s in said) == 1
    async with ctx.sessions() as session:
        found = await session.execute(
            select(AlertOccurrence.fingerprint, Incident.group_key).join(Incident)
        )
        assert sorted(found.all()) == sorted(
            (f"{prefix}000000{n}", g) for n, g in enumerate(groups) for prefix in "01"
        )


async def test_a_rounds_new_incidents_are_one_insert_each_with_its_opening_line(
    ctx: Context,
) -> None:
    groups = [f'{{}}:{{alertname="Open{n}"}}' for n in range(4)]
    opening = [
        am_notification(am_alert(fingerprint=f"2000000{n}", alertname=f"Open{n}"), group_key=g)
        for n, g in enumerate(groups)
    ]
    # The first group's HA copy, and a group whose only alert resolved: it opens nothing.
    resolved = am_alert(fingerprint="30000000", alertname="Gone", status="resolved")
    bodies = [*opening, opening[0], am_notification(resolved, group_key="{}:{gone}")]
    results, said = await _round(ctx, bodies)
    assert [(r.opened, r.firing, r.ignored) for r in results] == [(True, 1, 0)] * 4 + [
        (False, 0, 0),
        (False, 0, 1),
    ]
    assert results[4].incident_id == results[0].incident_id
    assert sum(s.startswith("INSERT INTO incidents") for s in said) == 1
    async with ctx.sessions() as session:
        opened = await session.execute(
            select(Incident.id, Incident.group_key, Incident.title, Incident.status)
        )
        by_group = {g: (i, title, status) for i, g, title, status in opened}
        lines = await session.execute(
            select(TimelineEntry.incident_id, TimelineEntry.text).where(
                TimelineEntry.kind == "incident.opened"
            )
        )
        assert sorted(lines.all()) == sorted(
            (i, f"INC-{i} opened from alertmanager: {title}") for i, title, _ in by_group.values()
        )
    assert set(by_group) == set(groups)
    assert {status for _, _, status in by_group.values()} == {"investigating"}
    assert {r.incident_id for r in results[:4]} == {i for i, _, _ in by_group.values()}


async def test_groups_that_share_an_alert_open_one_at_a_time_as_recorded(ctx: Context) -> None:
    # One alert sent in two groups: once the first group records it, it is not new to the
    # second, which then opens nothing (as if each had been recorded in a transaction alone).
    shared = am_alert(fingerprint="40000000", alertname="Shared")
    other = am_alert(fingerprint="40000001", alertname="Shared")
    bodies = [
        am_notification(shared, group_key="{}:{a}"),
        am_notification(shared, group_key="{}:{b}"),
        am_notification(other, group_key="{}:{c}"),
    ]
    results, said = await _round(ctx, bodies)
    assert [(r.opened, r.firing) for r in results] == [(True, 1), (False, 0), (True, 1)]
    assert sum(s.startswith("INSERT INTO incidents") for s in said) == 2


async def test_copies_that_are_one_object_open_the_incident_once(ctx: Context) -> None:
    # The webhook hands the copies of one body the notification it parsed once.
    batch = alertmanager.parse(am_notification(group_key=GROUP))
    async with ctx.sessions.begin() as session:
        results = await recording.record_round(ctx, session, [batch, batch, batch])
    assert [(r.opened, r.firing) for r in results] == [(True, 1), (False, 0), (False, 0)]
    assert {r.incident_id for r in results} == {1}


async def test_a_group_whose_first_copy_in_a_round_opens_nothing_opens_where_recorded(
    ctx: Context,
) -> None:
    # An HA pair's peers at two states of one group: the first copy holds only a resolved
    # alert (no incident to add it to: ignored), the second a new firing one, which opens.
    gone = am_alert(fingerprint="50000000", alertname="Late", status="resolved")
    firing = am_alert(fingerprint="50000001", alertname="Late")
    bodies = [
        am_notification(gone, group_key="{}:{late}"),
        am_notification(firing, group_key="{}:{late}"),
    ]
    results, _ = await _round(ctx, bodies)
    assert [(r.opened, r.firing, r.resolved, r.ignored) for r in results] == [
        (False, 0, 0, 1),
        (True, 1, 0, 0),
    ]
    async with ctx.sessions() as session:
        stored = await session.scalars(select(AlertOccurrence.fingerprint))
        assert list(stored) == ["50000001"]
