"""Request-body decoding for the Web API.

Starlette's own form parser needs python-multipart, which Firebreak does not depend on; the
Web API only needs flat name=value pairs, which the standard library can read.
"""

from __future__ import annotations

import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl


class InvalidJSON(ValueError):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error  # Slack's error code: invalid_json or json_not_object


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """The arguments carried by a request body, by its Content-Type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return _parse_json(body)
    if media_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if media_type == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return {}


def _parse_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise InvalidJSON("invalid_json") from None
    if not isinstance(parsed, dict):
        raise InvalidJSON("json_not_object")
    return parsed


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    # The email parser reads MIME multipart once it is given the Content-Type header.
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        fields[name] = _part_value(part)
    return fields


def upload_bytes(content_type: str, body: bytes) -> bytes:
    """A file's bytes as POSTed to an upload URL: the raw body, or for a multipart form its
    `filename` part (curl -F filename=@x), else its first part sent as a file."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return body
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return body
    parts = list(message.iter_parts())
    named = [p for p in parts if p.get_param("name", header="content-disposition") == "filename"]
    files = [p for p in parts if p.get_param("filename", header="content-disposition")]
    for part in (*named, *files):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload
    return b""


def _part_value(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    return payload.decode(charset, "replace")
