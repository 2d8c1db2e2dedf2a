"""The control API contract between the local client (CLI, web page) and the agent peer.

Starlette-free and stdlib + ``wire`` only, so both the CLI (which must start fast) and the peer's
service (which shouldn't depend on the web framework) import it.

* :class:`AgentService` — what the agent peer implements; ``metaspace.api.app.create_app`` serves it.
* :class:`ServiceError` and subclasses — what a service method raises for an expected failure; the
  API turns it into ``{"error": code, "message": ...}`` with the error's HTTP status.
* ``validate_*`` — request validation, run by the API on every body and by the CLI before sending.

Shapes (JSON). Publish parameters, as validated by :func:`validate_publish`::

    {"action": "SELL", "category": "vehicles/tires", "lat": 19.43, "lon": -99.13, "cell": null,
     "radius_km": 50, "price": {"amount_minor": 8000, "currency": "USD", "per_unit": true},
     "quantity": 4, "attributes": {"size": "225/65R17"}, "text": "...", "lang": "en",
     "expires_in_s": 604800}

``limit`` is the human's private limit per unit (a seller's minimum, a buyer's maximum): the peer keeps
it in its own database for negotiation and never publishes or sends it. The published ``text`` is the
peer's decision too (no price mentions, no private amounts; none at all with ``share: nothing``): the
preview (same parameters) returns ``{"published": intent view, "private": {"limit", "limit_text"},
"warnings": [...]}`` so a client shows exactly what will be published before it asks to confirm.

Exactly one location form is given: ``lat``+``lon`` (the peer coarsens them to the human's allowed
resolution) or ``cell`` (an H3 cell, res <= 7); neither when the human never shares a location.
Search parameters (:func:`validate_search`): ``action`` is the action *of the intents wanted* (to find
sellers, search ``SELL``), plus ``category``, a location, ``radius_km``, ``limit`` and optional ``text``.

Views the service returns (the CLI shows whatever keys are present; these are the ones it knows):
intent ``{"id", "action", "category", "attributes", "price", "quantity", "cell", "radius_km",
"created", "expires", "text", "lang", "withdrawn", "author", "extra_groups"}``; search result = intent view +
``"distance_km"``, ``"score"``; match ``{"id", "intent_id", "other": intent view, "score",
"distance_km", "state"}``; deal ``{"id", "match_id", "state", "price", "quantity", "counterparty",
"needs_approval", "reason"}``; ``understand`` returns a publish-parameters draft (keys above, missing
ones absent) plus optional ``"confidence"`` and ``"missing"`` (list of keys it could not infer).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from wire.currency import is_currency
from wire.limits import (
    MAX_AMOUNT_MINOR,
    MAX_ATTR_KEY_LEN,
    MAX_ATTR_VALUE_LEN,
    MAX_ATTRIBUTES,
    MAX_INTENT_TTL_S,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
    MAX_RATING_COMMENT,
    MAX_RECORDS_PER_PAGE,
    MAX_TEXT_LEN,
)

#: Largest request body the control API reads.
MAX_BODY_BYTES = 64 * 1024
#: Ids in URLs (intent ids are 32 hex chars; match and deal ids are the service's choice).
MAX_ID_LEN = 128
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ACTIONS = ("SELL", "BUY", "OFFER_SERVICE", "SEEK_SERVICE")
DEFAULT_SEARCH_LIMIT = 20
_ATTR_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
PUBLISH_KEYS = frozenset(
    {
        "action",
        "category",
        "lat",
        "lon",
        "cell",
        "radius_km",
        "price",
        "quantity",
        "attributes",
        "text",
        "lang",
        "expires_in_s",
        "limit",
    }
)
SEARCH_KEYS = frozenset({"action", "category", "lat", "lon", "cell", "radius_km", "limit", "text"})


class ServiceError(Exception):
    """An expected failure of a control API request.

    Attributes:
        code: short machine-readable code (``bad_request``, ``not_found``, ...).
        message: one line for humans.
        status: the HTTP status the API answers with.
    """

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(ServiceError):
    code, status = "bad_request", 400


class Forbidden(ServiceError):
    """The human's limits (the guardian) refuse this."""

    code, status = "forbidden", 403


class NotFound(ServiceError):
    code, status = "not_found", 404


