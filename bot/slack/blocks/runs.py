"""Playbook runs in Slack: the progress message (updated in place) and the playbook list.

Parameters are typed by people, step details hold what remote APIs answered, and playbooks are
data anyone may edit: every field is escaped (bot.mrkdwn), except the IDs turned into mentions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.mrkdwn import escape, mention
from bot.playbooks.models import Playbook
from bot.playbooks.ports import RunView
from bot.slack.blocks import actions
from bot.slack.blocks.actions import button
from bot.slack.blocks.messages import section

MARK = {
    "pending": ":white_circle:",
    "planned": ":memo:",
    "running": ":hourglass_flowing_sand:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "skipped": ":fast_forward:",
}
HEADLINE = {
    "dry_run": "Dry run — nothing was changed; these are the requests it would make",
    "awaiting_approval": "Awaiting approval by the incident commander",
    "rejected": "Rejected",
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "FAILED",
    "interrupted": "Interrupted — `/incident run resume` continues",
}
PLAN_NOTE = (
    "Plan: what each step will change, read from the deployment targets when this card was "
    "last drawn. Steps that use earlier steps' results are known when they run."
)


def run_message(run: RunView) -> tuple[str, list[dict[str, Any]]]:
    headline = HEADLINE.get(run.status) or escape(run.status)
    text = f"{escape(run.ref)}: playbook {escape(run.playbook)} (run #{run.run_id}) — {headline}"
    params = (
        ", ".join(f"{escape(k)}={escape(v)}" for k, v in run.params.items() if v) or "no parameters"
    )
    who = f"asked by {mention(run.requested_by)}"
    if run.approved_by:
        verb = "rejected" if run.status == "rejected" else "approved"
        who += f", {verb} by {mention(run.approved_by)}"
    lines = []
    for number, step in enumerate(run.steps, start=1):
        if not step.detail:
            detail = ""
        elif run.dry_run:
            detail = f"\n      `{escape(step.detail)}`"
        elif run.awaiting_approval:  # the plan: what the step will change, read just now
            detail = f"\n      {escape(step.detail)}"
        else:
            detail = f" — {escape(step.detail)}"
        lines.append(
            f"{MARK.get(step.status, ':grey_question:')} {number}. {escape(step.name)}{detail}"
        )
    blocks: list[dict[str, Any]] = [
        section(f"*{text}*\n{escape(run.description)}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{params} · {who}"}]},
        section("\n".join(lines) or "_no steps_"),
    ]
    if run.awaiting_approval:
        if any(step.detail for step in run.steps):
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": PLAN_NOTE}],
                }
            )
        value = str(run.run_id)
        blocks.append(
            {
                "type": "actions",
                "block_id": "approval",
                "elements": [
                    button("Approve and run", actions.RUN_APPROVE, value, "primary"),
                    button("Reject", actions.RUN_REJECT, value, "danger"),
                ],
            }
        )
    return text, blocks


def playbook_list(
    playbooks: Sequence[Playbook], incident_id: int | None
) -> tuple[str, list[dict[str, Any]]]:
    text = f"{len(playbooks)} playbooks"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Playbooks"}}
    ]
    for playbook in playbooks[:45]:
        name = escape(playbook.name)
        params = " ".join(f"{escape(param)}=…" for param in playbook.parameters)
        approval = "needs approval" if playbook.needs_approval else "runs at once"
        block: dict[str, Any] = section(
            f"*{name}* — {escape(playbook.description)}\n"
            f"`/incident run {name} {params}`  ({approval})"
        )
        if incident_id is not None:
            value = f"{incident_id}:{playbook.name}"
            block = {**block, "accessory": button("Run", actions.PLAYBOOK_START, value)}
            blocks.append(block)
            blocks.append(
                {
                    "type": "actions",
                    "elements": [button("Dry run", actions.PLAYBOOK_DRY_RUN, value)],
                }
            )
        else:
            blocks.append(block)
    return text, blocks
