from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import flows, intake, service
from bot.incidents.events import InChat
from bot.incidents.ports import ChatError
from tests.domain import load_incident
from tests.fakes import FakeChat, FakeReminders
from tests.payloads import am_alert, am_notification
from tests.statements import statements


async def opened(ctx: Context) -> int:
    result = await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    assert result.incident_id is not None
    return result.incident_id


async def test_opens_channel_invites_owners_and_announces(ctx: Context, chat: FakeChat) -> None:
    incident_id = await opened(ctx)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    [channel] = chat.channels
    assert channel.name == "inc-1-rankerndcgdrop-on-search-ranker"
    assert chat.invites == [(channel.id, ["U0ANA0001", "U0BEN0002"])]
    assert [where for where, _ in chat.announcements] == [channel.id, "incidents"]
    card = chat.announcements[0][1]
    assert (card.ref, card.severity, card.service, card.alerts_firing) == (
        "INC-1",
        "SEV1",
        "search-ranker",
        1,
    )
    assert card.runbook_url == "https://runbooks.example.com/ranker/ndcg"
    incident = await load_incident(ctx, incident_id)
    assert (incident.channel_id, incident.channel_name) == (channel.id, channel.name)
    assert incident.announcement_ts and incident.broadcast_ts
    kinds = [t.kind for t in incident.timeline]
    assert {"channel.created", "people.invited", "incident.announced"} <= set(kinds)


async def test_both_announcements_are_one_rendering_of_the_card(
    ctx: Context, chat: FakeChat
) -> None:
    incident_id = await opened(ctx)
    with statements() as said:
        await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    (channel_card, broadcast_card) = [card for _, card in chat.announcements]
    assert channel_card == broadcast_card
    # The card's reads (alerts firing, model card, changes) were made once for the two.
    assert sum(s.startswith("SELECT count(*)") and "FROM alerts" in s for s in said) == 1


async def test_each_step_of_a_set_up_is_saved_without_loading_the_incident_again(
    ctx: Context, chat: FakeChat
) -> None:
    incident_id = await opened(ctx)
    with statements() as said:
        await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    # Read to begin with, by the on-call assignment and by the sync of topic and reminders.
    # The channel, invites, topic, announcement and broadcast were saved by id, not each
    # after loading the incident again (8 loads before).
    assert sum(s.startswith("SELECT incidents.") for s in said) == 3
    saved = [s for s in said if s.startswith("UPDATE incidents SET")]
    assert any("channel_id=" in s for s in saved)
    assert any("announcement_ts=" in s for s in saved)
    assert any("broadcast_ts=" in s for s in saved)
    async with ctx.sessions() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    assert incident is not None and incident.channel_id == chat.channels[0].id
    assert incident.announcement_ts and incident.broadcast_ts and incident.broadcast_channel_id


async def test_running_again_does_nothing_more(ctx: Context, chat: FakeChat) -> None:
    incident_id = await opened(ctx)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    assert len(chat.channels) == 1 and len(chat.announcements) == 2 and len(chat.invites) == 1


async def test_taken_name_gets_another(ctx: Context, chat: FakeChat) -> None:
    chat.taken |= {
        "inc-1-rankerndcgdrop-on-search-ranker",
        "inc-1-rankerndcgdrop-on-search-ranker-2",
    }
    await flows.open_in_chat(ctx=ctx, incident_id=await opened(ctx))
    assert chat.channels[0].name == "inc-1-rankerndcgdrop-on-search-ranker-3"


async def test_unknown_invitee_does_not_stop_the_others(ctx: Context, chat: FakeChat) -> None:
    chat.unknown_users.add("U0BEN0002")
    incident_id = await opened(ctx)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    assert chat.invites[1:] == [
        (chat.channels[0].id, ["U0ANA0001"]),
        (chat.channels[0].id, ["U0BEN0002"]),
    ]
    note = next(
        t for t in (await load_incident(ctx, incident_id)).timeline if t.kind == "people.invited"
    )
    assert note.text == "Invited <@U0ANA0001>; could not invite <@U0BEN0002> (user_not_found)"


async def _failed_set_up(ctx: Context, chat: FakeChat) -> tuple[int, list[InChat]]:
    """An incident whose set-up failed at its announcement (Slack refused it); the InChat
    events said from now on."""
    incident_id = await opened(ctx)
    in_chat: list[InChat] = []
    ctx.events.subscribe(InChat, _append_to(in_chat))
    chat.fail_announce = "ratelimited"
    with pytest.raises(ChatError, match="ratelimited"):
        await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    chat.fail_announce = None
    return incident_id, in_chat


async def test_failed_announcement_resumes_without_a_second_channel(
    ctx: Context, chat: FakeChat
) -> None:
    incident_id, in_chat = await _failed_set_up(ctx, chat)
    async with ctx.sessions() as session:
        waiting = await service.waiting_for_chat(session=session, broadcast=True)
    assert list(waiting) == [incident_id]
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    assert len(chat.channels) == 1 and len(chat.announcements) == 2
    async with ctx.sessions() as session:
        assert list(await service.waiting_for_chat(session=session, broadcast=True)) == []
    assert in_chat == [InChat(incident_id)]  # said once complete, not by the failed run


