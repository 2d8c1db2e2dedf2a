"""Match rules between an intent and a candidate of the inverse action: hard filters, score, explanation.

Hard filters (a candidate failing any is never returned):
- inverse action and same taxonomy group (by construction: one FAISS partition per (action, group)); the fine
  category is only a ranking signal, so a wrong fine category on one side never hides a counterpart;
- live (not withdrawn, not expired at ``now``), and not the same author;
- geo: ``distance(cell centres) - both cell radii <= min(radius_a, radius_b)`` (generous at cell granularity:
  two users whose cells could hold points within both radii are kept);
- price: the seller's unit ask ``p`` and the buyer's unit max ``q`` in the same currency match if
  ``p <= q * (1 + price_tolerance)`` (default 20%); between ``q`` and that limit it is a match marked
  "negotiable". Different currencies or a missing price never exclude (reported instead), nor do two prices
  ``PRICE_MISREAD_RATIO`` or more apart: no buyer means a hundredth of an ask, one of the two was misread (a
  multiplier the reader did not know: "80 man" for 800,000 yen read as 80), and the gap is reported;
- hard attributes (``DEFAULT_HARD_KEYS``: ``size``, ``model``, ``storage``, ``screen``, a bicycle's ``wheel``,
  ``capacity``, a ride's
  ``route``): if both sides state one, they must be equal; a side that doesn't state it is kept and the gap
  reported. A ride the other way or to another town is not the ride asked for, however alike the texts read
  (``gazetteer``): as a soft conflict, tune2's buyers of a ride Bangalore -> Mysore in all 15 languages still
  found the English ad of the ride back first (score .73 against .34 for the right one, written in Hindi);
  hard, with car rentals given a route too, non-English top-1 tune2 .904 -> .915, tune3 .926 -> .927, tune,
  tune4 and held-out unchanged.

Score in [0, 1]: ``W_SIM * max(0, cosine) + W_IDS * identifier coverage + W_CATEGORY * p(candidate's category)
+ W_SOFT * (agreement - 0.5) - W_CONFLICT * conflicts + W_KEY_MATCH * min(key matches, MAX_KEY_MATCHES)
- W_PRICE_GAP * min(price gap, MAX_PRICE_GAP)``
where agreement is the fraction of soft attributes both sides state that are equal (0.5 when none are shared),
identifier coverage the rarity-weighted share of the query's brand/model tokens the candidate has
(``signals``), p the query's calibrated category distribution, conflicts the count of colour/dimension/weight/
length/volume/route disagreements and of a model designator the candidate names with another number ("Pad 5"
for a buyer of a "Pad 6", ``signals.designator_conflict``), and key matches the precise attributes (size,
model, capacity, dimensions, ...) both sides state alike (``signals.key_matches``): a buyer's "225/65R17"
found in a long ad is worth more than a closer wording of another item (rims). The price gap is ``|ln(ask /
offer)|`` when both sides state a unit price in the same currency (0 otherwise): the same item tends to be
priced alike, and a counterpart asking a fraction of the buyer's figure is often a lesser item of the same
kind (the earbuds of the older generation, the base without the seat). The weights were chosen on the ``tune``
split of eval2 (W_KEY_MATCH on both halves of its concepts: 0.05 / 0.1 / 0.15 gave tune top-1 .814 / .824 /
.827; W_PRICE_GAP: non-en top-1 .839 -> .847, flat from 0.04 to 0.1, one half of the concepts +.015, the other
unchanged; 58 of 420 buyers state a price). Once prices were read in the currency of the place (sellers'
prices read right on the four tuning sets .66-.81 -> .86-.99), W_PRICE_GAP was chosen again on them
(non-English top-1, tune / tune2 / tune3 / tune4): 0.05 .918 / .874 / .907 / .805, 0.1 .924 / .878 / .907 /
.813, 0.25 .924 / .880 / .910 / .817, 0.4 .926 / .880 / .911 / .823, 0.6 .929 / .879 / .905 / .824. 0.25:
most of the gain, while an ad at half a buyer's figure loses .17 of ``combine_score``, not .28 (the same
item at a bargain is not always a lesser one).

When the query has words, the index then compares them with those of its first candidates (``words``) and the
score becomes ``with_words(score, recall)``: ``(score + W_WORDS * recall) / (1 + W_WORDS)``, still in [0, 1].

Explanations are structured (``Reason(code, params)``) plus an English sentence built from them, so an agent
can re-render them in the user's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from matching.signals import SOFT_CONFLICT_KEYS, conflicts
from wire.currency import format_minor
from wire.intent import Action, Intent

DEFAULT_HARD_KEYS = ("size", "model", "storage", "screen", "wheel", "capacity", "route")
W_SIM = 0.75
W_IDS = 0.25
W_CATEGORY = 0.08
W_SOFT = 0.1
W_CONFLICT = 0.15
#: Added per precise attribute both sides state alike (``signals.key_matches``), at most ``MAX_KEY_MATCHES``.
W_KEY_MATCH = 0.1
MAX_KEY_MATCHES = 2
#: Taken per unit of ``|ln(ask / offer)|`` (unit prices, same currency), counted up to MAX_PRICE_GAP.
W_PRICE_GAP = 0.25
MAX_PRICE_GAP = 1.0
#: The word alignment (``words.recall``) against all of the above, for candidates whose words are compared.
#: Chosen again once the classifier, the adapter and the attributes had moved on (non-English top-1, tune /
#: tune2 / tune3 / tune4): 1.0 .9745 / .9305 / .9381 / .8527, 1.25 .9719 / .9344 / .9393 / .8560, 1.5 .9719 /
#: .9344 / .9393 / .8571, 2.0 .9643 / .9325 / .9417 / .8571.
W_WORDS = 1.5
DEFAULT_PRICE_TOLERANCE = 0.20
#: An ask this many times the buyer's max is a misread price, not a price that excludes (module docstring).
PRICE_MISREAD_RATIO = 100.0
SOFT_KEYS = ("condition", "brand", "season", "ram")
#: What ``soft_agreement`` compares: the soft and the hard keys but the route. Counted there as well, the
#: route (equal once the hard filter passed) moved tune4's non-English top-1 .827 -> .825, tune2 and tune3
#: unchanged.
AGREEMENT_KEYS = SOFT_KEYS + tuple(k for k in DEFAULT_HARD_KEYS if k != "route")
_DEMAND = (Action.BUY, Action.SEEK_SERVICE)


@dataclass(frozen=True)
class Reason:
    """One reason code with its parameters (all JSON-ready)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    reasons: tuple[Reason, ...]
    text: str

    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


