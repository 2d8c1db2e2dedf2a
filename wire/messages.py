"""Every message of the protocol: a frozen dataclass, a type code, and one codec.

Two families share the codec:

* DHT RPCs (PING, FIND_NODE, PUT_RECORDS, GET_RECORDS and their replies) travel as plain frames
  ``[type, body]`` on an authenticated (Noise) stream; the records inside are signed envelopes.
* Meta Space Protocol messages (INTENT_BROADCAST ... REPUTATION_SHARE) travel inside signed envelopes
  (``wire.envelope``); their type code is the envelope's type.

``decode_message`` returns a typed message or raises ``RemoteProtocolError`` — nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import field
from typing import Any

from wire import cbor
from wire.codec import bounded, from_obj, message, to_obj
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import INTENT_ID_LEN, Action, Intent
from wire.limits import (
    MAX_ADDR_LEN,
    MAX_ADDRS_PER_PEER,
    MAX_AMOUNT_MINOR,
    MAX_CURSOR_BYTES,
    MAX_ENVELOPE_BYTES,
    MAX_FRAME_BYTES,
    MAX_INTENT_BYTES,
    MAX_PEERS_PER_REPLY,
    MAX_QUANTITY,
    MAX_QUERY_BYTES,
    MAX_RECORDS_PER_PAGE,
    MAX_RECORDS_PER_PUT,
    MAX_ROUNDS,
    MAX_SHORT_STR,
)


class MsgType(enum.IntEnum):
    # Meta Space Protocol (signed envelopes), codes from the specification
    INTENT_BROADCAST = 0x01
    INTENT_MATCH = 0x02
    NEGOTIATION_START = 0x03
    NEGOTIATION_OFFER = 0x04
    NEGOTIATION_ACCEPT = 0x05
    NEGOTIATION_REJECT = 0x06
    TRANSACTION_INIT = 0x07
    TRANSACTION_CONFIRM = 0x08
    QUERY = 0x10
    RESPONSE = 0x11
    TRUST_VERIFICATION = 0x20
    REPUTATION_SHARE = 0x21
    # DHT RPCs (frames on /metaspace/kad/1.0.0)
    PING = 0x40
    PONG = 0x41
    FIND_NODE = 0x42
    NODES = 0x43
    PUT_RECORDS = 0x44
    PUT_RESULT = 0x45
    GET_RECORDS = 0x46
    RECORDS = 0x47
    ERROR = 0x4F


KEY_LEN = 32
SESSION_ID_LEN = 16
DIGEST_LEN = 32

# ---------------------------------------------------------------------------------------------- DHT


@message
class Contact:
    """A peer as DHT messages name it: its public key and the multiaddrs it listens on."""

    pubkey: bytes = bounded(len=32)
    addrs: list[str] = field(
        default_factory=list, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )


@message
class Ping:
    TYPE = MsgType.PING
    rid: int = bounded(min=0, max=2**64 - 1)
    addrs: list[str] = field(
        default_factory=list, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )  # the requester's own listen addrs (the driver checks them against the connection)


@message
class Pong:
    TYPE = MsgType.PONG
    rid: int = bounded(min=0, max=2**64 - 1)


@message
class FindNode:
    TYPE = MsgType.FIND_NODE
    rid: int = bounded(min=0, max=2**64 - 1)
    target: bytes = bounded(len=KEY_LEN)
    addrs: list[str] = field(
        default_factory=list, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )  # the requester's own listen addrs (the driver checks them against the connection)


@message
class Nodes:
    TYPE = MsgType.NODES
    rid: int = bounded(min=0, max=2**64 - 1)
    peers: list[Contact] = field(default_factory=list, metadata={"max": MAX_PEERS_PER_REPLY})


class PutStatus(enum.IntEnum):
    """Per-record outcome of PUT_RECORDS."""

    STORED = 0
    REPLACED = 1
    STALE = 2  # seq not higher than the stored one for (author, intent id)
    INVALID = 3  # bad signature, bad shape, expired, wrong key for this record
    OVER_QUOTA = 4  # per-key or per-author cap reached, or the node's storage limit


@message
class PutRecords:
    TYPE = MsgType.PUT_RECORDS
    rid: int = bounded(min=0, max=2**64 - 1)
    key: bytes = bounded(len=KEY_LEN)
    records: list[bytes] = field(
        default_factory=list, metadata={"max": MAX_RECORDS_PER_PUT, "item": {"max": MAX_INTENT_BYTES}}
    )
    addrs: list[str] = field(
        default_factory=list, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )  # the requester's own listen addrs (the driver checks them against the connection)


@message
class PutResult:
    TYPE = MsgType.PUT_RESULT
    rid: int = bounded(min=0, max=2**64 - 1)
    statuses: list[PutStatus] = field(default_factory=list, metadata={"max": MAX_RECORDS_PER_PUT})


@message
class GetRecords:
    TYPE = MsgType.GET_RECORDS
    rid: int = bounded(min=0, max=2**64 - 1)
    key: bytes = bounded(len=KEY_LEN)
    action: Action | None = None
    since: int = bounded(min=0, max=2**40, default=0)
    cursor: bytes | None = bounded(max=MAX_CURSOR_BYTES, default=None)
    limit: int = bounded(min=1, max=MAX_RECORDS_PER_PAGE, default=MAX_RECORDS_PER_PAGE)
    addrs: list[str] = field(
        default_factory=list, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )  # the requester's own listen addrs (the driver checks them against the connection)


@message
class Records:
    TYPE = MsgType.RECORDS
    rid: int = bounded(min=0, max=2**64 - 1)
    records: list[bytes] = field(
        default_factory=list, metadata={"max": MAX_RECORDS_PER_PAGE, "item": {"max": MAX_INTENT_BYTES}}
    )
    cursor: bytes | None = bounded(max=MAX_CURSOR_BYTES, default=None)
    peers: list[Contact] = field(default_factory=list, metadata={"max": MAX_PEERS_PER_REPLY})


@message
class Error:
    """A refusal of a whole request (rate limited, malformed request): reason code and text."""

    TYPE = MsgType.ERROR
    rid: int = bounded(min=0, max=2**64 - 1)
    code: str = bounded(max=MAX_SHORT_STR)
    detail: str = bounded(max=MAX_SHORT_STR * 4, default="")


# ------------------------------------------------------------------------------ Meta Space Protocol


@message
class IntentMatch:
    """A direct notice to a matched peer: "your intent and mine look like a match"."""

    TYPE = MsgType.INTENT_MATCH
    my_intent: bytes = bounded(len=INTENT_ID_LEN)
    your_intent: bytes = bounded(len=INTENT_ID_LEN)
    record: bytes = bounded(max=MAX_INTENT_BYTES)  # the sender's signed intent record
    score_milli: int = bounded(min=0, max=1000)
    sent: int = bounded(min=0, max=2**40)


@message
class Terms:
    """What is being negotiated: price per unit, quantity, and optionally a pickup window."""

    price_minor: int = bounded(min=0, max=MAX_AMOUNT_MINOR)
    currency: str = bounded(len=3)
    quantity: int = bounded(min=1, max=MAX_QUANTITY)
    pickup_start: int | None = bounded(min=0, max=2**40, default=None)
    pickup_end: int | None = bounded(min=0, max=2**40, default=None)


@message
class NegotiationStart:
    TYPE = MsgType.NEGOTIATION_START
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    buyer_intent: bytes = bounded(len=INTENT_ID_LEN)
    seller_intent: bytes = bounded(len=INTENT_ID_LEN)
    buyer: bytes = bounded(len=32)
    seller: bytes = bounded(len=32)
    terms: Terms
    max_rounds: int = bounded(min=1, max=MAX_ROUNDS)
    deadline: int = bounded(min=0, max=2**40)


@message
class NegotiationOffer:
    TYPE = MsgType.NEGOTIATION_OFFER
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    terms: Terms


@message
class NegotiationAccept:
    TYPE = MsgType.NEGOTIATION_ACCEPT
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    offer_digest: bytes = bounded(len=DIGEST_LEN)  # sha256 of the accepted offer's envelope bytes


@message
class NegotiationReject:
    TYPE = MsgType.NEGOTIATION_REJECT
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    reason: str = bounded(max=MAX_SHORT_STR)


@message
class Agreement:
    """The canonical agreement both sides sign: both intents, final terms, both keys, an expiry."""

    session: bytes = bounded(len=SESSION_ID_LEN)
    buyer: bytes = bounded(len=32)
    seller: bytes = bounded(len=32)
    buyer_intent: bytes = bounded(len=INTENT_ID_LEN)
    seller_intent: bytes = bounded(len=INTENT_ID_LEN)
    terms: Terms
    created: int = bounded(min=0, max=2**40)
    expires: int = bounded(min=0, max=2**40)


@message
class TransactionInit:
    TYPE = MsgType.TRANSACTION_INIT
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    agreement: Agreement
    signature: bytes = bounded(len=64)  # the initiator's signature over the canonical agreement


@message
class TransactionConfirm:
    TYPE = MsgType.TRANSACTION_CONFIRM
    session: bytes = bounded(len=SESSION_ID_LEN)
    round: int = bounded(min=0, max=MAX_ROUNDS)
    agreement_digest: bytes = bounded(len=DIGEST_LEN)
    signature: bytes = bounded(len=64)  # the confirmer's signature over the canonical agreement


@message
class Query:
    TYPE = MsgType.QUERY
    qid: int = bounded(min=0, max=2**64 - 1)
    kind: str = bounded(max=MAX_SHORT_STR)
    body: bytes = bounded(max=MAX_QUERY_BYTES, default=b"")


@message
class Response:
    TYPE = MsgType.RESPONSE
    qid: int = bounded(min=0, max=2**64 - 1)
    body: bytes = bounded(max=MAX_QUERY_BYTES, default=b"")


@message
class TrustVerification:
    TYPE = MsgType.TRUST_VERIFICATION
    subject: bytes = bounded(len=32)
    nonce: bytes = bounded(len=16)
    claim: str = bounded(max=MAX_SHORT_STR)


@message
class ReputationShare:
    TYPE = MsgType.REPUTATION_SHARE
    subject: bytes = bounded(len=32)
    deals: int = bounded(min=0, max=2**32)
    failed: int = bounded(min=0, max=2**32)
    since: int = bounded(min=0, max=2**40)


#: type code -> message class. INTENT_BROADCAST's body is the Intent itself.
MESSAGE_CLASSES: dict[MsgType, type] = {
    MsgType.INTENT_BROADCAST: Intent,
    MsgType.INTENT_MATCH: IntentMatch,
    MsgType.NEGOTIATION_START: NegotiationStart,
    MsgType.NEGOTIATION_OFFER: NegotiationOffer,
    MsgType.NEGOTIATION_ACCEPT: NegotiationAccept,
    MsgType.NEGOTIATION_REJECT: NegotiationReject,
    MsgType.TRANSACTION_INIT: TransactionInit,
    MsgType.TRANSACTION_CONFIRM: TransactionConfirm,
    MsgType.QUERY: Query,
    MsgType.RESPONSE: Response,
    MsgType.TRUST_VERIFICATION: TrustVerification,
    MsgType.REPUTATION_SHARE: ReputationShare,
    MsgType.PING: Ping,
    MsgType.PONG: Pong,
    MsgType.FIND_NODE: FindNode,
    MsgType.NODES: Nodes,
    MsgType.PUT_RECORDS: PutRecords,
    MsgType.PUT_RESULT: PutResult,
    MsgType.GET_RECORDS: GetRecords,
    MsgType.RECORDS: Records,
    MsgType.ERROR: Error,
}
_TYPE_OF: dict[type, MsgType] = {cls: t for t, cls in MESSAGE_CLASSES.items()}

DHT_TYPES = frozenset(
    {MsgType.PING, MsgType.PONG, MsgType.FIND_NODE, MsgType.NODES, MsgType.PUT_RECORDS,
     MsgType.PUT_RESULT, MsgType.GET_RECORDS, MsgType.RECORDS, MsgType.ERROR}
)  # fmt: skip

Message = Any  # one of MESSAGE_CLASSES' values


def type_of(msg: Message) -> MsgType:
    try:
        return _TYPE_OF[type(msg)]
    except KeyError:
        raise LocalProtocolError(f"not a protocol message: {type(msg).__name__}") from None


def encode_body(msg: Message) -> bytes:
    """Canonical CBOR of a message's fields (what an envelope signs and carries)."""
    return cbor.encode(to_obj(msg))


def decode_body(mtype: MsgType, body: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Message:
    """Decode a message body of a known type. Raises RemoteProtocolError."""
    return from_obj(MESSAGE_CLASSES[mtype], cbor.decode(body, max_bytes))


def encode_message(msg: Message) -> bytes:
    """A self-describing frame: canonical CBOR ``[type, body-map]``."""
    return cbor.encode([int(type_of(msg)), to_obj(msg)])


def decode_message(data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> Message:
    """Decode an untrusted frame into a typed message.

    Raises:
        RemoteProtocolError: oversized, malformed, non-canonical, unknown type, wrong field types or bounds.
    """
    value = cbor.decode(data, max_bytes)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or isinstance(value[0], bool)
        or not isinstance(value[0], int)
    ):
        raise RemoteProtocolError("a message is [type, body]")
    try:
        mtype = MsgType(value[0])
    except ValueError:
        raise RemoteProtocolError(f"unknown message type {value[0]}") from None
    return from_obj(MESSAGE_CLASSES[mtype], value[1])
