"""The default postmortem template, custom templates and template errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.postmortem.facts import Facts, facts_from
from bot.postmortem.render import DEFAULT_TEMPLATE, TemplateProblem, render
from tests.unit.postmortem import sample as s

HEADINGS = [
    "## Summary",
    "## Impact",
    "## Responders",
    "## Timeline (UTC)",
    "## Contributing factors",
    "## Trigger",
    "## Detection",
    "## Response and mitigation",
    "## Recovery",
    "## What went well",
    "## What went poorly",
    "## Where we got lucky",
    "## Action items",
    "## Metrics",
]
PRIORITY = "Priority action item required by the error-budget policy"


def facts(**kw: object) -> Facts:
    values: dict[str, object] = {
        "incident": s.incident(),
        "alerts": [s.alert("RankerCTRDrop", 0, 30), s.alert("RankerLatency", 2)],
        "timeline": s.timeline(),
        "runs": s.runs(),
        "steps": s.steps(),
        "names": s.NAMES,
    }
    values.update(kw)
    return facts_from(**values)  # type: ignore[arg-type]


def cells(row: str) -> list[str]:
    """A Markdown table row split as GitHub does: a backslash escapes the next character."""
    assert row.startswith("|") and row.endswith("|"), row
    found, current, i = [], "", 1
    while i < len(row):
        char = row[i]
        if char == "\\" and i + 1 < len(row):
            current += row[i : i + 2]
            i += 2
            continue
        if char == "|":
            found.append(current.strip())
            current = ""
        else:
            current += char
        i += 1
    return found


def section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def timeline_rows(text: str) -> list[str]:
    part = section(text, "## Timeline (UTC)")
    rows = [line for line in part.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| Time (UTC) |")
    return rows[1:]


def test_every_section_and_the_draft_status_are_there_in_order() -> None:
    text = render(facts=facts())
    assert text.startswith("# INC-7 postmortem: search-ranker: CTR dropped 40%\n")
    assert "\nStatus: draft\n" in text
    positions = [text.index(f"\n{h}\n") for h in HEADINGS]
    assert positions == sorted(positions)


def test_timeline_is_in_time_order_with_evidence_links() -> None:
    rows = timeline_rows(render(facts=facts()))
    times = [cells(r)[0] for r in rows]
    assert times == sorted(times)
    assert times[0] == "2026-11-27 03:00:00 UTC"  # starts when impact began, before detection
    assert len(rows) == len(s.timeline())
    deploy = next(r for r in rows if "Ranker v42 went live" in r)
    assert cells(deploy) == [
        "2026-11-27 03:09:00 UTC",
        "@U0CAI0003",
        "Ranker v42 went live at 02:55",
        "[link](https://mlflow.example.com/models/ranker/42)",
    ]


def test_timeline_opens_with_impact_start_when_no_entry_marks_it() -> None:
    later = [e for e in s.timeline() if e.kind != "alert.firing"]
    rows = timeline_rows(render(facts=facts(timeline=later)))
    first = cells(rows[0])
    assert first[0] == "2026-11-27 03:00:00 UTC"
    assert "Impact began: alert RankerCTRDrop started firing" in first[2]
    assert len(rows) == len(later) + 1


def test_mentions_use_display_names_when_known() -> None:
    text = render(facts=facts())
    assert "- **Incident commander:** Ana Ortiz" in text
    assert "- **Scribe:** Ben Wu" in text
    assert "- **Others who acted:** @U0CAI0003" in text  # no known name
    assert "| Ana Ortiz | Ana Ortiz is now the incident commander |" in text
    assert "Asked @U0CAI0003 to watch CTR" in text
    assert "Requested by Ana Ortiz; approved by Ben Wu." in text
    assert "<@" not in text


def test_pipes_newlines_and_backslashes_stay_inside_their_cell() -> None:
    nasty = "rate | 5xx\nthen\r\nmore C:\\tmp\\|x <@U0ANA0001>"
    entries = [*s.timeline(), s.entry(30, nasty, actor=s.BEN, link="https://x.example/a b|c")]
    rows = timeline_rows(render(facts=facts(timeline=entries)))
    assert all(len(cells(r)) == 4 for r in rows)
    row = next(r for r in rows if "rate" in r)
    who, what, evidence = cells(row)[1:]
    assert who == "Ben Wu"
    assert what == "rate \\| 5xx<br>then<br>more C:\\\\tmp\\\\\\|x Ana Ortiz"
    assert evidence == "[link](https://x.example/a%20b%7Cc)"


def test_step_errors_with_pipes_do_not_break_the_steps_table() -> None:
    steps = [*s.steps()]
    steps[0].error = "HTTP 409 | conflict\nretry later"
    steps[0].status = "failed"
    text = render(facts=facts(steps=steps))
    part = section(text, "### Playbook run #3: rollback (succeeded)")
    rows = [line for line in part.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and all(len(cells(r)) == 7 for r in rows)
    assert "HTTP 409 \\| conflict<br>retry later" in rows[2]
    assert "| 4m 12s |" in rows[2]


def test_budget_numbers_and_the_priority_row_above_twenty_percent() -> None:
    text = render(facts=facts(**s.budget_for(20)))
    impact = section(text, "## Impact")
    assert "this incident consumed 10m of bad time, 23.1% of the 43m 12s budget" in impact
    assert "Bad time is the alerts' firing time at full impact, counted from impact start" in impact
    assert "the 99.9% SLO allows over 30d" in impact
    assert ": 33m 12s, after 10m spent by all incidents." in impact
    actions = section(text, "## Action items")
    rows = [line for line in actions.splitlines() if line.startswith("| ")]
    assert PRIORITY in rows[1]
    assert "23.1% of the 30d error budget" in rows[1]
    assert [cells(r)[0] for r in rows[1:]] == ["prevent", "mitigate", "prevent", "process"]


@pytest.mark.parametrize("minutes_at_half", [10, 17.28])  # 11.6%, and exactly 20%
def test_no_priority_row_at_or_below_twenty_percent(minutes_at_half: float) -> None:
    text = render(facts=facts(**s.budget_for(minutes_at_half)))
    assert PRIORITY not in text
    assert "error-budget policy calls" not in text
    assert "| mitigate | | | | |" in text


def test_without_a_budget_nothing_is_invented() -> None:
    text = render(facts=facts())
    assert "- **Users affected:** not measured." in text
    assert "- **Requests affected:** not measured." in text
    assert "- **Error budget:** not computed: no SLO was given for this service." in text
    assert PRIORITY not in text


def test_metrics_say_what_each_time_is_measured_from() -> None:
    metrics = section(render(facts=facts()), "## Metrics")
    rows = {cells(r)[0]: cells(r)[1:] for r in metrics.splitlines() if r.startswith("| Time")}
    began = "impact start: when responders say impact began, else when the first alert began firing"
    assert rows["Time to detect"][:2] == ["3m", began]
    assert rows["Time to acknowledge"][:2] == ["2m", "detection: the incident was opened"]
    assert rows["Time to mitigate"][:2] == ["14m", began]
    assert rows["Time to resolve"][:2] == ["45m", "detection: the incident was opened"]
    assert "| Impact started | 2026-11-27 03:00:00 UTC |" in metrics


def test_a_declared_incident_without_alerts_or_runs_still_renders() -> None:
    text = render(
        facts=facts(
            incident=s.incident(source="slack", declared_by=s.ANA, mitigated_at=None),
            alerts=[],
            runs=[],
            steps=[],
        )
    )
    assert "no alert fired; the incident was declared by Ana Ortiz from slack." in text
    assert "No playbook was run." in text
    # No alert: impact counts from detection (03:03) to the status change to mitigated (03:21).
    assert "- **Duration:** 18m of impact, from impact start (when responders say" in text


def test_a_custom_template_path_overrides_the_default(tmp_path: Path) -> None:
    custom = tmp_path / "ours.md.j2"
    custom.write_text(
        "{{ facts.ref }} by {{ facts.commander | mention }} at "
        "{{ facts.milestones.detected | utc }}; TTD {{ facts.time_to_detect | duration }}\n"
    )
    assert render(facts=facts(), template=custom) == (
        "INC-7 by Ana Ortiz at 2026-11-27 03:03:00 UTC; TTD 3m\n"
    )
    assert render(facts=facts(), template=str(custom)).startswith("INC-7 by")


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md.j2"
    broken.write_text("# {{ facts.ref }}\n\n{% for e in facts.timeline %}\n{{ e.text }}\n")
    with pytest.raises(TemplateProblem) as caught:
        render(facts=facts(), template=broken)
    assert caught.value.line == 4
    assert caught.value.template == str(broken)
    assert str(caught.value).startswith(f"{broken}, line 4: ")


def test_a_typo_in_a_variable_is_caught_with_its_line(tmp_path: Path) -> None:
    typo = tmp_path / "typo.md.j2"
    typo.write_text("# {{ facts.ref }}\n{{ facts.titel }}\n")
    with pytest.raises(TemplateProblem) as caught:
        render(facts=facts(), template=typo)
    assert caught.value.line == 2
    assert "titel" in caught.value.reason
    assert caught.value.template == str(typo)


def test_a_filter_misused_at_render_time_gives_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md.j2"
    bad.write_text("ok\n\n\n{{ facts.title | duration }}\n")
    with pytest.raises(TemplateProblem) as caught:
        render(facts=facts(), template=bad)
    assert caught.value.line == 4
    assert "TypeError" in caught.value.reason


def test_templates_run_in_a_sandbox(tmp_path: Path) -> None:
    escape = tmp_path / "escape.md.j2"
    escape.write_text("{{ facts.__class__.__init__.__globals__ }}\n")
    with pytest.raises(TemplateProblem) as caught:
        render(facts=facts(), template=escape)
    assert caught.value.line == 1
    assert "unsafe" in caught.value.reason
    mutate = tmp_path / "mutate.md.j2"
    mutate.write_text("{% set seen = [] %}\n{{ seen.append(facts.ref) }}\n")
    with pytest.raises(TemplateProblem, match="unsafe") as caught:
        render(facts=facts(), template=mutate)
    assert caught.value.line == 2


def test_a_missing_template_is_a_template_problem(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match="no such template file"):
        render(facts=facts(), template=tmp_path / "nope.md.j2")


def test_the_default_template_is_the_packaged_one() -> None:
    assert DEFAULT_TEMPLATE.is_file()
    assert render(facts=facts(), template=DEFAULT_TEMPLATE) == render(facts=facts())


def test_ten_thousand_entries_render_completely() -> None:
    entries = [
        s.entry(i / 100, f"event {i:05d} | step", actor=s.ANA if i % 2 else s.BEN)
        for i in range(10_000)
    ]
    text = render(facts=facts(timeline=entries))
    rows = timeline_rows(text)
    assert len(rows) == 10_000
    numbers = [int(m[1]) for r in rows if (m := re.search(r"event (\d{5}) \\\| step", r))]
    assert numbers == list(range(10_000))
    assert all(len(cells(r)) == 4 for r in rows[::997])


def test_a_sev1_asks_for_a_prompt_review() -> None:
    assert "within three days" in render(facts=facts(incident=s.incident(severity="SEV1")))
    assert "within three days" not in render(facts=facts())


def test_the_facts_fields_are_read_and_all_else_still_checked(tmp_path: Path) -> None:
    # Fields of the facts' frozen dataclasses skip the sandbox's checks; what a field holds,
    # and the facts' other attributes, do not.
    fields = tmp_path / "fields.md.j2"
    fields.write_text("{{ facts.ref }} {{ facts.milestones.detected.year }}\n")
    assert render(facts=facts(), template=fields) == f"{facts().ref} 2026\n"
    for reach in ("facts.milestones.__class__", "facts.ref.__class__", "facts.__slots__"):
        probe = tmp_path / "probe.md.j2"
        probe.write_text(f"{{{{ {reach}.__init__.__globals__ }}}}\n")
        with pytest.raises(TemplateProblem, match="unsafe"):
            render(facts=facts(), template=probe)
