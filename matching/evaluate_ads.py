"""The classifier on ``data/eval_ads``: 3,771 labelled ads and requests that nothing was fitted or decided on.

Each text is understood alone (no location, the language detected); per language, the share whose category
equals its label, the share whose side (demand or supply) equals its label and the share whose language was
detected as the one it is written in. The set's README says how it
was written and what it is (and is not) evidence of. ``python -m matching.evaluate_ads`` prints the figures as
JSON, with progress on stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

from matching.bank import read_examples
from matching.embedder import Embedder, get_embedder
from matching.evaluate_pairs import EVAL_NOW, _ratio
from matching.understand import understand_many

FOLDER = "data/eval_ads"
_SHARES = ("category", "side", "language")
#: Texts understood per batched call.
BATCH = 256


def evaluate_ads(
    embedder: Embedder | None = None, progress: bool = False, per_cell: int | None = None
) -> dict[str, Any]:
    """``{"n", "per_lang": {lang: {"n", "category", "side", "language"}}, "overall", "non_en"}`` (the
    same three shares).

    Args:
        per_cell: at most this many texts (the first, in file order) per category, language and side; None:
            all of them.
    """
    ads = read_examples(FOLDER)
    if per_cell is not None:
        seen: Counter[tuple[str, str, str]] = Counter()
        kept = []
        for e in ads:
            seen[(e.category, e.lang, e.side)] += 1
            if seen[(e.category, e.lang, e.side)] <= per_cell:
                kept.append(e)
        ads = tuple(kept)
    emb = embedder if embedder is not None else get_embedder()
    n: Counter[str] = Counter()
    hits: dict[str, Counter[str]] = {k: Counter() for k in _SHARES}  # share -> language -> texts right
    for start in range(0, len(ads), BATCH):
        chunk = ads[start : start + BATCH]
        for e, u in zip(
            chunk,
            understand_many([e.text for e in chunk], defaults={"now": EVAL_NOW}, embedder=emb),
            strict=True,
        ):
            n[e.lang] += 1
            hits["category"][e.lang] += u.intent.category == e.category
            hits["side"][e.lang] += u.intent.action.demand == (e.side == "seek")
            hits["language"][e.lang] += u.lang == e.lang
        if progress:
            print(f"\r{min(start + BATCH, len(ads))}/{len(ads)} texts", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    per = {
        lang: {"n": n[lang]} | {k: _ratio(h[lang], n[lang]) for k, h in hits.items()} for lang in sorted(n)
    }
    others = [r for lang, r in per.items() if lang != "en"]
    total = sum(n.values())
    return {
        "n": total,
        "per_lang": per,
        "overall": {k: _ratio(sum(h.values()), total) for k, h in hits.items()},
        "non_en": {k: round(sum(r[k] for r in others) / len(others), 4) for k in _SHARES},
    }


def main() -> None:
    """``python -m matching.evaluate_ads``: print the figures as JSON."""
    print(json.dumps(evaluate_ads(progress=True), indent=1))


if __name__ == "__main__":
    main()
