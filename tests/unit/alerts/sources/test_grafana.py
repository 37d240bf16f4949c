from __future__ import annotations

import hmac
from hashlib import sha256

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


SECRET = "grafana-hmac-secret-5d2e"
BODY = b'{"version": "1"}'
NOW = 1_764_212_400.0


def signed(body: bytes, *, secret: str = SECRET, stamp: str | None = None) -> dict[str, str]:
    """Headers as Grafana's HMAC signer writes them (grafana/alerting http/hmac.go)."""
    message = body if stamp is None else f"{stamp}:".encode() + body
    headers = {grafana.SIGNATURE_HEADER: hmac.new(secret.encode(), message, sha256).hexdigest()}
    if stamp is not None:
        headers[grafana.TIMESTAMP_HEADER] = stamp
    return headers


def test_signature_of_the_timestamp_and_body() -> None:
    for stamp in (str(int(NOW) - 60), str(int(NOW)), str(int(NOW) + 60)):
        grafana.check_signature(signed(BODY, stamp=stamp), BODY, SECRET, now=NOW)


def test_a_signature_without_its_timestamp_is_refused() -> None:
    """It would verify forever: one captured notification could be replayed at any time."""
    with pytest.raises(grafana.BadSignature, match="missing X-Grafana-Alerting-Signature-Time"):
        grafana.check_signature(signed(BODY), BODY, SECRET, now=NOW)
    # Not even the moment after it was made.
    with pytest.raises(grafana.BadSignature, match="replayed forever"):
        grafana.check_signature(signed(BODY), BODY, SECRET, now=NOW + 3600 * 24 * 365)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-Grafana-Alerting-Signature"),
        (signed(BODY, secret="another-secret", stamp=str(int(NOW))), "does not match the body"),
        (signed(BODY + b" ", stamp=str(int(NOW))), "does not match the body"),
        (signed(BODY, stamp=str(int(NOW) - 301)), "more than 300 s away"),
        (signed(BODY, stamp=str(int(NOW) + 301)), "more than 300 s away"),
        (signed(BODY, stamp="yesterday"), "not a Unix time"),
        (signed(BODY, stamp="9" * 5000), "not a Unix time"),
        # The timestamp is part of what is signed: another one breaks the signature.
        (
            {**signed(BODY, stamp=str(int(NOW))), grafana.TIMESTAMP_HEADER: str(int(NOW) - 1)},
            "does not match the body",
        ),
    ],
)
def test_bad_signatures_are_refused(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(grafana.BadSignature, match=reason):
        grafana.check_signature(headers, BODY, SECRET, now=NOW)
