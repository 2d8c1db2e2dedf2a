"""Text -> language-neutral intent understanding, embeddings, the local FAISS index and inverse matching.

Public API::

    understand(text, *, location=None, lang=None, defaults=None) -> Understanding
    LocalIndex(embedder=None, config=None): add, add_many, remove, search, expire, save, load, statistics
    get_embedder(backend="use-m3") -> Embedder
"""

from __future__ import annotations

from matching.embedder import Embedder, SentenceTransformerEmbedder, UseM3Embedder, get_embedder, st_available
from matching.errors import (
    EmbedderMismatchError,
    EmbedderUnavailableError,
    IndexFormatError,
    MatchingError,
    UnderstandError,
)
from matching.index import LocalIndex
from matching.partition import IndexConfig
from matching.score import Explanation, Match, Reason
from matching.understand import Understanding, understand, understand_many

__all__ = [
    "Embedder",
    "EmbedderMismatchError",
    "EmbedderUnavailableError",
    "Explanation",
    "IndexConfig",
    "IndexFormatError",
    "LocalIndex",
    "Match",
    "MatchingError",
    "Reason",
    "SentenceTransformerEmbedder",
    "UnderstandError",
    "Understanding",
    "UseM3Embedder",
    "get_embedder",
    "st_available",
    "understand",
    "understand_many",
]
