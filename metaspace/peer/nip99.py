"""Open export and import of intents as Nostr NIP-99 classified listings (spec Phase 3, without scraping).

Theory of operation
-------------------
* **Export** (``metaspace export INTENT_ID --format nip99``): one of our live intents becomes a kind-30402
  event (NIP-99): ``d`` (the intent id: re-exporting replaces the listing), ``title``, ``summary`` (the
  published text, already without prices or private limits), ``published_at``, ``price`` (the *public*
  price in major units with its ISO-4217 code; never the private limit), ``t`` (the category code and its
  leaf; ``wanted`` for a buy), ``g`` (a geohash of the intent's cell centre, at the finest precision whose
  cells are no smaller than that H3 cell: never finer than what the intent already discloses),
  ``expiration`` (NIP-40: the intent's expiry) and ``alt`` (NIP-31). With ``share: nothing`` the listing is
  minimal (no free text, no summary) and is signed by the intent's persona-derived key.
* **The key**: a secp256k1 key used for nothing else, derived from the signing identity of the intent
  (``HMAC-SHA256(seed, "metaspace/v1/nostr-nip99\\0")``, re-hashed in the rare case it is not a valid
  scalar). The event is signed as NIP-01 says: ``id = sha256`` of the serialization
  ``[0, pubkey, created_at, kind, tags, content]`` (no spaces, UTF-8, only the seven escapes NIP-01
  names), ``sig`` = BIP-340 Schnorr signature of the id (libsecp256k1 through ``coincurve``).
* **Import** (``metaspace import FILE``): an untrusted event is bounded (size, tags, strings), its id
  recomputed and its signature verified; an unknown currency, a bad signature, an expired listing or a
  malformed one is refused with its reason. It becomes publish parameters shown to the human for
  confirmation (nothing is published without it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import h3
from coincurve import PrivateKey, PublicKeyXOnly

from wire.currency import exponent, is_currency
from wire.geo import MAX_INTENT_RES, center, resolution
from wire.identity import Identity
from wire.intent import Action, Intent
from wire.taxonomy import category_codes

KIND_LISTING = 30402
KIND_DRAFT = 30403
KEY_DOMAIN = b"metaspace/v1/nostr-nip99\x00"
#: Bounds on an imported event (a listing is small; anything larger is refused before parsing).
MAX_EVENT_BYTES = 64 * 1024
MAX_TAGS = 64
MAX_TAG_ITEMS = 8
MAX_TAG_ITEM_LEN = 1024
MAX_CONTENT_LEN = 16 * 1024
#: Geohash precisions an export may use (5: ~4.9 x 4.9 km at the equator, coarser than an H3 res-7 cell).
MAX_GEOHASH_PRECISION = 5
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_ESCAPES = {"\n": "\\n", '"': '\\"', "\\": "\\\\", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


class Nip99Error(ValueError):
    """An event that can't be exported or imported (the message says why)."""


# ------------------------------------------------------------------------------------ NIP-01 core


def nostr_key(identity: Identity) -> PrivateKey:
    """The secp256k1 key of ``identity`` for NIP-99 listings (domain-separated; see the module doc)."""
    material = hmac.new(identity.seed, KEY_DOMAIN, hashlib.sha256).digest()
    while not 0 < int.from_bytes(material, "big") < _SECP256K1_N:
        material = hashlib.sha256(KEY_DOMAIN + material).digest()
    return PrivateKey(material)


