"""What a playbook's templates refer to, read from Jinja's syntax tree: earlier steps, declared
parameters and the incident's fields pass; anything else is a problem at its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.incidents.models import Incident
from bot.playbooks.loader import load_library, load_paths
from bot.playbooks.models import Playbook
from bot.playbooks.references import INCIDENT_FIELDS, reference_problems, references
from bot.playbooks.templates import incident_vars
from tests.paths import ROOT


def playbook(steps: list[dict[str, Any]], parameters: dict[str, Any] | None = None) -> Playbook:
    return Playbook.model_validate(
        {"name": "p", "description": "d", "parameters": parameters or {}, "steps": steps}
    )


def note(name: str, text: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "action": "timeline_note", "with": {"text": text}, **more}


BEFORE = {"name": "before", "action": "get_state", "with": {"service": "{{ params.service }}"}}
SERVICE = {"service": {"default": "{{ incident.service }}"}}


def problems(text: str, **more: Any) -> list[tuple[str, str]]:
    """The problems of `text` as the second step's note, after step `before`."""
    return reference_problems(playbook([BEFORE, note("tell", text, **more)], SERVICE))


@pytest.mark.parametrize(
    "text",
    [
        "{{ steps['before'].state.mode }}",
        '{{ steps["before"].state }}',
        "{{ steps.before.state.active_version }}",
        "{{ steps.get('before') }}",
        "{{ params.service }} {{ params['service'] | upper }}",
        "{{ incident.ref }}: {{ incident.title }} ({{ incident.severity }})",
        "{% if params.service == 'ranker' %}{{ steps.before.state }}{% endif %}",
        "{{ steps.before.state if 'before' in steps else params.service | default('-') }}",
        # Loop variables and names set in the template are the template's own.
        "{% for s in steps.values() %}{{ s.state }} {{ loop.index }}{% endfor %}",
        "{% for name, result in steps.items() %}{{ name }}={{ result }}{% endfor %}",
        "{% for step in [1, 2] %}{{ step }}{% endfor %}",
        "{% set mode = steps.before.state.mode %}{{ mode }}",
        "{% for x in range(3) %}{{ x }}{% endfor %}{{ lipsum(1) }}",
        # Computed: known only when it runs.
        "{{ steps[params.service] }}",
        "no template at all: steps.nothing, params.nothing",
    ],
)
def test_what_a_step_sees_passes(text: str) -> None:
    assert problems(text) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "{{ steps['rollbak'].state }}",
            "steps['rollbak'] names no step of this playbook; "
            "step 'tell' sees the results of: before",
        ),
        ("{{ steps.rollbak }}", "steps.rollbak names no step of this playbook"),
        ("{{ steps.get('rollbak') }}", "steps.get('rollbak') names no step of this playbook"),
        ("{{ steps[0] }}", "steps[0] names no step of this playbook"),
        ("{{ steps.tell.x }}", "steps.tell is step 'tell' itself"),
        (
            "{{ params.servce }}",
            "params.servce is not a declared parameter; this playbook's parameters: service",
        ),
        ("{{ params['to_version'] }}", "params['to_version'] is not a declared parameter"),
        # In filters and conditions too.
        ("{{ incident.title | replace(params.old, 'x') }}", "params.old is not a declared"),
        ("{% if params.dry %}x{% endif %}", "params.dry is not a declared parameter"),
        ("{{ 'a' if steps.later.ok else 'b' }}", "steps.later names no step"),
        ("{{ steps[params.which] }}", "params.which is not a declared parameter"),
        ("{{ steps.get(params.which) }}", "params.which is not a declared parameter"),
        ("{% for s in [steps.nope] %}{{ s }}{% endfor %}", "steps.nope names no step"),
        (
            "{{ incident.servce }}",
            "incident.servce is not a field of incident; it has ref, id, title, service",
        ),
        (
            "{{ incidnt.service }}",
            "unknown name 'incidnt': this template sees params, incident and steps",
        ),
    ],
)
def test_a_reference_to_what_a_step_does_not_see_is_reported(text: str, reason: str) -> None:
    [(where, found)] = problems(text)
    assert where == "steps[1].with.text"
    assert found.startswith(reason), found


def test_a_loop_variable_shadows_only_inside_its_loop() -> None:
    text = "{% for params in [{'x': 1}] %}{{ params.x }}{% endfor %}{{ params.y }}"
    [(_, reason)] = problems(text)
    assert reason.startswith("params.y is not a declared parameter")


def test_a_later_step_has_no_result_yet() -> None:
    steps = [note("first", "{{ steps['second'].state }}"), {**BEFORE, "name": "second"}]
    [(where, reason)] = reference_problems(playbook(steps, SERVICE))
    assert where == "steps[0].with.text"
    assert reason == (
        "steps['second'] runs after step 'first', so it has no result yet; "
        "no step's result is there yet when step 'first' runs"
    )