@dataclass(frozen=True)
class Match:
    """A candidate that passed every hard filter, with its score and why.

    ``explanation`` is built on first read (``explainer``, then cached): a search ranks and returns up to k
    candidates, and an agent reads the explanations of the few it keeps (building all ten took ~0.2 ms of a
    ~1.5 ms query at 100k intents).
    """

    intent: Intent
    score: float
    similarity: float
    distance_km: float
    explainer: Callable[[], Explanation] = field(repr=False, compare=False)

    @cached_property
    def explanation(self) -> Explanation:
        return self.explainer()


def unit_price(intent: Intent) -> tuple[int, str] | None:
    """The intent's price per unit in minor units, or None."""
    if intent.price is None:
        return None
    return intent.price.unit_amount(intent.quantity), intent.price.currency


def price_ok(ask: int, max_pay: int, tolerance: float) -> bool:
    """True if a seller asking ``ask`` and a buyer paying at most ``max_pay`` can meet (within tolerance)."""
    return ask <= max_pay * (1.0 + tolerance)


def soft_agreement(a: dict[str, str], b: dict[str, str]) -> float:
    """Share of the ``AGREEMENT_KEYS`` both sides state that are equal (0.5 when none)."""
    shared = [k for k in AGREEMENT_KEYS if k in a and k in b]
    if not shared:
        return 0.5
    return sum(1 for k in shared if a[k] == b[k]) / len(shared)