class Conflict(ServiceError):
    code, status = "conflict", 409


class Unavailable(ServiceError):
    """The peer can't do it right now (e.g. not connected to the network yet)."""

    code, status = "unavailable", 503


# ------------------------------------------------------------------ validated requests (frozen dataclasses)


@dataclass(frozen=True)
class Money:
    """An amount in minor units of an ISO-4217 currency (``per_unit``: per item, else for the lot)."""

    amount_minor: int
    currency: str
    per_unit: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"amount_minor": self.amount_minor, "currency": self.currency, "per_unit": self.per_unit}


@dataclass(frozen=True)
class PublishParams:
    """Validated publish (and preview) parameters (:func:`validate_publish`; shapes: the module doc)."""

    action: str
    category: str
    lat: float | None = None
    lon: float | None = None
    cell: str | None = None
    radius_km: int = 0
    price: Money | None = None
    quantity: int = 1
    attributes: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None
    lang: str | None = None
    expires_in_s: int = MAX_INTENT_TTL_S
    limit: Money | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON request body (fields that are None left out)."""
        body: dict[str, Any] = {
            "action": self.action, "category": self.category, "lat": self.lat, "lon": self.lon,
            "cell": self.cell, "radius_km": self.radius_km,
            "price": None if self.price is None else self.price.to_json(), "quantity": self.quantity,
            "attributes": dict(self.attributes), "text": self.text, "lang": self.lang,
            "expires_in_s": self.expires_in_s, "limit": None if self.limit is None else self.limit.to_json(),
        }  # fmt: skip
        return {k: v for k, v in body.items() if v is not None}


@dataclass(frozen=True)
class SearchParams:
    """Validated search parameters (:func:`validate_search`): ``action`` of the intents wanted."""

    action: str
    category: str
    lat: float | None = None
    lon: float | None = None
    cell: str | None = None
    radius_km: int = 0
    limit: int = DEFAULT_SEARCH_LIMIT
    text: str | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "action": self.action, "category": self.category, "lat": self.lat, "lon": self.lon,
            "cell": self.cell, "radius_km": self.radius_km, "limit": self.limit, "text": self.text,
        }  # fmt: skip
        return {k: v for k, v in body.items() if v is not None}


@dataclass(frozen=True)
class UnderstandRequest:
    """What to understand: the human's text and an optional (coarse) point."""

    text: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class RatingRequest:
    """A rating of a deal: 1..5, whether it went as agreed, a short comment."""

    score: int
    as_agreed: bool = True
    comment: str = ""


@dataclass(frozen=True)
class HandoverProposal:
    """A meeting proposal from the human; anything None (or empty) takes the agent's suggestion."""

    cell: str | None = None
    start: int | None = None
    end: int | None = None
    payment: tuple[str, ...] = ()


