"""The SQL statements the code under test sends, for tests of how much it reads and writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement any engine sends while inside, its whitespace collapsed."""
    said: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        said.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield said
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@contextmanager
def commits() -> Iterator[list[int]]:
    """One entry for every transaction any engine commits while inside."""
    committed: list[int] = []

    def record(_conn: object) -> None:
        committed.append(1)

    event.listen(Engine, "commit", record)
    try:
        yield committed
    finally:
        event.remove(Engine, "commit", record)
