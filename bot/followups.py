"""The chat follow-ups of what intake and the change feed announce, run in the background so that
no webhook waits for Slack (Alertmanager, Grafana and Datadog time out and drop what is not
answered).

One alert follow-up per incident at a time: it reads the incident afresh, so what a storm asks
while one runs is merged into a single next run, not a queue of Slack calls per alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.changes.events import ChangeRecorded
from bot.events import Bus
from bot.incidents import deploys, flows
from bot.incidents.events import AlertsChanged, IncidentOpened, SetUpUnfinished, SourceNoted
from bot.incidents.ports import IncidentContext
from bot.logs import incident_logs
from bot.refs import format_ref
from bot.tasks import Background


@dataclass(frozen=True)
class _FollowUp:
    """The chat work asked for one incident; merged with any already queued."""

    changed: bool  # alerts new or resolved; else only the set-up is owed
    all_resolved: bool = False
    said: tuple[str, ...] = ()  # what alert sources said, for the channel, in order

    def merge(self, later: _FollowUp) -> _FollowUp:
        return _FollowUp(
            self.changed or later.changed,
            self.all_resolved or later.all_resolved,
            self.said + later.said,
        )

    async def run(self, ctx: IncidentContext, incident_id: int) -> None:
        if self.changed:
            await flows.alerts_changed(
                ctx=ctx, incident_id=incident_id, all_resolved=self.all_resolved
            )
        else:
            await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
        # After the set-up, in the same turn: a note that comes with the opening notification
        # is said in the channel it opens, not lost before the channel exists.
        for text in self.said:
            await flows.source_noted(ctx=ctx, incident_id=incident_id, text=text)


def subscribe(bus: Bus, *, ctx: IncidentContext, background: Background) -> None:
    def follow_up(incident_id: int, asked: _FollowUp) -> None:
        async def work(asked: _FollowUp) -> None:
            await asked.run(ctx, incident_id)

        with incident_logs(incident_id):  # also on the task's failure, logged when it ends
            background.spawn_merged(
                ("alerts", incident_id),
                work,
                asked,
                merge=_FollowUp.merge,
                name=f"{format_ref(incident_id)}-alerts",
            )

    async def opened(event: IncidentOpened | SetUpUnfinished) -> None:
        follow_up(event.incident_id, _FollowUp(changed=False))

    async def changed(event: AlertsChanged) -> None:
        follow_up(event.incident_id, _FollowUp(changed=True, all_resolved=event.all_resolved))

    async def source_noted(event: SourceNoted) -> None:
        follow_up(event.incident_id, _FollowUp(changed=False, said=(event.text,)))

    async def change_recorded(event: ChangeRecorded) -> None:
        background.spawn(deploys.change_recorded(ctx, event), name=f"change-{event.change_id}")

    bus.subscribe(IncidentOpened, opened)
    bus.subscribe(SetUpUnfinished, opened)
    bus.subscribe(AlertsChanged, changed)
    bus.subscribe(SourceNoted, source_noted)
    bus.subscribe(ChangeRecorded, change_recorded)
