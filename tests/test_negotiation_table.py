"""The transition table, and out-of-turn messages through a real session."""

from __future__ import annotations

from negotiation import Failed, FailReason, State, make_pair
from negotiation.table import ENDING_INPUTS, REMOTE_INPUTS, TRANSITIONS, next_state
from negotiation.types import Input
from wire.envelope import seal
from wire.messages import NegotiationAccept, TransactionConfirm


def test_terminal_states_take_no_input():
    for state in (State.AGREED, State.FAILED):
        for event in Input:
            assert next_state(state, event) is None


def test_every_live_state_ends_on_reject_timeout_error():
    for state in State:
        if state.terminal:
            continue
        for event in ENDING_INPUTS:
            assert next_state(state, event) is State.FAILED


def test_happy_path_is_in_the_table():
    initiator = [
        (State.IDLE, Input.SEND_START, State.WAIT_REPLY),
        (State.WAIT_REPLY, Input.RECV_ACCEPT, State.CLOSING),
        (State.CLOSING, Input.SEND_INIT, State.WAIT_CONFIRM),
        (State.WAIT_CONFIRM, Input.RECV_CONFIRM, State.AGREED),
    ]
    responder = [
        (State.WAIT_START, Input.RECV_START, State.DECIDING),
        (State.DECIDING, Input.SEND_ACCEPT, State.WAIT_INIT),
        (State.WAIT_INIT, Input.RECV_INIT, State.SIGNING),
        (State.SIGNING, Input.SEND_CONFIRM, State.AGREED),
    ]
    for s, i, t in initiator + responder:
        assert TRANSITIONS[(s, i)] is t


def test_each_remote_input_allowed_in_few_states():
    allowed = {
        i: {s for (s, j) in TRANSITIONS if j is i} for i in REMOTE_INPUTS if i is not Input.RECV_REJECT
    }
    assert allowed[Input.RECV_START] == {State.WAIT_START}
    assert allowed[Input.RECV_OFFER] == {State.WAIT_REPLY}
    assert allowed[Input.RECV_ACCEPT] == {State.WAIT_REPLY}
    assert allowed[Input.RECV_INIT] == {State.WAIT_INIT}
    assert allowed[Input.RECV_CONFIRM] == {State.WAIT_CONFIRM}


def test_approval_resumes_only_to_commit():
    assert next_state(State.AWAITING_APPROVAL, Input.SEND_ACCEPT) is State.WAIT_INIT
    assert next_state(State.AWAITING_APPROVAL, Input.SEND_INIT) is State.WAIT_CONFIRM
    assert next_state(State.AWAITING_APPROVAL, Input.SEND_OFFER) is None
    assert next_state(State.AWAITING_APPROVAL, Input.RECV_OFFER) is None


def _failed(outputs):
    return next(o for o in outputs if isinstance(o, Failed))


def test_accept_before_start_is_out_of_turn():
    pair = make_pair()
    pair.seller.poll()  # the START is never delivered
    msg = NegotiationAccept(pair.seller.session_id, 0, b"\0" * 32)
    pair.buyer.handle_message(seal(pair.seller_identity, msg).raw, 1_000_000.0)
    assert pair.buyer.state is State.FAILED
    assert _failed(pair.buyer.poll()).reason is FailReason.OUT_OF_TURN


def test_confirm_while_waiting_for_reply_is_out_of_turn():
    pair = make_pair()
    start = pair.seller.poll()[0].data
    pair.buyer.handle_message(start, 1_000_000.0)
    pair.buyer.poll()
    assert pair.seller.state is State.WAIT_REPLY
    msg = TransactionConfirm(pair.seller.session_id, 1, b"\0" * 32, b"\0" * 64)
    pair.seller.handle_message(seal(pair.buyer_identity, msg).raw, 1_000_000.0)
    assert _failed(pair.seller.poll()).reason is FailReason.OUT_OF_TURN
