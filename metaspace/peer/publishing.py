"""What an intent publishes, decided in one place: the guardian's publish rules and the privacy rules.

Theory of operation
-------------------
:func:`plan_intent` turns validated publish parameters (``metaspace.api.contract.validate_publish``) and
the human's birth answers into a :class:`Plan`: the unsigned intent exactly as it will be signed and
stored in the DHT, the private limit that stays in the agent's database, and warnings for the human. The
control API's preview (``POST /api/v1/intents/preview``, used by ``metaspace sell/buy`` and the web page
before they ask "publish this?") and the publish itself both go through it, so what the human confirms
is what is sent.

* **Location**: an H3 cell coarsened to the finest resolution the human allowed (never finer than
  res 7); never coordinates. No location allowed: nothing is published.
* **Price**: the public price as given; the private limit (a seller's floor, a buyer's ceiling) is never
  in the intent, and must be in the price's currency.
* **Text**: :func:`matching.published.published_text`: the human's text without price mentions, their
  bound words ("máximo", "at least") or the private limit written in any form; if that can't be done
  safely, no free text. With ``share: nothing`` no free text is published at all: only the item words
  the matcher needs (lower case, no prices or quantities, at most ``MAX_ATTR_VALUE_LEN`` characters) in
  the ``item`` attribute, and no language tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching.canonical import item_words
from matching.published import published_text
from metaspace.api.contract import BadRequest, Forbidden, Money, PublishParams
from metaspace.config import AgentConfig
from wire.currency import exponent, format_minor
from wire.errors import LocalProtocolError
from wire.geo import MAX_INTENT_RES, cell_at, coarsen, resolution
from wire.intent import Action, Intent, Price
from wire.limits import MAX_ATTR_VALUE_LEN, MAX_ATTRIBUTES, MAX_INTENT_TTL_S

#: The attribute that carries the item words when no free text is published (``share: nothing``).
ITEM_ATTRIBUTE = "item"


@dataclass(frozen=True)
class Plan:
    """An intent ready to sign, and what stays with the agent.

    Attributes:
        intent: the intent exactly as it will be signed and published.
        limit: the private limit ``{"amount_minor", "currency", "per_unit"}`` (never published), or None.
        warnings: what the human should know about what is (not) published.
    """

    intent: Intent
    limit: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


def intent_cell(params: PublishParams, config: AgentConfig) -> str:
    """The H3 cell an intent discloses: from ``cell`` or ``lat``/``lon`` or the home cell, coarsened to
    the finest resolution the human allowed (never finer than res 7).

    Raises:
        Forbidden: the human never shares a location.
        BadRequest: no location given and no home cell.
    """
    finest = config.max_h3_res
    if finest is None:
        raise Forbidden(
            "your settings never share a location, and intents need an approximate one; "
            "allow city-level location with `metaspace init --reconfigure --location city`"
        )
    finest = min(finest, MAX_INTENT_RES)
    if params.cell:
        cell = params.cell
    elif params.lat is not None and params.lon is not None:
        cell = cell_at(params.lat, params.lon, finest)
    elif config.home_cell:
        cell = config.home_cell
    else:
        raise BadRequest("no location: give --lat/--lon, or set a home location with `metaspace init`")
    return coarsen(cell, finest) if resolution(cell) > finest else cell


def _price(value: Money | None) -> Price | None:
    if value is None:
        return None
    return Price(value.amount_minor, value.currency, value.per_unit)


def _text_and_attributes(
    params: PublishParams, config: AgentConfig, limit: dict[str, Any] | None, currency: str | None
) -> tuple[str | None, dict[str, str], list[str]]:
    attributes = {str(k): str(v) for k, v in params.attributes.items()}
    raw = params.text or None
    if raw is None:
        return None, attributes, []
    private = [] if limit is None else [int(limit["amount_minor"]) / 10 ** exponent(str(limit["currency"]))]
    text, warnings = published_text(str(raw), private=private, default_currency=currency)
    if config.share != "nothing":
        return text, attributes, warnings
    # share: nothing -> no free text; the item words (from the cleaned text: never a price) for matching
    item = item_words(text)[:MAX_ATTR_VALUE_LEN].strip() if text else ""
    if item and ITEM_ATTRIBUTE not in attributes and len(attributes) < MAX_ATTRIBUTES:
        attributes[ITEM_ATTRIBUTE] = item
    return None, attributes, ["your settings share nothing about you: no free text is published"]


def plan_intent(
    params: PublishParams, config: AgentConfig, *, author: bytes, intent_id: bytes, now: float
) -> Plan:
    """The intent that ``params`` publish under the human's limits (see the module docstring).

    Args:
        params: validated publish parameters.
        config: the human's birth answers and limits.
        author: the key that will sign the intent.
        intent_id: the new intent's id.
        now: Unix time.

    Returns:
        The plan.

    Raises:
        Forbidden: the marketplace access, the allowed categories or the location setting refuse it.
        BadRequest: no location, a limit in another currency than the price, or an invalid field.
    """
    action = params.action.upper()
    category = params.category
    if not config.allows_action(action):
        raise Forbidden(
            f"your marketplace access ({config.marketplace}) does not allow {action} intents; "
            "change it with `metaspace init --reconfigure --marketplace ...`"
        )
    if not config.allows_category(category):
        raise Forbidden(f"category {category} is not among the categories you allowed")
    cell = intent_cell(params, config)
    limit = None if params.limit is None else params.limit.to_json()
    try:
        price = _price(params.price)
    except (LocalProtocolError, KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"bad price: {exc}") from None
    if limit and price is not None and limit["currency"] != price.currency:
        raise BadRequest("the private limit must be in the price's currency")
    currency = price.currency if price is not None else (limit["currency"] if limit else config.currency)
    text, attributes, warnings = _text_and_attributes(params, config, limit, currency)
    ttl = min(params.expires_in_s or MAX_INTENT_TTL_S, MAX_INTENT_TTL_S)
    try:
        intent = Intent(
            id=intent_id,
            author=author,
            seq=1,
            action=Action(action),
            category=category,
            attributes=attributes,
            price=price,
            quantity=params.quantity or 1,
            cell=cell,
            radius_km=params.radius_km or 0,
            created=int(now),
            expires=int(now) + ttl,
            text=text,
            lang=(params.lang or config.language) if text else None,
        )
    except (LocalProtocolError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    return Plan(intent, dict(limit) if limit else None, warnings)


def preview_view(plan: Plan, published: dict[str, Any]) -> dict[str, Any]:
    """What the human confirms: ``published`` (the intent view, exactly the public fields), the private
    part (``private.limit``: never sent), a one-line rendering of the limit, and the warnings."""
    limit = plan.limit
    private: dict[str, Any] = {}
    if limit is not None:
        private["limit"] = dict(limit)
        private["limit_text"] = format_minor(int(limit["amount_minor"]), str(limit["currency"]))
    return {"published": published, "private": private, "warnings": list(plan.warnings)}
