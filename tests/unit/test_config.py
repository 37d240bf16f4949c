from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_config
from bot.severity import Severity
from tests.paths import ROOT


def test_example_config_loads() -> None:
    config = load_config(ROOT / "examples" / "firebreak.yaml")
    assert config.broadcast_channel == "incidents"
    assert config.services["search-ranker"].owners == ["U0ANA0001", "U0BEN0002"]
    assert config.alerts.severity_for("page") is Severity.SEV1
    assert config.alerts.severity_for("critical") is Severity.SEV1


def test_no_file_means_defaults() -> None:
    config = load_config(None)
    assert config.services == {} and config.broadcast_channel == "incidents"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "services:\n  ranker:\n    owners: [ana]\n",
            "services.ranker.owners[0]: Value error, 'ana' is not a Slack user ID",
        ),
        ("alerts:\n  severity_map:\n    page: SEV9\n", "alerts.severity_map.page: Input should be"),
        ("broadcast_chanel: x\n", "broadcast_chanel: Extra inputs are not permitted"),
        ("- a\n- b\n", "expected a mapping at the top level"),
        ("services: [\n", "not valid YAML"),
        (  # a right on a service is no longer given by command or channel membership
            "playbooks:\n  approve: channel_members\n",
            "playbooks.approve: Value error, playbooks.approve is no longer read",
        ),
    ],
)
def test_errors_name_file_place_and_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "firebreak.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@db/firebreak", "postgresql+asyncpg://u@db/firebreak"),
        ("postgres://u@db/firebreak", "postgresql+asyncpg://u@db/firebreak"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("FIREBREAK_DATABASE_URL", given)
    assert Settings().database_url == used


OPENSLO = """apiVersion: openslo/v1
kind: SLO
metadata: {name: ranker-availability}
spec:
  service: search-ranker
  budgetingMethod: Timeslices
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{displayName: available, target: 0.999}]
"""


def test_an_openslo_file_gives_the_service_its_slo(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "ranker.yaml").write_text(OPENSLO)
    path = tmp_path / "firebreak.yaml"
    path.write_text("services:\n  search-ranker:\n    openslo: slo/ranker.yaml\n")
    slo = load_config(path).services["search-ranker"].slo
    assert slo is not None and (slo.target, slo.window.days, slo.method) == (99.9, 28, "time")


def test_openslo_errors_name_the_file_and_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(OPENSLO.replace("0.999", "2"))
    path = tmp_path / "firebreak.yaml"
    path.write_text("services:\n  search-ranker:\n    openslo: bad.yaml\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{tmp_path / 'bad.yaml'}: spec.objectives[0].target")
    path.write_text("services:\n  search-ranker:\n    openslo: nope.yaml\n")
    with pytest.raises(ConfigError, match=r"services\.search-ranker\.openslo: cannot read"):
        load_config(path)
    path.write_text(
        "services:\n  search-ranker:\n    openslo: bad.yaml\n    slo: {target: 99.9, window: 7d}\n"
    )
    with pytest.raises(ConfigError, match="give `slo` or `openslo`, not both"):
        load_config(path)
