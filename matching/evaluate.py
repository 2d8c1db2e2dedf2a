"""Evaluation on the labelled multilingual set ``data/eval.jsonl`` (never used as bank phrases), and the entry
point of both evaluations: ``python -m matching.evaluate [eval|tune|heldout]``. The independent pair set of
issue 11 (``data/eval2``, with its tune/held-out split) is evaluated by ``matching.evaluate_pairs``.

Understanding: action, category and key-attribute accuracy per language. Matching: every demand item (BUY /
SEEK_SERVICE) in language X is a query against an index of the supply items (SELL / OFFER_SERVICE); a query
is correct at top-n if an item of its own ``group`` is among the first n matches. Two corpora: supply items in
English only, and supply items in all languages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from matching.canonical import render_intent
from matching.embedder import Embedder, get_embedder
from matching.index import LocalIndex
from matching.understand import Understanding, understand_many

EVAL_LOCATION = (40.4168, -3.7038)
EVAL_NOW = 1_700_000_000


@dataclass(frozen=True)
class EvalItem:
    group: str
    lang: str
    action: str
    category: str
    attributes: dict[str, str]
    text: str


def load_eval() -> list[EvalItem]:
    """The evaluation items."""
    raw = resources.files("matching").joinpath("data/eval.jsonl").read_text(encoding="utf-8")
    out = []
    for line in raw.splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(
                EvalItem(d["group"], d["lang"], d["action"], d["category"], dict(d["attributes"]), d["text"])
            )
    return out


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def evaluate(embedder: Embedder | None = None, items: list[EvalItem] | None = None) -> dict[str, Any]:
    """Run the whole evaluation.

    Returns:
        ``{"n", "understanding": {lang: {...}, "all": {...}}, "matching": {"corpus_en": {lang: {top1, top5}},
        "corpus_all": {...}}, "errors": [...]}``; ``matching.*.non_en_top1`` averages the non-English
        languages.
    """
    emb = embedder if embedder is not None else get_embedder()
    items = items if items is not None else load_eval()
    unders: list[Understanding] = understand_many(
        [i.text for i in items],
        location=EVAL_LOCATION,
        defaults={"now": EVAL_NOW, "radius_km": 50},
        embedder=emb,
    )
    per: dict[str, dict[str, int]] = {}
    errors: list[dict[str, Any]] = []
    for item, u in zip(items, unders, strict=True):
        for key in (item.lang, "all"):
            c = per.setdefault(key, {"n": 0, "action": 0, "category": 0, "attributes": 0, "lang": 0})
            c["n"] += 1
            c["action"] += u.intent.action.value == item.action
            c["category"] += u.intent.category == item.category
            c["attributes"] += all(u.intent.attributes.get(k) == v for k, v in item.attributes.items())
            c["lang"] += u.lang == item.lang
        if (
            u.intent.action.value != item.action
            or u.intent.category != item.category
            or not all(u.intent.attributes.get(k) == v for k, v in item.attributes.items())
        ):
            errors.append(
                {
                    "text": item.text,
                    "want": [item.action, item.category, item.attributes],
                    "got": [u.intent.action.value, u.intent.category, u.intent.attributes],
                }
            )
    understanding = {
        lang: {
            "n": c["n"],
            "action": _ratio(c["action"], c["n"]),
            "category": _ratio(c["category"], c["n"]),
            "attributes": _ratio(c["attributes"], c["n"]),
            "lang": _ratio(c["lang"], c["n"]),
        }
        for lang, c in per.items()
    }
    matching = {
        "corpus_en": _match(emb, items, unders, english_only=True),
        "corpus_all": _match(emb, items, unders, english_only=False),
    }
    return {"n": len(items), "understanding": understanding, "matching": matching, "errors": errors}


def _match(
    emb: Embedder, items: list[EvalItem], unders: list[Understanding], english_only: bool
) -> dict[str, Any]:
    index = LocalIndex(emb)
    groups: dict[bytes, str] = {}
    corpus = []
    for n, (item, u) in enumerate(zip(items, unders, strict=True)):
        if item.action in ("SELL", "OFFER_SERVICE") and (item.lang == "en" or not english_only):
            intent = u.to_intent(n.to_bytes(32, "big"), n.to_bytes(16, "big"), EVAL_NOW)
            groups[intent.id] = item.group
            corpus.append(intent)
    index.add_many(corpus)
    hits: dict[str, dict[str, int]] = {}
    queries = [
        (item, u.to_intent((10**6 + n).to_bytes(32, "big"), (10**6 + n).to_bytes(16, "big"), EVAL_NOW))
        for n, (item, u) in enumerate(zip(items, unders, strict=True))
        if item.action in ("BUY", "SEEK_SERVICE")
    ]
    qvecs = emb.embed([render_intent(q) for _, q in queries])  # one batch instead of one call per query
    for (item, q), qv in zip(queries, qvecs, strict=True):
        found = [groups.get(m.intent.id) for m in index.search(q, k=5, now=EVAL_NOW, vector=qv)]
        c = hits.setdefault(item.lang, {"n": 0, "top1": 0, "top5": 0})
        c["n"] += 1
        c["top1"] += bool(found) and found[0] == item.group
        c["top5"] += item.group in found
    out: dict[str, Any] = {
        lang: {"n": c["n"], "top1": _ratio(c["top1"], c["n"]), "top5": _ratio(c["top5"], c["n"])}
        for lang, c in hits.items()
    }
    non_en = [v["top1"] for k, v in out.items() if k != "en"]
    out["non_en_top1"] = round(sum(non_en) / len(non_en), 4) if non_en else 0.0
    return out


def main(argv: list[str] | None = None) -> None:
    """Print an evaluation as JSON: ``eval`` (default, this module's set), ``tune``, ``tune2`` or ``heldout``
    (eval2 and eval3; held-out figures are aggregates only)."""
    import sys

    from matching.evaluate_pairs import evaluate_pairs

    args = sys.argv[1:] if argv is None else argv
    usage = "usage: python -m matching.evaluate [eval|tune|tune2|heldout]"
    if len(args) > 1 or (args and args[0] not in ("eval", "tune", "tune2", "heldout")):
        stream = sys.stdout if args and args[0] in ("-h", "--help") else sys.stderr
        print(usage, file=stream)
        raise SystemExit(0 if stream is sys.stdout else 2)
    which = args[0] if args else "eval"
    result = evaluate() if which == "eval" else evaluate_pairs(which)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
