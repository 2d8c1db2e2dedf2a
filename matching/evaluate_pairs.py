"""Evaluation on the independent buy/sell pair set ``data/eval2`` (its README documents the format).

The set is split by concept into ``tune`` and ``heldout``; ``tune2``, ``tune3`` and ``tune4`` are further
tuning sets (``data/eval3``, ``data/eval4``, ``data/eval5``: same format, other authors, other cities and
items). Rule: only the tuning sets may be looked at, printed or tuned on. ``evaluate_pairs("heldout")`` reads
the held-out records, runs the whole pipeline on them and returns **aggregate numbers only**: no text, no
per-record errors leave this module for that split.

Protocol (README "How to evaluate"): the side of each text is the one its author chose (``metaspace sell``
or ``buy``, the web page's buttons), as in the product; action accuracy measures the text-only guess. Every
distinct seller and hard negative of the split is understood at its place and indexed (for ``heldout`` the
``tune`` sellers and negatives are indexed too, as extra distractors); each buyer is understood at its
place and searched with a 50 km radius in the groups ``discovery`` picks (its own group, plus the next
candidates' when unsure). Each side is understood with its author's currency, the one where they live
(``gazetteer.local_currency``, as the agent reads a price at its human's place). Per buyer language: action
accuracy (against gold where present), category agreement (the buyer's category equals the right
seller's), category accuracy (against gold), top-1, top-5, how often the agent would have asked the human to
pick the category, and groups searched.
``top1_if_asked``/``top5_if_asked`` replay the product's question: an author the agent asked
(``needs_choice``) picks the right category when it is among the three offered;
``category_agreement_if_asked`` is the agreement of the categories published so, on both sides (what the
network sees; ``category_agreement`` is the agent's own guess on both sides). Agreement is consistency, not
accuracy: ``agreement_both_right`` is the share of buyers in the gold category with their seller there too,
``agreement_both_wrong`` the share agreeing with their seller on the same wrong category; the two add up to
``category_agreement``. A reading that puts one side of such a pair right lowers agreement while it raises
accuracy, so a change is judged on both. The raw-embedder baseline
ranks every seller within the radius by the cosine of the raw texts alone (no understanding, no filters).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np

from matching.discovery import extra_groups, giveaway, search_groups
from matching.embedder import Embedder, get_embedder
from matching.features import features
from matching.gazetteer import local_currency
from matching.index import LocalIndex
from matching.understand import Understanding, understand_many
from wire.geo import cell_at, haversine_km
from wire.intent import Intent

#: Split name -> (data folder, the records' ``split``): ``tune2`` and ``tune3`` are the tuning sets
#: ``data/eval3`` and ``data/eval4``, written later by other authors in the same format (their READMEs say
#: why), every record of them ``tune``.
SPLITS = {
    "tune": ("eval2", "tune"),
    "heldout": ("eval2", "heldout"),
    "tune2": ("eval3", "tune"),
    "tune3": ("eval4", "tune"),
    "tune4": ("eval5", "tune"),
}
EVAL_NOW = 1_750_000_000
RADIUS_KM = 50
TOP_K = 5
#: Resamples of the concept bootstrap (``_concept_interval``) and its fixed seed (a reproducible interval).
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0
_COUNTERS = (
    "n", "action_n", "action", "agree", "category", "top1", "top5", "asked", "groups", "raw1", "raw5",
    "top1_h", "top5_h", "agree_h", "agree_right",
)  # fmt: skip


@dataclass(frozen=True)
class Side:
    id: str
    lang: str
    text: str
    lat: float
    lon: float
    gold: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    id: str
    split: str
    concept: str
    category: str
    sell: Side
    buy: Side


def _side(d: dict[str, Any], default_id: str) -> Side:
    return Side(
        str(d.get("id", default_id)),
        str(d["lang"]),
        str(d["text"]),
        float(d["lat"]),
        float(d["lon"]),
        dict(d.get("gold") or {}),
    )


def _records(folder: str, name: str) -> Iterable[dict[str, Any]]:
    raw = resources.files("matching").joinpath(f"data/{folder}/{name}").read_text(encoding="utf-8")
    for line in raw.splitlines():
        if line.strip():
            yield json.loads(line)


def load_split(split: str) -> tuple[list[Pair], list[tuple[str, str, Side]]]:
    """The pairs and hard negatives ``(concept, category, seller)`` of one split (only that split is kept).

    Raises:
        ValueError: unknown split.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}")
    folder, field_value = SPLITS[split]
    pairs = [
        Pair(
            str(r["id"]),
            split,
            str(r["concept"]),
            str(r["category"]),
            _side(r["sell"], ""),
            _side(r["buy"], ""),
        )
        for r in _records(folder, "pairs.jsonl")
        if r.get("split") == field_value
    ]
    negs = [
        (str(r["concept"]), str(r["category"]), _side(r["sell"], str(r["id"])))
        for r in _records(folder, "negatives.jsonl")
        if r.get("split") == field_value
    ]
    return pairs, negs


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def by_place_currency(sides: Sequence[Side]) -> dict[str | None, list[int]]:
    """The positions of ``sides`` grouped by the currency where each author lives
    (``gazetteer.local_currency``, None where it is not known): what a price without its currency is read
    in."""
    out: dict[str | None, list[int]] = {}
    for n, s in enumerate(sides):
        out.setdefault(local_currency(s.lat, s.lon), []).append(n)
    return out


