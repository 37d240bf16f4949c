"""Grafana-managed (unified) alerting webhook notifications (version 1)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from bot.alerts.schemas import Alert, AlertBatch
from bot.alerts.sources.common import WireAlert, WireGroup
from bot.alerts.sources.errors import BadSignature

SOURCE = "grafana"


class GrafanaNotification(WireGroup):
    version: Literal["1"]
    orgId: int | None = None
    title: str | None = None  # deprecated by Grafana; we title incidents from labels instead


def parse(body: Any) -> AlertBatch:
    """Raises pydantic.ValidationError naming the field at fault."""
    note = GrafanaNotification.model_validate(body)
    return AlertBatch(
        # groupKey is opaque and Grafana's may collide with another org's: keep orgs apart.
        source=SOURCE,
        group_key=f"org{note.orgId}:{note.groupKey}" if note.orgId is not None else note.groupKey,
        alerts=[_with_image(a) for a in note.alerts],
        common_labels=note.commonLabels,
        common_annotations=note.commonAnnotations,
        external_url=note.externalURL or None,
        truncated_alerts=note.truncatedAlerts,
    )


# Grafana's image of the alert (a screenshot of its panel, when the instance renders them) is
# kept with the alert as this annotation: the incident's channel shows it (bot.evidence).
IMAGE_ANNOTATION = "imageURL"


def _with_image(wire: WireAlert) -> Alert:
    alert = wire.normalise()
    url = (wire.model_extra or {}).get("imageURL")
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        return alert
    return replace(alert, annotations={**alert.annotations, IMAGE_ANNOTATION: url})


# Grafana's webhook contact point signs each notification when its "HMAC Signature" secret is
# set (grafana/alerting, http/hmac.go): the lowercase hex HMAC-SHA256 of the raw body, or of
# "<unix seconds>:<body>" when a timestamp header is configured (it has no default name; we
# ask for the one below). The signature header's placeholder in Grafana's form is this one.
SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
REPLAY_WINDOW_S = 300


def check_signature(headers: Mapping[str, str], raw: bytes, secret: str, *, now: float) -> None:
    """The timestamp header is required: a signature of the body alone would verify forever,
    so one captured notification could be replayed at any time."""
    given = headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not given:
        raise BadSignature(f"missing {SIGNATURE_HEADER} header")
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not stamp:
        raise BadSignature(
            f"missing {TIMESTAMP_HEADER} header: set the contact point's Timestamp header to it "
            "(a signature without a time could be replayed forever)"
        )
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise BadSignature(f"{TIMESTAMP_HEADER} is not a Unix time in seconds")
    if abs(now - int(stamp)) > REPLAY_WINDOW_S:
        raise BadSignature(f"{TIMESTAMP_HEADER} is more than {REPLAY_WINDOW_S} s away")
    signed = stamp.encode() + b":" + raw
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    # compare_digest: the time taken must not reveal how much of the signature matched.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
