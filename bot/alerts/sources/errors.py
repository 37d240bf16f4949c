"""Why a webhook body is refused after it was read: its signature, or a field its source's
expressions could not read. The HTTP layer turns each into a 401 or a 422 naming the cause."""

from __future__ import annotations


class BadSignature(Exception):
    """The notification is not signed with the configured secret; the message says how."""


class Unreadable(Exception):
    """A config-defined source could not read a field of the body: `field` names the source's
    field, `expression` the Jinja2 expression that failed, `reason` what went wrong."""

    def __init__(self, *, field: str, expression: str, reason: str) -> None:
        super().__init__(f"{field}: {reason} (expression {expression!r})")
        self.field = field
        self.expression = expression
        self.reason = reason
