"""Snapshots of a :class:`~negotiation.session.Session` as JSON-ready dicts, and back.

A snapshot is private (it holds the reservation) and belongs to the identity that took it. Take it after
draining ``poll()``; transient states (DECIDING, CLOSING, SIGNING) never exist between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from negotiation.guardian import Guardian
from negotiation.strategy import Strategy, make_strategy
from negotiation.types import FailReason, Position, Role, State
from wire import cbor
from wire.codec import from_obj, to_obj
from wire.errors import LocalProtocolError
from wire.identity import Identity
from wire.limits import MAX_ENVELOPE_BYTES
from wire.messages import Agreement, Terms

if TYPE_CHECKING:
    from negotiation.session import Session

SNAPSHOT_VERSION = 1


def _h(value: bytes | None) -> str | None:
    return value.hex() if value is not None else None


def _b(value: str | None) -> bytes | None:
    return bytes.fromhex(value) if value is not None else None


def session_to_dict(s: Session) -> dict[str, Any]:
    """See :meth:`Session.to_dict`."""
    if s.state in (State.DECIDING, State.CLOSING, State.SIGNING):
        raise LocalProtocolError("a transient state is never persisted")
    return {
        "version": SNAPSHOT_VERSION,
        "me": s.identity.pubkey.hex(),
        "role": str(s.role),
        "peer": s.peer.hex(),
        "my_intent": s.my_intent.hex(),
        "peer_intent": _h(s.peer_intent),
        "template": to_obj(s.template),
        "terms": to_obj(s.terms) if s.terms is not None else None,
        "position": [s.position.reservation, s.position.opening],
        "strategy": {"name": s.strategy.name, "params": s.strategy.params()},
        "initiator": s.initiator,
        "session_id": _h(s.session_id),
        "max_rounds": s.max_rounds,
        "category": s.category,
        "agreement_ttl": s.agreement_ttl,
        "spare_rounds": s.spare_rounds,
        "created": s.created,
        "deadline": s.deadline,
        "state": str(s.state),
        "round": s.round,
        "my_offers": list(s.my_offers),
        "their_offers": list(s.their_offers),
        "my_last_digest": _h(s.my_last_digest),
        "their_last_digest": _h(s.their_last_digest),
        "pending": s.pending,
        "pending_terms": to_obj(s.pending_terms) if s.pending_terms is not None else None,
        "pending_reason": s.pending_reason,
        "agreement": _h(s.agreement_raw),
        "my_signature": _h(s.my_signature),
        "peer_signature": _h(s.peer_signature),
        "reason": str(s.reason) if s.reason else None,
        "detail": s.detail,
        "stats": s.statistics_counters(),
    }


def session_from_dict(
    cls: type[Session],
    data: dict[str, Any],
    identity: Identity,
    guardian: Guardian | None,
    strategy: Strategy | None = None,
) -> Session:
    """See :meth:`Session.from_dict`."""
    if data.get("version") != SNAPSHOT_VERSION or data.get("me") != identity.pubkey.hex():
        raise LocalProtocolError("snapshot of another version or identity")
    try:
        if strategy is None:
            strategy = make_strategy(data["strategy"]["name"], **data["strategy"]["params"])
        s = cls(
            identity,
            Role(data["role"]),
            peer=bytes.fromhex(data["peer"]),
            my_intent=bytes.fromhex(data["my_intent"]),
            peer_intent=_b(data["peer_intent"]),
            terms=Terms(**data["template"]),
            position=Position(int(data["position"][0]), int(data["position"][1])),
            strategy=strategy,
            guardian=guardian,
            now=data["created"],
            initiator=data["initiator"],
            session_id=_b(data["session_id"]),
            max_rounds=data["max_rounds"],
            category=data["category"],
            agreement_ttl=data["agreement_ttl"],
            spare_rounds=data["spare_rounds"],
            _restore=True,
        )
        s.deadline = float(data["deadline"])
        s.state = State(data["state"])
        s.round = int(data["round"])
        s.terms = Terms(**data["terms"]) if data["terms"] is not None else None
        s.my_offers = [int(x) for x in data["my_offers"]]
        s.their_offers = [int(x) for x in data["their_offers"]]
        s.my_last_digest = _b(data["my_last_digest"])
        s.their_last_digest = _b(data["their_last_digest"])
        s.pending = data["pending"]
        s.pending_terms = Terms(**data["pending_terms"]) if data["pending_terms"] is not None else None
        s.pending_reason = data["pending_reason"]
        s.agreement_raw = _b(data["agreement"])
        if s.agreement_raw is not None:
            s.agreement = from_obj(Agreement, cbor.decode(s.agreement_raw, MAX_ENVELOPE_BYTES))
        s.my_signature = _b(data["my_signature"])
        s.peer_signature = _b(data["peer_signature"])
        s.reason = FailReason(data["reason"]) if data["reason"] else None
        s.detail = data["detail"]
        s.restore_counters(data["stats"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalProtocolError(f"malformed session snapshot: {exc}") from exc
    return s
