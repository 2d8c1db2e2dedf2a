"""What the index compares: one match vector and one category distribution per intent.

The match vector is ``normalise(W_RAW * raw + W_ITEM * item + W_LEAD * lead)``, the embeddings of the raw
text, of its item rendering (English glosses, item words, attributes; no category label) and of its lead
(``lead_text``: the first clause, at least ``LEAD_MIN_CHARS`` long). The rendering carries the item across
languages, the raw text is the safety net when the rendering misses something, and the lead keeps a long ad's
item from being diluted by its terms of sale. One 512-dim vector per intent, so the index costs what it cost
before. The weights were chosen on the ``tune`` split of ``data/eval2`` (raw alone 0.60 top-1 there,
rendering alone 0.61, the sum with identifier and conflict signals 0.81); with the key-attribute signal
(``score.W_KEY_MATCH``) the raw text's share was raised from 0.3 to 0.5 (non-en top-1 on tune: 0.2 -> .809,
0.3 -> .834, 0.4 -> .850, 0.5 -> .847, 0.65 -> .847; both halves of its concepts agree).

The category distribution comes from the bank classifier on the same two embeddings; for an intent whose
category a human confirmed, ``CONFIRMED_SHARE`` of the mass goes to that category.

The lead: an ad names its item first and then adds condition, price, place and terms ("Durian montong asli,
daging tebal kuning, ... Harga 65rb/kg, ... Lapak di Wonokromo"), while a buyer's text and a short ad are
mostly the item. Whole-text similarity therefore favoured short ads of a neighbouring item (musang king at
180rb/kg) over the long ad of the right one. Chosen first on ``tune`` and ``tune2`` (non-English top-1, W_LEAD
0 / 0.3 / 0.6 / 1.0: tune .890 / .906 / .898 / .895, tune2 .649 / .700 / .713 / .727; a lead of at least 20 or
30 characters instead of 12: .906 / .895 and .706 / .694; mixing the lead into the raw share instead of adding
it: tune .888, tune2 .698), at 0.6, the middle. The fresh set ``tune3`` then leant the same way as ``tune2``
(W_LEAD 0.3 / 0.6 / 1.0 / 1.5: .706 / .736 / .748 / .754; tune2 at 0.6 / 1.0 with the later code: .740 / .749;
tune .898 at both), so it is 1.0, short of the edge. A text that is one clause is its own lead and is embedded
once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from matching.bank import BANK_FOLDERS, MORE_FOLDER
from matching.brands import BRANDS_FILE
from matching.canonical import item_view
from matching.classify import classifier_for, text_boosts
from matching.embedder import Embedder, l2_normalise
from matching.lexicon import CLAUSE_END, languages
from matching.shipped import files_digest, folder_files
from wire.intent import Intent

#: The match vector's formula and the reading of a text it embeds (the item rendering: which phrases are
#: glossed) as far as the code sets it: a saved index of another version has its vectors recomputed on load,
#: as one saved from other data (``reading_digest``). 4: an accessory's phrase ("with a 512 GB SSD") is no
#: longer glossed (``canonical.find_glosses``).
FEATURES_VERSION = 4
W_RAW = 0.5
W_ITEM = 0.5
W_LEAD = 1.0
#: The lead is the text's first clauses up to at least this many characters (all of it if shorter).
LEAD_MIN_CHARS = 12
#: Share of the query's category mass given to the category its human confirmed.
CONFIRMED_SHARE = 0.3


@dataclass(frozen=True)
class Features:
    vectors: np.ndarray  # (n, dim) unit match vectors
    probs: np.ndarray  # (n, categories) category distributions, columns in ``codes`` order
    codes: tuple[str, ...]


#: The package folders whose ``*.txt`` phrases the item rendering reads: the bank's.
READING_FOLDERS = (*BANK_FOLDERS, MORE_FOLDER)


def reading_tables() -> list[str]:
    """The other package files the item rendering reads: every language's word table and the brands."""
    return [*(f"data/lang/{code}.json" for code in languages()), "data/lang/common.json", BRANDS_FILE]


def reading_files() -> list[str]:
    """Every package file (``matching/``-relative) the item rendering reads besides the code."""
    return folder_files(READING_FOLDERS) + reading_tables()


@cache
def reading_digest() -> str:
    """sha256 of the files the item rendering reads besides the code (``reading_files``). A saved index
    records it, so one saved before any of them changed is re-embedded on load, with no
    ``FEATURES_VERSION`` bump to forget (a bank phrase added moves the rendering of every text naming it).
    Once per process (2 ms)."""
    return files_digest(READING_FOLDERS, reading_tables())


def lead_text(text: str) -> str:
    """The first clauses of ``text``, joined up to at least ``LEAD_MIN_CHARS`` characters (or all of it)."""
    out = ""
    for part in CLAUSE_END.split(text):
        part = part.strip()
        if part:
            out = f"{out} {part}" if out else part
            if len(out) >= LEAD_MIN_CHARS:
                break
    return out or text


def embed_with_leads(
    embedder: Embedder, texts: Sequence[str], renderings: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In one embedding call: ``texts``, their ``renderings`` (rows aligned) and the leads of the texts
    longer than their lead (``lead_text``); a text that is its own lead is not embedded twice, its row of the
    lead vectors is its own vector. Returns (text vectors, rendering vectors, lead vectors)."""
    n = len(texts)
    leads = [lead_text(t) for t in texts]
    longer = [k for k, (t, lead) in enumerate(zip(texts, leads, strict=True)) if lead != t]
    vecs = embedder.embed([*texts, *renderings, *(leads[k] for k in longer)])
    text_v, rendering_v = vecs[:n], vecs[n : 2 * n]
    lead_v = text_v.copy()
    lead_v[longer] = vecs[2 * n :]
    return text_v, rendering_v, lead_v


def combine(raw: np.ndarray, item: np.ndarray, lead: np.ndarray | None = None) -> np.ndarray:
    """Match vectors from the raw-text, item-rendering and lead embeddings (rows aligned; no lead: raw)."""
    raw = np.asarray(raw, dtype=np.float32)
    lead = raw if lead is None else np.asarray(lead, dtype=np.float32)
    return l2_normalise(W_RAW * raw + W_ITEM * np.asarray(item, dtype=np.float32) + W_LEAD * lead)


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
    n = len(intents)
    raw_v, item_v, lead_v = embed_with_leads(embedder, raws, items)
    match = combine(raw_v, item_v, lead_v)
    codes = clf.bank().codes
    if not probs:
        return Features(match, np.zeros((n, 0), dtype=np.float32), codes)
    # the view's attributes: without the product line, as the view is without its gloss (``item_view``)
    boosts = [text_boosts(v.attributes, v.glosses, v.service_hint) for v in views]
    # Without the n-gram vote (``texts`` not given): this distribution also sets how many groups a query
    # searches (``discovery``), and the n-gram vote's sharper one narrowed the search (tune2: 2.01 -> 1.65
    # groups per search) and cost tune3 .025 of top-1; the published category (``understand``) uses it.
    dist = clf.probabilities(item_v, raw_v, boosts, [v.langs for v in views])
    col = {c: n for n, c in enumerate(codes)}
    for r, it in enumerate(intents):
        if it.category in col:
            dist[r] *= 1.0 - CONFIRMED_SHARE
            dist[r, col[it.category]] += CONFIRMED_SHARE
    return Features(match, dist, codes)