class AgentService(Protocol):
    """What the agent peer implements for the local control API (all coroutine methods).

    Each method returns JSON-able values, raises :class:`ServiceError` for expected failures, and
    receives parameters already validated by the ``validate_*`` functions of this module.
    """

    async def status(self) -> dict[str, Any]: ...
    async def publish(self, params: PublishParams) -> dict[str, Any]: ...
    async def preview(self, params: PublishParams) -> dict[str, Any]:
        """What ``publish(params)`` would publish (``published``: the intent view) and keep private
        (``private``), with ``warnings``; nothing is signed or sent."""
        ...

    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]: ...
    async def search(self, params: SearchParams) -> list[dict[str, Any]]: ...
    async def intents(self) -> list[dict[str, Any]]: ...
    async def withdraw(self, intent_id: str) -> dict[str, Any]: ...
    async def matches(self) -> list[dict[str, Any]]: ...
    async def deals(self) -> list[dict[str, Any]]: ...
    async def approve(self, deal_id: str) -> dict[str, Any]: ...
    async def decline(self, deal_id: str) -> dict[str, Any]: ...
    async def negotiate(self, match_id: str) -> dict[str, Any]: ...
    async def settings(self) -> dict[str, Any]: ...
    async def rate(self, deal_id: str, score: int, as_agreed: bool, comment: str) -> dict[str, Any]: ...
    async def reputation(self, peer: str) -> dict[str, Any]: ...
    async def ratings(self) -> list[dict[str, Any]]: ...
    async def profile(self) -> dict[str, Any]: ...
    async def block(self, peer: str) -> dict[str, Any]: ...
    async def unblock(self, peer: str) -> dict[str, Any]: ...
    async def blocked(self) -> list[dict[str, Any]]: ...
    async def handover(self, deal_id: str) -> dict[str, Any]:
        """The meeting arrangement of a co-signed deal (state, pending proposal, plan, suggestion)."""
        ...

    async def propose_handover(self, deal_id: str, proposal: HandoverProposal) -> dict[str, Any]: ...
    async def confirm_handover(self, deal_id: str, payment: str | None) -> dict[str, Any]: ...
    async def decline_handover(self, deal_id: str, reason: str) -> dict[str, Any]: ...
    async def handover_ics(self, deal_id: str) -> bytes:
        """The confirmed meeting as an ``.ics`` calendar file."""
        ...

    async def export_intent(self, intent_id: str, fmt: str) -> dict[str, Any]:
        """One of our intents as an open listing (``nip99``: a signed Nostr event)."""
        ...

    async def page_strings(self, lang: str | None) -> dict[str, Any]:
        """``{"lang", "strings", "tips"}``: the web page's labels in the agent's (or ``lang``'s) language."""
        ...

    def events(self) -> AsyncIterator[dict[str, Any]]:
        """Server-sent events: an async iterator (e.g. an async generator) of JSON-able dicts.

        A dict's optional ``"event"`` key names the SSE event type (``match``, ``deal``, ...).
        """
        ...


def close_categories(text: str, n: int = 5) -> list[str]:
    """Category codes close to ``text`` (by code and by leaf name), for "did you mean" messages."""
    from wire.taxonomy import category_codes

    codes = sorted(category_codes())
    low = text.lower().strip()
    found = difflib.get_close_matches(low, codes, n=n, cutoff=0.5)
    leaves = {c.split("/", 1)[-1]: c for c in codes}
    leaf = low.split("/", 1)[-1]
    for name in difflib.get_close_matches(leaf, list(leaves), n=n, cutoff=0.6):
        if leaves[name] not in found:
            found.append(leaves[name])
    found.extend(c for c in codes if leaf and leaf in c and c not in found)
    return found[:n]


def check_category(value: object) -> str:
    """A valid taxonomy code, or :class:`BadRequest` naming close matches."""
    from wire.taxonomy import category_codes

    if not isinstance(value, str) or not value:
        raise BadRequest("category is required (e.g. vehicles/tires)")
    if value not in category_codes():
        close = close_categories(value)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `metaspace categories`"
        raise BadRequest(f"unknown category {value!r}{hint}")
    return value


def check_action(value: object) -> str:
    if not isinstance(value, str) or value.upper().replace("-", "_") not in ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(a.lower() for a in ACTIONS)} (got {value!r})")
    return value.upper().replace("-", "_")


def check_currency(value: object) -> str:
    if not isinstance(value, str) or not is_currency(value.upper()):
        raise BadRequest(f"unknown currency {value!r} (an ISO-4217 code such as USD, EUR, MXN)")
    return value.upper()


def _number(body: dict[str, Any], key: str) -> float | None:
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise BadRequest(f"{key} must be a number")
    return float(v)


def _int(body: dict[str, Any], key: str, lo: int, hi: int, default: int | None) -> int | None:
    v = body.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise BadRequest(f"{key} must be an integer in [{lo}, {hi}] (got {v!r})")
    return v


def _location(body: dict[str, Any]) -> tuple[float | None, float | None, str | None]:
    lat, lon = _number(body, "lat"), _number(body, "lon")
    cell = body.get("cell")
    if (lat is None) != (lon is None):
        raise BadRequest("give both lat and lon, or neither")
    if lat is not None and lon is not None:
        if not -90.0 <= lat <= 90.0:
            raise BadRequest(f"lat must be in [-90, 90] (got {lat})")
        if not -180.0 <= lon <= 180.0:
            raise BadRequest(f"lon must be in [-180, 180] (got {lon})")
        if cell is not None:
            raise BadRequest("give lat/lon or cell, not both")
    if cell is not None:
        from wire.geo import MAX_INTENT_RES, is_cell, resolution

        if not is_cell(cell):
            raise BadRequest(f"cell is not an H3 cell: {cell!r}")
        if resolution(cell) > MAX_INTENT_RES:
            raise BadRequest(f"cell finer than H3 res {MAX_INTENT_RES} is never disclosed")
    return lat, lon, cell


