"""examples/prometheus: the alert rules on Firebreak itself load, and fire when they should."""

from __future__ import annotations

import subprocess

from tests.paths import ROOT
from tests.processes import require_binary

RULES = ROOT / "examples" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool", "prometheus")
    return subprocess.run(
        [binary, *args], cwd=RULES, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_are_valid() -> None:
    checked = promtool("check", "rules", "firebreak-rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout


def test_cannot_reach_slack_fires_on_transport_errors_only() -> None:
    tested = promtool("test", "rules", "firebreak-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
