"""Who decided what about a mitigation: an append-only record of approvals and runs."""
