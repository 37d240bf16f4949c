"""Cursor pagination as Slack does it: an opaque `next_cursor`, "" on the last page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.localslack.args import Args, SlackError

T = TypeVar("T")


def encode_cursor(key: str) -> str:
    return base64.b64encode(f"next:{key}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    prefix, sep, key = decoded.partition(":")
    if prefix != "next" or not sep:
        raise SlackError("invalid_cursor")
    return key


def paginate(
    items: Sequence[T],
    key: Callable[[T], str],
    args: Args,
    *,
    default_limit: int = 100,
    max_limit: int = 1000,
) -> tuple[list[T], str]:
    """One page of `items` and the cursor of the next page.

    The cursor names the first item of the next page rather than an offset, so paging stays
    right while new channels or messages arrive between two calls.
    """
    limit = args.integer("limit", default_limit, error="invalid_limit")
    if limit <= 0:
        limit = default_limit
    limit = min(limit, max_limit)
    start = 0
    cursor = args.text("cursor")
    if cursor is not None:
        wanted = decode_cursor(cursor)
        keys = [key(item) for item in items]
        if wanted not in keys:
            raise SlackError("invalid_cursor")
        start = keys.index(wanted)
    end = start + limit
    next_cursor = encode_cursor(key(items[end])) if end < len(items) else ""
    return list(items[start:end]), next_cursor
