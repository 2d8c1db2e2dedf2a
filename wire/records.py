"""DHT records of every kind — signed intents, agent profiles, ratings — opened and checked one way.

A DHT record is a signed envelope of one of three types. :func:`open_record` verifies any of them and
returns a :class:`RecordView`: the fields a record store indexes, the same for every type, so the store's
rules (replace by ``(author, id, seq)``, expiry, caps) apply to all of them alike:

============================  ==============================  ==========================  ================
type                          ``id`` (16 bytes)               ``seq``/``created``/        stored under
                                                              ``expires``
============================  ==============================  ==========================  ================
INTENT_BROADCAST (Intent)     the intent id                   the intent's                intent key
AGENT_PROFILE (AgentProfile)  :data:`PROFILE_RECORD_ID`       the profile's               the author's
                              (one profile per agent)                                     profile key
REPUTATION_SHARE (rating)     the deal (agreement session)    the rating's                the rated
                              (one rating per deal per rater)                             agent's
                                                                                          reputation key
============================  ==============================  ==========================  ================

(the keys themselves are computed in ``dht.keys``). A rating is valid only with its evidence
(:func:`check_rating`): the agreement it carries is co-signed by both parties, and its signer and its
subject are those two parties — so nobody can rate an agent it never made a deal with.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.envelope import Envelope, agreement_signing_bytes, open_envelope, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity, verify
from wire.intent import Action, Intent
from wire.limits import MAX_CLOCK_SKEW_S, MAX_INTENT_BYTES
from wire.messages import AgentProfile, Agreement, MsgType, ReputationShare

#: The record id of every agent's profile: an agent has one profile, replaced by seq.
PROFILE_RECORD_ID = bytes(16)
#: The envelope types that are DHT records.
RECORD_TYPES = frozenset({MsgType.INTENT_BROADCAST, MsgType.AGENT_PROFILE, MsgType.REPUTATION_SHARE})

RecordMessage = Intent | AgentProfile | ReputationShare


@dataclass(frozen=True, slots=True)
class RecordView:
    """What a record store indexes of a verified record (see the module docstring).

    Attributes:
        type: the envelope type.
        author: the signer.
        id: the record id (16 bytes): replace semantics are per ``(author, id)``.
        seq: higher replaces lower.
        created, expires: the record's lifetime (at most 7 days).
        action: the intent's action (None for profiles and ratings: a GET filtered by action skips them).
        withdrawn: a withdrawn intent (a tombstone); always False for the others.
        message: the decoded record.
    """

    type: MsgType
    author: bytes
    id: bytes
    seq: int
    created: int
    expires: int
    action: Action | None
    withdrawn: bool
    message: RecordMessage


def cosigned(agreement: Agreement, buyer_signature: bytes, seller_signature: bytes) -> bool:
    """True if both parties signed ``agreement`` (the signatures of ``negotiation.agreement``)."""
    signed = agreement_signing_bytes(agreement)
    return verify(agreement.buyer, signed, buyer_signature) and verify(
        agreement.seller, signed, seller_signature
    )


def check_rating(rater: bytes, rating: ReputationShare) -> None:
    """Check a rating's evidence against its signer.

    Args:
        rater: the envelope's signer.
        rating: the decoded rating (its own shape rules already hold).

    Raises:
        RemoteProtocolError: the rater is not the other party of the agreement, the agreement is not
            co-signed by both parties, or the rating predates the deal.
    """
    if rater != rating.rater_of:
        raise RemoteProtocolError("the rater is not the other party of the agreement it names")
    if rating.created + MAX_CLOCK_SKEW_S < rating.agreement.created:
        raise RemoteProtocolError("a rating can't predate its deal")
    if not cosigned(rating.agreement, rating.buyer_signature, rating.seller_signature):
        raise RemoteProtocolError("the agreement the rating names is not co-signed by both parties")


def open_record(record: bytes) -> tuple[Envelope, RecordView]:
    """Verify a DHT record of any kind (untrusted bytes).

    Returns:
        The envelope and its :class:`RecordView`.

    Raises:
        RemoteProtocolError: malformed, oversized for its type, bad signature, not a record type, an
            intent signed by another key than its author, a rating without valid evidence.
    """
    env = open_envelope(record, MAX_INTENT_BYTES)
    msg = env.message
    if isinstance(msg, Intent):
        return env, RecordView(
            env.type, msg.author, msg.id, msg.seq, msg.created, msg.expires, msg.action, msg.withdrawn, msg
        )
    if isinstance(msg, AgentProfile):
        view = RecordView(
            env.type, env.author, PROFILE_RECORD_ID, msg.seq, msg.created, msg.expires, None, False, msg
        )
        return env, view
    if isinstance(msg, ReputationShare):
        check_rating(env.author, msg)
        return env, RecordView(
            env.type, env.author, msg.deal, msg.seq, msg.created, msg.expires, None, False, msg
        )
    raise RemoteProtocolError(f"a {env.type.name} is not a DHT record")


def open_profile(record: bytes) -> tuple[Envelope, AgentProfile]:
    """Verify an agent profile record. Raises RemoteProtocolError (also for any other record type)."""
    env, view = open_record(record)
    if not isinstance(view.message, AgentProfile):
        raise RemoteProtocolError("record is not an AGENT_PROFILE")
    return env, view.message


def open_rating(record: bytes) -> tuple[Envelope, ReputationShare]:
    """Verify a rating record and its evidence. Raises RemoteProtocolError (also for other types)."""
    env, view = open_record(record)
    if not isinstance(view.message, ReputationShare):
        raise RemoteProtocolError("record is not a REPUTATION_SHARE")
    return env, view.message


def seal_profile(identity: Identity, profile: AgentProfile) -> bytes:
    """Our signed profile record.

    Raises:
        LocalProtocolError: over MAX_PROFILE_BYTES once signed (the message names the size and the limit).
    """
    return seal(identity, profile).raw


def seal_rating(identity: Identity, rating: ReputationShare) -> bytes:
    """Our signed rating record, checked as every storing node will check it.

    Raises:
        LocalProtocolError: we are not the other party of the agreement, the agreement is not co-signed,
            or the record is over MAX_RATING_BYTES.
    """
    try:
        check_rating(identity.pubkey, rating)
    except RemoteProtocolError as exc:
        raise LocalProtocolError(str(exc)) from None
    return seal(identity, rating).raw
