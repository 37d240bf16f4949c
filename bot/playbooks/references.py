"""What a playbook's templates refer to, checked against what they will see when rendered.

A step's `with:` values are rendered with `params` (the run's parameters: only the declared
ones), `incident` and `steps` (the results of the steps that ran before it, by name); a
parameter's default with `incident` only. Rendering is strict, so a reference to anything else
(`steps['rollbak']`, a later step, `params.servce`) fails the run at that step, after the
steps before it have acted. Found here, from Jinja's own syntax tree, when the playbook loads.

A step sees only the steps before it (not merely steps defined somewhere in the playbook): the
runner renders a step's values with the results gathered so far, so a later step's result is
never there. A compensating step sees the steps before the one it undoes, and the compensating
steps before it; the step it undoes failed and has no result.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from bot.playbooks.models import Playbook, Step
from bot.playbooks.templates import environment
from bot.validation import field_path

# What incident_vars() gives templates as `incident` (tests/unit/playbooks keeps the two equal).
INCIDENT_FIELDS = ("ref", "id", "title", "service", "severity", "status", "commander")
SEEN_BY_A_STEP = frozenset({"params", "incident", "steps"})
SEEN_BY_A_DEFAULT = frozenset({"incident"})


@dataclass(frozen=True)
class Reference:
    """`steps['a']`, `steps.a`, `steps.get('a')`, `params.x`, `incident.y`: `root` and `key`
    (None when computed, as in `steps[params.x]`), and `text`, as written."""

    root: str
    key: object
    text: str


@dataclass(frozen=True)
class _Scope:
    """What a template sees: in a step (`step`, after the steps `before`, perhaps compensating
    for `undoing`), or in a parameter's default (`step` None: `incident` only)."""

    playbook: Playbook
    step: Step | None = None
    before: tuple[str, ...] = ()
    undoing: str | None = None


def reference_problems(playbook: Playbook) -> list[tuple[str, str]]:
    """(place, reason) for every reference the playbook's templates make to something they
    will not see: an unknown or later step, an undeclared parameter, an unknown name."""
    problems: list[tuple[str, str]] = []
    for name, parameter in playbook.parameters.items():
        if parameter.default is not None:
            default = ("parameters", name, "default")
            problems += _template_problems(parameter.default, default, _Scope(playbook))
    for index, step in enumerate(playbook.steps):
        before = tuple(s.name for s in playbook.steps[:index])
        scope = _Scope(playbook, step, before)
        problems += _value_problems(step.args, ("steps", index, "with"), scope)
        for undo_index, undo in enumerate(step.compensate):
            seen = (*before, *(s.name for s in step.compensate[:undo_index]))
            place = ("steps", index, "compensate", undo_index, "with")
            problems += _value_problems(undo.args, place, _Scope(playbook, undo, seen, step.name))
    return problems


def references(template: str) -> tuple[set[str], list[Reference]]:
    """The names a template takes from its context, and its references into params, steps and
    incident, as written (a name bound inside the template, as a loop variable, is no one's).
    Raises TemplateSyntaxError."""
    tree = environment().parse(template)
    found: list[Reference] = []
    _walk(tree, set(), found)
    return meta.find_undeclared_variables(tree), found


def _value_problems(value: Any, loc: tuple[int | str, ...], scope: _Scope) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [p for k, item in value.items() for p in _value_problems(item, (*loc, k), scope)]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _value_problems(item, (*loc, i), scope)]
    if isinstance(value, str):
        return _template_problems(value, loc, scope)
    return []


def _template_problems(
    template: str, loc: tuple[int | str, ...], scope: _Scope
) -> list[tuple[str, str]]:
    if "{{" not in template and "{%" not in template:
        return []  # rendered as it is
    try:
        names, found = references(template)
    except TemplateSyntaxError:
        return []  # the loader reports it where it stands
    known = SEEN_BY_A_STEP if scope.step is not None else SEEN_BY_A_DEFAULT
    reasons: list[str] = []
    for name in sorted(names - known):
        if scope.step is None and name in SEEN_BY_A_STEP:
            reasons.append(
                f"{name} is not known yet when a parameter's default is worked out: "
                "a default sees only incident"
            )
        else:
            seen = "params, incident and steps" if scope.step is not None else "only incident"
            reasons.append(f"unknown name {name!r}: this template sees {seen}")
    for ref in found:
        if ref.root not in known:
            continue  # said above, once
        reason = _reason(ref, scope)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return [(field_path(loc), reason) for reason in reasons]


