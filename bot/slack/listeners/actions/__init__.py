"""Buttons: claim a role, acknowledge, accept or decline a handoff, confirm a resolve, snooze."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.blocks import actions as ids
from bot.slack.listeners.actions import buttons, changes, runs


def register(app: AsyncApp) -> None:
    app.action(ids.CLAIM_COMMANDER)(buttons.claim_commander)
    app.action(ids.CLAIM_SCRIBE)(buttons.claim_scribe)
    app.action(ids.ACKNOWLEDGE)(buttons.acknowledge)
    app.action(ids.HANDOFF_ACCEPT)(buttons.accept_handoff)
    app.action(ids.HANDOFF_DECLINE)(buttons.decline_handoff)
    app.action(ids.RESOLVE_CONFIRM)(buttons.confirm_resolve)
    app.action(ids.RESOLVE_CANCEL)(buttons.cancel_resolve)
    app.action(ids.SNOOZE_UPDATES)(buttons.snooze_updates)
    app.action(ids.RUN_APPROVE)(runs.approve)
    app.action(ids.RUN_REJECT)(runs.reject)
    app.action(ids.PLAYBOOK_START)(runs.start)
    app.action(ids.PLAYBOOK_DRY_RUN)(runs.dry_run)
    app.action(ids.CHANGE_ROLLBACK)(changes.roll_back)
    app.action(ids.ROLLOUT_END)(changes.end)
