"""Golden test: a scripted incident, run through the real flows on a controllable clock, renders
to exactly the stored postmortem, with its burn-down chart (a PNG: checked in test_chart.py, not
byte for byte here, since its pixels change with matplotlib's version) beside it.

The script: a ranker's NDCG alert fires at 02:58, the on-call commander takes it, the scribe
notes the cause, the commander rolls the model back with approval, the alert resolves at 03:04,
the incident resolves at 03:20. Regenerate after an intended change with
`FIREBREAK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/postmortem/test_golden.py` and read
the diff before committing it.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.alerts.sources import alertmanager
from bot.budget.slo import Slo
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import intake, lifecycle, notes, roles
from bot.incidents.models import Status
from bot.playbooks import engine
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.postmortem import flows
from bot.postmortem.filters import duration
from tests.domain import incident_with_channel
from tests.fakes import FakeChat, FakeClock, FakeProbe, FakeTarget, FakeTargets
from tests.paths import ROOT
from tests.payloads import am_alert, am_notification

SHIPPED = ROOT / "playbooks"
GOLDEN = Path(__file__).parent / "golden"
ANA, BEN = "U0ANA0001", "U0BEN0002"
# Step durations are measured on the real monotonic clock; everything else is scripted.
_STEP_TIME = re.compile(r"(?<=\| )\d+(?:ms|s)(?: \d+ms)?(?= \|)|(?<=in )\d+ ms")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BACKOFF_BASE_S", 0.001)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_scripted_incident_renders_the_golden_postmortem(
    ctx: Context, config: FirebreakConfig, clock: FakeClock, chat: FakeChat
) -> None:
    config.services["search-ranker"].slo = Slo(target=99.95, window="7d")
    runner = Runner(
        ctx=ctx,
        library=load_library(SHIPPED),
        targets=FakeTargets({"search-ranker": FakeTarget()}),
        probe=FakeProbe(),
        new_uid=lambda: "run1",  # random in production
    )
    incident = await incident_with_channel(ctx)  # 03:00, alert firing since 02:58:00
    clock.advance(minutes=1)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.SCRIBE, user=BEN, by=ANA)
    clock.advance(minutes=2)
    await notes.add_note(
        ctx, incident_id=incident.id, text="Ranker v42 was promoted at 02:51", by=BEN
    )
    clock.advance(minutes=1)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=ANA)
    await runner.approve(run_id=run.id, by=ANA)
    # The rollback worked at once: the alert resolves before the run's last step checks it.
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:04:00Z"))
    await intake.receive(ctx=ctx, batch=alertmanager.parse(resolved))
    await runner.execute(run.id)
    clock.advance(minutes=1)
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MITIGATED, by=ANA)
    await notes.add_action(
        ctx,
        incident_id=incident.id,
        text="Gate model promotions on offline NDCG",
        by=ANA,
        owner=BEN,
        action_type="prevent",
        due=date(2026, 12, 11),
    )
    clock.advance(minutes=15)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    clock.advance(minutes=5)

    path = await flows.write(ctx, incident_id=incident.id)
    chart = path.with_name(path.stem + "-budget.png")
    markdown = _STEP_TIME.sub("(time)", path.read_text())
    check_golden(GOLDEN / path.name, markdown)
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # The numbers a reviewer recomputes by hand: the alert fired 02:58:00.123 → 03:04:00, all
    # of it bad time, against 0.05% of 7 days.
    consumed = timedelta(minutes=6) - timedelta(microseconds=123457)
    assert "consumed 5m 59s of bad time" in markdown
    assert "of the 5m 2s budget" in markdown  # 7 d x 0.05% = 302.4 s
    assert f"overspent by {duration(consumed - timedelta(seconds=302.4))}" in markdown
    assert f"![Error budget left over the incident, with its milestones]({chart.name})" in markdown

    # Shared in the channel as written: the document, and the chart as an image Slack shows.
    await flows.publish(ctx, incident_id=incident.id)
    shared = {name: content for _, name, content in chat.files}
    assert list(shared) == [path.name, chart.name]
    assert shared[chart.name] == chart.read_bytes()  # the same incident draws the same bytes


def check_golden(golden: Path, actual: str) -> None:
    if os.environ.get("FIREBREAK_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden.name}: run with FIREBREAK_UPDATE_GOLDEN=1"
    assert actual == golden.read_text(), f"{golden.name} differs from the golden file"
