"""Action IDs of Firebreak's buttons: the blocks that draw them and the listeners that handle
them share these names. Every button's value is the incident's number (plus data after ':')."""

CLAIM_COMMANDER = "incident_claim_commander"
CLAIM_SCRIBE = "incident_claim_scribe"
ACKNOWLEDGE = "incident_acknowledge"
HANDOFF_ACCEPT = "incident_handoff_accept"
HANDOFF_DECLINE = "incident_handoff_decline"
RESOLVE_CONFIRM = "incident_resolve_confirm"
RESOLVE_CANCEL = "incident_resolve_cancel"
SNOOZE_UPDATES = "incident_snooze_updates"
RUN_APPROVE = "playbook_run_approve"  # value: the run's number
RUN_REJECT = "playbook_run_reject"
PLAYBOOK_START = "playbook_start"  # value: "<incident>:<playbook>"
PLAYBOOK_DRY_RUN = "playbook_dry_run"
CHANGE_ROLLBACK = "change_rollback"  # value: "<incident>:<change>"
ROLLOUT_END = "change_rollout_end"  # value: "<incident>:<change>" (a canary or shadow start)

DECLARE_VIEW = "incident_declare"  # callback_id of the declare modal


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, object]:
    element: dict[str, object] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
