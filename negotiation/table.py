"""The session's transition table: ``(state, input) -> state``.

Any pair not in :data:`TRANSITIONS` is illegal: a remote message that arrives in a state which does
not list it ends the session (``FailReason.OUT_OF_TURN``). Three inputs end every live state:
RECV_REJECT, TIMEOUT and PROTOCOL_ERROR (and our own SEND_REJECT). Terminal states take no input.
"""

from __future__ import annotations

from negotiation.types import Input, State
from wire.messages import (
    NegotiationAccept,
    NegotiationOffer,
    NegotiationReject,
    NegotiationStart,
    TransactionConfirm,
    TransactionInit,
)

#: The input each received message type is.
INPUT_OF: dict[type, Input] = {
    NegotiationStart: Input.RECV_START,
    NegotiationOffer: Input.RECV_OFFER,
    NegotiationAccept: Input.RECV_ACCEPT,
    NegotiationReject: Input.RECV_REJECT,
    TransactionInit: Input.RECV_INIT,
    TransactionConfirm: Input.RECV_CONFIRM,
}

_CORE: dict[tuple[State, Input], State] = {
    # opening
    (State.IDLE, Input.SEND_START): State.WAIT_REPLY,
    (State.WAIT_START, Input.RECV_START): State.DECIDING,
    # bargaining
    (State.WAIT_REPLY, Input.RECV_OFFER): State.DECIDING,
    (State.WAIT_REPLY, Input.RECV_ACCEPT): State.CLOSING,
    (State.DECIDING, Input.SEND_OFFER): State.WAIT_REPLY,
    (State.DECIDING, Input.SEND_ACCEPT): State.WAIT_INIT,
    (State.DECIDING, Input.ASK_HUMAN): State.AWAITING_APPROVAL,
    # closing
    (State.CLOSING, Input.SEND_INIT): State.WAIT_CONFIRM,
    (State.CLOSING, Input.ASK_HUMAN): State.AWAITING_APPROVAL,
    (State.AWAITING_APPROVAL, Input.SEND_ACCEPT): State.WAIT_INIT,
    (State.AWAITING_APPROVAL, Input.SEND_INIT): State.WAIT_CONFIRM,
    (State.WAIT_INIT, Input.RECV_INIT): State.SIGNING,
    (State.SIGNING, Input.SEND_CONFIRM): State.AGREED,
    (State.WAIT_CONFIRM, Input.RECV_CONFIRM): State.AGREED,
}

#: Inputs that end any live state in FAILED.
ENDING_INPUTS = (Input.RECV_REJECT, Input.SEND_REJECT, Input.TIMEOUT, Input.PROTOCOL_ERROR)

LIVE_STATES = tuple(s for s in State if not s.terminal)

#: States a session can be saved in and resumed from: every state except the transient ones
#: (DECIDING, CLOSING, SIGNING are left within the call that entered them) and IDLE (an initiator is
#: built and opened in one call).
RESUMABLE_STATES = frozenset(State) - {State.IDLE, State.DECIDING, State.CLOSING, State.SIGNING}

TRANSITIONS: dict[tuple[State, Input], State] = {
    **_CORE,
    **{(s, i): State.FAILED for s in LIVE_STATES for i in ENDING_INPUTS},
}

#: Inputs a remote peer can cause by sending a message.
REMOTE_INPUTS = frozenset(
    {
        Input.RECV_START,
        Input.RECV_OFFER,
        Input.RECV_ACCEPT,
        Input.RECV_REJECT,
        Input.RECV_INIT,
        Input.RECV_CONFIRM,
    }
)


def next_state(state: State, event: Input) -> State | None:
    """The state after ``event`` in ``state``, or None if the pair is illegal.

    Args:
        state: the current state.
        event: the input.

    Returns:
        The next state, or None when the table has no entry (the caller ends the session).
    """
    return TRANSITIONS.get((state, event))
