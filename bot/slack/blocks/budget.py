"""Where a service's error budget stands, in one glance: `/incident budget`'s answer and the
incident channel's pinned budget message (updated in place on every sync and budget tick), both
led by the countdown."""

from __future__ import annotations

from datetime import timedelta

from bot.durations import format_duration
from bot.incidents.ledger import ServiceBudget
from bot.mrkdwn import escape


def _span(delta: timedelta) -> str:
    return format_duration(timedelta(seconds=int(abs(delta.total_seconds()))))


def _countdown(remaining: timedelta) -> str:
    """e.g. `3m12s of budget left`, `budget spent, 1m5s over` (whole seconds)."""
    whole = timedelta(seconds=int(remaining.total_seconds()))
    if whole > timedelta(0):
        return f"{_span(whole)} of budget left"
    return f"budget spent, {_span(whole)} over"


def budget_text(budget: ServiceBudget, *, incident_ref: str | None = None) -> str:
    """mrkdwn; the service's name (and the incident's ref) are escaped. The countdown comes
    first: it is what the pinned budget message is read for."""
    report, slo = budget.report, budget.slo
    lines = [
        f"*{_countdown(report.remaining)}*",
        f"*{escape(budget.service)}* · SLO {slo.target:g}% over {format_duration(slo.window)} "
        f"({escape(slo.method)}-based) · budget {_span(report.budget)}",
        f"Consumed {_span(report.consumed)} ({report.consumed_fraction:.0%}).",
    ]
    if report.burn_rate > 0:
        burning = f"Burning at {report.burn_rate:,.0f} times the sustainable rate"
        if report.projected_exhaustion:
            burning += f": exhausted at {report.projected_exhaustion:%H:%M} UTC at this rate"
        lines.append(burning + ".")
    if incident_ref and report.incident_consumed is not None:
        share = report.incident_fraction or 0.0
        lines.append(
            f"{escape(incident_ref)} consumed {_span(report.incident_consumed)} ({share:.0%} "
            "of the window's budget)."
            + (" Over 20%: its postmortem needs a priority action item." if share > 0.2 else "")
        )
    return "\n".join(lines)