def _reason(ref: Reference, scope: _Scope) -> str | None:
    playbook = scope.playbook
    if ref.key is None:
        return None  # computed: known only when it runs
    if ref.root == "params":
        if ref.key in playbook.parameters:
            return None
        declared = ", ".join(playbook.parameters)
        return f"{ref.text} is not a declared parameter; " + (
            f"this playbook's parameters: {declared}"
            if declared
            else "this playbook declares no parameters"
        )
    if ref.root == "incident":
        if ref.key in INCIDENT_FIELDS:
            return None
        return f"{ref.text} is not a field of incident; it has {', '.join(INCIDENT_FIELDS)}"
    step = scope.step
    assert step is not None  # `steps` in a default is an unknown name, said as such
    if ref.key in scope.before:
        return None
    this = f"step {step.name!r}"
    sees = (
        f"{this} sees the results of: {', '.join(scope.before)}"
        if scope.before
        else f"no step's result is there yet when {this} runs"
    )
    if ref.key == scope.undoing:
        return f"{ref.text} is what {this} compensates for: it failed, so it has no result; {sees}"
    if ref.key == step.name:
        return f"{ref.text} is {this} itself; {sees}"
    defined = {s.name for s in playbook.steps} | {
        c.name for s in playbook.steps for c in s.compensate
    }
    if ref.key in defined:
        return f"{ref.text} runs after {this}, so it has no result yet; {sees}"
    return f"{ref.text} names no step of this playbook; {sees}"


_ROOTS = ("params", "steps", "incident")


def _walk(node: nodes.Node, bound: set[str], found: list[Reference]) -> None:
    """Collect references, in order, skipping names the template binds itself. `bound` grows
    with `{% set %}` as Jinja's own scopes do (an `if` shares its scope; a loop, `with`, a
    macro have their own)."""
    if isinstance(node, nodes.For):
        _walk(node.iter, bound, found)
        inner = bound | _stored(node.target) | {"loop"}
        if node.test is not None:
            _walk(node.test, inner, found)
        _walk_all(node.body, inner, found)
        _walk_all(node.else_, set(bound), found)
        return
    if isinstance(node, nodes.With):
        _walk_all(node.values, bound, found)
        _walk_all(node.body, bound | {t for n in node.targets for t in _stored(n)}, found)
        return
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        if isinstance(node, nodes.CallBlock):
            _walk(node.call, bound, found)
        _walk_all(node.defaults, bound, found)
        params = {a.name for a in node.args} | {"caller", "varargs", "kwargs"}
        _walk_all(node.body, bound | params, found)
        if isinstance(node, nodes.Macro):
            bound.add(node.name)
        return
    if isinstance(node, nodes.Assign):
        _walk(node.node, bound, found)
        bound.update(_stored(node.target))
        return
    if isinstance(node, nodes.AssignBlock):
        _walk_all(node.body, set(bound), found)
        if node.filter is not None:
            _walk(node.filter, bound, found)
        bound.update(_stored(node.target))
        return
    ref = _reference(node, bound)
    if ref is not None:
        found.append(ref)
        if isinstance(node, nodes.Getitem):
            _walk(node.arg, bound, found)  # steps[params.x]: params.x is a reference too
        if isinstance(node, nodes.Call):
            _walk_all([*node.args, *node.kwargs], bound, found)  # steps.get(params.x)
        return
    _walk_all(list(node.iter_child_nodes()), bound, found)


def _walk_all(children: list[Any], bound: set[str], found: list[Reference]) -> None:
    for child in children:
        _walk(child, bound, found)


def _reference(node: nodes.Node, bound: set[str]) -> Reference | None:
    """`node` as a reference into params, steps or incident; None when it is not one."""
    if isinstance(node, nodes.Call):  # steps.get('a'), params.get('x')
        method = node.node
        if (
            isinstance(method, nodes.Getattr)
            and method.attr == "get"
            and _root(method.node, bound)
            and node.args
        ):
            root = _root(method.node, bound)
            assert root is not None
            arg = node.args[0]
            key = _key(arg)
            return Reference(root, key, f"{root}.get({_shown(arg)})")
        return None
    if isinstance(node, nodes.Getattr):
        root = _root(node.node, bound)
        if root is None or hasattr(dict, node.attr):
            return None  # steps.items, params.keys: the dict's own methods (Jinja looks first)
        return Reference(root, node.attr, f"{root}.{node.attr}")
    if isinstance(node, nodes.Getitem):
        root = _root(node.node, bound)
        if root is None:
            return None
        return Reference(root, _key(node.arg), f"{root}[{_shown(node.arg)}]")
    return None


def _root(node: nodes.Node, bound: set[str]) -> str | None:
    if isinstance(node, nodes.Name) and node.name in _ROOTS and node.name not in bound:
        return node.name
    return None


def _key(node: nodes.Node) -> object:
    """A constant key as written (steps['a'], steps[0]); None when it is computed."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str | int | float):
        return node.value
    return None


def _shown(node: nodes.Node) -> str:
    return repr(node.value) if isinstance(node, nodes.Const) else "…"


def _stored(target: nodes.Node) -> set[str]:
    names: Iterator[nodes.Name] = target.find_all(nodes.Name)
    found = {n.name for n in names}
    if isinstance(target, nodes.Name):
        found.add(target.name)
    return found
