"""What a Prometheus alert's generatorURL says: the expression the rule evaluates, and, when the
expression is a plain comparison with a number at its top level (`rate(x[5m]) > 0.5`), the
threshold and the query it compares. Pure string work; conservative: anything it is not sure of
(a comparison inside a function, `bool`, `and`/`or`/`unless`, a comment, vector matching) gives
no threshold, and the whole expression is what is plotted."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_SET_OPERATORS = frozenset({"and", "or", "unless"})


@dataclass(frozen=True)
class Threshold:
    op: str  # >, >=, < or <=
    value: float

    @property
    def label(self) -> str:
        return f"threshold {self.op} {self.value:g}"


@dataclass(frozen=True)
class Query:
    """What to plot (`expr`), and the alert's threshold when the rule compared it to one."""

    expr: str
    threshold: Threshold | None = None

    @property
    def text(self) -> str:
        """The whole expression, threshold included (spacing aside), as the rule has it."""
        t = self.threshold
        return self.expr if t is None else f"{self.expr} {t.op} {t.value:g}"


def expression_of(generator_url: str | None) -> str | None:
    """The rule's expression from Prometheus's graph link (`/graph?g0.expr=…&g0.tab=1`)."""
    if not generator_url:
        return None
    try:
        query = urlsplit(generator_url).query
    except ValueError:
        return None
    found = parse_qs(query, keep_blank_values=False).get("g0.expr")
    expr = found[0].strip() if found else ""
    return expr or None


def base_url_of(generator_url: str) -> str | None:
    """The Prometheus the link points at: scheme, host and any path prefix before /graph."""
    try:
        parts = urlsplit(generator_url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path
    if path.endswith("/graph"):
        path = path[: -len("/graph")]
    # Credentials in the link are dropped: configure prometheus_url to send any.
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{path.rstrip('/')}"


def split_threshold(expr: str) -> Query:
    """`expr` as a Query: its left side and threshold when it is `<query> <op> <number>` at the
    top level, else the whole expression without a threshold."""
    whole = Query(expr=expr.strip())
    found = _top_level_comparisons(expr)
    if found is None or len(found) != 1:
        return whole
    start, op = found[0]
    if op in ("==", "!="):
        return whole  # a filter on a value, not a line to cross
    left, right = expr[:start].strip(), expr[start + len(op) :].strip()
    if not left or _NUMBER.fullmatch(left) or not _NUMBER.fullmatch(right):
        return whole  # `x > bool 1`, `x > on(a) y`, `1 < 2`: not a plain threshold
    value = float(right)
    if not math.isfinite(value):
        return whole
    return Query(expr=left, threshold=Threshold(op=op, value=value))


def _top_level_comparisons(expr: str) -> list[tuple[int, str]] | None:
    """Where comparison operators sit outside every bracket and string, with the operator;
    None when the expression holds something that makes a threshold uncertain."""
    found: list[tuple[int, str]] = []
    closers: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            end = _string_end(expr, i)
            if end is None:
                return None
            i = end
            continue
        if c in _OPENERS:
            closers.append(_OPENERS[c])
            i += 1
            continue
        if c in ")]}":
            if not closers or closers.pop() != c:
                return None  # unbalanced: not an expression to be sure of
            i += 1
            continue
        if closers:
            i += 1
            continue
        if c == "#":
            return None  # a comment
        word = _WORD.match(expr, i)
        if word:
            if word[0].lower() in _SET_OPERATORS:
                return None
            i = word.end()
            continue
        op = next((o for o in COMPARISONS if expr.startswith(o, i)), None)
        if op is not None:
            found.append((i, op))
            i += len(op)
            continue
        i += 1
    return None if closers else found


def _string_end(expr: str, start: int) -> int | None:
    """The index after the string literal opening at `start` (backticks have no escapes)."""
    quote = expr[start]
    i = start + 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    return None
