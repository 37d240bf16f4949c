"""People are referred to by their chat user ID (Slack's U…/W… IDs), and mentioned as <@ID>."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def check_user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user ID (like U0123ABCD)")
    return value


UserId = Annotated[str, AfterValidator(check_user_id)]


def mention(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"
