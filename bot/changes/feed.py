"""Which services' changes concern which: a service's own and those of what it depends on
(firebreak.yaml `depends_on`)."""

from __future__ import annotations

from bot.context import Context


def watched_services(ctx: Context[object], name: str) -> list[str]:
    """The service and what it depends on (firebreak.yaml `depends_on`)."""
    svc = ctx.config.service(name)
    return list(dict.fromkeys([name, *(svc.depends_on if svc else [])]))


def dependents(ctx: Context[object], name: str) -> set[str]:
    """The service and every service that depends on it: whose incidents a change concerns."""
    return {name} | {n for n, svc in ctx.config.services.items() if name in svc.depends_on}
