"""Request bodies read, bounded and decoded before any route acts on them; the bearer check.

Shared by the routers: each failure is a `Problem` (401, 413, 415, 400) naming what is wrong."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from typing import Any

from fastapi import Request

from bot.http.errors import Problem
from bot.validation import unstorable_text

MAX_JSON_DEPTH = 32


def authenticate(
    request: Request, token: str | None, *, realm: str = "firebreak-webhooks", basic: bool = False
) -> None:
    """`Authorization: Bearer <token>`; with `basic`, also HTTP basic auth whose password is
    the token (any user name): senders that can only put credentials in the URL (Amazon SNS)."""
    if not token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    presented = given.strip()
    if basic and scheme.lower() == "basic":
        presented = _basic_password(presented)
    elif scheme.lower() != "bearer":
        presented = ""
    # compare_digest: the time taken must not reveal how much of the token matched.
    if not presented or not hmac.compare_digest(presented.encode(), token.encode()):
        raise Problem(
            401,
            "unauthorized",
            "missing or wrong bearer token",
            headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )


def _basic_password(credentials: str) -> str:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


async def read_json_body(request: Request, max_body: int, *, text: bool = False) -> bytes:
    """The raw body, once its content type and size are acceptable (signatures cover raw bytes).
    `text`: JSON may also come as text/plain (Amazon SNS sends it so)."""
    content_type = (
        request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    )
    json_type = content_type == "application/json" or content_type.endswith("+json")
    if not json_type and not (text and content_type == "text/plain"):
        raise Problem(
            415,
            "unsupported_media_type",
            f"send JSON with Content-Type: application/json, not {content_type!r}",
        )
    return await read_body(request, max_body)


async def read_body(request: Request, max_body: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise Problem(413, "body_too_large", f"the body has {declared} bytes; {max_body} at most")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_body:
            raise Problem(413, "body_too_large", f"the body is over {max_body} bytes")
    # Starlette keeps the body read here for whoever reads it next (Bolt's adapter).
    request._body = bytes(raw)
    return request._body


def parse_json(raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise Problem(400, "invalid_json", "the body is nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, and so is a number longer
        # than Python reads as an int (4,300 digits: sys.get_int_max_str_digits).
        raise Problem(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    # Both walks of the parsed body are skipped when the raw bytes show they cannot find
    # anything: most notifications (an alert storm's) pass both.
    nesting_at_most = raw.count(b"{") + raw.count(b"[")
    if nesting_at_most > MAX_JSON_DEPTH and _depth(body) > MAX_JSON_DEPTH:
        raise Problem(
            400, "invalid_json", f"the body is nested deeper than {MAX_JSON_DEPTH} levels"
        )
    if _MAYBE_UNSTORABLE.search(raw) and (where := unstorable_text(body)) is not None:
        raise Problem(
            400,
            "invalid_text",
            f"{where} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored",
        )
    return body


# What can put a NUL or a lone surrogate into a parsed string: an escape of one, or the raw
# bytes (json.loads decodes UTF-8 with "surrogatepass", and UTF-16 and -32 bodies hold NULs).
# A false alarm (an escaped backslash before "u0000") only costs the walk.
_MAYBE_UNSTORABLE = re.compile(rb"\x00|\\u0000|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            for child in (
                item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
            )
        ]
    return depth - 1
