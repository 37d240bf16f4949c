"""Fuzzing the alert webhooks (Alertmanager and Grafana): see tests/fuzzing.py for the
strategies and the oracle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings

from tests.fuzzing import (
    EXAMPLES,
    FUZZ,
    Case,
    Store,
    alertmanager_body,
    check_webhook,
    grafana_body,
    webhook_cases,
)
from tests.scenario import Bot

# Hypothesis warns that 100 kB examples make long reprs; that is the point of them.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


@pytest.mark.parametrize(
    ("source", "version", "build"),
    [("alertmanager", "4", alertmanager_body), ("grafana", "1", grafana_body)],
)
def test_fuzzed_alert_notifications(
    fuzzed: tuple[Bot, Store], source: str, version: str, build: Callable[[], dict[str, Any]]
) -> None:
    bot, store = fuzzed
    sent: list[Case] = []

    @settings(FUZZ, max_examples=EXAMPLES[source])
    @given(case=webhook_cases(version, build))
    def check(case: Case) -> None:
        sent.append(case)
        check_webhook(bot, store, source, case)

    check()
    valid = sum(c.valid for c in sent)
    print(f"{source}: {len(sent)} requests, {valid} valid")  # shown with -s
    assert len(sent) >= EXAMPLES[source]
    assert valid > 20 and len(sent) - valid > 100
