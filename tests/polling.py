"""The one way tests wait for something another thread, task or process does.

One helper (and its asyncio twin) instead of ad-hoc loops and fixed sleeps: a wait ends as soon
as the thing is there, and when it never comes the failure says what was awaited, for how long,
and what was last seen, instead of a bare "timed out" or an assertion on a stale value.
"""

# ruff: noqa: ASYNC109 - eventually's timeout is the polling's deadline, not one await's

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

_SHOWN = 500  # characters of the last value a failure shows


def wait_until(
    condition: Callable[[], T | None], *, timeout: float = 10, what: str, interval: float = 0.05
) -> T:
    """Call `condition` until it returns something truthy, and return that. AssertionError
    after `timeout` seconds; an exception from `condition` propagates at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, timeout, value))
        time.sleep(interval)


@overload
async def eventually(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = ...,
    what: str,
    interval: float = ...,
) -> T: ...
@overload
async def eventually(
    condition: Callable[[], T | None], *, timeout: float = ..., what: str, interval: float = ...
) -> T: ...
async def eventually(
    condition: Callable[[], Any],
    *,
    timeout: float = 10,
    what: str,
    interval: float = 0.02,
) -> Any:
    """wait_until for asyncio tests: sleeps without blocking the loop, and awaits `condition()`
    when it returns an awaitable (an async check, a coroutine function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, timeout, value))
        await asyncio.sleep(interval)


def _timed_out(what: str, timeout: float, last: object) -> str:
    shown = repr(last)
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + f"… ({len(shown)} characters)"
    return f"timed out after {timeout:g}s waiting for {what}; last value: {shown}"