def _understand_at(sides: list[Side], emb: Embedder) -> list[Understanding]:
    """Each side as its author's agent understands it at its place: a price without its currency in the one
    where the author lives (``gazetteer.local_currency``, as ``understand`` reads it given a location), never
    the gold one. Sides are grouped by that currency, one batched call per group."""
    out: dict[int, Understanding] = {}
    for currency, rows in by_place_currency(sides).items():
        defaults: dict[str, Any] = {"now": EVAL_NOW}
        if currency is not None:
            defaults["currency"] = currency
        got = understand_many([sides[n].text for n in rows], defaults=defaults, embedder=emb)
        out.update(zip(rows, got, strict=True))
    return [out[n] for n in range(len(sides))]


def _intent(u: Understanding, side: Side, n: int, demand: bool, category: str | None = None) -> Intent:
    """The intent the human publishes: the side is the one they chose (``metaspace buy``/``sell``)."""
    return u.to_intent(
        n.to_bytes(32, "big"),
        n.to_bytes(16, "big"),
        EVAL_NOW,
        cell=cell_at(side.lat, side.lon, 7),
        radius_km=RADIUS_KM,
        demand=demand,
        category=category,
    )


def _human_pick(u: Understanding, gold: str) -> str:
    """The category published when the agent asks (``needs_choice``): a human who sees the right one among
    the three offered picks it; otherwise (or when not asked) the understood one stays."""
    if u.needs_choice and gold in [c for c, _ in u.candidates]:
        return gold
    return u.intent.category


def _indexed(intents: list[Intent], emb: Embedder, file_extra: bool) -> tuple[list[Intent], LocalIndex]:
    """The intents as their agents publish them — with ``file_extra``, filed under a second group when unsure
    of their own (``discovery.extra_groups`` on the distribution the index computes, as ``Matchmaker`` does) —
    and an index holding them (their match vectors computed once, with that distribution)."""
    index = LocalIndex(emb)
    if not file_extra:
        index.add_many(intents)
        return intents, index
    f = features(intents, emb)
    out = []
    for it, row in zip(intents, f.probs, strict=True):
        extra = extra_groups(it.category, dict(zip(f.codes, row.tolist(), strict=True)), giveaway(it))
        out.append(replace(it, extra_groups=extra or None))
    index.add_many(out, f.vectors, emb.model_id)
    return out, index


