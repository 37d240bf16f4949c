from __future__ import annotations

import pytest

from bot.localslack.args import Args, SlackError


def test_text_reads_form_strings_and_json_values_alike() -> None:
    args = Args({"a": "x", "b": True, "c": 3, "d": "", "e": ["U1"]})
    assert [args.text(k) for k in "abcde"] == ["x", "true", "3", None, '["U1"]']
    assert args.text("missing") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), (True, True), ("false", False), ("0", False), ("", False)],
)
def test_flag(value: object, expected: bool) -> None:
    assert Args({"f": value}).flag("f") is expected


def test_integer_rejects_garbage_with_the_given_error() -> None:
    assert Args({"n": "7"}).integer("n", 1) == 7
    assert Args({}).integer("n", 1) == 1
    with pytest.raises(SlackError) as raised:
        Args({"n": "seven"}).integer("n", 1, error="invalid_limit")
    assert raised.value.error == "invalid_limit"


def test_json_list_accepts_a_list_or_its_json_string() -> None:
    assert Args({"b": [{"type": "divider"}]}).json_list("b", error="e") == [{"type": "divider"}]
    assert Args({"b": '[{"type": "divider"}]'}).json_list("b", error="e") == [{"type": "divider"}]
    for bad in ("{not json", '{"type": "divider"}', 5):
        with pytest.raises(SlackError):
            Args({"b": bad}).json_list("b", error="invalid_blocks")


def test_json_object_accepts_an_object_or_its_json_string() -> None:
    assert Args({"v": {"type": "modal"}}).json_object("v", error="e") == {"type": "modal"}
    assert Args({"v": '{"type": "modal"}'}).json_object("v", error="e") == {"type": "modal"}
    assert Args({"v": ""}).json_object("v", error="e") is None
    for bad in ("{not json", "[1]", 5):
        with pytest.raises(SlackError) as raised:
            Args({"v": bad}).json_object("v", error="invalid_arguments")
        assert raised.value.error == "invalid_arguments"
