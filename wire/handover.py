"""The handover messages: how two agents arrange the meeting after a co-signed agreement.

The specification's TRANSACTION_INIT / TRANSACTION_CONFIRM (6.2) already name the step that co-signs the
agreement (``wire.messages.TransactionInit``): renaming them would break the agreements and the ratings
that carry them as evidence. The Phase 4 coordination that follows ("meeting point suggested, payment
method agreed, calendar invites, safety tips") is a later, human-paced exchange with its own 24 h
expiry, so it has its own three messages, each a signed envelope sent on ``/metaspace/handover/1.0.0``:

* HANDOVER_PROPOSE — a meeting cell (H3, never finer than res 7), a time window and the payment methods
  the proposer accepts (no payment rails: ``cash`` or a method the humans named), valid for 24 h at most;
* HANDOVER_CONFIRM — the other side's yes to one proposal (named by the sha256 of its envelope), with
  the payment method it picked from the proposal's list; proposal + confirm = the co-signed plan;
* HANDOVER_DECLINE — a no to a proposal, or the cancellation of a confirmed plan.

The rules between them (who may send what, when, the checks on a proposal) live in
:mod:`negotiation.handover`; these classes only bound every field a peer controls.
"""

from __future__ import annotations

import re
from dataclasses import field

from wire.codec import bounded, message
from wire.errors import LocalProtocolError
from wire.geo import MAX_INTENT_RES, is_cell, resolution

#: A proposal is valid at most this long (spec 6.2: ``expiry = now + 24 h``).
HANDOVER_TTL_S = 24 * 3600
#: Proposals one deal may see (numbers 0 .. MAX_HANDOVER_PROPOSALS - 1): counter-proposals are bounded.
MAX_HANDOVER_PROPOSALS = 6
#: The longest meeting window, and how far ahead a meeting may be proposed.
MAX_MEETING_WINDOW_S = 8 * 3600
MAX_MEETING_AHEAD_S = 30 * 24 * 3600
#: Payment methods one proposal lists, and the length of a method's name.
MAX_PAYMENT_METHODS = 4
MAX_PAYMENT_METHOD_LEN = 24
#: A payment method: a short lowercase name the humans chose (``cash``, ``venmo``, ``bank-transfer``).
PAYMENT_METHOD_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,23}")
#: The longest H3 cell string (15 hex digits).
MAX_CELL_LEN = 16
#: Short reason codes of a decline.
MAX_DECLINE_REASON = 64
_SESSION_LEN = 16
_DIGEST_LEN = 32


def payment_method_ok(value: object) -> bool:
    """True if ``value`` is a payment method name (see :data:`PAYMENT_METHOD_RE`)."""
    return isinstance(value, str) and PAYMENT_METHOD_RE.fullmatch(value) is not None


@message
class HandoverPropose:
    """A meeting proposal for the deal ``deal`` (the agreement's session id).

    Attributes:
        deal: the agreement's session id.
        agreement: sha256 of the canonical agreement bytes (binds the proposal to that exact deal).
        number: 0, 1, ... — strictly increasing over the deal's proposals (a counter-proposal is higher).
        cell: the meeting cell (H3, res <= 7): the humans pick a busy public place inside it.
        start: the meeting window's start (Unix seconds).
        end: its end (after ``start``, at most ``MAX_MEETING_WINDOW_S`` later).
        payment: the payment methods the proposer accepts, preferred first (1 .. MAX_PAYMENT_METHODS).
        created: when the proposal was made.
        expires: when it lapses unanswered (at most ``HANDOVER_TTL_S`` after ``created``).
    """

    deal: bytes = bounded(len=_SESSION_LEN)
    agreement: bytes = bounded(len=_DIGEST_LEN)
    number: int = bounded(min=0, max=MAX_HANDOVER_PROPOSALS - 1)
    cell: str = bounded(max=MAX_CELL_LEN)
    start: int = bounded(min=0, max=2**40)
    end: int = bounded(min=0, max=2**40)
    payment: list[str] = field(metadata={"max": MAX_PAYMENT_METHODS, "item": {"max": MAX_PAYMENT_METHOD_LEN}})
    created: int = bounded(min=0, max=2**40)
    expires: int = bounded(min=0, max=2**40)

    def __post_init__(self) -> None:
        if not is_cell(self.cell) or resolution(self.cell) > MAX_INTENT_RES:
            raise LocalProtocolError(f"the meeting cell must be an H3 cell of res <= {MAX_INTENT_RES}")
        if not self.start < self.end <= self.start + MAX_MEETING_WINDOW_S:
            raise LocalProtocolError(
                f"the meeting window must end after it starts, at most {MAX_MEETING_WINDOW_S // 3600} h later"
            )
        if not self.created < self.expires <= self.created + HANDOVER_TTL_S:
            raise LocalProtocolError("a proposal expires after it is made, at most 24 h later")
        if not self.payment or len(set(self.payment)) != len(self.payment):
            raise LocalProtocolError("a proposal lists 1 to 4 distinct payment methods")
        for method in self.payment:
            if not payment_method_ok(method):
                raise LocalProtocolError(f"bad payment method {method[:30]!r} (a-z, 0-9, _ . -; 1-24)")


@message
class HandoverConfirm:
    """Yes to the proposal whose envelope hashes to ``proposal``, paying with ``payment`` (from its list)."""

    deal: bytes = bounded(len=_SESSION_LEN)
    proposal: bytes = bounded(len=_DIGEST_LEN)
    payment: str = bounded(max=MAX_PAYMENT_METHOD_LEN)

    def __post_init__(self) -> None:
        if not payment_method_ok(self.payment):
            raise LocalProtocolError("bad payment method")


@message
class HandoverDecline:
    """No to the proposal ``proposal`` (or, once confirmed, its cancellation); ``reason`` is a short code."""

    deal: bytes = bounded(len=_SESSION_LEN)
    proposal: bytes = bounded(len=_DIGEST_LEN)
    reason: str = bounded(max=MAX_DECLINE_REASON, default="declined")
