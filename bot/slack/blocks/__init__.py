"""Block Kit rendering: pure functions from domain shapes to Slack message payloads."""
