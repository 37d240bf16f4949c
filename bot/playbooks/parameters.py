"""A playbook run's parameters, as asked for (`key=value`) and completed from their defaults."""

from __future__ import annotations

from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.mrkdwn import escape
from bot.playbooks.models import Playbook
from bot.playbooks.templates import RenderError, incident_vars, render


def parameters(playbook: Playbook, given: dict[str, str], incident: Incident) -> dict[str, str]:
    """The run's parameters: what was given, defaults rendered for the incident, checked."""
    unknown = set(given) - set(playbook.parameters)
    if unknown:
        raise Refused(
            f"{playbook.name} has no parameter {escape(', '.join(sorted(unknown)))}; it "
            f"takes: {', '.join(playbook.parameters) or 'none'}."
        )
    resolved: dict[str, str] = {}
    for name, spec in playbook.parameters.items():
        value = given.get(name)
        if value is None and spec.default is not None:
            try:
                value = str(
                    render(
                        spec.default,
                        {"incident": incident_vars(incident)},
                        where=f"parameters.{name}.default",
                    )
                )
            except RenderError as exc:
                raise Refused(f"Cannot work out {name}: {escape(str(exc))}") from exc
        if (value is None or value == "") and spec.required:
            raise Refused(f"{playbook.name} needs {name}: `{name}=…`.")
        if value and spec.choices and value not in spec.choices:
            raise Refused(f"{name} is one of: {', '.join(spec.choices)}.")
        resolved[name] = value or ""
    return resolved