async def test_alerts_changed_reads_a_set_up_incident_once_and_finishes_a_failed_set_up(
    ctx: Context, chat: FakeChat
) -> None:
    incident_id, in_chat = await _failed_set_up(ctx, chat)
    second = am_notification(am_alert(), am_alert(fingerprint="0000000000000002"))
    assert (await receive(ctx, second)).firing == 1
    # The set-up that failed is finished (one channel, both announcements), then shown.
    await flows.alerts_changed(ctx=ctx, incident_id=incident_id, all_resolved=False)
    assert len(chat.channels) == 1 and len(chat.announcements) == 2
    assert {card.alerts_firing for _, card in chat.announcements} == {2}
    assert in_chat == [InChat(incident_id)]

    third = am_notification(*second["alerts"], am_alert(fingerprint="0000000000000003"))
    assert (await receive(ctx, third)).firing == 1
    with statements() as said:
        await flows.alerts_changed(ctx=ctx, incident_id=incident_id, all_resolved=False)
    # Set up already: the incident is read once (by sync), not once more to find that out.
    assert sum(s.startswith("SELECT incidents.id, incidents.title") for s in said) == 1
    assert [card.alerts_firing for _, card in chat.refreshed[-2:]] == [3, 3]
    assert in_chat == [InChat(incident_id)] * 2


def _append_to(seen: list[InChat]) -> Callable[[InChat], Awaitable[None]]:
    async def append(event: InChat) -> None:
        seen.append(event)

    return append


async def test_a_set_up_killed_after_the_channel_is_finished_at_the_next_start(
    ctx: Context, chat: FakeChat, reminders: FakeReminders
) -> None:
    """As if the process died right after saving the channel: no invites, topic, reminders,
    announcement or broadcast yet. The start-up sweep finds it and finishes every part."""
    incident_id = await opened(ctx)
    channel = await chat.create_channel(name="inc-1-rankerndcgdrop-on-search-ranker")
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=incident_id)
        assert incident is not None
        incident.channel_id, incident.channel_name = channel.id, channel.name
    async with ctx.sessions() as session:
        assert list(await service.waiting_for_chat(session=session, broadcast=True)) == [1]

    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    assert len(chat.channels) == 1  # the saved channel is used, not a second one
    assert chat.invites == [(channel.id, ["U0ANA0001", "U0BEN0002"])]
    assert chat.topics and chat.topics[-1][0] == channel.id
    assert set(reminders.jobs) == {"INC-1-commander", "INC-1-status-update"}
    assert [where for where, _ in chat.announcements] == [channel.id, "incidents"]

    # Killed after the incident channel's announcement, before the broadcast one:
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=incident_id)
        assert incident is not None
        incident.broadcast_ts = None
    async with ctx.sessions() as session:
        assert list(await service.waiting_for_chat(session=session, broadcast=True)) == [1]
        assert list(await service.waiting_for_chat(session=session, broadcast=False)) == []
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    assert [where for where, _ in chat.announcements] == [channel.id, "incidents", "incidents"]
    kinds = [t.kind for t in (await load_incident(ctx, incident_id)).timeline]
    assert kinds.count("people.invited") == 1  # invited again, harmlessly, but noted once


async def test_declared_incident_invites_its_declarer(ctx: Context, chat: FakeChat) -> None:
    incident = await flows.declare(
        ctx=ctx, title="Checkout fraud scores all zero", declared_by="U0DEV0009"
    )
    assert incident.ref == "INC-1" and incident.severity == "SEV3" and incident.source == "slack"
    await flows.open_in_chat(ctx=ctx, incident_id=incident.id)
    assert chat.channels[0].name == "inc-1-checkout-fraud-scores-all-zero"
    assert chat.invites == [(chat.channels[0].id, ["U0DEV0009"])]
    assert chat.announcements[0][1].declared_by == "U0DEV0009"


async def test_all_resolved_is_said_in_the_channel_unless_an_alert_fired_again(
    ctx: Context, chat: FakeChat
) -> None:
    incident_id = await opened(ctx)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    channel = chat.channels[0].id
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:20:00Z"))
    assert (await receive(ctx, resolved)).all_resolved == {incident_id}
    # Every alert resolved: impact stopped then, whatever comes after.
    mitigated = (await load_incident(ctx, incident_id)).mitigated_at
    assert mitigated is not None
    # The alert fires again (a new startsAt) before the follow-up of its resolution runs.
    refired = await receive(ctx, am_notification(am_alert(starts_at="2026-11-27T03:25:00Z")))
    assert refired.incident_id == incident_id and refired.firing == 1
    await flows.alerts_changed(ctx=ctx, incident_id=incident_id, all_resolved=True)
    assert not [text for where, text in chat.said if where == channel and "All alerts" in text]

    again = am_notification(
        am_alert(
            status="resolved", starts_at="2026-11-27T03:25:00Z", ends_at="2026-11-27T03:40:00Z"
        )
    )
    assert (await receive(ctx, again)).all_resolved == {incident_id}
    await flows.alerts_changed(ctx=ctx, incident_id=incident_id, all_resolved=True)
    told = [text for where, text in chat.said if where == channel and "All alerts" in text]
    assert len(told) == 1 and "have resolved" in told[0]
    assert (await load_incident(ctx, incident_id)).mitigated_at == mitigated  # the first


async def receive(ctx: Context, body: dict[str, object]) -> intake.IntakeResult:
    return await intake.receive(ctx=ctx, batch=alertmanager.parse(body))
