"""`/incident note <text>`, `/incident action …` and `/incident timeline`."""

from __future__ import annotations

from datetime import date

from bot.incidents import notes, service
from bot.incidents.errors import Refused
from bot.mrkdwn import escape
from bot.slack.blocks.timeline import timeline_blocks
from bot.slack.listeners.commands.base import Invocation, Subcommand
from bot.slack.mentions import parse_user


async def note(inv: Invocation) -> None:
    text = inv.args.strip()
    if not text:
        raise Refused("Say what to note: `/incident note &lt;text&gt;`.")
    incident = inv.here()
    await inv.ack()
    await notes.add_note(inv.deps.ctx, incident_id=incident.id, text=text, by=inv.user)
    await inv.tell(":pencil: Noted on the timeline.")


async def show(inv: Invocation) -> None:
    async with inv.deps.ctx.reading() as session:
        full = await service.get(session=session, incident_id=inv.here().id, full=True)
    assert full is not None
    text, blocks = timeline_blocks(full)
    await inv.tell(text, blocks=blocks)


async def action(inv: Invocation) -> None:
    """`/incident action [mitigate|prevent|process] <text> [@owner] [due=YYYY-MM-DD]`."""
    words = inv.args.split()
    kind = words.pop(0).lower() if words and words[0].lower() in notes.ACTION_TYPES else None
    owner, due, rest = None, None, []
    for word in words:
        person = parse_user(word, me=inv.user) if word.startswith("<@") else None
        if person:
            owner = person
        elif word.startswith("due="):
            try:
                due = date.fromisoformat(word[4:])
            except ValueError as exc:
                raise Refused(f"`{escape(word)}`: a due date is like due=2026-12-04.") from exc
        else:
            rest.append(word)
    if not rest:
        raise Refused(
            "Say what: `/incident action [mitigate|prevent|process] &lt;text&gt; "
            "[@owner] [due=YYYY-MM-DD]`."
        )
    incident = inv.here()
    await inv.ack()
    await notes.add_action(
        inv.deps.ctx,
        incident_id=incident.id,
        text=" ".join(rest),
        by=inv.user,
        owner=owner,
        action_type=kind,
        due=due,
    )
    await inv.tell(":ballot_box_with_check: Action item noted for the postmortem.")


SUBCOMMANDS = {
    "note": Subcommand("/incident note <text>", "add a line to the timeline", note),
    "timeline": Subcommand("/incident timeline", "show the timeline", show),
    "action": Subcommand(
        "/incident action [type] <text> [@owner] [due=YYYY-MM-DD]",
        "an action item for the postmortem (type: mitigate, prevent or process)",
        action,
    ),
}
