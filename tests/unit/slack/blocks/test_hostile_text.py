"""Every block and message builder, fed hostile text in every string field, hands Slack nothing
active: no <!channel>, no forged link, no mention of anyone but the people (and channels) the
test passes as checked IDs. A new builder in bot/slack/blocks fails this test until it is
rendered here too."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest

import bot.slack.blocks
from bot.budget.account import BudgetReport
from bot.budget.slo import Slo
from bot.config import FirebreakConfig, ServiceConfig
from bot.incidents.ledger import ServiceBudget
from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.ports import (
    ChangeLine,
    HandoffOffer,
    IncidentCard,
    ModelCard,
    Reminder,
    StatusUpdate,
)
from bot.mrkdwn import escape, mention
from bot.playbooks.models import Parameter, Playbook
from bot.playbooks.ports import RunView, StepLine
from bot.slack.blocks import (
    actions,
    announcement,
    budget,
    changes,
    declare,
    incident_list,
    messages,
    model_card,
    runs,
    timeline,
)
from tests.inert import HOSTILE, HOSTILE_TEXT, texts, violations

USER, OTHER = "U0GOOD0001", "U0GOOD0002"  # IDs the bot checked: the only people to mention
CHANNEL = "C0GOOD0001"
AT = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)
# A web URL trying to end its link early and add its own label and mention.
EVIL_URL = "https://evil.example/x?a=1|click me><!channel> <@U0EVIL0001>"


@dataclass(frozen=True)
class Fill:
    """What every field of a rendered shape is set to."""

    text: str  # every free-text field
    user: str  # fields that hold a person's ID
    other: str
    channel: str  # fields that hold a channel's ID
    url: str  # fields that hold a URL

    @property
    def users(self) -> set[str]:
        return {u for u in (self.user, self.other) if u in (USER, OTHER)}

    @property
    def channels(self) -> set[str]:
        return {self.channel} if self.channel == CHANNEL else set()


FILLS = {
    # IDs checked by the bot, URLs of the web: mentions and links of those, nothing else.
    "checked ids": Fill(HOSTILE_TEXT, USER, OTHER, CHANNEL, EVIL_URL),
    # Every field hostile, IDs and URLs too: nothing active at all.
    "all hostile": Fill(HOSTILE_TEXT, HOSTILE_TEXT, "<@U0EVIL0002>", "<#C0EVIL0002>", HOSTILE_TEXT),
    "javascript url": Fill(HOSTILE_TEXT, USER, OTHER, CHANNEL, "javascript:alert('<!here>')"),
}


def change_line(f: Fill, *, kind: str | None = None) -> ChangeLine:
    return ChangeLine(
        change_id=3,
        kind=kind or f.text,
        service=f.text,
        version=f.text,
        previous_version=f.text + " before",
        author=f.text,
        link=f.url,
        at=AT,
        during_freeze=True,
    )


def card(f: Fill, **kw: Any) -> IncidentCard:
    values: dict[str, Any] = dict(
        incident_id=7,
        ref=f.text,
        title=f.text,
        severity=f.text,
        status=f.text,
        service=f.text,
        summary=f.text + " (summary)",
        description=f.text + " (description)",
        source_url=f.url,
        runbook_url=f.url,
        channel_id=f.channel,
        channel_name=f.text,
        declared_by=f.user,
        alerts_firing=2,
        commander=f.user,
        scribe=f.other,
        acknowledged=False,
        handoff_to=f.other,
        drill=True,
        changes=[change_line(f)],
        in_progress=[change_line(f, kind="canary_start")],
        changes_lookback=timedelta(hours=2),
        model=model(f),
    )
    values.update(kw)
    return IncidentCard(**values)


def model(f: Fill, **kw: Any) -> ModelCard:
    """Versions and reasons come from a deployment API or a model registry."""
    values: dict[str, Any] = dict(
        service=f.text,
        read_at=AT,
        live=f.text,
        previous=f.text + " before",
        live_since=AT - timedelta(hours=1),
        since_kind=f.text,
    )
    values.update(kw)
    return ModelCard(**values)


def run_view(f: Fill, **kw: Any) -> RunView:
    values: dict[str, Any] = dict(
        run_id=5,
        incident_id=7,
        ref=f.text,
        playbook=f.text,
        description=f.text,
        status=f.text,
        params={f.text: f.text, "reason": "<!channel>"},
        requested_by=f.user,
        approved_by=f.other,
        steps=[StepLine(name=f.text, status=f.text, detail=f.text)],
        awaiting_approval=True,
    )
    values.update(kw)
    return RunView(**values)


def incident(f: Fill) -> Incident:
    found = Incident(
        id=7,
        title=f.text,
        severity=f.text,
        status=f.text,
        service=f.text,
        source=f.text,
        channel_id=f.channel,
        channel_name=f.text,
        created_at=AT - timedelta(minutes=5),
        updated_at=AT,
    )
    # Plain text as stored, with Firebreak's own mention of the entry's people in it.
    found.timeline = [
        TimelineEntry(
            at=AT,
            kind=f.text,
            text=f"{f.text} {mention(f.user)} handed command to <@{f.other}>",
            actor=f.user,
            link=f.url,
            # A label that looks like an ID is not a person the entry names.
            data={"to": f.other, "labels": {"owner": "U0EVIL0001"}},
        ),
        TimelineEntry(at=AT, kind="note", text=f.text, actor=f.text, link=f.text, data=None),
    ]
    return found


def service_budget(f: Fill) -> ServiceBudget:
    report = BudgetReport(
        window_start=AT - timedelta(days=28),
        now=AT,
        budget=timedelta(minutes=40),
        consumed=timedelta(minutes=12),
        remaining=timedelta(minutes=28),
        consumed_fraction=0.3,
        per_incident={7: timedelta(minutes=12)},
        burn_rate=14.0,
        projected_exhaustion=AT + timedelta(hours=1),
        incident_id=7,
        incident_consumed=timedelta(minutes=12),
    )
    return ServiceBudget(service=f.text, slo=Slo(target=99.9, window="28d"), report=report)


def playbook(f: Fill) -> Playbook:
    # Not validated: the list must stay inert whatever a playbook file slips past the loader.
    return Playbook.model_construct(
        name=f.text,
        description=f.text,
        needs_approval=True,
        parameters={f.text: Parameter(description=f.text)},
        steps=[],
    )


def modal(f: Fill) -> dict[str, Any]:
    config = FirebreakConfig(services={f.text: ServiceConfig(description=f.text)})
    return declare.declare_modal(config, channel=f.channel)


Render = Callable[[Fill], list[object]]

# Every public function of bot/slack/blocks that draws something Slack shows.
RENDERED: dict[str, Render] = {
    "actions.button": lambda f: [actions.button(f.text, actions.CLAIM_COMMANDER, f.text, "danger")],
    "announcement.announcement": lambda f: [
        announcement.announcement(card(f)),
        announcement.announcement(card(f, acknowledged=True, drill=False, status="resolved")),
    ],
    "model_card.model_card_blocks": lambda f: [
        model_card.model_card_blocks(model(f)),
        model_card.model_card_blocks(model(f, previous=None, live_since=None)),
        model_card.model_card_blocks(model(f, live=None)),
        model_card.model_card_blocks(model(f, live=None, unread=f.text)),
    ],
    "budget.budget_text": lambda f: [budget.budget_text(service_budget(f), incident_ref=f.text)],
    "changes.change_blocks": lambda f: [
        changes.change_blocks(
            incident_id=7,
            changes=[change_line(f)],
            in_progress=[change_line(f, kind="shadow_start")],
            lookback=timedelta(hours=1),
        )
    ],
    "changes.change_text": lambda f: [changes.change_text(change_line(f))],
    "declare.declare_modal": lambda f: [modal(f)],
    "incident_list.incident_list": lambda f: [incident_list.incident_list([incident(f)], now=AT)],
    "messages.section": lambda f: [messages.section(escape(f.text))],  # takes mrkdwn: escaped
    "messages.status_update": lambda f: [
        messages.status_update(
            StatusUpdate(card=card(f), text=f.text, author=f.user, next_update_at=AT)
        )
    ],
    "messages.handoff_offer": lambda f: [
        messages.handoff_offer(
            HandoffOffer(incident_id=7, ref=f.text, from_user=f.user, to_user=f.other)
        ),
        messages.handoff_offer(
            HandoffOffer(incident_id=7, ref=f.text, from_user=None, to_user=f.other)
        ),
    ],
    # A reminder's text is mrkdwn by its contract: the domain escaped what it put in.
    "messages.reminder": lambda f: [
        messages.reminder(
            Reminder(
                incident_id=7,
                ref=f.text,
                text=f"{escape(f.text)} {mention(f.user)}",
                snooze=[timedelta(minutes=15)],
            )
        )
    ],
    "messages.resolve_confirmation": lambda f: [messages.resolve_confirmation(7, f.text, f.text)],
    "runs.run_message": lambda f: [
        runs.run_message(run_view(f)),
        runs.run_message(run_view(f, dry_run=True, status="dry_run", awaiting_approval=False)),
    ],
    "runs.playbook_list": lambda f: [
        runs.playbook_list([playbook(f)], 7),
        runs.playbook_list([playbook(f)], None),
    ],
    "timeline.timeline_blocks": lambda f: [timeline.timeline_blocks(incident(f))],
}
# Public functions that read what Slack sends back rather than draw anything.
NOT_DRAWN = {
    "declare.read_declaration": "reads a submitted modal",
    "messages.snooze_choice": "reads a snooze button's value",
}


def public_functions() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(bot.slack.blocks.__path__):
        module = importlib.import_module(f"bot.slack.blocks.{info.name}")
        for name, value in vars(module).items():
            if (
                not name.startswith("_")
                and inspect.isfunction(value)
                and value.__module__ == module.__name__
            ):
                found.add(f"{info.name}.{name}")
    return found


def test_every_builder_is_rendered_with_hostile_text() -> None:
    assert public_functions() == set(RENDERED) | set(NOT_DRAWN)


@pytest.mark.parametrize("fill", FILLS.values(), ids=FILLS.keys())
@pytest.mark.parametrize("builder", sorted(RENDERED))
def test_nothing_active_survives(builder: str, fill: Fill) -> None:
    for rendered in RENDERED[builder](fill):
        found = violations(rendered, users=fill.users, channels=fill.channels)
        assert not found, f"{builder}: {found}"
        shown = texts(rendered)
        mrkdwn, plain = "\n".join(shown.mrkdwn), "\n".join(shown.plain)
        # The hostile text was really rendered: escaped in mrkdwn, as given in plain_text.
        assert escape("<!channel>") in mrkdwn or "<!channel>" in plain
        # Text that came escaped stays literal ("&lt;" is shown), never turned into "<".
        if escape(HOSTILE_TEXT) in mrkdwn:
            assert "&amp;lt;!channel&amp;gt;" in mrkdwn


def test_checked_people_and_web_links_stay_active() -> None:
    f = FILLS["checked ids"]
    _, blocks = announcement.announcement(card(f))
    rendered = json.dumps(blocks)
    assert f"<@{USER}>" in rendered and f"<@{OTHER}>" in rendered and f"<#{CHANNEL}>" in rendered
    # The URL is linked, with its '|', '<', '>' and spaces percent-encoded; the label is ours.
    assert (
        "<https://evil.example/x?a=1%7Cclick%20me%3E%3C!channel%3E%20%3C@U0EVIL0001%3E"
        "|Alert source>"
    ) in rendered
    _, listed = timeline.timeline_blocks(incident(f))
    shown = json.dumps(listed)
    # The entry names USER (actor) and OTHER (data "to"): mentioned. U0EVIL0001 only as text.
    assert f"<@{USER}> handed command to <@{OTHER}>" in shown
    assert "&lt;@U0EVIL0001&gt;" in shown and "<@U0EVIL0001>" not in shown


def test_plain_text_shows_what_was_sent() -> None:
    """Slack parses nothing in plain_text: escaping it would show `&lt;` to readers."""
    _, blocks = announcement.announcement(card(FILLS["checked ids"]))
    title = f"DRILL · {HOSTILE_TEXT}: {HOSTILE_TEXT}"[:150]
    assert blocks[0]["text"] == {"type": "plain_text", "text": title}


def test_the_check_sees_every_active_sequence() -> None:
    """The check itself: each hostile sequence, given raw, is caught; escaped, it is not."""
    for sequence in HOSTILE:
        caught = violations({"type": "mrkdwn", "text": f"x {sequence} y"})
        assert caught == ([] if sequence in ("&lt;!channel&gt;", "*bold*") else [(sequence, ANY)])
        assert violations(escape(sequence)) == []
    assert violations(f"<@{USER}> <#{CHANNEL}>", users={USER}, channels={CHANNEL}) == []
    assert violations(f"<@{OTHER}>", users={USER}) == [(f"<@{OTHER}>", ANY)]
    assert violations("<https://x.example/a|Runbook> <https://x.example/a|click me>") == [
        ("<https://x.example/a|click me>", ANY)
    ]
