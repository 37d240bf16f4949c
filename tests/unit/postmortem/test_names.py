"""People in the postmortem by display name: whom the draft asks the chat about, and what it
shows with and without a chat that can answer (the Directory port)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pytest

from bot.context import Context
from bot.incidents import notes, roles
from bot.incidents.models import TimelineEntry
from bot.postmortem import flows
from bot.postmortem.facts import people_in
from bot.postmortem.ports import Directory
from tests.domain import incident_with_channel
from tests.fakes import FakeChat

from . import sample as s

DAN, EVE = "U0DAN0004", "W0EVE0005"


@dataclass
class NamingChat(FakeChat):
    """FakeChat that also names people, and records whom it was asked about."""

    known: dict[str, str] = field(default_factory=dict)
    asked: list[list[str]] = field(default_factory=list)

    async def names(self, user_ids: Iterable[str]) -> Mapping[str, str]:
        wanted = list(user_ids)
        self.asked.append(wanted)
        return {u: self.known[u] for u in wanted if u in self.known}


@pytest.fixture
def chat() -> NamingChat:
    return NamingChat(known={s.ANA: "Ana Ortiz", s.BEN: "Ben Wu"})


def test_everyone_the_postmortem_may_name_once() -> None:
    timeline = [
        *s.timeline(),
        s.entry(16, f"<@{DAN}|dan> paged; typed by <@{s.ANA}>", actor="firebreak"),
        s.entry(17, f"/incident page <@{EVE}>", actor=EVE, kind="command"),  # left out
    ]
    action = TimelineEntry(
        incident_id=7,
        at=s.at(30),
        kind="action",
        text="Gate promotions",
        actor=s.BEN,
        data={"owner": EVE},
        recorded_at=s.at(30),
    )
    people = people_in(
        incident=s.incident(declared_by=DAN), timeline=[*timeline, action], runs=s.runs()
    )
    assert people == (s.ANA, s.BEN, DAN, s.CAI, EVE)


def test_runs_name_their_requester_and_approver() -> None:
    [run] = s.runs()
    run.requested_by, run.approved_by, run.error = DAN, EVE, f"refused by <@{s.CAI}>"
    people = people_in(incident=s.incident(commander=None, scribe=None), timeline=[], runs=[run])
    assert people == (DAN, EVE, s.CAI)


async def test_the_draft_shows_people_by_display_name(ctx: Context, chat: NamingChat) -> None:
    assert isinstance(chat, Directory)
    incident = await incident_with_channel(ctx, members=(s.CAI,))
    await roles.assign(
        ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=s.ANA, by=s.ANA
    )
    await notes.add_note(
        ctx, incident_id=incident.id, text=f"Asked <@{s.BEN}> and <@{DAN}> to look", by=s.CAI
    )

    markdown = await flows.draft(ctx, incident_id=incident.id)

    assert "- **Incident commander:** Ana Ortiz\n" in markdown
    assert "Asked Ben Wu and @U0DAN0004 to look" in markdown  # Dan has no known name
    assert "@U0CAI0003" in markdown  # nor has Cai
    assert "U0ANA0001" not in markdown
    [asked] = chat.asked  # one lookup for the whole draft
    assert set(asked) == {s.ANA, s.BEN, s.CAI, DAN}


@pytest.mark.parametrize("chat", [FakeChat()], ids=["no-directory"])
async def test_without_a_directory_people_are_shown_by_id(ctx: Context) -> None:
    assert not isinstance(ctx.chat, Directory)
    incident = await incident_with_channel(ctx)
    await roles.assign(
        ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=s.ANA, by=s.ANA
    )
    markdown = await flows.draft(ctx, incident_id=incident.id)
    assert "- **Incident commander:** @U0ANA0001\n" in markdown
