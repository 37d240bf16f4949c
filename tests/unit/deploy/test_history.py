from __future__ import annotations

from bot.db.engine import make_engine, make_sessions
from bot.deploy.history import DbAliasHistory
from tests.fakes import FakeClock


async def test_alias_moves_are_kept_newest_first_across_restarts(db_url: str) -> None:
    clock = FakeClock()
    engine = make_engine(db_url)
    history = DbAliasHistory(make_sessions(engine), clock)
    for version in ("1", "1", "2", "3", "3", "2"):
        await history.record(model="ranker", alias="champion", version=version)
    await history.record(model="ranker", alias="challenger", version="4")
    assert await history.seen(model="ranker", alias="champion") == ["2", "3", "2", "1"]
    await engine.dispose()

    engine = make_engine(db_url)  # a new process reads what the old one saw
    again = DbAliasHistory(make_sessions(engine), clock)
    assert await again.seen(model="ranker", alias="champion") == ["2", "3", "2", "1"]
    assert await again.seen(model="ranker", alias="challenger") == ["4"]
    assert await again.seen(model="other", alias="champion") == []
    await engine.dispose()
