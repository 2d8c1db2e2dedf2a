"""Snapshots of a :class:`~negotiation.session.Session` as JSON-ready dicts, and back.

A snapshot is private (it holds the reservation and the private margin) and belongs to the identity
that took it. Take it after draining ``poll()`` (or at a :class:`~negotiation.types.Checkpoint`);
transient states (DECIDING, CLOSING, SIGNING) never exist between calls. Reading one back parses and
type-checks every field into a :class:`Resume`; the session itself then takes it
(``Session._resume``), refusing a state that can't be resumed or fields that don't fit the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from negotiation.guardian import Guardian
from negotiation.strategy import Strategy, make_strategy
from negotiation.types import PENDING_ACCEPT, PENDING_INIT, FailReason, Position, Role, State
from wire import cbor
from wire.codec import from_obj, to_obj
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity
from wire.limits import MAX_ENVELOPE_BYTES
from wire.messages import Agreement, Terms

if TYPE_CHECKING:
    from negotiation.session import Session

#: 2: private margin, own horizon and duration (1 had none; its sessions can't be resumed safely).
SNAPSHOT_VERSION = 2
PENDING_KINDS = (PENDING_ACCEPT, PENDING_INIT)


def _h(value: bytes | None) -> str | None:
    return value.hex() if value is not None else None


def _b(value: str | None) -> bytes | None:
    return bytes.fromhex(value) if value is not None else None


@dataclass(frozen=True)
class Resume:
    """The progress part of a snapshot, parsed (see :meth:`problem` for its consistency rules)."""

    state: State
    deadline: float
    round: int
    max_rounds: int
    terms: Terms | None
    my_offers: tuple[int, ...]
    their_offers: tuple[int, ...]
    my_last_digest: bytes | None
    their_last_digest: bytes | None
    pending: str | None
    pending_terms: Terms | None
    pending_reason: str
    agreement: Agreement | None
    my_signature: bytes | None
    peer_signature: bytes | None
    reason: FailReason | None
    detail: str
    stats: dict[str, int] = field(default_factory=dict)

    def problem(self, horizon: int) -> str:
        """What makes these fields unfit for their state ("" if nothing).

        Args:
            horizon: the session's own round horizon (the saved cap can't exceed it).
        """
        if not 1 <= self.max_rounds <= horizon:
            return "round cap above the horizon"
        if self.state is State.AWAITING_APPROVAL and (self.pending_terms is None or self.pending is None):
            return "approval without its terms"
        if self.pending is not None and self.pending not in PENDING_KINDS:
            return "unknown pending move"
        if self.state in (State.WAIT_CONFIRM, State.AGREED) and (
            self.agreement is None or self.my_signature is None
        ):
            return "no agreement to wait for"
        if self.state is State.AGREED and self.peer_signature is None:
            return "an agreement without the peer's signature"
        if self.state is State.FAILED and self.reason is None:
            return "a failure without a reason"
        return ""


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
        "margin": s.margin,
        "strategy": {"name": s.strategy.name, "params": s.strategy.params()},
        "initiator": s.initiator,
        "session_id": _h(s.session_id),
        "horizon": s.horizon,
        "max_rounds": s.max_rounds,
        "duration": s.duration,
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


def _resume(data: dict[str, Any]) -> Resume:
    raw = _b(data["agreement"])
    agreement = None if raw is None else from_obj(Agreement, cbor.decode(raw, MAX_ENVELOPE_BYTES))
    return Resume(
        state=State(data["state"]),
        deadline=float(data["deadline"]),
        round=int(data["round"]),
        max_rounds=int(data["max_rounds"]),
        terms=Terms(**data["terms"]) if data["terms"] is not None else None,
        my_offers=tuple(int(x) for x in data["my_offers"]),
        their_offers=tuple(int(x) for x in data["their_offers"]),
        my_last_digest=_b(data["my_last_digest"]),
        their_last_digest=_b(data["their_last_digest"]),
        pending=data["pending"],
        pending_terms=Terms(**data["pending_terms"]) if data["pending_terms"] is not None else None,
        pending_reason=str(data["pending_reason"]),
        agreement=agreement,
        my_signature=_b(data["my_signature"]),
        peer_signature=_b(data["peer_signature"]),
        reason=FailReason(data["reason"]) if data["reason"] else None,
        detail=str(data["detail"]),
        stats={str(k): int(v) for k, v in dict(data["stats"]).items()},
    )


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
        return cls(
            identity,
            Role(data["role"]),
            peer=bytes.fromhex(data["peer"]),
            my_intent=bytes.fromhex(data["my_intent"]),
            peer_intent=_b(data["peer_intent"]),
            terms=Terms(**data["template"]),
            position=Position(int(data["position"][0]), int(data["position"][1])),
            strategy=strategy,
            guardian=guardian,
            now=float(data["created"]),
            initiator=bool(data["initiator"]),
            rng=None,
            margin=float(data["margin"]),
            session_id=_b(data["session_id"]),
            max_rounds=int(data["horizon"]),
            duration=float(data["duration"]),
            category=data["category"],
            agreement_ttl=int(data["agreement_ttl"]),
            spare_rounds=int(data["spare_rounds"]),
            _resume=_resume(data),
        )
    except (KeyError, TypeError, ValueError, RemoteProtocolError) as exc:
        raise LocalProtocolError(f"malformed session snapshot: {exc}") from exc
