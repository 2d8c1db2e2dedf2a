"""A ``LocalIndex`` on disk: its live intents and their match vectors, written atomically.

``write_index`` writes generation-numbered files (the vectors as ``.npy``, the intents as CBOR), fsyncs them,
then atomically replaces ``manifest.json`` and removes the previous generation's files, so a reader sees the
old index or the new one, never a mix. ``read_manifest`` reads and checks the manifest (the caller checks its
model before anything large is read); ``read_index`` reads the files it names.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.errors import IndexFormatError
from wire import cbor
from wire.codec import from_obj, to_obj
from wire.errors import RemoteProtocolError
from wire.intent import Intent

FORMAT_VERSION = 2


@dataclass(frozen=True)
class SavedIndex:
    intents: list[Intent]
    vectors: np.ndarray  # (n, dim) float32, rows aligned with ``intents``
    model_id: str
    features: int | None  # the match-vector formula (``features.FEATURES_VERSION``); None if not recorded
    reading: str | None  # the digest of the data the rendering read (``features.reading_digest``), or None


def write_index(
    directory: str | Path,
    intents: list[Intent],
    vectors: np.ndarray,
    model_id: str,
    features: int,
    reading: str,
) -> None:
    """Write ``intents`` and their ``vectors`` (same order) to ``directory`` atomically, with what made the
    vectors: the model, the match-vector formula and the digest of the data the rendering read."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    old = read_manifest(d) if (d / "manifest.json").exists() else None
    gen = (int(old["generation"]) + 1) if old else 1
    vname, iname = f"vectors-{gen}.npy", f"intents-{gen}.cbor"
    _write_atomic(d / vname, _npy_bytes(vectors))
    _write_atomic(d / iname, cbor.encode([to_obj(i) for i in intents]))
    manifest = {
        "format": FORMAT_VERSION,
        "generation": gen,
        "model_id": model_id,
        "features": features,
        "reading": reading,
        "dim": int(vectors.shape[1]),
        "count": len(intents),
        "vectors": vname,
        "intents": iname,
    }
    _write_atomic(d / "manifest.json", json.dumps(manifest, indent=1).encode())
    if old:
        for key in ("vectors", "intents"):
            if old.get(key) not in (vname, iname):
                (d / str(old[key])).unlink(missing_ok=True)


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of the index saved in ``directory``.

    Raises:
        IndexFormatError: missing, unreadable, of another format, or lacking a key.
    """
    d = Path(directory)
    try:
        m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexFormatError(f"no readable index manifest in {d}: {e}") from e
    if not isinstance(m, dict) or m.get("format") != FORMAT_VERSION:
        raise IndexFormatError(f"unknown index format in {d}")
    for key in ("generation", "model_id", "dim", "count", "vectors", "intents"):
        if key not in m:
            raise IndexFormatError(f"index manifest in {d} lacks {key!r}")
    return m


def read_index(directory: str | Path, manifest: dict[str, Any]) -> SavedIndex:
    """The index saved in ``directory`` by ``write_index``, whose ``read_manifest`` is ``manifest``.

    Raises:
        IndexFormatError: missing or corrupt files, counts that differ.
    """
    d = Path(directory)
    try:
        vecs = np.load(d / str(manifest["vectors"]), allow_pickle=False)
        raw = (d / str(manifest["intents"])).read_bytes()
        objs = cbor.decode(raw, max_bytes=len(raw))
        intents = [from_obj(Intent, o) for o in objs]
    except (OSError, ValueError, RemoteProtocolError) as e:
        raise IndexFormatError(f"corrupt index in {d}: {e}") from e
    if len(intents) != len(vecs) or len(intents) != int(manifest["count"]):
        raise IndexFormatError(f"corrupt index in {d}: counts differ")
    features, reading = manifest.get("features"), manifest.get("reading")
    return SavedIndex(
        intents,
        vecs.astype(np.float32),
        str(manifest["model_id"]),
        features if isinstance(features, int) else None,
        reading if isinstance(reading, str) else None,
    )


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