def evaluate_pairs(
    split: str = "tune", embedder: Embedder | None = None, distractors: bool = True, file_extra: bool = True
) -> dict[str, Any]:
    """Run the eval2 protocol on one split (``SPLITS``).

    Args:
        split: ``tune``, ``tune2`` or ``tune3`` (figures and the list of errors), ``heldout`` (aggregate
            figures only).
        embedder: defaults to ``use-m3``.
        distractors: for ``heldout``, also index the ``tune`` sellers and negatives.

    Returns:
        ``{"split", "n_pairs", "n_sellers", "per_lang": {lang: {...}}, "overall": {...}, "non_en": {...},
        "baseline_raw": {lang: {top1, top5}}, "sellers": {...}, "errors": [...] (not for heldout)}``.
    """
    emb = embedder if embedder is not None else get_embedder()
    pairs, negs = load_split(split)
    sellers: dict[str, tuple[Side, str]] = {}
    for p in pairs:
        sellers.setdefault(p.sell.id, (p.sell, p.category))
    for _concept, category, side in negs:
        sellers.setdefault(side.id, (side, category))
    if split == "heldout" and distractors:
        t_pairs, t_negs = load_split("tune")
        for p in t_pairs:
            sellers.setdefault(p.sell.id, (p.sell, p.category))
        for _c, category, side in t_negs:
            sellers.setdefault(side.id, (side, category))
    sids = list(sellers)
    s_sides = [sellers[s][0] for s in sids]
    s_und = _understand_at(s_sides, emb)
    s_intents = [
        _intent(u, side, n + 1, False) for n, (u, side) in enumerate(zip(s_und, s_sides, strict=True))
    ]
    s_intents, index = _indexed(s_intents, emb, file_extra)
    by_intent = {it.id: sid for it, sid in zip(s_intents, sids, strict=True)}
    seller_cat = dict(zip(sids, (u.intent.category for u in s_und), strict=True))
    # the same, had each unsure author picked among the three categories the agent offered
    seller_pick = {sid: _human_pick(u, sellers[sid][1]) for sid, u in zip(sids, s_und, strict=True)}
    h_intents = [
        _intent(u, side, n + 1, False, seller_pick[sid])
        for n, (u, side, sid) in enumerate(zip(s_und, s_sides, sids, strict=True))
    ]
    h_intents, h_index = _indexed(h_intents, emb, file_extra)
    b_sides = [p.buy for p in pairs]
    b_und = _understand_at(b_sides, emb)
    raw_s = emb.embed([s.text for s in s_sides])
    raw_b = emb.embed([s.text for s in b_sides])
    per: dict[str, dict[str, float]] = {}
    by_concept: dict[str, list[float]] = {}  # concept -> non-English [buyers, top-1 hits, agreements]
    errors: list[dict[str, Any]] = []
    for n, (p, u) in enumerate(zip(pairs, b_und, strict=True)):
        q = _intent(u, p.buy, 10**6 + n, True)
        vector, probs = index.query_features(q)
        groups = search_groups(q, probs)
        matches = index.search(q, k=TOP_K, now=EVAL_NOW, groups=groups, vector=vector, category_probs=probs)
        found = [by_intent[m.intent.id] for m in matches]
        near = [
            i
            for i, s in enumerate(s_sides)
            if haversine_km((p.buy.lat, p.buy.lon), (s.lat, s.lon)) <= RADIUS_KM
        ]
        order = sorted(near, key=lambda i: -float(raw_b[n] @ raw_s[i]))
        raw_top = [sids[i] for i in order[:TOP_K]]
        c = per.setdefault(p.buy.lang, dict.fromkeys(_COUNTERS, 0.0))
        hit = bool(found) and found[0] == p.sell.id
        agree = u.intent.category == seller_cat[p.sell.id]
        c["n"] += 1
        gold_action = p.buy.gold.get("action")
        if gold_action:
            c["action_n"] += 1
            c["action"] += u.intent.action.value == gold_action
        c["agree"] += agree
        c["category"] += u.intent.category == p.category
        c["agree_right"] += agree and u.intent.category == p.category
        c["top1"] += hit
        c["top5"] += p.sell.id in found
        c["asked"] += u.needs_choice
        c["groups"] += len(groups)
        c["raw1"] += bool(raw_top) and raw_top[0] == p.sell.id
        c["raw5"] += p.sell.id in raw_top
        if p.buy.lang != "en":
            t = by_concept.setdefault(p.concept, [0.0, 0.0, 0.0])
            t[0] += 1
            t[1] += hit
            t[2] += agree
        hq = _intent(u, p.buy, 10**6 + n, True, _human_pick(u, p.category))
        # the same query unless the human picked another category: its features are computed once
        h_vector, h_probs = (vector, probs) if hq == q else h_index.query_features(hq)
        h_groups = search_groups(hq, h_probs)
        h_found = [
            by_intent[m.intent.id]
            for m in h_index.search(
                hq, k=TOP_K, now=EVAL_NOW, groups=h_groups, vector=h_vector, category_probs=h_probs
            )
        ]
        c["top1_h"] += bool(h_found) and h_found[0] == p.sell.id
        c["top5_h"] += p.sell.id in h_found
        c["agree_h"] += hq.category == seller_pick[p.sell.id]
        if split != "heldout" and (not found or found[0] != p.sell.id or u.intent.category != p.category):
            errors.append({
                "id": p.id, "text": p.buy.text, "gold": p.category, "got": u.intent.category,
                "seller_got": seller_cat[p.sell.id], "found": found[:3], "candidates": u.candidates,
            })  # fmt: skip
    result = {
        "split": split,
        "n_pairs": len(pairs),
        "n_sellers": len(sids),
        "per_lang": {lang: _summary(c) for lang, c in sorted(per.items())},
        "overall": _summary(_sum(per.values())),
        "non_en": _mean_langs({k: _summary(c) for k, c in per.items() if k != "en"}),
        "non_en_interval": _concept_interval(list(by_concept.values())),
        "sellers": _seller_summary(s_und, [sellers[s][1] for s in sids], s_sides),
        "keys_per_publish": round(float(np.mean([len(it.groups) for it in s_intents])), 4) if sids else 0.0,
    }
    if split != "heldout":
        result["errors"] = errors
    return result


