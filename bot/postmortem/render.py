"""Rendering facts into a Markdown postmortem through a Jinja2 template.

Templates may be written by any team, so they run in Jinja2's sandbox (immutable: a template
cannot change the facts) with StrictUndefined, so a misspelt name fails instead of vanishing.
Autoescape is off: the output is Markdown, and the `cell`, `oneline` and `quote` filters make
free text safe where it would break the layout. Blocks trim their own newlines (trim_blocks and
lstrip_blocks), in custom templates too.

A template sees one variable, `facts` (see bot.postmortem.facts.Facts), and these filters:
utc, duration, percent, number, mention, cell, oneline, quote, href.
"""

from __future__ import annotations

import dataclasses
from functools import cache, lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_context

from bot.postmortem import filters
from bot.postmortem.facts import Facts

DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "postmortem.md.j2"


class TemplateProblem(Exception):
    """A template could not be loaded or rendered: which one, the line (when known) and why."""

    def __init__(self, *, template: str, line: int | None, reason: str) -> None:
        where = template if line is None else f"{template}, line {line}"
        super().__init__(f"{where}: {reason}")
        self.template = template
        self.line = line
        self.reason = reason


def render(*, facts: Facts, template: str | Path | None = None) -> str:
    """The postmortem of `facts` in Markdown, from the default template or the one at `template`
    (a path)."""
    path = DEFAULT_TEMPLATE if template is None else Path(template).expanduser().resolve()
    if not path.is_file():
        raise TemplateProblem(template=str(path), line=None, reason="no such template file")
    env = _environment(str(path.parent))
    try:
        return env.get_template(path.name).render(facts=facts)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            template=exc.filename or str(path), line=exc.lineno, reason=exc.message or str(exc)
        ) from exc
    except TemplateNotFound as exc:  # an {% include %} of a missing file
        name, line = _template_frame(exc.__traceback__)
        raise TemplateProblem(
            template=name or str(path), line=line, reason=f"no template named {exc.name!r}"
        ) from exc
    except Exception as exc:  # the template's fault: a bad name, a filter given the wrong thing
        name, line = _template_frame(exc.__traceback__)
        raise TemplateProblem(
            template=name or str(path), line=line, reason=f"{type(exc).__name__}: {exc}"
        ) from exc


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, reading the fields of the facts' own frozen dataclasses without its checks
    on every access: a 10,000-entry timeline reads 50,000 of them, and the checks were two
    thirds of rendering it. A field holds data (text, a time, more facts), never a method or an
    internal attribute; anything else, including the attributes of a field's value, is checked
    as before."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind: type = type(obj)
        if attribute in _fields_of(kind):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


@cache
def _fields_of(kind: type) -> frozenset[str]:
    """The field names of a frozen dataclass of bot.postmortem; none for any other type."""
    if not kind.__module__.startswith("bot.postmortem.") or not dataclasses.is_dataclass(kind):
        return frozenset()
    if not kind.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(kind))


@lru_cache(maxsize=16)
def _environment(directory: str) -> ImmutableSandboxedEnvironment:
    env = _Sandbox(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        utc=filters.utc,
        duration=filters.duration,
        percent=filters.percent,
        number=filters.number,
        mention=_mention,
        cell=filters.cell,
        oneline=filters.oneline,
        quote=filters.quote_block,
        href=filters.href,
    )
    return env


@pass_context
def _mention(context: Context, value: str | None) -> str:
    facts = context.get("facts")
    return filters.mention(value, names=facts.names if isinstance(facts, Facts) else {})


def _template_frame(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The template file and line of the innermost template frame of a render traceback.

    Jinja2 rewrites tracebacks so that template code appears as frames of the template file at
    its source line; those frames carry `__jinja_exception__` in their globals.
    """
    name: str | None = None
    line: int | None = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return name, line
