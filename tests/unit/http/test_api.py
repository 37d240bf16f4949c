"""Scenario tests of the JSON API (bot/http/api.py): the whole app over HTTP, with the embedded
Slack stand-in answering as Slack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import FirebreakConfig
from tests.scenario import Bot, clean_env, running_bot


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_api_errors_are_json(bot: Bot) -> None:
    missing = bot.http.get("/api/incidents/INC-42")
    assert missing.status_code == 404 and missing.json() == {
        "error": "not_found",
        "message": "no incident INC-42",
    }
    assert bot.http.get("/api/incidents/banana").status_code == 404
    # Unicode digits are not an id, nor is a number beyond the id column's range.
    for odd in ("INC-%C2%B2", "INC-99999999999", "a%2Fb", "INC-1/elsewhere"):
        answer = bot.http.get(f"/api/incidents/{odd}")
        assert answer.status_code == 404 and answer.json()["error"] == "not_found", odd
    assert bot.http.get("/api/incidents?limit=0").status_code == 422
    assert bot.http.get("/api/incidents?limit=x").json()["error"] == "invalid_request"
