"""Reading the domain's state back in tests."""

from __future__ import annotations

from bot.context import Context
from bot.incidents import service
from bot.incidents.models import Incident


async def load_incident(ctx: Context, incident_id: int) -> Incident:
    """The incident with its alerts and timeline loaded."""
    async with ctx.sessions() as session:
        incident = await service.get(session=session, incident_id=incident_id, full=True)
    assert incident is not None, f"no INC-{incident_id}"
    return incident


async def incident_with_channel(ctx: Context, *, members: tuple[str, ...] = ()) -> Incident:
    """An alert-opened incident whose channel exists; `members` join the channel."""
    from bot.alerts.sources import alertmanager
    from bot.incidents import flows, intake
    from tests.fakes import FakeChat
    from tests.payloads import am_notification

    result = await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    assert result.incident_id is not None
    await flows.open_in_chat(ctx=ctx, incident_id=result.incident_id)
    incident = await load_incident(ctx, result.incident_id)
    assert isinstance(ctx.chat, FakeChat) and incident.channel_id
    ctx.chat.channel_members[incident.channel_id].update(members)
    return incident


async def commanded_incident(
    ctx: Context, *, commander: str, members: tuple[str, ...] = ()
) -> Incident:
    """An incident with its channel, `commander` in command, and its alert resolved (the
    shipped playbooks end by waiting for the alerts to resolve: they have)."""
    from bot.alerts.sources import alertmanager
    from bot.incidents import intake, roles
    from tests.payloads import am_alert, am_notification

    incident = await incident_with_channel(ctx, members=members)
    await roles.assign(
        ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=commander, by=commander
    )
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:10:00Z"))
    await intake.receive(ctx=ctx, batch=alertmanager.parse(resolved))
    return await load_incident(ctx, incident.id)
