"""`firebreak demo` end to end: on the real Prometheus and Alertmanager, and without them.

The demo places its on-call rotation by its clock (tests/unit/demo/test_rotation.py runs it
at many dates and in both weeks), so U0BEN0002 commands whatever day these run."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import pytest

from bot.demo.story import run_demo
from tests.processes import require_binary

ON_CALL = "U0BEN0002 is on call for search-ranker this week"
MILESTONES = [
    "example model service up at http://127.0.0.1:",
    "Firebreak up at http://127.0.0.1:",
    "deployed v43-bad to search-ranker",
    "INC-1 opened: #inc-1-search-ranker-click-through-rate, SEV1, commander U0BEN0002",
    "U0BEN0002 typed /incident rollback",
    "Firebreak asks for approval",
    "U0BEN0002 clicked Approve and run",
    "the rollback playbook moved search-ranker from v43-bad back to v42",
    "quality signal recovered",
    "ModelQualityDrop resolved: INC-1's timeline says all its alerts are resolved",
    "playbook run: rollback succeeded in INC-1.",
    "budget: Consumed ",
    "budget: INC-1 consumed ",
    "U0BEN0002 resolved INC-1",
    "postmortem written: ",
    "postmortem: Error budget: this incident consumed ",
    "done in ",
]
_STAMP = re.compile(r"^\[ *(\d+\.\d)s\] (.*)$")


def told(transcript: str) -> list[tuple[float, str]]:
    lines = [_STAMP.match(line) for line in transcript.splitlines()]
    assert all(lines), transcript  # every line stamped
    return [(float(m[1]), m[2]) for m in lines if m]


def in_order(lines: list[str], wanted: list[str]) -> list[int]:
    """The index of the line holding each wanted text, which must come in this order."""
    found: list[int] = []
    for text in wanted:
        start = found[-1] + 1 if found else 0
        hit = next((i for i in range(start, len(lines)) if text in lines[i]), None)
        assert hit is not None, f"{text!r} not told after line {start}:\n" + "\n".join(lines)
        found.append(hit)
    return found


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: bool) -> tuple[int, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = io.StringIO()
    code = run_demo(output=tmp_path / "postmortems", out=out, **options)
    assert list(scratch.iterdir()) == []  # the temporary folder went with the servers
    return code, out.getvalue()


def test_the_whole_loop_on_prometheus_and_alertmanager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_binary("prometheus", "prometheus")
    require_binary("prometheus-alertmanager", "prometheus-alertmanager")

    code, transcript = run(tmp_path, monkeypatch)

    assert code == 0, transcript
    stamped = told(transcript)
    lines = [text for _, text in stamped]
    in_order(
        lines,
        [
            *MILESTONES[:2],
            "Alertmanager up at http://127.0.0.1:",
            "Prometheus up at http://127.0.0.1:",
            ON_CALL,
            "Prometheus scrapes search-ranker: click-through rate 0.12",
            MILESTONES[2],
            "the deploy pipeline told Firebreak: search-ranker v42 → v43-bad",
            "Prometheus: ModelQualityDrop firing; Alertmanager notifies Firebreak",
            MILESTONES[3],
            "Firebreak posted the alert's graph from Prometheus: INC-1-alert.png",
            *MILESTONES[4:8],
            "quality signal recovered: Prometheus reads click-through rate 0.12",
            *MILESTONES[9:],
        ],
    )
    assert not any("not installed" in line for line in lines)
    assert stamped[-1][0] < 120  # the demo's promise: the loop closes in under 2 minutes
    [postmortem] = (tmp_path / "postmortems").glob("INC-1-*.md")
    assert f"postmortem written: {postmortem}" in lines
    document = postmortem.read_text()
    assert document.startswith(
        "# INC-1 postmortem: search-ranker: click-through rate dropped below 0.05"
    )
    # The alert came through Alertmanager from the real Prometheus (its graph link).
    assert re.search(
        r"\| alertmanager \| Alert firing: ModelQualityDrop \| \[link\]"
        r"\(http://127\.0\.0\.1:\d+/graph\?g0\.expr=",
        document,
    )
    assert "→ v42 (model)" in document
    assert "u0ben0002 approved rollback" in document  # by name: the stand-in knows no other
    # The evidence: the model card read at opening, and both pictures beside the document.
    assert "Model card of search-ranker: live v43-bad, before it v42" in document
    stem = postmortem.name.removesuffix(".md")
    for picture in (f"{stem}-budget.png", f"{stem}-alert.png"):
        assert f"]({picture})" in document
        assert (postmortem.parent / picture).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_without_prometheus_it_says_how_to_install_and_posts_the_webhook_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no prometheus, no alertmanager on it
    earlier = tmp_path / "postmortems" / "INC-1-search-ranker-click-through-rate.md"
    earlier.parent.mkdir()
    earlier.write_text("from an earlier demo")  # the same name: it must not count
    os.utime(earlier, (1_700_000_000, 1_700_000_000))

    code, transcript = run(tmp_path, monkeypatch)

    assert code == 0, transcript
    lines = [text for _, text in told(transcript)]
    assert lines[0] == (
        "Prometheus or Alertmanager is not installed (sudo apt-get install prometheus "
        "prometheus-alertmanager): the demo posts Alertmanager's webhook itself instead"
    )
    in_order(
        lines,
        [
            *MILESTONES[:2],
            ON_CALL,
            MILESTONES[2],
            "posted Alertmanager's notification: ModelQualityDrop firing on search-ranker",
            *MILESTONES[3:8],
            "quality signal recovered: the model service reports click-through rate 0.12",
            *MILESTONES[9:],
        ],
    )
    assert not any(line.startswith(("Prometheus up", "Alertmanager up")) for line in lines)
    [postmortem] = (tmp_path / "postmortems").glob("INC-1-*.md")
    assert postmortem == earlier and f"postmortem written: {postmortem}" in lines
    assert "| alertmanager | Alert resolved: ModelQualityDrop" in postmortem.read_text()