def _string(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def serialize(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> bytes:
    """NIP-01's serialization of an event (what its id hashes)."""
    tag_text = ",".join("[" + ",".join(_string(item) for item in tag) + "]" for tag in tags)
    return f"[0,{_string(pubkey)},{created_at},{kind},[{tag_text}],{_string(content)}]".encode()


def event_id(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    return hashlib.sha256(serialize(pubkey, created_at, kind, tags, content)).hexdigest()


def sign_event(
    key: PrivateKey, created_at: int, kind: int, tags: list[list[str]], content: str
) -> dict[str, Any]:
    """A complete signed NIP-01 event."""
    pubkey = PublicKeyXOnly.from_secret(key.secret).format().hex()
    ident = event_id(pubkey, created_at, kind, tags, content)
    sig = key.sign_schnorr(bytes.fromhex(ident), hashlib.sha256(key.secret + bytes.fromhex(ident)).digest())
    return {"id": ident, "pubkey": pubkey, "created_at": created_at, "kind": kind, "tags": tags,
            "content": content, "sig": sig.hex()}  # fmt: skip


def verify_event(event: object) -> dict[str, Any]:
    """Check an untrusted event's shape, bounds, id and BIP-340 signature.

    Returns:
        The event (the same dict).

    Raises:
        Nip99Error: with the reason.
    """
    if not isinstance(event, dict) or set(event) != {
        "id",
        "pubkey",
        "created_at",
        "kind",
        "tags",
        "content",
        "sig",
    }:
        raise Nip99Error(
            "not a Nostr event: it needs exactly id, pubkey, created_at, kind, tags, content, sig"
        )
    pubkey, ident, sig = event["pubkey"], event["id"], event["sig"]
    for name, value, pattern in (("pubkey", pubkey, _HEX64), ("id", ident, _HEX64), ("sig", sig, _HEX128)):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise Nip99Error(f"{name} must be lowercase hex of the right length")
    created_at, kind, tags, content = event["created_at"], event["kind"], event["tags"], event["content"]
    for name, value in (("created_at", created_at), ("kind", kind)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**40:
            raise Nip99Error(f"{name} must be a non-negative integer")
    if not isinstance(content, str) or len(content) > MAX_CONTENT_LEN:
        raise Nip99Error(f"content must be a string of at most {MAX_CONTENT_LEN} characters")
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise Nip99Error(f"tags must be a list of at most {MAX_TAGS} tags")
    for tag in tags:
        if (
            not isinstance(tag, list) or not 1 <= len(tag) <= MAX_TAG_ITEMS
            or not all(isinstance(i, str) and len(i) <= MAX_TAG_ITEM_LEN for i in tag)
        ):  # fmt: skip
            raise Nip99Error("each tag must be a short list of strings")
    if event_id(pubkey, created_at, kind, tags, content) != ident:
        raise Nip99Error("the event id is not the sha256 of its NIP-01 serialization")
    try:
        valid = PublicKeyXOnly(bytes.fromhex(pubkey)).verify(bytes.fromhex(sig), bytes.fromhex(ident))
    except ValueError:
        valid = False
    if not valid:
        raise Nip99Error("bad signature: the BIP-340 Schnorr signature does not verify")
    return event


# ------------------------------------------------------------------------------------------ geohash


def geohash(lat: float, lon: float, precision: int) -> str:
    """The standard base-32 geohash of a point."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    bits, ch, even = 0, 0, True
    while len(out) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            ch, lon_lo, lon_hi = (ch * 2 + 1, mid, lon_hi) if lon >= mid else (ch * 2, lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            ch, lat_lo, lat_hi = (ch * 2 + 1, mid, lat_hi) if lat >= mid else (ch * 2, lat_lo, mid)
        even, bits = not even, bits + 1
        if bits == 5:
            out.append(_BASE32[ch])
            bits, ch = 0, 0
    return "".join(out)


def geohash_center(code: str) -> tuple[float, float, float]:
    """A geohash's centre and its area in km² (approximate, at its latitude).

    Raises:
        Nip99Error: not a geohash.
    """
    if not 1 <= len(code) <= 12 or any(c not in _BASE32 for c in code):
        raise Nip99Error(f"not a geohash: {code[:16]!r}")
    lat_lo, lat_hi, lon_lo, lon_hi, even = -90.0, 90.0, -180.0, 180.0, True
    for c in code:
        value = _BASE32.index(c)
        for shift in range(4, -1, -1):
            bit = (value >> shift) & 1
            if even:
                mid = (lon_lo + lon_hi) / 2
                lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    lat, lon = (lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2
    return lat, lon, _area(lat, lat_hi - lat_lo, lon_hi - lon_lo)


def _area(lat: float, dlat: float, dlon: float) -> float:
    return (dlat * 111.32) * (dlon * 111.32 * max(math.cos(math.radians(lat)), 1e-6))


def geohash_for_cell(cell: str) -> str:
    """A geohash of ``cell``'s centre whose cell is no smaller than the H3 cell (never finer)."""
    lat, lon = center(cell)
    limit = float(h3.cell_area(cell, "km^2"))
    best = 1
    for precision in range(1, MAX_GEOHASH_PRECISION + 1):
        if geohash_center(geohash(lat, lon, precision))[2] >= limit:
            best = precision
    return geohash(lat, lon, best)


# ------------------------------------------------------------------------------------------- export


def _major(amount_minor: int, currency: str) -> str:
    exp = exponent(currency)
    value = Decimal(amount_minor).scaleb(-exp)
    return f"{value:.{exp}f}" if exp else str(amount_minor)


def export_event(intent: Intent, signer: Identity, config: Any, now: float) -> dict[str, Any]:
    """The NIP-99 listing of one of our intents (see the module docstring).

    Args:
        intent: our intent (its public fields only are used).
        signer: the identity that signed the intent (the agent's, or its persona's).
        config: the human's settings (``share``).
        now: Unix time (``created_at``).

    Raises:
        Conflict: the intent is withdrawn or expired.
    """
    from metaspace.api.contract import Conflict
    from metaspace.peer.notify import category_label

    if not intent.is_live(now):
        raise Conflict("only a live intent can be exported (this one is withdrawn or expired)")
    if resolution(intent.cell) > MAX_INTENT_RES:
        raise Conflict("the intent's cell is finer than any intent may disclose")
    minimal = config.share == "nothing"
    label = category_label(intent.category, "en")
    details = ", ".join(f"{k} {v}" for k, v in sorted(intent.attributes.items()) if k != "item")
    wanted = intent.action in (Action.BUY, Action.SEEK_SERVICE)
    title = ("Wanted: " if wanted else "") + label + (f" ({details})" if details else "")
    if intent.quantity > 1:
        title = f"{intent.quantity} × {title}"
    leaf = intent.category.split("/", 1)[-1]
    tags: list[list[str]] = [
        ["d", intent.id.hex()],
        ["title", title[:200]],
        ["published_at", str(intent.created)],
    ]
    text = None if minimal else intent.text
    if text:
        tags.append(["summary", text[:280]])
    if intent.price is not None:
        tags.append(
            ["price", _major(intent.price.amount_minor, intent.price.currency), intent.price.currency]
        )
    tags += [["t", intent.category], ["t", leaf]] + ([["t", "wanted"]] if wanted else [])
    tags += [["g", geohash_for_cell(intent.cell)], ["status", "active"], ["expiration", str(intent.expires)]]
    tags.append(["alt", f"Classified listing: {title[:120]}"])
    content = text or ""
    return sign_event(nostr_key(signer), int(now), KIND_LISTING, tags, content)


# ------------------------------------------------------------------------------------------- import


def _tag(tags: list[list[str]], name: str) -> list[str] | None:
    return next((t for t in tags if t[0] == name), None)


def import_event(raw: bytes, now: float) -> dict[str, Any]:
    """Verify an untrusted NIP-99 event and turn it into publish parameters for the human to confirm.

    Returns:
        ``{"params": publish-parameters body, "listing": {"title", "pubkey", "id"}, "notes": [...]}``.

    Raises:
        Nip99Error: too large, not JSON, malformed, bad id or signature, not a listing, expired, an
            unknown currency or a bad price or geohash.
    """
    if len(raw) > MAX_EVENT_BYTES:
        raise Nip99Error(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Nip99Error(f"not JSON: {exc}") from None
    verify_event(event)
    if event["kind"] not in (KIND_LISTING, KIND_DRAFT):
        raise Nip99Error(f"kind {event['kind']} is not a NIP-99 classified listing (30402)")
    tags: list[list[str]] = event["tags"]
    expiration = _tag(tags, "expiration")
    if (
        expiration is not None
        and len(expiration) > 1
        and expiration[1].isdigit()
        and int(expiration[1]) <= now
    ):
        raise Nip99Error("the listing has expired")
    title = (_tag(tags, "title") or ["", ""])[1:2] or [""]
    summary = (_tag(tags, "summary") or ["", ""])[1:2] or [""]
    notes: list[str] = []
    params: dict[str, Any] = {"action": "BUY" if ["t", "wanted"] in tags else "SELL", "quantity": 1}
    price = _tag(tags, "price")
    if price is not None:
        if len(price) < 3 or not is_currency(price[2]):
            code = price[2][:8] if len(price) > 2 else "(none)"
            raise Nip99Error(f"unknown currency {code!r} in the price tag (an ISO-4217 code such as USD)")
        try:
            amount = Decimal(price[1])
        except (InvalidOperation, IndexError):
            raise Nip99Error(f"bad price amount {price[1][:20]!r}") from None
        minor = amount.scaleb(exponent(price[2]))
        if not amount.is_finite() or amount < 0 or minor != minor.to_integral_value() or minor > 10**12:
            raise Nip99Error(f"bad price amount {price[1][:20]!r} for {price[2]}")
        params["price"] = {"amount_minor": int(minor), "currency": price[2], "per_unit": True}
        if len(price) > 3 and price[3]:
            notes.append(f"the listing's price is per {price[3][:20]}")
    codes = category_codes()
    category = next((t[1] for t in tags if t[0] == "t" and len(t) > 1 and t[1] in codes), None)
    if category is not None:
        params["category"] = category
    else:
        notes.append("no Meta Space category in its tags: your agent will ask (or give --category)")
    g = _tag(tags, "g")
    if g is not None and len(g) > 1:
        lat, lon, _area_km2 = geohash_center(g[1][:MAX_GEOHASH_PRECISION])
        params["lat"], params["lon"] = round(lat, 4), round(lon, 4)
    text = " — ".join(p for p in (title[0], summary[0] or event["content"]) if p).strip()
    if text:
        params["text"] = text[:600]
    listing = {"id": event["id"], "pubkey": event["pubkey"], "title": title[0][:200], "kind": event["kind"]}
    return {"params": params, "listing": listing, "notes": notes}
