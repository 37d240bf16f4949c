"""People are referred to by their chat user ID (Slack's U…/W… IDs), and mentioned as <@ID>
(built by bot.mrkdwn, which checks the ID: anything else comes out as escaped text)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from bot import mrkdwn


def check_user_id(value: str) -> str:
    if not mrkdwn.is_user_id(value):
        raise ValueError(f"{value!r} is not a Slack user ID (like U0123ABCD)")
    return value


UserId = Annotated[str, AfterValidator(check_user_id)]


def mention(user: str | None) -> str:
    return mrkdwn.mention(user) if user else "nobody"
