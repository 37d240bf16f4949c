from __future__ import annotations

from pathlib import Path

import pytest

from bot.playbooks.loader import load_library
from tests.paths import ROOT

SHIPPED = ROOT / "playbooks"


def test_shipped_playbooks_load() -> None:
    library = load_library(SHIPPED)
    assert library.problems == []
    assert set(library.playbooks) == {
        "rollback",
        "heuristic-fallback",
        "traffic-freeze",
        "traffic-unfreeze",
    }
    assert all(p.needs_approval and p.changes_state for p in library.playbooks.values())


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("steps:\n  - {name: a, action: rollbak}\n", "steps[0].action", "unknown action 'rollbak'"),
        (
            "steps:\n  - {name: a, action: set_mode, with: {service: x}}\n",
            "steps[0]",
            "with.mode: Field required",
        ),
        (
            "steps:\n  - {name: a, action: freeze, with: {servce: x}}\n",
            "steps[0]",
            "with.servce: Extra inputs are not permitted",
        ),
        (
            "steps:\n  - {name: a, action: get_state}\n  - {name: a, action: get_state}\n",
            "(body)",
            "steps[1].name 'a' is used twice",
        ),
        (
            "steps:\n  - {name: a, action: get_state, retries: 99}\n",
            "steps[0].retries",
            "less than or equal to 10",
        ),
        (
            "steps:\n  - {name: a, action: get_state, timeout: soon}\n",
            "steps[0].timeout",
            "not a duration",
        ),
        (
            "steps:\n  - {name: a, action: slack_message, with: {text: '{{ oops'}}\n",
            "steps[0].with.text",
            "template error",
        ),
        (
            "steps:\n  - {name: a, action: wait_for, with: {condition: prometheus}}\n",
            "steps[0]",
            "a prometheus wait needs a url",
        ),
        (
            "steps:\n  - {name: a, action: set_mode, with: {mode: x}, on_failure: compensate}\n",
            "steps[0]",
            "needs `compensate:` steps",
        ),
        ("steps: []\n", "steps", "at least 1"),
    ],
)
def test_errors_name_file_place_and_reason(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\ndescription: d\n" + text)
    library = load_library(tmp_path)
    assert library.playbooks == {}
    assert any(
        str(p).startswith(f"{tmp_path / 'broken.yaml'}: {where}: ") and reason in str(p)
        for p in library.problems
    ), [str(p) for p in library.problems]


def test_every_error_of_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text(
        "name: two\ndescription: d\nsteps:\n"
        "  - {name: a, action: nope}\n"
        "  - {name: b, action: slack_message, with: {text: '{{ x }'}}\n"
    )
    places = {p.where for p in load_library(tmp_path).problems}
    assert places == {"steps[0].action", "steps[1].with.text"}


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    body = "description: d\nsteps:\n  - {name: a, action: get_state}\n"
    (tmp_path / "a.yaml").write_text("name: same\n" + body)
    (tmp_path / "b.yaml").write_text("name: same\n" + body)
    library = load_library(tmp_path)
    assert list(library.playbooks) == ["same"]
    assert [str(p) for p in library.problems] == [
        f"{tmp_path / 'b.yaml'}: name: 'same' is defined twice"
    ]