def combine_score(
    similarity: float,
    agreement: float,
    ids: float = 0.0,
    category_p: float = 1.0,
    n_conflicts: int = 0,
    n_key_matches: int = 0,
    price_gap: float = 0.0,
) -> float:
    """The match score in [0, 1] (see the module docstring; ``price_gap`` is one of ``price_gaps``)."""
    raw = (
        W_SIM * max(0.0, similarity)
        + W_KEY_MATCH * min(n_key_matches, MAX_KEY_MATCHES)
        + W_IDS * ids
        + W_CATEGORY * category_p
        + W_SOFT * (agreement - 0.5)
        - W_CONFLICT * n_conflicts
        - W_PRICE_GAP * min(price_gap, MAX_PRICE_GAP)
    )
    return float(min(1.0, max(0.0, raw)))


def rank_key(x: tuple[float, float, float, Intent]) -> tuple[float, float, float, bytes]:
    """A ranked candidate ``(score, similarity, distance_km, intent)``, best first: the higher score, then the
    more similar, then the nearer, then the lower id (never where rows happen to be stored)."""
    return (-x[0], -x[1], x[2], x[3].id)


def with_words(score: float, words: float) -> float:
    """The match score with the word alignment ``words`` (``words.recall``; 0 where not compared), in [0, 1]:
    ``(score + W_WORDS * max(0, words)) / (1 + W_WORDS)``."""
    return float(min(1.0, max(0.0, (score + W_WORDS * max(0.0, words)) / (1.0 + W_WORDS))))


def price_gaps(offer: float, asks: np.ndarray) -> np.ndarray:
    """``|ln(ask / offer)|`` per unit price in ``asks`` (same currency as ``offer``); 0 where unknown or <= 0.

    Args:
        offer: the query's unit price (minor units).
        asks: the candidates' unit prices in the same currency (NaN: no price or another currency).
    """
    out = np.zeros(len(asks), dtype=np.float64)
    if offer <= 0:
        return out
    ok = np.isfinite(asks) & (asks > 0)
    out[ok] = np.abs(np.log(asks[ok] / offer))
    return out


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "BRL": "R$"}


def _money(minor: int, currency: str) -> str:
    """``$80``, ``€80.50``, or ``80.00 CHF`` for currencies without a well-known symbol."""
    sym = _SYMBOLS.get(currency)
    if sym is None:
        return format_minor(minor, currency)
    whole, frac = divmod(minor, 100)
    return f"{sym}{whole}" if frac == 0 else f"{sym}{whole}.{frac:02d}"


#: How far a counterpart's reputation moves a match's rank: a signal of 1 adds this, 0 takes it away.
REPUTATION_WEIGHT = 0.15


def rank_with_reputation(score: float, reputation: float | None, weight: float = REPUTATION_WEIGHT) -> float:
    """The ranking hook for trust: a match's score moved by its counterpart's reputation signal.

    Args:
        score: the match score in [0, 1].
        reputation: the counterpart's signal in [0, 1] (``reputation.score.Reputation.signal``: 0.5 for an
            agent nobody rated, never above 0.5 for a flagged ring), or None when not looked up yet.
        weight: how much a full signal moves the rank.

    Returns:
        The rank in [0, 1]: ``score + weight * (reputation - 0.5) * 2``, clipped; ``score`` when unknown.
    """
    if reputation is None:
        return score
    return float(min(1.0, max(0.0, score + weight * (min(1.0, max(0.0, reputation)) - 0.5) * 2)))


