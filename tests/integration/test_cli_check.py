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


def good(name: str) -> str:
    """A playbook whose templates refer only to what they see."""
    return (
        f"name: {name}\ndescription: d\n"
        "parameters:\n  service: {default: '{{ incident.service }}'}\n"
        "steps:\n"
        "  - {name: before, action: get_state, with: {service: '{{ params.service }}'}}\n"
        "  - name: tell\n"
        "    action: slack_message\n"
        "    with: {text: \"{{ params.service }} was {{ steps['before'].state.mode }}\"}\n"
    )


def test_check_catches_references_to_unknown_steps_and_undeclared_params(tmp_path: Path) -> None:
    books = tmp_path / "playbooks"
    books.mkdir()
    (books / "good.yaml").write_text(good("good"))
    (books / "refs.yaml").write_text(
        "name: refs\ndescription: d\nparameters:\n  service: {required: true}\nsteps:\n"
        "  - {name: before, action: get_state, with: {service: '{{ params.servce }}'}}\n"
        "  - name: tell\n"
        "    action: slack_message\n"
        "    with: {text: \"{{ params.service }}: {{ steps['rollbak'].state }}\"}\n"
    )
    result = run(["check"], tmp_path, FIREBREAK_PLAYBOOKS=str(books))
    assert result.returncode == 2
    assert f"playbooks in {books}: good\n" in result.stdout
    assert result.stderr.splitlines() == [
        f"firebreak: {books / 'refs.yaml'}: steps[0].with.service: params.servce is not a "
        "declared parameter; this playbook's parameters: service",
        f"firebreak: {books / 'refs.yaml'}: steps[1].with.text: steps['rollbak'] names no step "
        "of this playbook; step 'tell' sees the results of: before",
    ]


def test_check_given_paths_checks_only_those(tmp_path: Path) -> None:
    books = tmp_path / "playbooks"
    books.mkdir()
    (books / "good.yaml").write_text(good("good"))
    (books / "broken.yaml").write_text("name: broken\ndescription: d\nsteps: []\n")
    other = tmp_path / "more"
    other.mkdir()
    (other / "also.yml").write_text(good("also"))

    only = run(["check", "playbooks/good.yaml"], tmp_path, FIREBREAK_PLAYBOOKS=str(books))
    assert only.returncode == 0, only.stderr
    assert "playbooks in playbooks/good.yaml: good\n" in only.stdout
    assert only.stdout.endswith("ok\n")

    both = run(["check", "playbooks/good.yaml", "more"], tmp_path)
    assert both.returncode == 0 and "playbooks in playbooks/good.yaml, more: also, good\n" in (
        both.stdout
    )

    missing = run(["check", "playbooks/gone.yaml"], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "firebreak: playbooks/gone.yaml: (file): no such file or folder\n"

    folder = run(["check"], tmp_path, FIREBREAK_PLAYBOOKS=str(books))  # no PATH: the folder
    assert folder.returncode == 2 and "broken.yaml: steps: " in folder.stderr


def test_help_describes_the_commands_their_paths_and_the_environment(tmp_path: Path) -> None:
    top = run(["--help"], tmp_path)
    assert top.returncode == 0 and top.stderr == ""
    for command in ("serve", "migrate", "check", "postmortem", "report", "audit", "localslack"):
        assert f"\n    {command}" in top.stdout
    assert "FIREBREAK_CONFIG" in top.stdout and "FIREBREAK_DATABASE_URL" in top.stdout
    check = run(["check", "--help"], tmp_path)
    assert check.returncode == 0 and check.stderr == ""
    assert "[PATH ...]" in check.stdout and "FIREBREAK_CONFIG" in check.stdout
    assert "FIREBREAK_PLAYBOOKS" in check.stdout and "exit codes:" in check.stdout
    for command in ("serve", "migrate", "postmortem", "report", "audit", "localslack", "demo"):
        described = run([command, "--help"], tmp_path)
        assert described.returncode == 0 and "(default: " in described.stdout, command


def test_migrate_says_what_it_did_in_one_line(tmp_path: Path) -> None:
    env = {"FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    created = run(["migrate"], tmp_path, **env)
    assert created.returncode == 0 and created.stderr == "", created.stderr
    assert created.stdout.startswith("database schema created (revision ")
    again = run(["migrate"], tmp_path, **env)
    assert again.stdout.startswith("database schema is up to date (revision ")
    assert again.stderr == ""
    (tmp_path / "m.db").unlink()
    chatty = run(["migrate", "--log-level", "debug"], tmp_path, **env)
    assert chatty.returncode == 0 and "Running upgrade" in chatty.stderr
