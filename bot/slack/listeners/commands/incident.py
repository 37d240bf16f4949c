"""`/incident <subcommand> …`: find the subcommand and the incident, run it, report refusals.

Every command run in an incident's channel goes on that incident's timeline. Each playbook is a
subcommand by its own name too: `/incident heuristic-fallback …` is `/incident run
heuristic-fallback …`. A name nobody knows gets the nearest names back, not the whole help.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.incidents import notes, service
from bot.incidents.errors import Refused
from bot.incidents.ports import ChatError
from bot.logs import incident_logs
from bot.mrkdwn import escape, unescape
from bot.playbooks.models import Playbook
from bot.slack.deps import deps_of
from bot.slack.listeners.commands import (
    budget,
    changes,
    general,
    lifecycle,
    playbooks,
    postmortem,
    roles,
    timeline,
)
from bot.slack.listeners.commands.base import Ack, Invocation, Subcommand
from bot.slack.listeners.reply import Respond, slack_refused

COMMAND = "/incident"
log = logging.getLogger(__name__)


async def incident_command(
    ack: Ack, respond: Respond, command: dict[str, Any], client: Any, context: Any
) -> None:
    text = unescape(" ".join((command.get("text") or "").split()))
    name, _, args = text.partition(" ")
    key = name.lower() or "help"
    deps = deps_of(context)
    known = deps.runner.library.playbooks
    sub = subcommand(key, known)
    if sub is None:
        await ack(response_type="ephemeral", text=unknown(name, known))
        return
    async with deps.ctx.reading() as session:
        incident = await service.get_by_channel(session=session, channel_id=command["channel_id"])
    inv = Invocation(
        send_ack=ack,
        respond=respond,
        client=client,
        deps=deps,
        user=command["user_id"],
        channel_id=command["channel_id"],
        trigger_id=command.get("trigger_id", ""),
        name=key,
        args=args,
        incident=incident,
    )
    if incident is None:
        await _run(sub, inv)
        return
    with incident_logs(incident.id):
        # On the timeline at the moment it was given: a playbook it starts may run for minutes.
        await notes.record_command(
            deps.ctx, incident_id=incident.id, by=inv.user, command=f"{COMMAND} {text}"
        )
        await _run(sub, inv)


async def _run(sub: Subcommand, inv: Invocation) -> None:
    try:
        await sub.run(inv)
    except Refused as exc:
        await inv.tell(str(exc))
    except ChatError as exc:
        log.warning("Slack refused a call for %s %s: %s", COMMAND, inv.name, exc.code)
        await inv.tell(slack_refused(exc))


async def _help(inv: Invocation) -> None:
    await inv.tell(help_text(inv.deps.runner.library.playbooks.values()))


SUBCOMMANDS: dict[str, Subcommand] = {
    **general.SUBCOMMANDS,
    **roles.SUBCOMMANDS,
    **lifecycle.SUBCOMMANDS,
    **timeline.SUBCOMMANDS,
    **playbooks.SUBCOMMANDS,
    **budget.SUBCOMMANDS,
    **changes.SUBCOMMANDS,
    **postmortem.SUBCOMMANDS,
    "help": Subcommand("/incident help", "this list", _help),
}


def subcommand(name: str, known: Mapping[str, Playbook]) -> Subcommand | None:
    """The built-in subcommand of that name, else the playbook of that name run as by `run`.

    A built-in always wins over a playbook of the same name: the commands people learned keep
    meaning what they meant whatever playbooks are added (the `rollback` playbook is reached by
    the `rollback` shortcut, which runs it anyway)."""
    if name in SUBCOMMANDS:
        return SUBCOMMANDS[name]
    playbook = known.get(name)
    return _playbook_subcommand(playbook) if playbook is not None else None


def _playbook_subcommand(playbook: Playbook) -> Subcommand:
    async def handler(inv: Invocation) -> None:
        # Exactly `/incident run <name> …`: the same handler, given the words it would be given.
        inv.args = f"{playbook.name} {inv.args}".strip()
        await playbooks.run(inv)

    return Subcommand(
        f"{COMMAND} {playbook.name} [key=value …] [--dry-run]",
        _first_sentence(playbook.description),
        handler,
    )


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    found = re.match(r"(.+?[.!?])(?:\s|$)", text)
    return found.group(1) if found else text


def unknown(name: str, known: Mapping[str, Playbook]) -> str:
    """The answer to a name nobody knows: the nearest one or two names of subcommands and
    playbooks (I don't know `hep`. Did you mean `/incident help`?), else a pointer to help."""
    shown = name if len(name) <= 40 else name[:40] + "…"
    said = f"I don't know `{escape(shown)}`."
    names = [*SUBCOMMANDS, *(p for p in known if p not in SUBCOMMANDS)]
    nearest = difflib.get_close_matches(name.lower(), names, n=2)
    if not nearest:
        return f"{said} `{COMMAND} help` lists the commands."
    return f"{said} Did you mean {' or '.join(f'`{COMMAND} {escape(n)}`' for n in nearest)}?"


def help_text(library: Iterable[Playbook] = ()) -> str:
    """One line per subcommand, its usage one code span: the built-ins, then each playbook
    reachable by its own name.

    Slack's mrkdwn: a code span opens and closes on one line, and `<`, `>` and `&` are escaped
    inside it as anywhere (placeholders like <text> show as typed only as &lt;text&gt;)."""
    subs = [
        *SUBCOMMANDS.values(),
        *(
            _playbook_subcommand(p)
            for p in sorted(library, key=lambda p: p.name)
            if p.name not in SUBCOMMANDS
        ),
    ]
    lines = [f"• {_code(sub.usage)} — {_line(sub.summary)}" for sub in subs]
    return f"*Firebreak* — `{COMMAND}` commands:\n" + "\n".join(lines)


def _code(text: str) -> str:
    """A closed code span on one line: no backtick or line break can end it early."""
    return "`" + escape(" ".join(text.replace("`", "'").split())) + "`"


def _line(text: str) -> str:
    return escape(" ".join(text.split()))


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(incident_command)
