"""`/incident playbooks`, `run <name> [key=value …] [--dry-run]`, `run resume`, and the
shortcuts `rollback`, `fallback`, `freeze`, `unfreeze`."""

from __future__ import annotations

import shlex

from bot.incidents.errors import Refused
from bot.mrkdwn import escape
from bot.slack.blocks.runs import playbook_list
from bot.slack.listeners.commands.base import Invocation, Subcommand

SHORTCUTS = {
    "rollback": "rollback",
    "fallback": "heuristic-fallback",
    "freeze": "traffic-freeze",
    "unfreeze": "traffic-unfreeze",
}


def parse_run(args: str) -> tuple[dict[str, str], bool]:
    """'to_version=v41 --dry-run' → ({'to_version': 'v41'}, True)."""
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise Refused(f"Cannot read the arguments: {escape(exc)}.") from exc
    params: dict[str, str] = {}
    dry_run = False
    for word in words:
        if word in ("--dry-run", "--dry_run", "dry-run"):
            dry_run = True
        elif "=" in word and not word.startswith("="):
            key, _, value = word.partition("=")
            params[key] = value
        else:
            raise Refused(f"`{escape(word)}` is not `key=value` or `--dry-run`.")
    return params, dry_run


async def list_playbooks(inv: Invocation) -> None:
    runner = inv.deps.runner
    playbooks = sorted(runner.library.playbooks.values(), key=lambda p: p.name)
    text, blocks = playbook_list(playbooks, inv.incident.id if inv.incident else None)
    await inv.tell(text, blocks=blocks)


async def run(inv: Invocation) -> None:
    name, _, rest = inv.args.strip().partition(" ")
    if not name:
        raise Refused(
            "Say which: `/incident run &lt;playbook&gt; [key=value …] [--dry-run]`, or "
            "`/incident run resume`. `/incident playbooks` lists them."
        )
    if name == "resume":
        await _resume(inv)
        return
    await _start(inv, name, rest)


async def _start(inv: Invocation, name: str, args: str) -> None:
    params, dry_run = parse_run(args)
    incident = inv.here()
    await inv.ack()
    await inv.deps.runner.start(
        incident_id=incident.id, name=name, params=params, by=inv.user, dry_run=dry_run
    )


async def _resume(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    resumed = await inv.deps.runner.resume(incident_id=incident.id, by=inv.user)
    await inv.deps.runner.execute(resumed.id)


def _shortcut(playbook: str) -> Subcommand:
    async def handler(inv: Invocation) -> None:
        await _start(inv, playbook, inv.args)

    return Subcommand(
        f"/incident {_name_of(playbook)} [key=value …] [--dry-run]",
        f"run the {playbook} playbook",
        handler,
    )


def _name_of(playbook: str) -> str:
    return next(short for short, full in SHORTCUTS.items() if full == playbook)


SUBCOMMANDS = {
    "playbooks": Subcommand(
        "/incident playbooks", "list the playbooks, with run buttons", list_playbooks
    ),
    "run": Subcommand(
        "/incident run <playbook> [key=value …] [--dry-run]",
        "run a playbook (dry run: show the requests, change nothing); "
        "`/incident run resume` continues an interrupted run",
        run,
    ),
    **{short: _shortcut(full) for short, full in SHORTCUTS.items()},
}
