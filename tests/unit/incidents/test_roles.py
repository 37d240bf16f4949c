from __future__ import annotations

import pytest

from bot.config import FirebreakConfig, PermissionsConfig, ServiceConfig
from bot.context import Context
from bot.incidents import roles
from bot.incidents.errors import Refused
from bot.oncall import Rotation
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock

ANA, BEN, CHO, OUTSIDER = "U0ANA0001", "U0BEN0002", "U0CHO0003", "U0OUT0009"


async def test_claiming_command_acknowledges_and_updates_the_channel(
    ctx: Context, chat: FakeChat, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    clock.advance(minutes=1)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    stored = await load_incident(ctx, incident.id)
    assert stored.commander == ANA and stored.acknowledged_at == clock.now
    assert stored.timeline[-1].kind == "role.commander"
    assert stored.timeline[-1].text == f"<@{ANA}> took command"
    assert chat.topics[-1] == (incident.channel_id, f"SEV1 · investigating · commander <@{ANA}>")
    assert chat.refreshed[-1][1].commander == ANA
    assert chat.texts(incident.channel_id)[-1] == f":star: <@{ANA}> is now the commander of INC-1."


async def test_scribe_and_commander_both_show_in_the_topic(ctx: Context, chat: FakeChat) -> None:
    incident = await incident_with_channel(ctx)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.SCRIBE, user=BEN, by=ANA)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    assert chat.topics[-1][1] == f"SEV1 · investigating · commander <@{ANA}> · scribe <@{BEN}>"
    stored = await load_incident(ctx, incident.id)
    assert [t.text for t in stored.timeline if t.kind == "role.scribe"] == [
        f"<@{ANA}> made <@{BEN}> scribe"
    ]


async def test_non_members_may_not_change_the_incident(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    with pytest.raises(Refused, match="Only members of #inc-1-"):
        await roles.assign(
            ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=OUTSIDER, by=OUTSIDER
        )
    assert (await load_incident(ctx, incident.id)).commander is None


async def test_permissions_are_configurable(ctx: Context, config: FirebreakConfig) -> None:
    incident = await incident_with_channel(ctx)
    config.permissions = PermissionsConfig(change="anyone")
    await roles.assign(
        ctx, incident_id=incident.id, role=roles.Role.SCRIBE, user=OUTSIDER, by=OUTSIDER
    )
    assert (await load_incident(ctx, incident.id)).scribe == OUTSIDER


async def test_command_moves_only_by_an_accepted_handoff(ctx: Context, chat: FakeChat) -> None:
    incident = await incident_with_channel(ctx, members=(CHO,))
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    with pytest.raises(Refused, match="already has a commander"):
        await roles.assign(
            ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=BEN, by=BEN
        )
    with pytest.raises(Refused, match="Only the commander"):
        await roles.offer_handoff(ctx, incident_id=incident.id, to=CHO, by=BEN)

    await roles.offer_handoff(ctx, incident_id=incident.id, to=BEN, by=ANA)
    assert chat.offers[-1][1].to_user == BEN and chat.offers[-1][1].from_user == ANA
    assert (await load_incident(ctx, incident.id)).commander == ANA  # until BEN accepts
    assert chat.topics[-1][1].endswith(f"handoff to <@{BEN}> pending")

    with pytest.raises(Refused, match=f"offered to <@{BEN}>; only they can accept"):
        await roles.accept_handoff(ctx, incident_id=incident.id, user=CHO)
    assert (await load_incident(ctx, incident.id)).commander == ANA

    await roles.accept_handoff(ctx, incident_id=incident.id, user=BEN)
    stored = await load_incident(ctx, incident.id)
    assert stored.commander == BEN and stored.handoff_to is None
    assert stored.timeline[-1].text == f"<@{ANA}> handed command to <@{BEN}>"
    assert chat.texts(incident.channel_id)[-1] == (
        f":handshake: <@{BEN}> now commands INC-1, taking over from <@{ANA}>."
    )
    with pytest.raises(Refused, match="No handoff"):
        await roles.accept_handoff(ctx, incident_id=incident.id, user=BEN)


async def test_declined_handoff_leaves_the_commander(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    await roles.offer_handoff(ctx, incident_id=incident.id, to=BEN, by=ANA)
    await roles.decline_handoff(ctx, incident_id=incident.id, user=BEN)
    stored = await load_incident(ctx, incident.id)
    assert stored.commander == ANA and stored.handoff_to is None


async def test_on_call_commander_is_assigned_and_told(
    ctx: Context, chat: FakeChat, config: FirebreakConfig, clock: FakeClock
) -> None:
    # 2026-11-27 is a Friday; hand-overs on Mondays 09:00 Berlin since 2026-11-02 (CHO first).
    config.services["search-ranker"] = ServiceConfig(
        owners=[ANA],
        oncall=Rotation(
            users=[CHO, BEN], handover_day="monday", timezone="Europe/Berlin", start="2026-11-02"
        ),
    )
    incident = await incident_with_channel(ctx)
    stored = await load_incident(ctx, incident.id)
    # Nov 2 → CHO, Nov 9 → BEN, Nov 16 → CHO, Nov 23 → BEN: BEN is on call on Nov 27.
    assert stored.commander == BEN
    assert stored.acknowledged_at is None  # assigned by the rotation, not yet on it
    [(user, text)] = chat.direct
    assert user == BEN and "you command INC-1" in text and f"<#{incident.channel_id}>" in text
    assert (incident.channel_id, [BEN]) in chat.invites
    assert chat.announcements[0][1].commander == BEN and not chat.announcements[0][1].acknowledged

    with pytest.raises(Refused, match="Only the commander"):
        await roles.acknowledge(ctx, incident_id=incident.id, user=ANA)
    clock.advance(minutes=3)
    await roles.acknowledge(ctx, incident_id=incident.id, user=BEN)
    assert (await load_incident(ctx, incident.id)).acknowledged_at == clock.now


async def test_unacknowledged_on_call_commander_can_be_replaced(
    ctx: Context, config: FirebreakConfig
) -> None:
    config.services["search-ranker"] = ServiceConfig(oncall=Rotation(users=[CHO]))
    incident = await incident_with_channel(ctx, members=(ANA,))
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    stored = await load_incident(ctx, incident.id)
    assert stored.commander == ANA and stored.acknowledged_at is not None
