"""JSON views of intents, matches and deals for the control API, the CLI and the web page."""

from __future__ import annotations

from typing import Any

from wire.identity import pubkey_to_text
from wire.intent import Intent


def price_view(intent: Intent) -> dict[str, Any] | None:
    p = intent.price
    return (
        None
        if p is None
        else {"amount_minor": p.amount_minor, "currency": p.currency, "per_unit": p.per_unit}
    )


def intent_view(intent: Intent, **extra: Any) -> dict[str, Any]:
    """The contract's intent view (see ``metaspace.api.contract``)."""
    return {
        "id": intent.id.hex(),
        "author": pubkey_to_text(intent.author),
        "seq": intent.seq,
        "action": intent.action.value,
        "category": intent.category,
        "attributes": dict(intent.attributes),
        "price": price_view(intent),
        "quantity": intent.quantity,
        "cell": intent.cell,
        "radius_km": intent.radius_km,
        "created": intent.created,
        "expires": intent.expires,
        "text": intent.text,
        "lang": intent.lang,
        "withdrawn": intent.withdrawn,
        "contact": list(intent.contact) if intent.contact else None,
        "extra_groups": list(intent.extra_groups) if intent.extra_groups else None,
        **extra,
    }
