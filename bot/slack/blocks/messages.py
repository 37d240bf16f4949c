"""Firebreak's other messages: status updates, handoff offers, reminders, resolve confirmation.

Every field of what they render is outside text, escaped (bot.mrkdwn), except the IDs turned into
mentions after a check; a Reminder's text is mrkdwn the domain wrote (see its port)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.durations import format_duration
from bot.incidents.ports import HandoffOffer, Reminder, StatusUpdate
from bot.mrkdwn import channel_link, date, escape, mention
from bot.slack.blocks import actions
from bot.slack.blocks.actions import button

Blocks = list[dict[str, Any]]


def section(text: str) -> dict[str, Any]:
    """A section of mrkdwn the caller made safe (outside values escaped)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def status_update(update: StatusUpdate) -> tuple[str, Blocks]:
    card = update.card
    commander = mention(card.commander) if card.commander else "nobody yet"
    next_update = "when there is news"
    if update.next_update_at:
        # Slack shows <!date^…> in each reader's own time zone; the fallback is UTC.
        at = update.next_update_at
        next_update = date(at, "{time}", f"{at:%H:%M} UTC")
    status, severity = escape(card.status), escape(card.severity)
    text = f":memo: Status update on {escape(card.ref)} ({severity}, {status})"
    fields = [
        {"type": "mrkdwn", "text": f"*Status*\n{status}"},
        {"type": "mrkdwn", "text": f"*Severity*\n{severity}"},
        {"type": "mrkdwn", "text": f"*Commander*\n{commander}"},
        {"type": "mrkdwn", "text": f"*Next update*\n{next_update}"},
    ]
    blocks: Blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{card.ref}: {card.title}"[:150]},
        },
        {"type": "section", "fields": fields},
        section(f"*What we know*\n{escape(update.text)}"),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Posted by {mention(update.author)}"
                    + (f" in {channel_link(card.channel_id)}" if card.channel_id else ""),
                }
            ],
        },
    ]
    return text, blocks


def handoff_offer(offer: HandoffOffer) -> tuple[str, Blocks]:
    to_user = mention(offer.to_user)
    source = f"{mention(offer.from_user)} offers" if offer.from_user else "Firebreak offers"
    text = f":handshake: {source} command of {escape(offer.ref)} to {to_user}."
    value = str(offer.incident_id)
    blocks: Blocks = [
        section(
            f"{text} Until {to_user} accepts, "
            + (
                f"{mention(offer.from_user)} stays commander."
                if offer.from_user
                else "the incident has no commander."
            )
        ),
        {
            "type": "actions",
            "block_id": "handoff",
            "elements": [
                button("Accept command", actions.HANDOFF_ACCEPT, value, "primary"),
                button("Decline", actions.HANDOFF_DECLINE, value),
            ],
        },
    ]
    return text, blocks


def reminder(item: Reminder) -> tuple[str, Blocks]:
    """`item.text` is mrkdwn by the Reminder contract: the domain escaped what it put in."""
    blocks: Blocks = [section(item.text)]
    if item.snooze:
        blocks.append(
            {
                "type": "actions",
                "block_id": "snooze",
                "elements": [
                    button(
                        f"Snooze {format_duration(wait)}",
                        actions.SNOOZE_UPDATES,
                        f"{item.incident_id}:{int(wait.total_seconds())}",
                    )
                    for wait in item.snooze
                ],
            }
        )
    return item.text, blocks


def resolve_confirmation(
    incident_id: int, ref: str, title: str, *, firing: int = 0, again: bool = False
) -> tuple[str, Blocks]:
    """Asks before resolving. `firing`: alerts still firing, said on the first ask; `again`:
    the second ask, after Resolve was clicked while they fire (its button says so)."""
    alerts = f"{firing} alert{'s are' if firing != 1 else ' is'} still firing"
    if again:
        text = f"{alerts} on {escape(ref)}. Resolve it anyway?"
        question = (
            f":warning: *{escape(ref)}* {escape(title)}: {alerts}, so the impact may not be "
            "over. Resolve it anyway? Its reminders stop and the broadcast channel is told."
        )
        confirm = button(
            "Resolve anyway", actions.RESOLVE_CONFIRM, f"{incident_id}:firing", "danger"
        )
    else:
        text = f"Resolve {escape(ref)}? The impact is over and no more action is needed now."
        warning = f" :warning: {alerts}." if firing else ""
        question = (
            f"Resolve *{escape(ref)}* {escape(title)}?{warning} Its reminders stop and the "
            "broadcast channel is told. `/incident reopen` undoes it."
        )
        confirm = button("Resolve", actions.RESOLVE_CONFIRM, str(incident_id), "danger")
    return text, [
        section(question),
        {
            "type": "actions",
            "block_id": "resolve",
            "elements": [confirm, button("Cancel", actions.RESOLVE_CANCEL, str(incident_id))],
        },
    ]


def snooze_choice(value: str) -> tuple[int, timedelta] | None:
    """'7:900' → (7, 15 minutes); None when the value was not made by reminder()."""
    number, _, seconds = value.partition(":")
    if not (number.isdigit() and seconds.isdigit()):
        return None
    return int(number), timedelta(seconds=int(seconds))
