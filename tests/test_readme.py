"""The README stays true: it documents every /incident subcommand."""

from __future__ import annotations

from pathlib import Path

from bot.slack.listeners.commands.incident import SUBCOMMANDS

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_subcommand_is_documented() -> None:
    missing = [sub.usage for sub in SUBCOMMANDS.values() if f"`{sub.usage}`" not in README]
    assert not missing, f"README.md does not document {missing}"


def test_the_two_commands_come_first() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_the_reliability_page_names_tests_that_exist() -> None:
    """docs/reliability.md proves each guarantee by a test: each one it names must exist."""
    import re

    root = Path(__file__).parent.parent
    page = (root / "docs" / "reliability.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", page)
    assert len(named) > 30
    missing = [
        f"{path}::{name}" for path, name in named if f"def {name}(" not in (root / path).read_text()
    ]
    assert not missing, f"docs/reliability.md names tests that do not exist: {missing}"
