"""The README stays true: it documents every /incident subcommand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources.templated import make_receiver
from bot.config import load_config
from bot.slack.listeners.commands.incident import SUBCOMMANDS
from tests.fakes import FakeClock
from tests.paths import ROOT

README = (ROOT / "README.md").read_text()


def test_every_subcommand_is_documented() -> None:
    missing = [sub.usage for sub in SUBCOMMANDS.values() if f"`{sub.usage}`" not in README]
    assert not missing, f"README.md does not document {missing}"


def test_the_two_commands_come_first() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


@pytest.mark.parametrize("page", ["reliability.md", "security.md"])
def test_the_guarantee_pages_name_tests_that_exist(page: str) -> None:
    """docs/reliability.md and docs/security.md prove each guarantee by a test: each one they
    name must exist."""
    text = (ROOT / "docs" / page).read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(named) > 30
    missing = [
        f"{path}::{name}" for path, name in named if f"def {name}(" not in (ROOT / path).read_text()
    ]
    assert not missing, f"docs/{page} names tests that do not exist: {missing}"
    files = re.findall(r"`(tests/[\w/]+\.py)`", text)
    assert [f for f in files if not (ROOT / f).is_file()] == []


def test_every_picture_it_shows_is_there() -> None:

    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", README)
    assert pictures, "the README shows the local workspace's screenshots"
    assert [p for p in pictures if not (ROOT / p).is_file()] == []


def test_make_targets_it_names_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    named = set(re.findall(r"`make ([a-z-]+)`", README)) | {"run", "test", "demo"}
    assert [t for t in sorted(named) if not re.search(rf"^{t}:", makefile, re.M)] == []


def test_its_config_snippets_load_and_its_sources_read_their_samples(tmp_path: Path) -> None:
    """Every ```yaml block that is a firebreak.yaml fragment (not Alertmanager's config or a CI
    step) loads, and a source it shows reads its own sample."""
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.S)
    fragments = [b for b in blocks if isinstance(yaml.safe_load(b), dict) and "receivers" not in b]
    assert any(b.startswith("sources:") for b in fragments)
    for n, block in enumerate(fragments):
        path = tmp_path / f"block{n}.yaml"
        path.write_text(block, encoding="utf-8")
        config = load_config(path)
        for name, spec in config.sources.items():
            assert spec.sample is not None, name
            receiver = make_receiver(name, spec, clock=FakeClock(), environ={})
            batch = receiver.parse(spec.sample)
            assert isinstance(batch, AlertBatch) and batch.service == "search-ranker"