def _check_keys(body: object, allowed: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"{what}: the body must be a JSON object")
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        raise BadRequest(f"{what}: unknown field(s) {', '.join(map(str, unknown))}")
    return body


def check_price(value: object) -> dict[str, Any] | None:
    """``{"amount_minor": int, "currency": "USD", "per_unit": bool}`` or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"amount_minor", "currency", "per_unit"}:
        raise BadRequest("price must be {amount_minor, currency, per_unit}")
    amount = _int(value, "amount_minor", 0, MAX_AMOUNT_MINOR, None)
    if amount is None:
        raise BadRequest("price.amount_minor is required")
    per_unit = value.get("per_unit", True)
    if not isinstance(per_unit, bool):
        raise BadRequest("price.per_unit must be true or false")
    return {"amount_minor": amount, "currency": check_currency(value.get("currency")), "per_unit": per_unit}


def check_attributes(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("attributes must be an object of strings")
    if len(value) > MAX_ATTRIBUTES:
        raise BadRequest(f"at most {MAX_ATTRIBUTES} attributes")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not _ATTR_KEY.match(k) or len(k) > MAX_ATTR_KEY_LEN:
            raise BadRequest(
                f"attribute name {k!r} must be lowercase ascii (a-z, 0-9, _), <= {MAX_ATTR_KEY_LEN}"
            )
        if not isinstance(v, str) or not v or len(v) > MAX_ATTR_VALUE_LEN:
            raise BadRequest(f"attribute {k!r} needs a value of 1..{MAX_ATTR_VALUE_LEN} characters")
        out[k] = v
    return out


def _text(body: dict[str, Any], key: str, max_len: int) -> str | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > max_len:
        raise BadRequest(f"{key} must be a string of at most {max_len} characters")
    return v


def _money(value: object) -> Money | None:
    checked = check_price(value)
    return None if checked is None else Money(**checked)


def validate_publish(body: object) -> PublishParams:
    """Validate and normalise publish parameters (see the module docstring).

    Raises:
        BadRequest: with a message naming the first bad field.
    """
    b = _check_keys(body, PUBLISH_KEYS, "publish")
    lat, lon, cell = _location(b)
    lang = _text(b, "lang", 12)
    if lang is not None and not _LANG.match(lang):
        raise BadRequest(f"lang must be a language tag such as en, es, pt-BR (got {lang!r})")
    return PublishParams(
        action=check_action(b.get("action")),
        category=check_category(b.get("category")),
        lat=lat,
        lon=lon,
        cell=cell,
        radius_km=_int(b, "radius_km", 0, MAX_RADIUS_KM, 0) or 0,
        price=_money(b.get("price")),
        quantity=_int(b, "quantity", 1, MAX_QUANTITY, 1) or 1,
        attributes=check_attributes(b.get("attributes")),
        text=_text(b, "text", MAX_TEXT_LEN),
        lang=lang,
        expires_in_s=_int(b, "expires_in_s", 60, MAX_INTENT_TTL_S, MAX_INTENT_TTL_S) or MAX_INTENT_TTL_S,
        limit=_money(b.get("limit")),
    )


def validate_search(body: object) -> SearchParams:
    """Validate and normalise search parameters.

    Raises:
        BadRequest: with a message naming the first bad field.
    """
    b = _check_keys(body, SEARCH_KEYS, "search")
    lat, lon, cell = _location(b)
    return SearchParams(
        action=check_action(b.get("action")),
        category=check_category(b.get("category")),
        lat=lat,
        lon=lon,
        cell=cell,
        radius_km=_int(b, "radius_km", 0, MAX_RADIUS_KM, 0) or 0,
        limit=_int(b, "limit", 1, MAX_RECORDS_PER_PAGE, DEFAULT_SEARCH_LIMIT) or DEFAULT_SEARCH_LIMIT,
        text=_text(b, "text", MAX_TEXT_LEN),
    )


def validate_understand(body: object) -> UnderstandRequest:
    """The understand request ``{"text", "lat"?, "lon"?}``.

    Raises:
        BadRequest: missing/over-long text or bad coordinates.
    """
    b = _check_keys(body, frozenset({"text", "lat", "lon"}), "understand")
    text = _text(b, "text", MAX_TEXT_LEN)
    if not text or not text.strip():
        raise BadRequest("text is required")
    lat, lon, _ = _location(b)
    return UnderstandRequest(text, lat, lon)


RATING_KEYS = frozenset({"score", "as_agreed", "comment"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_rating(body: object) -> RatingRequest:
    """The rating of a body ``{"score": 1..5, "as_agreed": true,
    "comment": "..."}`` (``as_agreed`` defaults to true, ``comment`` to empty).

    Raises:
        BadRequest: naming the first bad field.
    """
    b = _check_keys(body, RATING_KEYS, "rating")
    score = _int(b, "score", 1, 5, None)
    if score is None:
        raise BadRequest("score is required: 1 (bad) to 5 (excellent)")
    agreed = b.get("as_agreed", True)
    if not isinstance(agreed, bool):
        raise BadRequest("as_agreed must be true (the deal went as agreed) or false")
    comment = _text(b, "comment", MAX_RATING_COMMENT) or ""
    if _CONTROL.search(comment):
        raise BadRequest("the comment must be one line without control characters")
    return RatingRequest(score, agreed, comment.strip())


def validate_block(body: object) -> str:
    """The peer id of a block request ``{"peer": "12D3KooW..."}``.

    Raises:
        BadRequest: missing or malformed.
    """
    b = _check_keys(body, frozenset({"peer"}), "block")
    peer = b.get("peer")
    if not isinstance(peer, str) or not ID_RE.match(peer):
        raise BadRequest('the body must be {"peer": "12D3KooW..."} (the agent\'s peer id)')
    return peer


def check_id(value: str, what: str = "id") -> str:
    """An id taken from a URL or the command line.

    Raises:
        BadRequest: empty, too long, or with characters outside ``[A-Za-z0-9_.:-]``.
    """
    if not ID_RE.match(value):
        raise BadRequest(f"bad {what} {value[:40]!r} (1..{MAX_ID_LEN} characters of A-Z a-z 0-9 _ . : -)")
    return value


HANDOVER_KEYS = frozenset({"cell", "start", "end", "payment"})


def validate_handover(body: object) -> HandoverProposal:
    """A meeting proposal ``{"cell"?, "start"?, "end"?, "payment"?: ["cash", ...]}`` (Unix seconds; the
    agent fills in what is missing from its suggestion and checks the rest against both sides' limits).

    Raises:
        BadRequest: naming the first bad field.
    """
    from wire.geo import MAX_INTENT_RES, is_cell, resolution
    from wire.handover import MAX_PAYMENT_METHODS, payment_method_ok

    b = _check_keys(body, HANDOVER_KEYS, "meeting")
    cell = b.get("cell")
    if cell is not None and (not is_cell(cell) or resolution(cell) > MAX_INTENT_RES):
        raise BadRequest(f"cell must be an H3 cell of res <= {MAX_INTENT_RES} (got {str(cell)[:20]!r})")
    start = _int(b, "start", 0, 2**40, None)
    end = _int(b, "end", 0, 2**40, None)
    if end is not None and start is None:
        raise BadRequest("give start with end")
    payment = b.get("payment", [])
    if isinstance(payment, str):
        payment = [p.strip() for p in payment.split(",") if p.strip()]
    if not isinstance(payment, list) or len(payment) > MAX_PAYMENT_METHODS:
        raise BadRequest(f'payment must list at most {MAX_PAYMENT_METHODS} methods, e.g. ["cash"]')
    for method in payment:
        if not payment_method_ok(method):
            raise BadRequest(f"bad payment method {str(method)[:30]!r} (a-z, 0-9, _ . -, e.g. cash, venmo)")
    return HandoverProposal(cell, start, end, tuple(payment))


def validate_choice(body: object, key: str, what: str) -> str | None:
    """An optional short code ``{key: "..."}`` (a payment method to confirm with, a decline reason)."""
    b = _check_keys(body, frozenset({key}), what)
    value = b.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", value):
        raise BadRequest(f"{key} must be a short lowercase code (a-z, 0-9, _ . -)")
    return value
