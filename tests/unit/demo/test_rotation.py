"""The demo's on-call rotation, placed by the clock the demo is given: whatever the date, the
first user commands the demo's incident, and a week later the second one would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo.stack import on_call, write_config

BEN, ANA = "U0BEN0002", "U0ANA0001"  # the order of examples/demo/firebreak.yaml
DEMO_LENGTH = timedelta(minutes=5)  # far longer than the demo's two minutes at most

# Every third hour of two weeks, either side of Berlin's switch to summer time, and the
# moments that broke CI: a Monday at 08:59 and 09:00 in Berlin, the old rotation's hand-over.
MOMENTS = [
    *(datetime(2026, 3, 22, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 14 * 24, 3)),
    datetime(2026, 11, 30, 7, 59, tzinfo=UTC),
    datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


def filled(folder: Path, now: datetime) -> Path:
    config = folder / f"firebreak-{now:%Y%m%d%H%M}.yaml"
    write_config(config, model_service_url="http://127.0.0.1:1", postmortems=folder, now=now)
    return config


def test_the_first_user_is_on_call_for_the_whole_demo_whatever_the_date(folder: Path) -> None:
    wrong = []
    for now in MOMENTS:
        config = filled(folder, now)
        wrong += [
            (f"{at:%a %Y-%m-%d %H:%M}", who)
            for at in (now, now + DEMO_LENGTH)
            if (who := on_call(config, at)) != BEN
        ]
    assert wrong == []


@pytest.mark.parametrize("weeks, expected", [(0, BEN), (1, ANA), (2, BEN), (3, ANA)])
def test_each_week_hands_over_to_the_next_user(folder: Path, weeks: int, expected: str) -> None:
    now = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert on_call(filled(folder, now), now + timedelta(weeks=weeks)) == expected