def _sum(cs: Iterable[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in cs:
        for k, v in c.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _summary(c: dict[str, float]) -> dict[str, float]:
    n = c["n"]
    return {
        "n": int(n),
        "action": _ratio(c["action"], c["action_n"]),
        "category_agreement": _ratio(c["agree"], n),
        "category": _ratio(c["category"], n),
        "top1": _ratio(c["top1"], n),
        "top5": _ratio(c["top5"], n),
        "asked": _ratio(c["asked"], n),
        "groups_per_search": _ratio(c["groups"], n),
        "raw_top1": _ratio(c["raw1"], n),
        "raw_top5": _ratio(c["raw5"], n),
        "top1_if_asked": _ratio(c["top1_h"], n),
        "top5_if_asked": _ratio(c["top5_h"], n),
        "category_agreement_if_asked": _ratio(c["agree_h"], n),
        "agreement_both_right": _ratio(c["agree_right"], n),
        "agreement_both_wrong": _ratio(c["agree"] - c["agree_right"], n),
    }


def _concept_interval(tallies: list[list[float]]) -> dict[str, Any]:
    """95% intervals of the non-English top-1 and category agreement, resampling whole concepts.

    A concept's buyers succeed or fail together (one seller, one set of negatives), so the unit of chance is
    the concept, not the pair: on ~60 concepts one concept is ~1.7 points. Every concept has one buyer per
    language, so the pooled share equals the mean over languages (``non_en``).
    """
    if not tallies:
        return {"concepts": 0}
    arr = np.asarray(tallies, dtype=np.float64)
    picks = np.random.default_rng(BOOTSTRAP_SEED).integers(0, len(arr), size=(BOOTSTRAP_ROUNDS, len(arr)))
    sums = arr[picks].sum(axis=1)  # (rounds, 3)
    out: dict[str, Any] = {"concepts": len(arr)}
    for col, name in ((1, "top1"), (2, "category_agreement")):
        shares = np.sort(sums[:, col] / sums[:, 0])
        lo, hi = shares[int(0.025 * len(shares))], shares[int(0.975 * len(shares)) - 1]
        out[name] = [round(float(lo), 4), round(float(hi), 4)]
    return out


def _mean_langs(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = (
        "action", "category_agreement", "category", "top1", "top5", "raw_top1", "raw_top5", "asked",
        "top1_if_asked", "top5_if_asked", "category_agreement_if_asked", "agreement_both_right",
        "agreement_both_wrong",
    )  # fmt: skip
    return {k: round(float(np.mean([r[k] for r in rows.values()])), 4) if rows else 0.0 for k in keys}


def _seller_summary(unders: list[Understanding], gold_cats: list[str], sides: list[Side]) -> dict[str, float]:
    n = len(unders)
    act = [(u.intent.action.value, s.gold.get("action")) for u, s in zip(unders, sides, strict=True)]
    with_gold = [a for a in act if a[1]]
    price_n = price_ok = 0
    for u, s in zip(unders, sides, strict=True):
        gp = s.gold.get("price")
        if gp:
            price_n += 1
            got = u.intent.price
            price_ok += got is not None and (got.amount_minor, got.currency) == (
                gp["amount_minor"],
                gp["currency"],
            )
    return {
        "n": n,
        "action": _ratio(sum(a == b for a, b in with_gold), len(with_gold)),
        "category": _ratio(sum(u.intent.category == g for u, g in zip(unders, gold_cats, strict=True)), n),
        "price": _ratio(price_ok, price_n),
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m matching.evaluate_pairs [tune|tune2|tune3|tune4|heldout]``: print the figures as JSON."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    split = args[0] if args else "tune"
    if len(args) > 1 or split not in SPLITS:
        print(f"usage: python -m matching.evaluate_pairs [{'|'.join(SPLITS)}]", file=sys.stderr)
        raise SystemExit(2)
    print(json.dumps(evaluate_pairs(split), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
