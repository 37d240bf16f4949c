"""`firebreak check` and `firebreak migrate`: configuration, playbooks and sources checked
before anything runs."""

from __future__ import annotations

from pathlib import Path

from tests.processes import run_cli as run


def test_bad_config_stops_every_command_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("services:\n  ranker:\n    owner: [U0ANA0001]\n")
    result = run(["check"], tmp_path, FIREBREAK_CONFIG=str(tmp_path / "bad.yaml"))
    assert result.returncode == 2
    assert "bad.yaml: services.ranker.owner: Extra inputs are not permitted" in result.stderr


def test_check_and_migrate(tmp_path: Path) -> None:
    checked = run(
        ["check"], tmp_path, FIREBREAK_CONFIG=str(Path("examples/firebreak.yaml").resolve())
    )
    assert checked.returncode == 0 and "search-ranker" in checked.stdout
    migrated = run(["migrate"], tmp_path, FIREBREAK_DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "m.db").stat().st_size > 0


def test_serve_on_postgresql_wants_migrate_first(tmp_path: Path, postgres: str) -> None:
    url = f"{postgres}/postgres"
    refused = run(["serve", "--port", "1"], tmp_path, FIREBREAK_DATABASE_URL=url)
    assert refused.returncode == 2 and "run `firebreak migrate` first" in refused.stderr
    assert run(["migrate"], tmp_path, FIREBREAK_DATABASE_URL=url).returncode == 0


def test_check_catches_a_broken_playbook_precisely(tmp_path: Path) -> None:
    books = tmp_path / "playbooks"
    books.mkdir()
    (books / "rollback.yaml").write_text(
        "name: rollback\ndescription: d\nsteps:\n  - {name: a, action: get_state}\n"
        "  - {name: b, action: rollbak}\n"
    )
    result = run(["check"], tmp_path, FIREBREAK_PLAYBOOKS=str(books))
    assert result.returncode == 2
    assert (
        f"{books / 'rollback.yaml'}: steps[1].action: Value error, unknown action 'rollbak'"
        in result.stderr
    )


def test_check_reads_each_source_sample(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  good:\n"
        '    group_key: "{{ payload.id }}"\n'
        '    title: "{{ payload.name }}"\n'
        "    sample: {id: a1, name: Drift on ranker}\n"
        "  misread:\n"
        '    group_key: "{{ payload.alert.id }}"\n'
        '    title: "{{ payload.name }}"\n'
        "    sample: {id: a1, name: Drift on ranker}\n"
    )
    result = run(["check"], tmp_path, FIREBREAK_CONFIG=str(tmp_path / "sources.yaml"))
    assert result.returncode == 2
    assert "sources: good, misread" in result.stdout
    [problem] = result.stderr.splitlines()
    assert problem == (
        "firebreak: sources.misread.sample: group_key: 'dict object' has no attribute 'alert' "
        "(expression '{{ payload.alert.id }}')"
    )
