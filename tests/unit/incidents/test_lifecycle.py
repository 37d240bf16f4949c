from __future__ import annotations

from datetime import timedelta

import pytest

from bot.alerts.sources import alertmanager
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import intake, lifecycle, roles
from bot.incidents.errors import Refused
from bot.incidents.models import Status
from bot.incidents.moments import moments_of
from bot.severity import Severity
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock
from tests.payloads import am_alert, am_notification

ANA = "U0ANA0001"


async def test_status_moves_and_milestones_are_kept(
    ctx: Context, chat: FakeChat, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    opened = clock.now
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.IDENTIFIED, by=ANA)
    clock.advance(minutes=4)
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MITIGATED, by=ANA)
    mitigated = clock.now
    clock.advance(minutes=10)
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MONITORING, by=ANA)
    with pytest.raises(Refused, match="already monitoring"):
        await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MONITORING, by=ANA)
    clock.advance(minutes=20)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)

    stored = await load_incident(ctx, incident.id)
    assert (stored.detected_at, stored.mitigated_at, stored.resolved_at) == (
        opened,
        mitigated,
        clock.now,
    )
    assert stored.status == Status.RESOLVED
    assert [t.text for t in stored.timeline if t.kind == "status.changed"] == [
        f"<@{ANA}> changed status investigating → identified",
        f"<@{ANA}> changed status identified → mitigated",
        f"<@{ANA}> changed status mitigated → monitoring",
    ]
    assert (
        "incidents",
        f":white_check_mark: INC-1 resolved by <@{ANA}> after 34m. RankerNDCGDrop on search-ranker",
    ) in chat.said
    with pytest.raises(Refused, match="resolved; `/incident reopen` it first"):
        await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV2, by=ANA)


async def test_resolving_stamps_no_mitigation_the_moments_take_the_resolution(
    ctx: Context, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    clock.advance(minutes=7)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    stored = await load_incident(ctx, incident.id)
    # Resolving is not mitigating: the stored stamp is only for what stopped the impact.
    assert stored.mitigated_at is None
    moments = moments_of(incident=stored, alerts=stored.alerts, timeline=stored.timeline)
    assert moments.mitigated == moments.resolved == clock.now


async def test_reopen_and_the_one_open_incident_per_group_rule(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    with pytest.raises(Refused, match="not resolved"):
        await lifecycle.reopen(ctx, incident_id=incident.id, by=ANA)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    await lifecycle.reopen(ctx, incident_id=incident.id, by=ANA)
    stored = await load_incident(ctx, incident.id)
    assert stored.status == Status.INVESTIGATING and stored.resolved_at is None

    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    later = am_notification(am_alert(starts_at="2026-11-28T00:00:00Z"))
    assert (await intake.receive(ctx=ctx, batch=alertmanager.parse(later))).opened
    with pytest.raises(Refused, match="Another incident is already open for the same alert group"):
        await lifecycle.reopen(ctx, incident_id=incident.id, by=ANA)
    assert (await load_incident(ctx, incident.id)).status == Status.RESOLVED


async def test_severity_changes_are_recorded(ctx: Context, chat: FakeChat) -> None:
    incident = await incident_with_channel(ctx)
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV2, by=ANA)
    stored = await load_incident(ctx, incident.id)
    assert stored.severity == "SEV2"
    assert stored.timeline[-1].text == f"<@{ANA}> changed severity SEV1 → SEV2"
    assert chat.topics[-1][1].startswith("SEV2 · investigating")


async def test_status_update_goes_to_both_channels_with_the_next_time(
    ctx: Context, chat: FakeChat, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    clock.advance(minutes=5)
    await lifecycle.post_update(ctx, incident_id=incident.id, text="Rolled back to v41", by=ANA)
    [(first, update), (second, _)] = chat.updates
    assert (first, second) == (incident.channel_id, "incidents")
    assert update.text == "Rolled back to v41" and update.author == ANA
    assert update.card.commander == ANA
    assert update.next_update_at == clock.now + timedelta(minutes=15)  # SEV1
    stored = await load_incident(ctx, incident.id)
    assert stored.last_update_at == clock.now
    assert stored.timeline[-1].kind == "status.update"


async def test_resolving_writes_the_postmortem_draft(
    ctx: Context, chat: FakeChat, config: FirebreakConfig
) -> None:
    incident = await incident_with_channel(ctx)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    path = config.postmortem.folder / "INC-1-rankerndcgdrop-on-search-ranker.md"
    draft = path.read_text()
    assert draft.startswith("# INC-1 postmortem: RankerNDCGDrop on search-ranker")
    assert "Status: draft" in draft and "## Timeline" in draft
    # Shared in the channel with Slack's file upload, as written.
    assert chat.files == [(incident.channel_id, path.name, path.read_bytes())]
