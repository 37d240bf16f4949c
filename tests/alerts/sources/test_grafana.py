from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.alerts.sources import grafana
from tests.payloads import grafana_notification


def test_parses_unified_alerting_v1() -> None:
    batch = grafana.parse(grafana_notification())
    assert batch.source == "grafana"
    assert batch.group_key == 'org1:{}/{team="payments"}:{}'
    [alert] = batch.alerts
    assert alert.labels["service"] == "checkout-fraud"
    assert alert.fingerprint == "9ab0c1d2e3f40516"


def test_same_group_key_in_two_orgs_is_two_groups() -> None:
    one = grafana.parse(grafana_notification(orgId=1)).group_key
    two = grafana.parse(grafana_notification(orgId=2)).group_key
    assert one != two


def test_alertmanager_version_is_refused() -> None:
    with pytest.raises(ValidationError):
        grafana.parse(grafana_notification(version="4"))