def test_a_compensating_step_sees_earlier_steps_and_its_earlier_siblings() -> None:
    switch = {
        "name": "switch",
        "action": "set_mode",
        "with": {"service": "{{ params.service }}", "mode": "heuristic"},
        "on_failure": "compensate",
        "compensate": [
            note("undo-1", "{{ steps.before.state }}"),
            note("undo-2", "{{ steps['undo-1'] }} {{ steps.switch }} {{ steps['undo-3'] }}"),
            note("undo-3", "{{ params.service }}"),
        ],
    }
    found = reference_problems(playbook([BEFORE, switch], SERVICE))
    assert [where for where, _ in found] == ["steps[1].compensate[1].with.text"] * 2
    assert found[0][1] == (
        "steps.switch is what step 'undo-2' compensates for: it failed, so it has no result; "
        "step 'undo-2' sees the results of: before, undo-1"
    )
    assert found[1][1].startswith("steps['undo-3'] runs after step 'undo-2'")


def test_nested_values_are_checked_at_their_place() -> None:
    step = {
        "name": "call",
        "action": "http_request",
        "with": {
            "method": "POST",
            "url": "http://x.test/{{ params.service }}",
            "json": {"items": [{"v": "{{ steps.gone }}"}]},
        },
    }
    [(where, reason)] = reference_problems(playbook([step], SERVICE))
    assert where == "steps[0].with.json.items[0].v"
    assert reason.startswith("steps.gone names no step of this playbook")


def test_a_parameter_default_sees_only_the_incident() -> None:
    parameters = {
        "service": {"default": "{{ incident.service }}"},
        "reason": {"default": "{{ params.service }} {{ steps.before }} {{ incident.nme }}"},
    }
    found = reference_problems(playbook([BEFORE], parameters))
    assert found == [
        (
            "parameters.reason.default",
            "params is not known yet when a parameter's default is worked out: "
            "a default sees only incident",
        ),
        (
            "parameters.reason.default",
            "steps is not known yet when a parameter's default is worked out: "
            "a default sees only incident",
        ),
        (
            "parameters.reason.default",
            "incident.nme is not a field of incident; it has "
            "ref, id, title, service, severity, status, commander",
        ),
    ]


def test_one_problem_per_reference_however_often_it_is_used() -> None:
    assert len(problems("{{ params.x }} {{ params.x }} {{ params['x'] }}")) == 2


def test_references_are_read_as_written() -> None:
    names, found = references(
        "{{ steps['a'].result }} {{ steps.b }} {{ params.x | default(steps.get('c')) }}"
        "{% for s in steps %}{{ s.d }}{% endfor %}{{ incident.ref }}"
    )
    assert names == {"steps", "params", "incident"}
    assert [(r.root, r.key, r.text) for r in found] == [
        ("steps", "a", "steps['a']"),
        ("steps", "b", "steps.b"),
        ("params", "x", "params.x"),
        ("steps", "c", "steps.get('c')"),
        ("incident", "ref", "incident.ref"),
    ]


def test_the_incident_fields_are_what_templates_see() -> None:
    incident = Incident(id=7, title="t", service="s", severity="SEV2", status="investigating")
    assert set(INCIDENT_FIELDS) == set(incident_vars(incident))


def test_the_shipped_playbooks_refer_only_to_what_they_see() -> None:
    for path in sorted((ROOT / "playbooks").glob("*.yaml")):
        assert reference_problems(Playbook.model_validate(yaml.safe_load(path.read_text()))) == []


def test_the_loader_refuses_a_playbook_with_a_dead_reference(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\ndescription: d\nsteps:\n"
        "  - {name: a, action: timeline_note, with: {text: '{{ steps.b }}'}}\n"
        "  - {name: b, action: get_state}\n"
    )
    library = load_library(tmp_path)
    assert library.playbooks == {}
    assert [str(p) for p in library.problems] == [
        f"{tmp_path / 'bad.yaml'}: steps[0].with.text: steps.b runs after step 'a', so it has "
        "no result yet; no step's result is there yet when step 'a' runs"
    ]


def test_load_paths_reads_files_and_folders_and_names_what_is_missing(tmp_path: Path) -> None:
    body = "description: d\nsteps:\n  - {name: a, action: get_state}\n"
    (tmp_path / "one.yaml").write_text("name: one\n" + body)
    (tmp_path / "two.yml").write_text("name: two\n" + body)
    (tmp_path / "three.txt").write_text("name: three\n" + body)
    only = load_paths([tmp_path / "one.yaml"])
    assert list(only.playbooks) == ["one"] and only.problems == []
    folder = load_paths([tmp_path, tmp_path / "one.yaml"])  # a file named twice is read once
    assert sorted(folder.playbooks) == ["one", "two"] and folder.problems == []
    named = load_paths([tmp_path / "three.txt", tmp_path / "gone.yaml"])
    assert list(named.playbooks) == ["three"]
    assert [str(p) for p in named.problems] == [
        f"{tmp_path / 'gone.yaml'}: (file): no such file or folder"
    ]
