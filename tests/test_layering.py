"""Layering: sans-IO cores import no I/O, clock or randomness, and imports point one way only.

DESIGN.md: ``wire`` <- ``dht``, ``negotiation``, ``matching`` <- ``p2p``, ``sim`` <- ``bootstrap``,
``metaspace``; ``wire``, ``dht`` and ``negotiation`` never import
trio, libp2p, socket, asyncio, time or random.
Imports are read with ``ast`` (``import x``, ``import x.y``, ``from x import y``, ``from x.y import z``,
``importlib.import_module("x")``, ``import_module("x")``, ``__import__("x")``), nothing is executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SANS_IO = ("wire", "dht", "negotiation", "reputation")
FORBIDDEN_IN_SANS_IO = frozenset({"trio", "libp2p", "socket", "asyncio", "time", "random"})
PROJECT = ("wire", "dht", "negotiation", "matching", "reputation", "p2p", "sim", "bootstrap", "metaspace")
#: package -> the project packages it may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "wire": frozenset(),
    "dht": frozenset({"wire"}),
    "negotiation": frozenset({"wire"}),
    "matching": frozenset({"wire"}),
    "reputation": frozenset({"wire"}),
    "p2p": frozenset({"wire", "dht", "negotiation", "matching", "sim"}),
    "sim": frozenset({"wire", "dht", "negotiation", "matching", "p2p"}),
    "bootstrap": frozenset(PROJECT) - {"bootstrap"},
    "metaspace": frozenset(PROJECT) - {"metaspace"},
}


def imported_modules(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """Every absolute module name ``source`` imports, with its line number.

    Relative imports (``from . import x``) stay inside their package and are left out.
    """
    tree = ast.parse(source, filename)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((node.lineno, arg.value))
            else:  # a computed module name can't be checked: refuse it in checked packages
                found.append((node.lineno, "<dynamic>"))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr in ("import_module", "__import__")


def top(module: str) -> str:
    return module.split(".", 1)[0]


def violations(package: str, source: str, filename: str = "<source>") -> list[str]:
    """What ``source``, a module of ``package``, imports against the rules."""
    out: list[str] = []
    for line, module in imported_modules(source, filename):
        name = top(module)
        if package in SANS_IO and (name in FORBIDDEN_IN_SANS_IO or module == "<dynamic>"):
            out.append(f"{filename}:{line}: sans-IO package {package!r} imports {module!r}")
        if name in PROJECT and name != package and name not in ALLOWED[package]:
            out.append(f"{filename}:{line}: {package!r} may not import {module!r} (layering)")
    return out


def package_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if ".venv" not in p.parts)


@pytest.mark.parametrize("package", PROJECT)
def test_package_respects_layering(package):
    files = package_files(package)
    assert files, f"no modules found in {package}/"
    problems = []
    for path in files:
        problems += violations(package, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    "source",
    [
        "import time",
        "import random as rnd",
        "import os, socket",
        "import asyncio.events",
        "from time import monotonic",
        "from random import Random",
        "from libp2p.peer.id import ID",
        "from trio import lowlevel",
        "import importlib\nmod = importlib.import_module('trio')",
        "from importlib import import_module\nimport_module('socket')",
        "__import__('time')",
        "import importlib\nname = 'ti' + 'me'\nimportlib.import_module(name)",
        "def f():\n    import random\n    return random.random()",
        "if True:\n    from asyncio import sleep",
        "try:\n    import trio\nexcept ImportError:\n    pass",
    ],
)
def test_checker_catches_forbidden_imports(source):
    for package in SANS_IO:
        assert violations(package, source), f"{package}: missed {source!r}"


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("wire", "import dht"),
        ("wire", "from negotiation.types import Offer"),
        ("wire", "from metaspace.cli import main"),
        ("dht", "from negotiation import table"),
        ("dht", "import matching.embedder"),
        ("negotiation", "from dht.keys import key_for"),
        ("matching", "import p2p.host"),
        ("p2p", "from bootstrap.storage import Store"),
        ("p2p", "import metaspace.config"),
        ("sim", "from metaspace.home import Home"),
        ("sim", "import bootstrap"),
    ],
)
def test_checker_catches_upward_imports(package, source):
    assert violations(package, source)


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("wire", "import hashlib\nimport cbor2\nfrom wire.errors import RemoteProtocolError"),
        ("wire", "from . import cbor\nfrom importlib import resources"),
        ("dht", "from wire import Intent\nimport heapq"),
        ("negotiation", "from wire.messages import Terms\nfrom typing import Protocol"),
        ("matching", "import numpy\nfrom wire.taxonomy import taxonomy\nimport time"),
        ("p2p", "import trio\nimport libp2p\nfrom dht import keys\nfrom negotiation import table"),
        ("sim", "import random\nimport time\nfrom dht import keys"),
        ("bootstrap", "from p2p import host\nfrom sim import engine\nimport metaspace"),
        ("metaspace", "from bootstrap import storage\nfrom p2p.host import Host"),
    ],
)
def test_checker_allows_permitted_imports(package, source):
    assert violations(package, source) == []


def test_checker_does_not_match_prefixes():
    """``timeit`` is not ``time``, ``wire_format`` is not ``wire``."""
    assert violations("wire", "import timeit\nimport randomize\nimport sockets_helper") == []
    assert violations("wire", "import dhtools") == []
