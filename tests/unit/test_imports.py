"""tools/imports.py: no module cycle and no two packages importing each other, deferred imports
included; and every package of bot/ has its place in the import-linter layers."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from tests.paths import ROOT


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imports_tool", ROOT / "tools" / "imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_bot_has_no_module_cycle_and_no_mutual_packages() -> None:
    imports = tool()
    modules = imports.import_map(base=ROOT)
    assert len(modules) > 150  # the whole package was read
    assert imports.cycles(modules) == []
    assert imports.mutual_pairs(imports.package_map(modules)) == []


def test_the_count_sees_deferred_imports_and_re_exporting_packages(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    (shop / "orders").mkdir(parents=True)
    (shop / "__init__.py").write_text("")
    # A package that re-exports its child, and the child importing a sibling through it.
    (shop / "orders" / "__init__.py").write_text("from shop.orders.cart import Cart\n")
    (shop / "orders" / "cart.py").write_text("from shop.orders import prices\nclass Cart: ...\n")
    (shop / "orders" / "prices.py").write_text("")
    # Two packages, one importing the other only inside a function.
    (shop / "billing.py").write_text("from shop.orders.cart import Cart\n")
    (shop / "stock.py").write_text("def f():\n    from shop import billing\n")
    (shop / "orders" / "refund.py").write_text("def g():\n    import shop.stock\n")
    (shop / "orders" / "ship.py").write_text("from .prices import *\nfrom ..billing import x\n")
    imports = tool()
    modules = imports.import_map("shop", base=tmp_path)
    assert modules["shop.orders.ship"] == {"shop.orders.prices", "shop.billing"}
    assert imports.cycles(modules) == [["shop.orders", "shop.orders.cart"]]
    packages = imports.package_map(modules)
    assert imports.mutual_pairs(packages) == [("shop.billing", "shop.orders")]


def test_every_package_has_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    placed = {
        name.strip() for layer in layers["layers"] for name in layer.replace(":", "|").split("|")
    }
    imports = tool()
    packages = set(imports.package_map(imports.import_map(base=ROOT))) - {"bot"}
    assert packages - placed == set()
    assert placed - packages == set()
