"""The handover's states, inputs and transition table: ``(state, input) -> state``.

Like the session's table (:mod:`negotiation.table`), any pair not listed is illegal. Unlike a session,
whose messages share one stream, each handover message arrives on its own authenticated request,
possibly hours apart: an illegal *remote* input is refused (with its reason, to the sender) and leaves
the state as it was, so a stale or replayed message can't end an arrangement. An illegal *local* move
raises ``LocalProtocolError``. CANCELLED and FAILED take no input; CONFIRMED only a cancellation.
"""

from __future__ import annotations

import enum


class HState(enum.StrEnum):
    """Where the arrangement of one deal's meeting stands (the same names on both sides)."""

    IDLE = "IDLE"  # the agreement is held; no proposal is pending (either side may propose)
    PROPOSED = "PROPOSED"  # our proposal is out: waiting for the other side's confirm or decline
    REVIEWING = "REVIEWING"  # their proposal is in: our human (or guardian) confirms, declines or counters
    CONFIRMED = "CONFIRMED"  # both hold the plan: the proposal and the other side's confirm, both signed
    CANCELLED = "CANCELLED"  # terminal: a confirmed plan was cancelled by one side
    FAILED = "FAILED"  # terminal: no meeting agreed (proposal cap reached, or the agreement expired)

    @property
    def terminal(self) -> bool:
        return self in (HState.CANCELLED, HState.FAILED)

    @property
    def pending(self) -> bool:
        """A proposal waits for an answer (it has an expiry)."""
        return self in (HState.PROPOSED, HState.REVIEWING)


class HInput(enum.StrEnum):
    SEND_PROPOSE = "SEND_PROPOSE"  # we propose (first, a counter, or a replacement of our own)
    RECV_PROPOSE = "RECV_PROPOSE"
    SEND_CONFIRM = "SEND_CONFIRM"
    RECV_CONFIRM = "RECV_CONFIRM"
    SEND_DECLINE = "SEND_DECLINE"  # decline theirs, withdraw ours, or cancel the confirmed plan
    RECV_DECLINE = "RECV_DECLINE"
    EXPIRE = "EXPIRE"  # the pending proposal lapsed unanswered (24 h at most)
    END = "END"  # the agreement expired, or no proposal number is left


St, In = HState, HInput
TRANSITIONS: dict[tuple[HState, HInput], HState] = {
    (St.IDLE, In.SEND_PROPOSE): St.PROPOSED,
    (St.IDLE, In.RECV_PROPOSE): St.REVIEWING,
    (St.IDLE, In.END): St.FAILED,
    (St.PROPOSED, In.SEND_PROPOSE): St.PROPOSED,
    (St.PROPOSED, In.RECV_PROPOSE): St.REVIEWING,
    (St.PROPOSED, In.RECV_CONFIRM): St.CONFIRMED,
    (St.PROPOSED, In.RECV_DECLINE): St.IDLE,
    (St.PROPOSED, In.SEND_DECLINE): St.IDLE,
    (St.PROPOSED, In.EXPIRE): St.IDLE,
    (St.PROPOSED, In.END): St.FAILED,
    (St.REVIEWING, In.SEND_PROPOSE): St.PROPOSED,
    (St.REVIEWING, In.RECV_PROPOSE): St.REVIEWING,
    (St.REVIEWING, In.SEND_CONFIRM): St.CONFIRMED,
    (St.REVIEWING, In.SEND_DECLINE): St.IDLE,
    (St.REVIEWING, In.RECV_DECLINE): St.IDLE,
    (St.REVIEWING, In.EXPIRE): St.IDLE,
    (St.REVIEWING, In.END): St.FAILED,
    (St.CONFIRMED, In.SEND_DECLINE): St.CANCELLED,
    (St.CONFIRMED, In.RECV_DECLINE): St.CANCELLED,
}
del St, In

#: Inputs a remote peer causes by sending a message.
REMOTE_INPUTS = frozenset({HInput.RECV_PROPOSE, HInput.RECV_CONFIRM, HInput.RECV_DECLINE})


def next_state(state: HState, event: HInput) -> HState | None:
    """The state after ``event`` in ``state``, or None if the pair is illegal."""
    return TRANSITIONS.get((state, event))
