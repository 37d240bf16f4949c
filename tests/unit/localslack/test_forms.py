from __future__ import annotations

import pytest

from bot.localslack.forms import InvalidJSON, parse_body


def test_urlencoded_keeps_blank_values() -> None:
    body = b"channel=C1&text=a%20b%26c&thread_ts="
    assert parse_body("application/x-www-form-urlencoded", body) == {
        "channel": "C1",
        "text": "a b&c",
        "thread_ts": "",
    }


def test_json_with_charset() -> None:
    assert parse_body("application/json;charset=utf-8", b'{"a": [1]}') == {"a": [1]}
    assert parse_body("application/json", b"") == {}


@pytest.mark.parametrize(("body", "error"), [(b"{", "invalid_json"), (b"[1]", "json_not_object")])
def test_bad_json(body: bytes, error: str) -> None:
    with pytest.raises(InvalidJSON) as raised:
        parse_body("application/json", body)
    assert raised.value.error == error


def test_multipart_fields() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="channel"\r\n\r\n'
        b"C123\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="text"\r\n\r\n'
        b"caf\xc3\xa9\r\n"
        b"--XyZ--\r\n"
    )
    assert parse_body("multipart/form-data; boundary=XyZ", body) == {
        "channel": "C123",
        "text": "café",
    }


def test_other_content_types_carry_no_arguments() -> None:
    assert parse_body("text/plain", b"channel=C1") == {}
    assert parse_body("", b"") == {}