def explain(
    query: Intent,
    cand: Intent,
    distance_km: float,
    hard_keys: tuple[str, ...],
    tolerance: float,
    shared_words: Callable[[], tuple[tuple[str, str], ...]] | None = None,
) -> Explanation:
    """Why ``cand`` matches ``query`` and what differs, from the query's point of view. ``shared_words``:
    finds the query's words and the candidate's closest ones (``words.shared``), told as words in common."""
    same = cand.category == query.category
    reasons: list[Reason] = [
        Reason(
            "same_category" if same else "related_category",
            {"category": cand.category, "yours": query.category},
        )
    ]
    words: list[str] = [
        f"{'sells' if cand.action in (Action.SELL, Action.OFFER_SERVICE) else 'wants'} {cand.category}"
    ]
    reasons.append(Reason("distance", {"km": round(distance_km, 1)}))
    words.append(f"about {distance_km:.0f} km away")
    if pairs := (shared_words() if shared_words is not None else ()):
        reasons.append(Reason("shared_words", {"pairs": [list(p) for p in pairs]}))
        words.append("words in common: " + ", ".join(a if a == b else f"{a} ≈ {b}" for a, b in pairs))
    for k in hard_keys:
        if k in query.attributes and k in cand.attributes:
            reasons.append(Reason("attribute_match", {"key": k, "value": cand.attributes[k]}))
            words.append(f"same {k} {cand.attributes[k]}")
        elif k in query.attributes:
            reasons.append(Reason("attribute_unknown", {"key": k, "wanted": query.attributes[k]}))
            words.append(f"{k} not stated (you want {query.attributes[k]})")
    for k in SOFT_CONFLICT_KEYS:
        if k in conflicts(query.attributes, cand.attributes):
            reasons.append(
                Reason(
                    "attribute_differs",
                    {"key": k, "yours": query.attributes[k], "theirs": cand.attributes[k]},
                )
            )
            words.append(f"{k} differs: {cand.attributes[k]} vs your {query.attributes[k]}")
    for k in SOFT_KEYS:
        if k in query.attributes and k in cand.attributes:
            if query.attributes[k] == cand.attributes[k]:
                reasons.append(Reason("attribute_match", {"key": k, "value": cand.attributes[k]}))
            else:
                reasons.append(
                    Reason(
                        "attribute_differs",
                        {"key": k, "yours": query.attributes[k], "theirs": cand.attributes[k]},
                    )
                )
                words.append(
                    f"{k} differs: {cand.attributes[k].replace('_', ' ')}"
                    f" vs your {query.attributes[k].replace('_', ' ')}"
                )
    qp, cp = unit_price(query), unit_price(cand)
    if qp is None or cp is None:
        reasons.append(Reason("price_unknown", {}))
        words.append("price to be agreed")
    elif qp[1] != cp[1]:
        reasons.append(Reason("price_currency_differs", {"yours": qp[1], "theirs": cp[1]}))
        words.append(f"price in {cp[1]}, yours in {qp[1]}")
    else:
        ask, max_pay = (cp[0], qp[0]) if query.action in _DEMAND else (qp[0], cp[0])
        params = {"ask": ask, "max": max_pay, "currency": cp[1], "tolerance": tolerance}
        if ask <= max_pay:
            reasons.append(Reason("price_within", params))
            words.append(f"asks {_money(ask, cp[1])}, max {_money(max_pay, cp[1])}")
        elif ask >= max_pay * PRICE_MISREAD_RATIO:
            reasons.append(Reason("price_unclear", params))
            words.append(f"asks {_money(ask, cp[1])}, max {_money(max_pay, cp[1])}: one is likely misread")
        else:
            reasons.append(Reason("price_negotiable", params))
            if query.action in _DEMAND:
                words.append(
                    f"asks {_money(ask, cp[1])}, you offered max {_money(max_pay, cp[1])} — negotiable"
                )
            else:
                words.append(
                    f"offers max {_money(max_pay, cp[1])}, you ask {_money(ask, cp[1])} — negotiable"
                )
    if cand.quantity != query.quantity:
        reasons.append(Reason("quantity_differs", {"yours": query.quantity, "theirs": cand.quantity}))
        words.append(f"quantity {cand.quantity} vs your {query.quantity}")
    text = "; ".join(words)
    return Explanation(tuple(reasons), text[0].upper() + text[1:])
