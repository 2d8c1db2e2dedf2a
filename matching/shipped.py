"""Models fitted offline and shipped in ``matching/data`` (the classifier's adapter, its linear model): the
digest of the data they were fitted on, writing their file, and their modules' ``build|check`` command."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np


def folder_files(folders: Sequence[str]) -> list[str]:
    """The ``*.txt`` files of the package folders ``folders`` (``matching/``-relative), by folder, then
    name."""
    root = resources.files("matching")
    return [
        f"{folder}/{name}"
        for folder in folders
        for name in sorted(p.name for p in root.joinpath(folder).iterdir() if p.name.endswith(".txt"))
    ]


def files_digest(folders: Sequence[str], files: Sequence[str] = ()) -> str:
    """sha256 of the ``folder_files`` of ``folders`` (names and contents, in their order), then of the
    contents of the package files ``files``."""
    h = hashlib.sha256()
    root = resources.files("matching")
    for name in folder_files(folders):
        h.update(f"{name}\n".encode())
        h.update(root.joinpath(name).read_bytes())
    for name in files:
        h.update(root.joinpath(name).read_bytes())
    return h.hexdigest()


def write_npz(out: Path, meta: Mapping[str, str], **arrays: np.ndarray) -> None:
    """Write ``arrays`` and ``meta`` (as JSON) to ``out`` compressed, whole or not at all (a temporary file
    renamed; an error is raised, not hidden: this is a build, not a cache)."""
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            payload: dict[str, Any] = {"meta": np.array(json.dumps(dict(meta))), **arrays}
            np.savez_compressed(f, **payload)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def command(
    module: str,
    argv: list[str] | None,
    file: str,
    build: Callable[[Path], Mapping[str, Any]],
    meta: Callable[[], Mapping[str, str]],
    digest_key: str,
    digest: Callable[[], str],
) -> None:
    """``python -m <module> build|check``: refit the shipped ``file`` (``build(path)`` returns what was
    done), or tell whether it is current (its ``meta()[digest_key]`` is today's ``digest()``; exit status 1
    if not)."""
    args = sys.argv[1:] if argv is None else argv
    if args not in (["build"], ["check"]):
        print(f"usage: python -m {module} build|check", file=sys.stderr)
        raise SystemExit(2)
    if args == ["build"]:
        print(json.dumps(dict(build(Path(str(resources.files("matching").joinpath(file)))))))
        return
    got = dict(meta())
    current = got.get(digest_key) == digest()
    print(json.dumps({"current": current, **got}))
    raise SystemExit(0 if current else 1)
