"""The price of a draft intent: the amount the text names, checked and put in minor units, with what
``understand`` should tell the human about it."""

from __future__ import annotations

from typing import Any

from matching.extract import extract
from matching.extraction import Extraction
from matching.spelled import plain_number
from wire.currency import to_minor
from wire.intent import Price
from wire.limits import MAX_AMOUNT_MINOR

#: Marks in ``understand``'s working copy of ``defaults`` that its currency is the local one, not the human's.
PLACE_CURRENCY = "_place_currency"


def _currency_alone(ex: Extraction) -> str | None:
    """The currency of ``ex``'s price as its own words name it (None: they name none)."""
    assert ex.price is not None
    alone = extract(ex.price.text, None, ex.langs[0] if ex.langs else None, ex.langs[1:]).price
    return None if alone is None else alone.currency


def draft_price(
    ex: Extraction,
    quantity: int,
    demand_side: bool,
    defaults: dict[str, Any],
    warnings: list[str],
    missing: list[str],
) -> tuple[Price | None, str | None]:
    """The draft intent's price from the text's (``ex.price``) and its bound ("max", "min" or None), or
    (None, None) when there is none to use; what is missing or doubtful is appended to ``missing`` and
    ``warnings`` (a price without a currency, out of range, per unit or for all, a "$" or a bare number read
    in the currency of the place: ``defaults[PLACE_CURRENCY]``)."""
    if ex.price is None:
        if "price" not in missing:
            missing.append("price")
        return None, None
    if ex.price.currency is None:
        missing.append("currency")
        amount = plain_number(ex.price.amount)
        warnings.append(f"price {amount} has no currency; not used (say e.g. '{amount} USD')")
        return None, None
    minor = to_minor(ex.price.amount, ex.price.currency)
    if not 0 <= minor <= MAX_AMOUNT_MINOR:
        warnings.append("price out of range; ignored")
        missing.append("price")
        return None, None
    per_unit = ex.price.per_unit
    if per_unit is None:
        per_unit = True
        if quantity > 1:
            missing.append("price_basis")
            warnings.append("price per unit or for all? assumed per unit")
    bound = ex.price.bound
    if bound == "range":  # its upper end: the most a buyer pays; a seller's ask (it may come down)
        bound = "max" if demand_side else None
    if ex.price.currency != defaults.get("currency", ex.price.currency) and "$" in ex.price.text:
        warnings.append(f"'$' read as {ex.price.currency}")
    elif defaults.get(PLACE_CURRENCY) and _currency_alone(ex) != ex.price.currency:
        warnings.append(f"{ex.price.text} read as {ex.price.currency}, the currency where you are")
    if bound == "min" and demand_side:
        warnings.append("a minimum price on a buy request; check the amount")
    if bound == "max" and not demand_side:
        warnings.append("a maximum price on a sale; check the amount")
    return Price(minor, ex.price.currency, per_unit), bound
