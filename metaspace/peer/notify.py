"""Notifications in the human's language, rendered from language-neutral events.

Theory of operation
-------------------
The agent peer produces *events* as plain dicts with no human text in them: a ``kind``
(``match``, ``approval_needed``, ``offer``, ``deal_closed``, ``deal_failed``,
``intent_published``, ``intent_withdrawn``, ``rating_received``, ``peer_blocked``), codes (taxonomy
category, action, reason code,
role) and numbers (amounts in minor units with an ISO-4217 currency, distances in km,
scores in 0..1, counts). :func:`render` and :func:`title` turn one event into one line for a
human in the language they chose:

1. ``lang`` (``"es"``, ``"pt-BR"``, ``"zh_Hans"``...) picks a message catalogue
   ``metaspace/locales/<base>.json`` (base language; unknown -> English) and a Babel locale
   (the full tag when Babel knows it, else the base language).
2. Every value is formatted for that locale *before* it enters a template: money with
   :func:`babel.numbers.format_currency`, distances with :func:`babel.units.format_unit`
   (``length-kilometer``, short form), counts with ``format_decimal``, scores with
   ``format_percent``; codes are looked up in the catalogue's tables (categories, actions,
   reasons, roles, attribute names and values). Count-dependent words use CLDR plural rules
   (``Locale.plural_form``) with ``.one`` / ``.other`` fragments.
3. The template of the kind (``<kind>.title`` / ``<kind>.body``, or a role/side variant) is
   filled with :meth:`str.format_map`. Values are substituted, never re-parsed, so text a remote
   peer controls (attribute values, codes) can't inject placeholders; it is stripped of control
   characters and truncated.

Nothing here raises on a malformed event: a missing or ill-typed field renders as a neutral
fragment ("price open", "distance unknown"), an unknown kind renders as the generic line, an
unknown category or reason code renders the code itself. No translation service is involved;
the catalogues are files in this repository, all with the same keys (a test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

from wire.currency import exponent, is_currency

__all__ = [
    "DEFAULT_LANG",
    "KINDS",
    "SUPPORTED_LANGS",
    "Catalog",
    "action_label",
    "annotate",
    "catalog",
    "category_label",
    "format_distance",
    "format_money",
    "fragment",
    "page_strings",
    "reason_label",
    "render",
    "resolve_lang",
    "safety_tips",
    "title",
]

#: Languages with a catalogue in ``metaspace/locales``.
SUPPORTED_LANGS = ("en", "es", "zh", "fr", "de", "pt")
DEFAULT_LANG = "en"
#: Event kinds with their own templates (anything else renders as ``generic``).
KINDS = (
    "match",
    "approval_needed",
    "offer",
    "deal_closed",
    "deal_failed",
    "intent_published",
    "intent_withdrawn",
    "rating_received",
    "peer_blocked",
    "handover_ready",
    "handover_proposed",
    "handover_confirmed",
    "handover_closed",
    "handover_ended",
    "handover_refused",
)
#: Sections every catalogue has; each is a flat ``{key: text}`` table.
SECTIONS = (
    "templates", "fragments", "actions", "action_verbs", "roles", "reasons", "attributes", "values",
    "payments", "tips", "page",
)  # fmt: skip
#: Longest remote-controlled string (attribute value, unknown code) put into a notification.
MAX_FIELD_CHARS = 64
#: At most this many attributes are listed in one notification.
MAX_ATTRS_SHOWN = 4
#: Language tags longer than this are not parsed (fall back to English).
MAX_LANG_TAG = 35
_SPACES = re.compile(r"[ \t\r\n]+")
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Catalog:
    """One language's message catalogue (a parsed ``metaspace/locales/<lang>.json``).

    Attributes:
        lang: the base language code (``es``).
        name: the language's own name (``Español``).
        sections: section name -> {key: text}; see :data:`SECTIONS`, plus ``categories``.
    """

    lang: str
    name: str
    sections: Mapping[str, Mapping[str, str]]

    def get(self, section: str, key: str) -> str | None:
        """The text for ``key`` in ``section``, or None."""
        table = self.sections.get(section)
        return table.get(key) if table is not None else None


@lru_cache(maxsize=len(SUPPORTED_LANGS))
def catalog(lang: str) -> Catalog:
    """The catalogue of a supported base language.

    Args:
        lang: one of :data:`SUPPORTED_LANGS`.

    Returns:
        The parsed catalogue (cached).

    Raises:
        ValueError: ``lang`` is not supported or its file is malformed.
    """
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"no catalogue for language {lang!r}; supported: {', '.join(SUPPORTED_LANGS)}")
    raw = resources.files("metaspace.peer").joinpath(f"locales/{lang}.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"locales/{lang}.json: not a JSON object")
    sections: dict[str, dict[str, str]] = {}
    for name in (*SECTIONS, "categories"):
        table = data.get(name)
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise ValueError(f"locales/{lang}.json: section {name!r} must be an object of strings")
        sections[name] = table
    meta = data.get("meta", {})
    name = meta.get("name", lang) if isinstance(meta, dict) else lang
    return Catalog(lang=lang, name=str(name), sections=sections)


def resolve_lang(lang: object) -> tuple[str, Locale]:
    """The catalogue language and the Babel locale for a language tag.

    Args:
        lang: a tag such as ``es``, ``pt-BR``, ``zh_Hans_CN``; anything else means English.

    Returns:
        ``(base, locale)``: ``base`` in :data:`SUPPORTED_LANGS` (English when the tag's language
        has no catalogue) and the Babel locale of the full tag when Babel knows it and its
        language is ``base``, else of ``base``.
    """
    if not isinstance(lang, str) or len(lang) > MAX_LANG_TAG or not _LANG_TAG.match(lang):
        return _resolve_tag(DEFAULT_LANG)
    return _resolve_tag(lang)


@lru_cache(maxsize=256)
def _resolve_tag(lang: str) -> tuple[str, Locale]:
    fallback = (DEFAULT_LANG, Locale.parse(DEFAULT_LANG))
    tag = lang.replace("-", "_")
    base = tag.split("_", 1)[0].lower()
    if base not in SUPPORTED_LANGS:
        return fallback
    try:
        loc = Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        return base, Locale.parse(base)
    return base, (loc if loc.language == base else Locale.parse(base))


def _clean(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """A remote-controlled value as a short single-line string without control characters."""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(value)[: limit * 2]
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _real(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def format_money(money: object, lang: str) -> str | None:
    """A price or amount dict formatted for ``lang`` (``{"amount_minor": 7000, "currency": "USD"}``).

    Args:
        money: a dict with an integer ``amount_minor`` >= 0 and an ISO-4217 ``currency``.
        lang: a language tag (see :func:`resolve_lang`).

    Returns:
        e.g. ``"70,00 US$"`` for ``es``, or None when ``money`` isn't such a dict.
    """
    if not isinstance(money, Mapping):
        return None
    amount = _count(money.get("amount_minor"))
    currency = money.get("currency")
    if amount is None or not isinstance(currency, str) or not is_currency(currency):
        return None
    _, loc = resolve_lang(lang)
    value = Decimal(amount).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=loc)


#: The longest distance between two places on Earth (half its circumference); a peer's event saying more is
#: malformed, and babel's quantize raises on the largest floats (1e27 km).
MAX_DISTANCE_KM = 20_038.0


def format_distance(km: object, lang: str) -> str | None:
    """A distance in km formatted for ``lang`` with one decimal (``"24,6 km"``), or None if not a number
    between 0 and ``MAX_DISTANCE_KM``."""
    value = _real(km)
    if value is None or not 0 <= value <= MAX_DISTANCE_KM:
        return None
    _, loc = resolve_lang(lang)
    rounded = Decimal(str(round(value, 1)))
    return format_unit(rounded, "length-kilometer", length="short", format="#,##0.#", locale=loc)


def _table_label(section: str, code: object, lang: str) -> str:
    base, _ = resolve_lang(lang)
    key = code if isinstance(code, str) else ""
    text = catalog(base).get(section, key) or catalog(DEFAULT_LANG).get(section, key)
    return text if text is not None else _clean(code)


def category_label(code: object, lang: str) -> str:
    """The human name of a category (``vehicles/tires`` -> ``Llantas y rines``); the code if unknown."""
    return _table_label("categories", code, lang)


def action_label(action: object, lang: str) -> str:
    """The human name of an action (``SELL`` -> ``Vender``); the code if unknown."""
    return _table_label("actions", action, lang)


def reason_label(reason: object, lang: str) -> str:
    """The human explanation of a failure reason code; a generic line naming the code if unknown."""
    base, _ = resolve_lang(lang)
    cat = catalog(base)
    if isinstance(reason, str) and cat.get("reasons", reason) is not None:
        return cat.get("reasons", reason) or ""
    code = _clean(reason) if reason is not None else "?"
    return (cat.get("reasons", "unknown") or "{code}").format_map({"code": code})


class _Renderer:
    """Formats the values of one event for one language (one instance per call)."""

    def __init__(self, lang: str) -> None:
        self.base, self.locale = resolve_lang(lang)
        self.cat = catalog(self.base)
        self.en = catalog(DEFAULT_LANG)

    def text(self, section: str, key: str) -> str:
        found = self.cat.get(section, key)
        if found is None:
            found = self.en.get(section, key)
        return found if found is not None else key

    def plural(self, key: str, n: int) -> str:
        form = self.locale.plural_form(n)
        template = self.text("fragments", f"{key}.{'one' if form == 'one' else 'other'}")
        return template.format_map({"n": format_decimal(n, locale=self.locale)})

    def number(self, value: object) -> str:
        n = _count(value)
        return format_decimal(n, locale=self.locale) if n is not None else "?"

    def money(self, value: object) -> str | None:
        return format_money(value, str(self.locale))

    def price(self, price: object) -> str:
        amount = self.money(price)
        if amount is None:
            return self.text("fragments", "price_open")
        per_unit = not isinstance(price, Mapping) or price.get("per_unit", True) is not False
        key = "price_per_unit" if per_unit else "price_total"
        return self.text("fragments", key).format_map({"amount": amount})

    def terms(self, price: object, quantity: object) -> str:
        """Quantity and price together: ``4 × 80,00 US$ cada uno`` / ``4 por 320,00 US$ en total``."""
        if _count(quantity) is None:
            return self.price(price)
        qty = self.number(quantity)
        amount = self.money(price)
        if amount is None:
            return self.text("fragments", "terms_open").format_map({"quantity": qty})
        per_unit = not isinstance(price, Mapping) or price.get("per_unit", True) is not False
        key = "terms_per_unit" if per_unit else "terms_total"
        return self.text("fragments", key).format_map({"quantity": qty, "amount": amount})

    def total(self, event: Mapping[str, Any]) -> str:
        """The event's ``total``, else price x quantity (per-unit price) or the price itself."""
        given = self.money(event.get("total"))
        if given is not None:
            return given
        price = event.get("price")
        qty = _count(event.get("quantity"))
        if isinstance(price, Mapping) and self.money(price) is not None:
            amount = int(price["amount_minor"])
            if price.get("per_unit", True) is not False and qty:
                amount *= qty
            return self.money({"amount_minor": amount, "currency": price["currency"]}) or "?"
        return self.text("fragments", "price_open")

    def distance(self, km: object) -> str:
        text = format_distance(km, str(self.locale))
        if text is None:
            return self.text("fragments", "distance_unknown")
        return self.text("fragments", "distance").format_map({"distance": text})

    def score(self, value: object) -> str:
        v = _real(value)
        if v is None:
            return "?"
        return format_percent(min(max(v, 0.0), 1.0), locale=self.locale)

    def attributes(self, attrs: object) -> str:
        if not isinstance(attrs, Mapping) or not attrs:
            return ""
        parts: list[str] = []
        for key, value in list(attrs.items())[:MAX_ATTRS_SHOWN]:
            k = key if isinstance(key, str) else ""
            name = self.cat.get("attributes", k) or _clean(key, 24)
            v = value if isinstance(value, str) else ""
            shown = self.cat.get("values", v) or _clean(value)
            parts.append(self.text("fragments", "attribute").format_map({"name": name, "value": shown}))
        inner = self.text("fragments", "list_separator").join(parts)
        return self.text("fragments", "attributes").format_map({"list": inner})

    def who(self, event: Mapping[str, Any]) -> str:
        """Another agent as a human recognises it: its handle, else the start of its peer id."""
        handle, peer = event.get("handle"), event.get("peer")
        if isinstance(handle, str) and handle:
            return _clean(handle, MAX_FIELD_CHARS)
        if isinstance(peer, str) and peer:
            text = _clean(peer, 52)
            return text if len(text) <= 16 else f"{text[:8]}…{text[-6:]}"
        return self.text("fragments", "another_agent")

    def comment(self, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            return ""
        return self.text("fragments", "comment").format_map({"text": _clean(value, 140)})

    def block_for(self, event: Mapping[str, Any]) -> str:
        until, at = _real(event.get("until")), _real(event.get("time"))
        if until is None or at is None or until <= at:
            return ""
        minutes = max(1, round((until - at) / 60))
        return self.text("fragments", "block_for").format_map(
            {"minutes": format_decimal(minutes, locale=self.locale)}
        )

    def when(self, start: object, end: object) -> str:
        """A meeting window in the machine's time zone (the agent runs on its human's computer)."""
        a, b = _real(start), _real(end)
        if a is None or b is None or not 0 <= a <= 2**40 or not 0 <= b <= 2**40:
            return "?"
        tz = dt.datetime.now().astimezone().tzinfo
        begin = format_datetime(dt.datetime.fromtimestamp(a, tz), "medium", tzinfo=tz, locale=self.locale)
        return (
            f"{begin}–{format_time(dt.datetime.fromtimestamp(b, tz), 'short', tzinfo=tz, locale=self.locale)}"
        )

    def place(self, event: Mapping[str, Any]) -> str:
        """The meeting cell as a human reads it: the area around its centre, and its size."""
        centre, size = event.get("center"), _real(event.get("size_km"))
        if (
            not isinstance(centre, Mapping)
            or _real(centre.get("lat")) is None
            or _real(centre.get("lon")) is None
        ):
            return self.text("fragments", "place_unknown")
        lat, lon = float(centre["lat"]), float(centre["lon"])
        return self.text("fragments", "place").format_map({
            "lat": format_decimal(round(lat, 3), locale=self.locale),
            "lon": format_decimal(round(lon, 3), locale=self.locale),
            "size": format_distance(size if size is not None else 0, str(self.locale)) or "?",
        })  # fmt: skip

    def payments(self, value: object) -> str:
        methods = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        names = [self.cat.get("payments", m) or _clean(m, 24) for m in methods[:4] if isinstance(m, str)]
        return self.text("fragments", "list_separator").join(names) or "?"

    def fields(self, event: Mapping[str, Any]) -> _Fields:
        """Every placeholder any template may use, formatted for this language on first use."""
        ev = event
        action = ev.get("action", ev.get("other_action"))

        def rounds() -> str:
            n = _count(ev.get("rounds"))
            if n is None and isinstance(ev.get("rounds"), list):
                n = len(ev["rounds"])
            return self.plural("rounds", n) if n is not None else ""

        def replicas() -> str:
            n = _count(ev.get("replicas"))
            return self.plural("peers", n) if n is not None else ""

        def offer(fragment: str) -> str:
            if self.money(ev.get("price")) is None:
                return ""
            return self.text("fragments", fragment).format_map(
                {"terms": self.terms(ev.get("price"), ev.get("quantity"))}
            )

        def category() -> str:
            if "category" not in ev:
                return self.text("fragments", "something")
            return category_label(ev.get("category"), self.base)

        return _Fields(
            {
                "category": category,
                "action": lambda: _table_label("actions", action, self.base),
                "action_verb": lambda: _table_label(
                    "action_verbs", ev.get("other_action", action), self.base
                ),
                "attributes": lambda: self.attributes(ev.get("attributes")),
                "price": lambda: self.price(ev.get("price")),
                "quantity": lambda: self.number(ev.get("quantity")),
                "terms": lambda: self.terms(ev.get("price"), ev.get("quantity")),
                "offer": lambda: offer("offer"),
                "last_offer": lambda: offer("last_offer"),
                "total": lambda: self.total(ev),
                "limit": lambda: self.money(ev.get("limit")) or self.text("fragments", "no_limit"),
                "distance": lambda: self.distance(ev.get("distance_km")),
                "score": lambda: self.score(ev.get("score")),
                "rounds": rounds,
                "round": lambda: self.number(ev.get("round")),
                "replicas": replicas,
                "reason": lambda: reason_label(ev.get("reason"), self.base),
                "role": lambda: _table_label("roles", ev.get("role"), self.base),
                "kind": lambda: _clean(ev.get("kind", "?"), 32),
                "who": lambda: self.who(ev),
                "stars": lambda: self.number(ev.get("stars")),
                "agreed": lambda: self.text(
                    "fragments", "not_as_agreed" if ev.get("as_agreed") is False else "went_as_agreed"
                ),
                "comment": lambda: self.comment(ev.get("comment")),
                "block_for": lambda: self.block_for(ev),
                "when": lambda: self.when(ev.get("start"), ev.get("end")),
                "place": lambda: self.place(ev),
                "payments": lambda: self.payments(ev.get("payment")),
                "expires_at": lambda: self.when(ev.get("expires"), ev.get("expires")).split("–")[0],
                "tips": lambda: " ".join(safety_tips(self.base)),
                "closed": lambda: self.text("fragments", f"closed_{_clean(ev.get('reason', ''), 16)}"),
                "detail": lambda: _clean(ev.get("detail", ""), 120),
                "deal": lambda: _clean(ev.get("deal_id", ""), 12),
            }
        )


class _Fields(Mapping[str, str]):
    """Template values computed on first lookup (a template uses a few of them)."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        self._makers = makers
        self._done: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._done:
            self._done[key] = self._makers[key]()
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def _template_key(event: Mapping[str, Any], part: str) -> str:
    kind = event.get("kind")
    if kind not in KINDS:
        return f"generic.{part}"
    if part == "body":
        if kind in ("approval_needed", "deal_closed") and event.get("role") in ("seller", "buyer"):
            return f"{kind}.body_{event['role']}"
        if kind in ("offer", "handover_proposed") and event.get("from") in ("me", "them"):
            return f"{kind}.body_{event['from']}"
        if kind == "handover_closed":
            return f"{kind}.body_{'mine' if event.get('mine') else 'theirs'}"
    return f"{kind}.{part}"


def safety_tips(lang: str) -> list[str]:
    """The short safety tips shown with a confirmed meeting, in ``lang`` (English when unsupported)."""
    base, _ = resolve_lang(lang)
    table = catalog(base).sections.get("tips") or catalog(DEFAULT_LANG).sections.get("tips") or {}
    return [table[k] for k in sorted(table)]


def fragment(key: str, lang: str) -> str:
    """One text of the ``fragments`` section in ``lang`` (English, then the key, when missing)."""
    return _Renderer(lang).text("fragments", key)


def page_strings(lang: str) -> tuple[str, dict[str, str]]:
    """The web page's labels in ``lang``: the ``page`` section, plus the action names (``action_SELL``),
    reason texts (``reason_declined``), payment names (``pay_cash``) and category names (``cat_<code>``) the
    notifications use; English
    for any key a catalogue lacks."""
    base, _ = resolve_lang(lang)
    strings: dict[str, str] = {}
    for code in dict.fromkeys((DEFAULT_LANG, base)):
        sections = catalog(code).sections
        pairs = (("actions", "action_"), ("reasons", "reason_"), ("payments", "pay_"), ("categories", "cat_"))
        for section, prefix in pairs:
            strings.update({prefix + k: v for k, v in (sections.get(section) or {}).items()})
        strings.update(sections.get("page") or {})
    return base, strings


def _fill(event: object, lang: str, part: str) -> str:
    r = _Renderer(lang)
    ev: Mapping[str, Any] = event if isinstance(event, Mapping) else {}
    key = _template_key(ev, part)
    template = r.text("templates", key)
    # collapse ASCII spaces only: Babel's no-break spaces (70,00\xa0US$) are part of the format
    return _SPACES.sub(" ", template.format_map(r.fields(ev))).strip(" ")


def render(event: dict[str, Any], lang: str) -> str:
    """One line telling the human what happened, in their language.

    Args:
        event: a language-neutral event dict (see the module docstring); malformed fields are
            rendered as neutral fragments, an unknown ``kind`` as a generic line.
        lang: the human's language tag; unsupported languages fall back to English.

    Returns:
        The notification text (never empty, no template placeholders left).
    """
    return _fill(event, lang, "body")


def title(event: dict[str, Any], lang: str) -> str:
    """A short heading for the event (``"New match"``), in the human's language.

    Args:
        event: as for :func:`render`.
        lang: as for :func:`render`.

    Returns:
        The title (never empty).
    """
    return _fill(event, lang, "title")


def annotate(event: dict[str, Any], lang: str) -> dict[str, Any]:
    """A copy of ``event`` with ``"title"`` and ``"text"`` rendered for ``lang`` (what the web page shows).

    Args:
        event: as for :func:`render`.
        lang: as for :func:`render`.

    Returns:
        A new dict; the event's own keys are kept, ``title``/``text``/``lang`` set.
    """
    out = dict(event)
    out["title"] = title(event, lang)
    out["text"] = render(event, lang)
    out["lang"] = resolve_lang(lang)[0]
    return out
