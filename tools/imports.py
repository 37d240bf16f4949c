"""Count what the import contracts cannot see at a glance: module cycles and packages that import
each other, with imports under TYPE_CHECKING and inside functions counted (a deferred import hides a
cycle from the interpreter, not from the reader).

    .venv/bin/python tools/imports.py          # the report; exit 1 if any cycle or mutual pair
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = "bot"


def import_map(root: str = ROOT, *, base: Path = Path()) -> dict[str, set[str]]:
    """Every module under `root` → the modules under `root` it imports, wherever the import stands.

    `from pkg import name` counts as importing `pkg` itself (its `__init__` runs first) and
    `pkg.name` when that is a module: a package `__init__` that re-exports its children is in a
    cycle with every child that imports a sibling through the package.
    """
    files = {
        _module_name(path.relative_to(base)): path for path in sorted((base / root).rglob("*.py"))
    }
    return {module: _imports(module, path, files) for module, path in files.items()}


def _module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(module: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {_nearest(name, known) for name in found if _nearest(name, known)} - {module, ""}


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _nearest(name: str, known: Mapping[str, Path]) -> str:
    """`bot.incidents.flows.declare` (a function) → `bot.incidents.flows`; outside names → ""."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def package_of(module: str) -> str:
    """`bot.incidents.flows` → `bot.incidents`; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def package_map(modules: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, imported in modules.items():
        mine = package_of(module)
        packages.setdefault(mine, set()).update(
            package_of(m) for m in imported if package_of(m) != mine
        )
    return packages


def mutual_pairs(packages: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    return sorted(
        (a, b)
        for a, imported in packages.items()
        for b in imported
        if a < b and a in packages.get(b, ())
    )


def main() -> int:
    modules = import_map()
    module_cycles = cycles(modules)
    packages = package_map(modules)
    pairs = mutual_pairs(packages)
    print(f"{len(modules)} modules, {len(packages)} packages")
    print(f"module cycles: {len(module_cycles)}")
    for members in module_cycles:
        print("  " + " ↔ ".join(members))
    print(f"packages that import each other: {len(pairs)}")
    for a, b in pairs:
        print(f"  {a} ↔ {b}")
    knots = cycles(packages)
    print(f"package knots: {len(knots)}" + "".join(f"\n  {' · '.join(k)}" for k in knots))
    return 1 if module_cycles or pairs else 0


if __name__ == "__main__":
    sys.exit(main())
