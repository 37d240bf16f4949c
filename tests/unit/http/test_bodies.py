"""parse_json: what it refuses by name, whichever way the bytes say it."""

from __future__ import annotations

import json

import pytest

from bot.http.bodies import MAX_JSON_DEPTH, parse_json
from bot.http.errors import Problem


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "x\\u0000"}',
        b'{"a": "\\uDBFF"}',  # hex digits in either case
        b'{"a": ["ok", "\\udc00"]}',
        b'{"\\ud800": 1}',  # a key
        b'{"a": "\xed\xa0\x80"}',  # a surrogate's UTF-8-like bytes: json.loads passes them
        '{"a": "\\u0000"}'.encode("utf-16"),  # UTF-16: NUL bytes everywhere
    ],
)
def test_text_that_cannot_be_stored_is_refused(raw: bytes) -> None:
    with pytest.raises(Problem) as refused:
        parse_json(raw)
    assert refused.value.status == 400 and refused.value.error == "invalid_text"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b'{"a": "\\ud83d\\udd25"}', "\U0001f525"),  # a surrogate pair is one character
        (b'{"a": "\\\\u0000"}', "\\u0000"),  # an escaped backslash, then "u0000": text
        ('{"a": "\u202e\u05e9"}'.encode("utf-16"), "\u202e\u05e9"),
    ],
)
def test_text_that_only_looks_unstorable_is_kept(raw: bytes, text: str) -> None:
    assert parse_json(raw) == {"a": text}


def test_many_objects_side_by_side_are_not_deep() -> None:
    wide = json.dumps([{"labels": {"n": i}} for i in range(MAX_JSON_DEPTH * 2)]).encode()
    assert len(parse_json(wide)) == MAX_JSON_DEPTH * 2
    deep = b"[" * MAX_JSON_DEPTH * 2 + b"]" * MAX_JSON_DEPTH * 2
    with pytest.raises(Problem) as refused:
        parse_json(deep)
    assert refused.value.error == "invalid_json" and "nested deeper" in refused.value.message
