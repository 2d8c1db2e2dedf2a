"""What the index compares: one match vector and one category distribution per intent.

The match vector is ``normalise(W_RAW * embed(text) + W_ITEM * embed(item rendering))``: the item rendering
(English glosses, item words, attributes; no category label) carries the item across languages, the raw text
is the safety net when the rendering misses something. One 512-dim vector per intent, so the index costs what
it cost before. The weights were chosen on the ``tune`` split of ``data/eval2`` (raw alone 0.60 top-1 there,
rendering alone 0.61, the sum with identifier and conflict signals 0.81); with the key-attribute signal
(``score.W_KEY_MATCH``) the raw text's share was raised from 0.3 to 0.5 (non-en top-1 on tune: 0.2 -> .809,
0.3 -> .834, 0.4 -> .850, 0.5 -> .847, 0.65 -> .847; both halves of its concepts agree).

The category distribution comes from the bank classifier on the same two embeddings; for an intent whose
category a human confirmed, half of the mass goes to that category.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.canonical import item_view
from matching.classify import classifier_for, text_boosts
from matching.embedder import Embedder, l2_normalise
from wire.intent import Intent

W_RAW = 0.5
W_ITEM = 0.5
#: Share of the query's category mass given to the category its human confirmed.
CONFIRMED_SHARE = 0.3


@dataclass(frozen=True)
class Features:
    vectors: np.ndarray  # (n, dim) unit match vectors
    probs: np.ndarray  # (n, categories) category distributions, columns in ``codes`` order
    codes: tuple[str, ...]


def combine(raw: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Match vectors from raw-text and item-rendering embeddings (rows aligned)."""
    return l2_normalise(
        W_RAW * np.asarray(raw, dtype=np.float32) + W_ITEM * np.asarray(item, dtype=np.float32)
    )


def features(intents: Sequence[Intent], embedder: Embedder, *, probs: bool = True) -> Features:
    """Match vectors (and category distributions, unless ``probs`` is False) of ``intents``, one embed call.

    Args:
        intents: any intents (their text is read; an intent without text uses its attributes).
        embedder: the index's embedder.
        probs: also classify (needed for queries only).
    """
    clf = classifier_for(embedder)
    views = [item_view(i) for i in intents]
    items = [v.rendering for v in views]
    raws = [i.text or r for i, r in zip(intents, items, strict=True)]
    vecs = embedder.embed(raws + items)
    raw_v, item_v = vecs[: len(intents)], vecs[len(intents) :]
    codes = clf.bank().codes
    if not probs:
        return Features(combine(raw_v, item_v), np.zeros((len(intents), 0), dtype=np.float32), codes)
    boosts = [
        text_boosts(i.attributes, v.gloss_categories, v.service_hint)
        for i, v in zip(intents, views, strict=True)
    ]
    dist = clf.probabilities(item_v, raw_v, boosts, [v.langs for v in views])
    col = {c: n for n, c in enumerate(codes)}
    for r, it in enumerate(intents):
        if it.category in col:
            dist[r] *= 1.0 - CONFIRMED_SHARE
            dist[r, col[it.category]] += CONFIRMED_SHARE
    return Features(combine(raw_v, item_v), dist, codes)
