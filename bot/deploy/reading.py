"""A service's state read at once and time-boxed, for what is shown while people wait (the
approval card's plan, the announcement's model card): a target that is slow, down or absent
leaves it unknown, and says why, instead of holding the message up."""

from __future__ import annotations

import asyncio

from bot.deploy.ports import State, StateReader, Targets

# How long a shown state waits for its target: past it, it is unknown.
READ_STATE_S = 3.0


def too_slow(timeout_s: float) -> str:
    """The reason read_state gives when the target did not answer in time."""
    return f"no answer within {timeout_s:g} s"


async def read_state(targets: Targets, service: str, *, timeout_s: float) -> State | str:
    """The service's state now, or why it is unknown; never raises, never waits past
    `timeout_s`."""
    try:
        target = targets.for_service(service)
        if not isinstance(target, StateReader):
            return f"the {target.kind} target cannot report its state"
        return await asyncio.wait_for(target.read_state(service, timeout_s=timeout_s), timeout_s)
    except TimeoutError:
        return too_slow(timeout_s)
    except Exception as exc:  # what is shown is posted whatever the target does
        return str(exc) or type(exc).__name__
