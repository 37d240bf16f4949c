"""Playbook runs in Slack: the progress message (updated in place) and the playbook list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.incidents.ports import RunView
from bot.playbooks.models import Playbook
from bot.slack.blocks import actions
from bot.slack.blocks.actions import button
from bot.slack.blocks.messages import escape, section

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


def run_message(run: RunView) -> tuple[str, list[dict[str, Any]]]:
    headline = HEADLINE.get(run.status, run.status)
    text = f"{run.ref}: playbook {run.playbook} (run #{run.run_id}) — {headline}"
    params = ", ".join(f"{k}={v}" for k, v in run.params.items() if v) or "no parameters"
    who = f"asked by <@{run.requested_by}>"
    if run.approved_by:
        verb = "rejected" if run.status == "rejected" else "approved"
        who += f", {verb} by <@{run.approved_by}>"
    lines = []
    for number, step in enumerate(run.steps, start=1):
        detail = (
            f"\n      `{escape(step.detail)}`"
            if step.detail and run.dry_run
            else (f" — {escape(step.detail)}" if step.detail else "")
        )
        lines.append(
            f"{MARK.get(step.status, ':grey_question:')} {number}. {escape(step.name)}{detail}"
        )
    blocks: list[dict[str, Any]] = [
        section(f"*{escape(text)}*\n{escape(run.description)}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{params} · {who}"}]},
        section("\n".join(lines) or "_no steps_"),
    ]
    if run.awaiting_approval:
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
        params = " ".join(f"{name}=…" for name in playbook.parameters)
        approval = "needs approval" if playbook.needs_approval else "runs at once"
        block: dict[str, Any] = section(
            f"*{playbook.name}* — {escape(playbook.description)}\n"
            f"`/incident run {playbook.name} {params}`  ({approval})"
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
