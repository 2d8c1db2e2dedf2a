"""Text -> a draft Intent: language, action, category candidates, attributes, price, quantity, what's missing.

Theory of operation: the text is bounded and checked (``UnderstandError`` for empty, huge, word-less input or
a
script no language table covers), its language detected (or taken from ``lang``), and the language tables of
that language (plus English) applied: attributes, prices with currency and multipliers, quantities
(``extract``), cues, and the bank glossary. One batched embedding call gives the item-word vectors and the
whole-text vectors; the bank classifier turns them into a calibrated category distribution (``classify``).
Lexical cues decide the action when they agree, an owner's description or a question when no cue word does,
the side the wording suggests otherwise (``Classifier.demand_probability``; all in ``matching.side``).

Whatever was not found or is uncertain goes to ``.missing`` (so the agent asks), contradictions and
ambiguities to ``.warnings``. When the best two categories are close, ``.needs_choice`` is set and
``.candidates`` holds the best three: the agent shows them and lets the human pick; it never publishes a
low-confidence category silently. A default that was applied (currency, quantity 1, placeholder location) is
reported.

The draft's ``.intent`` uses placeholder identity and time (from ``defaults`` or deterministic values:
author = 32 zero bytes, id = sha256(text)[:16], created = 0); ``to_intent(...)`` builds the real one. What
the intent publishes as its text is decided by ``matching.published.published_text`` (one place, for the
privacy rules).
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matching.bank import Gloss
from matching.canonical import MAX_GLOSSES, category_label, find_glosses, item_rendering, item_words, render
from matching.classify import CategoryResult, Votes, classifier_for, text_boosts
from matching.cues import (
    is_service_category,
    job_seeker,
    service_hint,
)
from matching.discovery import FREE_CATEGORY, says_giveaway
from matching.embedder import Embedder, get_embedder, l2_normalise
from matching.errors import UnderstandError
from matching.extract import MAX_EXTRACT_CHARS, extract, parking_cover
from matching.extraction import Extraction
from matching.features import embed_with_leads
from matching.gazetteer import ROUTE_CATEGORIES, local_currency, route
from matching.lang import detect_language, mixed_languages, script_report, supported, unsupported_language
from matching.lexicon import fold, pattern
from matching.pricing import PLACE_CURRENCY, draft_price
from matching.published import published_text
from matching.side import read_side
from matching.signals import YEAR_GROUPS, model_year
from matching.things import thing_count
from wire.currency import is_currency
from wire.errors import LocalProtocolError
from wire.geo import MAX_INTENT_RES, cell_at, center, coarsen, is_cell
from wire.intent import Action, Intent
from wire.limits import (
    MAX_ATTRIBUTES,
    MAX_INTENT_TTL_S,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
)
from wire.taxonomy import group_of

#: Input longer than this is refused (the intent's text is capped at MAX_TEXT_LEN anyway).
MAX_INPUT_CHARS = MAX_EXTRACT_CHARS
DEFAULT_RADIUS_KM = 50
DEFAULT_TTL_S = MAX_INTENT_TTL_S
#: The category is confident when its probability reaches this and leads the second by CHOICE_MARGIN;
#: otherwise the human is shown the best three and picks (``needs_choice``).
CATEGORY_MIN_PROB = 0.5
CHOICE_MARGIN = 0.2
#: The category's whole-text votes (text, ads, linear model) read the text's vector plus this many times its
#: lead's (``features.embed_with_leads``, the first clause): a long ad names its item first, and what follows
#: (condition, accessories, delivery, "winter tires fitted" of a car for rent, "the suit" of a Santa Claus)
#: pulled it elsewhere. Decided on the four tuning sets, non-English category agreement tune / tune2 / tune3 /
#: tune4: .946 / .891 / .768 / .741 -> .954 / .895 / .773 / .767 at 2 (1: .946 / .896 / .775 / .753; 4: .954
#: / .896 / .774 / .767); top-1 .939 / .893 / .920 / .818 -> .939 / .893 / .921 / .827. Read once after:
#: on the 3,771 ads of ``data/eval_ads`` non-English category .829 -> .832; held-out non-English category
#: .916 -> .918 but agreement .889 -> .880 and top-1 .880 -> .878, the sell side's category (sellers and
#: their near misses, 251 texts) .912 -> .888 (6 flipped). The lead in the search's distribution too
#: (``features``, whose match vector already holds it) cost top-5 (tune4 .965 -> .945). One more embedding
#: per text longer than its lead (bench/matching.py, understanding whole ads: 79.0 -> 75.6 texts/s).
W_LEAD_TEXT = 2.0
#: Share of letters in scripts no language table covers above which the text is refused.
MAX_UNSUPPORTED_SHARE = 0.5
#: Attributes the agent should ask for when absent, per category.
KEY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "vehicles/tires": ("size",),
    "electronics/phones": ("model",),
    "electronics/tv": ("screen",),
    "fashion/shoes": ("size",),
}
#: Placeholder location when neither ``location`` nor ``defaults['cell']`` is given (reported in missing).
PLACEHOLDER_CELL = cell_at(0.0, 0.0, MAX_INTENT_RES)


@dataclass
class Understanding:
    """The result of ``understand``: a draft intent plus what the agent should confirm or ask."""

    intent: Intent
    lang: str
    confidence: float
    missing: list[str]
    warnings: list[str]
    canonical: str
    item: str
    price_bound: str | None = None
    cues: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[tuple[str, float]] = field(default_factory=list)
    needs_choice: bool = False

    def to_intent(
        self,
        author: bytes,
        intent_id: bytes,
        now: float,
        cell: str | None = None,
        radius_km: int | None = None,
        ttl_s: int = DEFAULT_TTL_S,
        seq: int = 0,
        category: str | None = None,
        demand: bool | None = None,
    ) -> Intent:
        """The publishable intent with real identity, time and location (and the human's choices).

        Args:
            category: the category the human picked (default: the understood one).
            demand: the side the human chose (``metaspace buy`` is demand, ``sell`` supply); default:
            understood.

        Raises:
            LocalProtocolError: a field is out of range (e.g. cell finer than res 7, unknown category).
        """
        created = int(now)
        chosen = category if category is not None else self.intent.category
        place = cell if cell is not None else self.intent.cell
        attributes = dict(self.intent.attributes)
        if (chosen, place) != (self.intent.category, self.intent.cell):  # else already read for them
            attributes = with_category_attributes(attributes, chosen, place, self.intent.text)
        side = self.intent.action
        if demand is not None:
            side = Action.BUY if demand else Action.SELL
        return Intent(
            id=intent_id,
            author=author,
            seq=seq,
            action=_action_for(side, chosen),
            category=chosen,
            attributes=attributes,
            price=self.intent.price,
            quantity=self.intent.quantity,
            cell=place,
            radius_km=radius_km if radius_km is not None else self.intent.radius_km,
            created=created,
            expires=created + min(ttl_s, MAX_INTENT_TTL_S),
            text=self.intent.text,
            lang=self.intent.lang,
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view (what the CLI prints)."""
        p = self.intent.price
        return {
            "action": self.intent.action.value,
            "category": self.intent.category,
            "categories": [
                {"code": c, "label": category_label(c), "probability": round(pr, 3)}
                for c, pr in self.candidates
            ],
            "needs_choice": self.needs_choice,
            "attributes": dict(self.intent.attributes),
            "price": None
            if p is None
            else {
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "per_unit": p.per_unit,
                "bound": self.price_bound,
            },
            "quantity": self.intent.quantity,
            "lang": self.lang,
            "missing": list(self.missing),
            "warnings": list(self.warnings),
            "confidence": round(self.confidence, 3),
            "canonical": self.canonical,
        }


def _action_for(action: Action, category: str) -> Action:
    """The same side (demand or supply) of ``action`` expressed for ``category`` (goods vs services)."""
    demand = action in (Action.BUY, Action.SEEK_SERVICE)
    if is_service_category(category):
        return Action.SEEK_SERVICE if demand else Action.OFFER_SERVICE
    return Action.BUY if demand else Action.SELL


def _check_text(text: object, lang: str | None = None) -> str:
    """``text`` NFC and spaced once, or why it can't be read; a language named by the caller (``lang``) is
    trusted over ``lang.unsupported_language``."""
    if not isinstance(text, str):
        raise UnderstandError(f"text must be a string, not {type(text).__name__}")
    t = " ".join(unicodedata.normalize("NFC", text).split())
    if not t:
        raise UnderstandError("empty text: say what you want to buy, sell, offer or find")
    if len(t) > MAX_INPUT_CHARS:
        raise UnderstandError(f"text too long ({len(t)} characters, at most {MAX_INPUT_CHARS})")
    if not any(ch.isalpha() for ch in t):
        raise UnderstandError(
            "the text has no words (only numbers, symbols or emoji): say what you want to buy, sell, offer "
            "or find, e.g. 'selling my bike, 80 EUR'"
        )
    rep = script_report(t)
    other = sum(rep.unsupported.values())
    if other and other > MAX_UNSUPPORTED_SHARE * rep.letters:
        names = ", ".join(sorted(rep.unsupported, key=lambda k: -rep.unsupported[k]))
        raise UnderstandError(
            f"the text is written in {names}, which this agent does not read yet; "
            f"write it in one of: {', '.join(supported())}"
        )
    name = None if lang is not None else unsupported_language(t)
    if name is not None:
        raise UnderstandError(
            f"the text looks like {name}, which this agent does not read yet (its side, counts and prices "
            f"would be guesses); write it in one of: {', '.join(supported())}"
        )
    return t


#: Categories whose goods' size in inches is their wheels' (a bicycle's "26 inch", "28 Zoll").
WHEEL_CATEGORIES = frozenset({"vehicles/bicycles"})


def with_category_attributes(
    attributes: dict[str, str], category: str, cell: str | None, text: str | None
) -> dict[str, str]:
    """``attributes`` with those that depend on the category and the place: the ``route`` the text names near
    ``cell`` (``gazetteer.route``) in ``ROUTE_CATEGORIES``, whether a parking space is covered or open
    (``extract.parking_cover``), the model ``year`` (``signals.model_year``) in ``YEAR_GROUPS``. Any of
    them, from another category or place, is dropped. On a bicycle, inches are its wheels'
    (``WHEEL_CATEGORIES``: "26 inch", "28 Zoll" is a ``wheel``, not a ``screen``)."""
    if category in WHEEL_CATEGORIES and "screen" in attributes:
        attributes["wheel"] = attributes.pop("screen")
    elif category not in WHEEL_CATEGORIES and "wheel" in attributes:  # the human chose another category
        attributes["screen"] = attributes.pop("wheel")
    if group_of(category) != "property":  # "3 bedroom house" in a furniture ad describes no item
        attributes.pop("bedrooms", None)
    attributes.pop("route", None)
    attributes.pop("year", None)
    attributes.pop("parking", None)
    if (
        category in ROUTE_CATEGORIES
        and cell is not None
        and cell != PLACEHOLDER_CELL
        and text
        and len(attributes) < MAX_ATTRIBUTES
        and (way := route(text, *center(cell))) is not None
    ):
        attributes["route"] = way
    parking = category == "property/parking" and len(attributes) < MAX_ATTRIBUTES
    if parking and text and (cover := parking_cover(text)) is not None:
        attributes["parking"] = cover
    in_group = group_of(category) in YEAR_GROUPS
    if in_group and len(attributes) < MAX_ATTRIBUTES and (year := model_year(text)) is not None:
        attributes["year"] = year
    return attributes


def _location_cell(location: object, defaults: Mapping[str, Any]) -> str | None:
    if location is not None:
        if not (isinstance(location, Sequence) and len(location) == 2):
            raise UnderstandError("location must be a (lat, lon) pair")
        try:
            res = int(defaults.get("res", MAX_INTENT_RES))
            return cell_at(float(location[0]), float(location[1]), min(res, MAX_INTENT_RES))
        except (LocalProtocolError, TypeError, ValueError) as e:
            raise UnderstandError(f"bad location: {e}") from e
    cell = defaults.get("cell")
    if cell is not None:
        if not is_cell(cell):
            raise UnderstandError(f"defaults['cell'] is not an H3 cell: {cell!r}")
        return coarsen(str(cell), MAX_INTENT_RES)
    return None


def understand(
    text: str,
    *,
    location: tuple[float, float] | None = None,
    lang: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    embedder: Embedder | None = None,
) -> Understanding:
    """Understand one text. See ``understand_many``.

    Args:
        text: free text in any supported language.
        location: (lat, lon) of the user; becomes an H3 cell at res 7 (``defaults['res']`` may coarsen).
        lang: overrides language detection.
        defaults: optional ``currency``, ``cell``, ``radius_km``, ``author``, ``intent_id``, ``now``,
            ``ttl_s``, ``res``; ``fallback_currency``: what a price without its currency is in where the
            place has no known currency (without ``currency``, the place's currency comes first).
        embedder: defaults to the process-wide ``use-m3`` embedder.

    Returns:
        An ``Understanding``.

    Raises:
        UnderstandError: empty, too long or word-less text, unsupported script, bad location or defaults.
    """
    return understand_many([text], location=location, lang=lang, defaults=defaults, embedder=embedder)[0]


@dataclass
class _Parsed:
    text: str
    lang: str | None
    lang_conf: float
    ex: Extraction
    item: str
    glosses: list[Gloss]
    mixed: list[str]  # the languages of a mixed text (``mixed_languages``), else []


#: ``Classifier.categories``' and ``votes``' arguments: item and whole-text vectors, boosts, languages, texts.
_ClassifierInputs = tuple[
    np.ndarray, np.ndarray, list[dict[str, float]], list[tuple[str, ...] | None], list[str]
]


def _parse(text: str, lang: str | None, default_currency: str | None) -> _Parsed:
    mixed = mixed_languages(text)
    if lang is not None:
        code: str | None = lang.lower()
        conf = 1.0
    else:
        code, conf = detect_language(text)
    # every language of a mixed text lends its cues and phrases ("Verkaufe ..." in a Russian text is a sale)
    ex = extract(text, default_currency, code, tuple(mixed))  # scope() keeps each language once
    return _Parsed(text, code, conf, ex, item_words(text, ex), find_glosses(ex), mixed)


def understand_many(
    texts: list[str],
    *,
    location: tuple[float, float] | None = None,
    lang: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    embedder: Embedder | None = None,
) -> list[Understanding]:
    """Understand several texts with one batched embedding call (same location/lang/defaults for all).

    Raises:
        UnderstandError: as ``understand``, for the first bad text.
    """
    defaults = dict(defaults or {})
    emb = embedder if embedder is not None else get_embedder()
    clf = classifier_for(emb)
    for key in ("currency", "fallback_currency"):
        if defaults.get(key) is not None and not is_currency(defaults[key]):
            raise UnderstandError(f"defaults[{key!r}] is not an ISO-4217 code: {defaults[key]!r}")
    default_currency = defaults.get("currency")
    cell = _location_cell(location, defaults)
    if default_currency is None:
        # no currency given: the one where the human is ("$3.300.000" in Buenos Aires, "7,5jt" in Jakarta),
        # told when it decides a price (``pricing.draft_price``), else the fallback
        local = None if cell is None else local_currency(*center(cell))
        defaults[PLACE_CURRENCY] = local is not None
        default_currency = local or defaults.get("fallback_currency")
        if default_currency is not None:
            defaults["currency"] = default_currency
    parsed = [_parse(_check_text(t, lang), lang, default_currency) for t in texts]
    full_vecs, inputs = _category_inputs(emb, parsed)
    cats = clf.categories(*inputs)
    seeks = clf.demand_probability(full_vecs)
    return [_one(p, defaults, cell, cats[i], float(seeks[i])) for i, p in enumerate(parsed)]


def category_votes(
    texts: Sequence[str],
    *,
    lang: str | None = None,
    currency: str | None = None,
    embedder: Embedder | None = None,
) -> Votes:
    """Each vote of the category classifier on each text, on its own and with its weight, as ``understand``
    reads the texts given ``lang`` and a default ``currency`` (``Classifier.votes``, one batched embedding):
    why a category won (``metaspace understand --explain``, ``python -m matching.vote_report``).

    Raises:
        UnderstandError: as ``understand``, for the first bad text.
    """
    emb = embedder if embedder is not None else get_embedder()
    parsed = [_parse(_check_text(t, lang), lang, currency) for t in texts]
    return classifier_for(emb).votes(*_category_inputs(emb, parsed)[1])


def _category_inputs(emb: Embedder, parsed: list[_Parsed]) -> tuple[np.ndarray, _ClassifierInputs]:
    """The texts' own vectors (one batched call), and what the category classifier reads of them
    (``Classifier.categories`` and ``votes``): item-rendering and whole-text vectors (the whole text's votes
    hear its lead too: ``W_LEAD_TEXT``; a one-clause text is its own lead), boosts, languages, texts."""
    full_vecs, item_vecs, lead_vecs = embed_with_leads(
        emb, [p.text for p in parsed], [_classify_text(p) for p in parsed]
    )
    text_vecs = l2_normalise(full_vecs + W_LEAD_TEXT * lead_vecs)
    boosts = [_boosts(p) for p in parsed]
    return full_vecs, (item_vecs, text_vecs, boosts, [p.ex.langs for p in parsed], [p.text for p in parsed])


def _boosts(p: _Parsed) -> dict[str, float]:
    return text_boosts(p.ex.attributes, p.glosses, service_hint(fold(p.text), p.ex.langs))


def _gloss(p: _Parsed) -> str:
    return " ".join(list(dict.fromkeys(g.english for g in p.glosses))[:MAX_GLOSSES])


def _classify_text(p: _Parsed) -> str:
    """What the category is judged on: the item rendering (glosses, item words, model), as the index."""
    return item_rendering(dict(p.ex.attributes), p.item, _gloss(p))


def _two_items(p: _Parsed, category: str) -> list[str]:
    """The English names of two items joined by a conjunction ("a sofa and a bike"), else []. A service names
    the things it handles ("Dog walking, 3 dogs", "movers for a sofa and a fridge", "oil change, brake
    pads"), a sale the service that comes with it ("sofa, delivery possible"): neither is two items."""
    gs = p.glosses
    if len(gs) < 2 or is_service_category(category):
        return []
    conj = pattern("conjunctions", p.ex.langs)
    for a, b in itertools.pairwise(gs):
        if a.category.split("/")[0] == b.category.split("/")[0]:
            continue
        if is_service_category(a.category) != is_service_category(b.category):
            continue
        between = p.ex.rest[a.end : b.start]
        if len(between) <= 12 and (conj is None or conj.search(between) or "," in between):
            return [a.english, b.english]
    return []


def _free(category: str, p: _Parsed) -> bool:
    """A thing given away or asked for free (``discovery.giveaway``): its price is not missing."""
    return category == FREE_CATEGORY or says_giveaway(p.text, p.lang, category)


def _one(
    p: _Parsed, defaults: dict[str, Any], cell: str | None, cat: CategoryResult, seek: float
) -> Understanding:
    missing: list[str] = []
    warnings: list[str] = list(p.ex.warnings)
    if p.lang is None:
        detected = "und"
        missing.append("lang")
        warnings.append("language not recognised; understood from shared vocabulary only")
    else:
        detected = p.lang
        if len(p.mixed) > 1:
            warnings.append(f"mixed languages ({', '.join(p.mixed)}); read as {detected}")
    demand_side, act_conf, cues = read_side(p.text, p.ex, p.lang, seek, cat.code, warnings, missing)
    category = cat.code
    needs_choice = cat.probability < CATEGORY_MIN_PROB or cat.margin < CHOICE_MARGIN
    two = _two_items(p, category)
    if two:
        needs_choice = True
        warnings.append(f"the text names two items ({two[0]}, {two[1]}): publish one intent per item")
    if needs_choice:
        missing.append("category")
        warnings.append(
            "category uncertain: " + ", ".join(f"{c} ({pr:.2f})" for c, pr in cat.candidates) + "; choose one"
        )
    if is_service_category(category) and job_seeker(fold(p.text), p.ex.langs):
        demand_side = False  # "Nanny looking for work", "Busco trabajo de limpieza": the work is offered
    action = _action_for(Action.BUY if demand_side else Action.SELL, category)
    ex = p.ex
    attributes = with_category_attributes(
        dict(list(ex.attributes.items())[:MAX_ATTRIBUTES]), category, cell, p.text
    )
    for key in KEY_ATTRIBUTES.get(category, ()):
        if key not in attributes:
            missing.append(key)
    for key in ex.uncertain:
        if key not in missing:
            missing.append(key)
    quantity = 1
    count = thing_count(ex, p.glosses, category)
    if count is None:
        if not is_service_category(category) and "quantity" not in missing:
            missing.append("quantity")
    elif not 1 <= count <= MAX_QUANTITY:
        warnings.append(f"quantity {count} out of range; assumed 1")
        missing.append("quantity")
    else:
        quantity = count
    price, bound = draft_price(ex, quantity, demand_side, defaults, warnings, missing)
    if price is None and "price" in missing and _free(category, p):
        missing.remove("price")  # "Sofa zu verschenken": nothing to ask
    if cell is None:
        missing.append("location")
        cell_used = PLACEHOLDER_CELL
    else:
        cell_used = cell
    radius = int(defaults.get("radius_km", DEFAULT_RADIUS_KM))
    if not 0 <= radius <= MAX_RADIUS_KM:
        raise UnderstandError(f"radius_km must be in [0, {MAX_RADIUS_KM}]")
    now = int(defaults.get("now", 0))
    ttl = int(defaults.get("ttl_s", DEFAULT_TTL_S))
    stored_text, text_warnings = published_text(
        p.text, default_currency=defaults.get("currency"), reading=(p.lang, p.ex)
    )
    warnings += text_warnings
    author = defaults.get("author", bytes(32))
    intent_id = defaults.get("intent_id", hashlib.sha256(p.text.encode("utf-8")).digest()[:16])
    wire_lang = detected if detected != "und" else None
    try:
        intent = Intent(
            id=intent_id,
            author=author,
            seq=0,
            action=action,
            category=category,
            attributes=attributes,
            price=price,
            quantity=quantity,
            cell=cell_used,
            radius_km=radius,
            created=now,
            expires=now + min(ttl, MAX_INTENT_TTL_S),
            text=stored_text,
            lang=wire_lang,
        )
    except LocalProtocolError as e:
        raise UnderstandError(f"can't build an intent: {e}") from e
    cat_conf = min(0.99, max(0.05, cat.probability))
    confidence = float(min(act_conf, cat_conf, 0.5 + p.lang_conf / 2, 0.5 if needs_choice else 1.0))
    gloss = _gloss(p)
    return Understanding(
        intent=intent,
        lang=detected,
        confidence=confidence,
        missing=missing,
        warnings=warnings,
        canonical=render(category, attributes, p.item, gloss),
        item=p.item,
        price_bound=bound,
        cues=cues,
        candidates=list(cat.candidates),
        needs_choice=needs_choice,
    )
