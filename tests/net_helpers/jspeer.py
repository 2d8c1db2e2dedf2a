"""The js-libp2p peer of the interop tests (``tests/interop_js/peer.mjs``), run as a real process.

``make interop-js`` (and ``.ci/run``) install its pinned npm packages into ``tests/interop_js/node_modules``;
nothing is installed at import or test time. :func:`require_node` decides, once per test, whether the
js tests run: without ``node`` they skip locally (with the reason) and fail in CI (``CI=true``); with
``node`` but without the packages, or with a Node.js older than the packages need, they fail and say
how to fix it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.net_helpers.procs import REPO

JS_DIR = REPO / "tests" / "interop_js"
PEER_SCRIPT = JS_DIR / "peer.mjs"
#: The oldest Node.js the pinned packages run on (@noble/* declare >= 20.19; js-libp2p 3 needs the
#: Promise.withResolvers shim in node20.mjs below Node.js 22).
MIN_NODE = (20, 19)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def require_node() -> str:
    """The path of ``node`` with the interop packages installed, or skip/fail (see the module docstring)."""
    node = shutil.which("node")
    if node is None:
        if in_ci():
            pytest.fail("CI=true but `node` is not installed: the js-libp2p interop test must run in CI")
        pytest.skip(
            "node is not installed: the js-libp2p interop peer needs Node.js >= 20.19 and npm "
            "(then `make interop-js` installs its packages)"
        )
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    try:
        major, minor = (int(x) for x in done.stdout.strip().lstrip("v").split(".")[:2])
    except ValueError:
        pytest.fail(f"cannot read the Node.js version from {done.stdout!r}")
    if (major, minor) < MIN_NODE:
        pytest.fail(f"Node.js {done.stdout.strip()} is too old for the interop peer (need >= 20.19)")
    if not (JS_DIR / "node_modules" / "libp2p").is_dir():
        pytest.fail(f"the interop npm packages are not installed: run `make interop-js` (npm ci in {JS_DIR})")
    return node


def run_peer(node: str, *args: str, timeout: float = 120.0) -> dict[str, Any]:
    """Run ``node peer.mjs ARGS``; its one JSON line.

    Raises:
        AssertionError: the script failed or printed no JSON (with its stderr).
    """
    done = subprocess.run(
        [node, str(PEER_SCRIPT), *args], cwd=str(JS_DIR), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"peer.mjs {args[0]} exited {done.returncode}: {done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"peer.mjs {args[0]} printed nothing; stderr: {done.stderr[-3000:]}"
    doc: dict[str, Any] = json.loads(lines[-1])
    return doc


def write_records(path: Path, records: list[tuple[bytes, bytes]]) -> Path:
    """The ``--records`` file of peer.mjs: one ``{"key": hex, "record": hex}`` line per record."""
    with open(path, "w") as f:
        for key, record in records:
            f.write(json.dumps({"key": key.hex(), "record": record.hex()}) + "\n")
    return path
