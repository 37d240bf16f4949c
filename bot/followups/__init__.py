"""The chat follow-ups of what intake and the change feed announce, run in the background so that
no webhook waits for Slack (Alertmanager, Grafana and Datadog time out and drop what is not
answered).

One alert follow-up per incident at a time: it reads the incident afresh, so what a storm asks
while one runs is merged into a single next run, not a queue of Slack calls per alert. The next
run is paced (bot.tasks.Pace): with many incidents changing at once, each is brought up to date
every few seconds, not after every notification.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from bot.changes.events import ChangeRecorded
from bot.context import Context
from bot.events import Bus
from bot.evidence import flows as evidence_flows
from bot.evidence.ports import Drawer, Evidence
from bot.incidents import deploys, flows
from bot.incidents.events import (
    AlertsChanged,
    IncidentAnnounced,
    IncidentOpened,
    SetUpUnfinished,
    SourceNoted,
)
from bot.incidents.ports import IncidentChat, IncidentContext
from bot.logs import incident_logs
from bot.refs import format_ref
from bot.tasks import Background

GRAPHS_WAIT_S = 10.0  # the longest a graph waits for the set-ups under way (_SetUps)
# Graphs being made at once (read, drawn, posted). Each holds its query's answer until drawn,
# and they are drawn one at a time: in a storm every incident's graph read its series at once
# and the chat process kept them all, 37 MB more after 200 incidents and 112 MB after 1,000
# (bench.storm --groups 1000), in memory Python does not give back.
GRAPHS_AT_ONCE = 4


@dataclass(frozen=True)
class _FollowUp:
    """The chat work asked for one incident; merged with any already queued."""

    changed: bool  # alerts new or resolved; else only the set-up is owed
    all_resolved: bool = False
    said: tuple[str, ...] = ()  # what alert sources said, for the channel, in order
    recovered_graph: bool = False  # the alert's graph owed once all alerts resolved

    def merge(self, later: _FollowUp) -> _FollowUp:
        return _FollowUp(
            self.changed or later.changed,
            self.all_resolved or later.all_resolved,
            self.said + later.said,
            self.recovered_graph or later.recovered_graph,
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


class FollowUpChat(IncidentChat, evidence_flows.GraphChat, Protocol):
    pass


class _SetUps:
    """The channel set-ups under way. Graphs wait until there are none: in a storm two hundred
    channels are set up at once, and each graph's query and upload ran between them and held
    the later announcements up by seconds (bench.storm --postgres, the chat process)."""

    def __init__(self) -> None:
        self._under_way = 0
        self._none = asyncio.Event()
        self._none.set()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._under_way += 1
        self._none.clear()
        try:
            yield
        finally:
            self._under_way -= 1
            if not self._under_way:
                self._none.set()

    async def none(self, *, longest: float) -> None:
        """Until none is under way, or for `longest` seconds: a steady stream of new incidents
        does not keep the graphs back for ever."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(longest):
                await self._none.wait()


def subscribe(
    bus: Bus,
    *,
    ctx: Context[FollowUpChat],
    background: Background,
    evidence: Evidence | None = None,
    drawer: Drawer | None = None,
) -> None:
    """`evidence`: where alert graphs are read (none: no graphs); `drawer`: where they are
    drawn (none: a thread of this process)."""

    set_ups = _SetUps()
    graphs_at_once = asyncio.Semaphore(GRAPHS_AT_ONCE)

    def follow_up(incident_id: int, asked: _FollowUp) -> None:
        async def work(asked: _FollowUp) -> None:
            if asked.changed:
                await asked.run(ctx, incident_id)
            else:
                with set_ups.running():
                    await asked.run(ctx, incident_id)
            if asked.recovered_graph and evidence is not None:
                graph(incident_id, recovered=True)

        with incident_logs(incident_id):  # also on the task's failure, logged when it ends
            background.spawn_merged(
                ("alerts", incident_id),
                work,
                asked,
                merge=_FollowUp.merge,
                name=f"{format_ref(incident_id)}-alerts",
                paced=True,  # a storm's changes of one incident: one run every few seconds
            )

    def graph(incident_id: int, *, recovered: bool) -> None:
        # Its own task, after the set-ups: a slow Prometheus holds up no other chat work.
        assert evidence is not None

        async def drawn(recovered: bool) -> None:
            await set_ups.none(longest=GRAPHS_WAIT_S)
            async with graphs_at_once:
                await evidence_flows.post_graph(
                    ctx,
                    incident_id=incident_id,
                    evidence=evidence,
                    recovered=recovered,
                    drawer=drawer,
                )

        with incident_logs(incident_id):
            background.spawn_merged(
                ("graph", incident_id),
                drawn,
                recovered,
                merge=lambda earlier, later: earlier or later,
                name=f"{format_ref(incident_id)}-graph",
            )

    async def opened(event: IncidentOpened | SetUpUnfinished) -> None:
        follow_up(event.incident_id, _FollowUp(changed=False))

    async def announced(event: IncidentAnnounced) -> None:
        # The graph follows the channel's announcement, whichever run posted it (a set-up that
        # failed and was finished by a later notification too).
        if evidence is not None:
            graph(event.incident_id, recovered=False)

    async def changed(event: AlertsChanged) -> None:
        follow_up(
            event.incident_id,
            _FollowUp(
                changed=True,
                all_resolved=event.all_resolved,
                recovered_graph=event.all_resolved,
            ),
        )

    async def source_noted(event: SourceNoted) -> None:
        follow_up(event.incident_id, _FollowUp(changed=False, said=(event.text,)))

    async def change_recorded(event: ChangeRecorded) -> None:
        background.spawn(deploys.change_recorded(ctx, event), name=f"change-{event.change_id}")

    bus.subscribe(IncidentOpened, opened)
    bus.subscribe(SetUpUnfinished, opened)
    bus.subscribe(IncidentAnnounced, announced)
    bus.subscribe(AlertsChanged, changed)
    bus.subscribe(SourceNoted, source_noted)
    bus.subscribe(ChangeRecorded, change_recorded)
