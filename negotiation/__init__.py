"""Bounded-round alternating-offers negotiation between two agents, sans-IO.

See :mod:`negotiation.session` for the protocol, :mod:`negotiation.strategy` for strategies and
:mod:`negotiation.guardian` for the human's limits. A stream driver is a loop of bytes in, bytes out
and one timer (one length-prefixed frame = one envelope)::

    # responder: read the first frame, author, start = peek_start(frame), pick the local intent, then
    # session = Session(..., initiator=False, now=now()); session.handle_message(frame, now())
    while True:
        for out in session.poll():
            if isinstance(out, Send): await write_frame(stream, out.data)
            elif isinstance(out, NeedsApproval): ask_human(out)  # later: session.approve/decline(now())
            elif isinstance(out, Checkpoint): save(session.to_dict())  # durably, before the next Send
            elif isinstance(out, Agreed): store(out)  # agreement_bytes + both signatures
        if session.done: break
        with trio.move_on_at(to_trio_time(session.next_timer())):
            session.handle_message(await read_frame(stream), now()); continue
        session.handle_timer(now())

Persist ``session.to_dict()`` at every ``Checkpoint`` output (before handing on what follows it: the
message that commits us) and after each drained batch; after a restart, ``Session.from_dict(...)`` then
``abort(now)`` (its REJECT tells the peer) or carry on. Sessions need an ``rng`` (``random.Random`` or
``negotiation.margin.DigestRng``) for their private margin; ``negotiation.admission.Admission`` decides
which sessions a driver takes on.
"""

from negotiation.agreement import agreement_bytes, sign_agreement, verify_agreement
from negotiation.checks import peek_start
from negotiation.guardian import Autonomy, Decision, Guardian, Verdict
from negotiation.session import Position, Session
from negotiation.strategy import (
    STRATEGIES,
    Boulware,
    Conceder,
    Context,
    Linear,
    Strategy,
    TimeDependent,
    TitForTat,
    make_strategy,
    register_strategy,
)
from negotiation.testing import Pair, PairResult, make_pair, run_pair
from negotiation.types import (
    DEFAULT_MAX_ROUNDS,
    Agreed,
    Checkpoint,
    Failed,
    FailReason,
    NeedsApproval,
    Role,
    Send,
    State,
    StateChanged,
)

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "STRATEGIES",
    "Agreed",
    "Autonomy",
    "Boulware",
    "Checkpoint",
    "Conceder",
    "Context",
    "Decision",
    "FailReason",
    "Failed",
    "Guardian",
    "Linear",
    "NeedsApproval",
    "Pair",
    "PairResult",
    "Position",
    "Role",
    "Send",
    "Session",
    "State",
    "StateChanged",
    "Strategy",
    "TimeDependent",
    "TitForTat",
    "Verdict",
    "agreement_bytes",
    "make_pair",
    "make_strategy",
    "peek_start",
    "register_strategy",
    "run_pair",
    "sign_agreement",
    "verify_agreement",
]
