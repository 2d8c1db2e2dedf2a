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
import re
from dataclasses import dataclass, field
from typing import Any

from wire import cbor, fastcodec
from wire.codec import bounded, from_obj, message, to_obj
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.handover import HandoverConfirm, HandoverDecline, HandoverPropose
from wire.intent import INTENT_ID_LEN, Action, Intent
from wire.limits import (
    MAX_ADDR_LEN,
    MAX_ADDRS_PER_PEER,
    MAX_AMOUNT_MINOR,
    MAX_CATEGORY_LEN,
    MAX_CURSOR_BYTES,
    MAX_ENVELOPE_BYTES,
    MAX_EVIDENCE_RATINGS,
    MAX_FRAME_BYTES,
    MAX_HANDLE_LEN,
    MAX_INTENT_BYTES,
    MAX_PEERS_PER_REPLY,
    MAX_PROFILE_CATEGORIES,
    MAX_PROFILE_LANGS,
    MAX_PROFILE_PROTOCOLS,
    MAX_PROTOCOL_ID_LEN,
    MAX_QUANTITY,
    MAX_QUERY_BYTES,
    MAX_RATING_BYTES,
    MAX_RATING_COMMENT,
    MAX_RECORD_TTL_S,
    MAX_RECORDS_PER_PAGE,
    MAX_RECORDS_PER_PUT,
    MAX_ROUNDS,
    MAX_SHORT_STR,
)
from wire.taxonomy import category_codes


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
    # After the co-signed agreement: arranging the meeting (Phase 4; see wire.handover for the names)
    HANDOVER_PROPOSE = 0x09
    HANDOVER_CONFIRM = 0x0A
    HANDOVER_DECLINE = 0x0B
    QUERY = 0x10
    RESPONSE = 0x11
    TRUST_VERIFICATION = 0x20
    REPUTATION_SHARE = 0x21
    # Beyond the specification's table: the agent profile record (5.1 register_mai) and the reply to
    # TRUST_VERIFICATION (the evidence asked for).
    AGENT_PROFILE = 0x22
    TRUST_EVIDENCE = 0x23
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


class _DhtCaches:
    """Room for what a DHT core caches on a shared ``Contact`` instance (``dht.keys``: its node id as an int,
    its subnet group): slots, not fields (never encoded, compared or hashed), and no dict per instance (a
    simulator holds 10^6 contacts, and reads them at random)."""

    __slots__ = ("_dht_id", "_dht_net")
    _dht_id: int
    _dht_net: bytes


@dataclass(frozen=True, slots=True)  # a ``message`` with slots
class Contact(_DhtCaches):
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
    action: Action | None = None  # a side filter: intents on this action's side (``Action.demand``), None all
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
    addrs: list[str] | None = field(
        default=None, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )  # where the sender can be reached (relay addresses first behind a NAT: p2p.nat)


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


#: The one claim TRUST_VERIFICATION asks about today: "show me the ratings about you, with their evidence".
CLAIM_RATINGS = "ratings"


@message
class TrustVerification:
    """A request to an agent: show the evidence behind a claim about ``subject`` (today: its ratings).

    The answer is a signed TRUST_EVIDENCE echoing ``nonce``; each rating in it carries its own proof (the
    rater's signature and the co-signed agreement it names), so the asker checks every one itself.
    """

    TYPE = MsgType.TRUST_VERIFICATION
    subject: bytes = bounded(len=32)
    nonce: bytes = bounded(len=16)
    claim: str = bounded(max=MAX_SHORT_STR)


@message
class TrustEvidence:
    """The answer to a TRUST_VERIFICATION: rating records (signed REPUTATION_SHARE envelopes) about
    ``subject``, at most MAX_EVIDENCE_RATINGS, newest first. An unknown claim gets an empty list."""

    TYPE = MsgType.TRUST_EVIDENCE
    subject: bytes = bounded(len=32)
    nonce: bytes = bounded(len=16)
    ratings: list[bytes] = field(
        default_factory=list, metadata={"max": MAX_EVIDENCE_RATINGS, "item": {"max": MAX_RATING_BYTES}}
    )


# Used with fullmatch ("$" would also match before a trailing newline).
_HANDLE_PART = r"[a-z0-9][a-z0-9_.-]{0,30}"
HANDLE_RE = re.compile(f"@{_HANDLE_PART}/{_HANDLE_PART}")
_LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_PROTOCOL_RE = re.compile(r"/[A-Za-z0-9._/-]{1,47}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Autonomy(enum.StrEnum):
    """How much an agent does without its human, as a profile says it (coarse on purpose)."""

    ASKS = "asks"  # every deal waits for its human
    ASKS_BIG = "asks_big"  # its human approves the big ones
    ACTS = "acts"  # it closes deals within its human's limits and tells them


def _check_lifetime(created: int, expires: int, what: str) -> None:
    if not created < expires <= created + MAX_RECORD_TTL_S:
        raise LocalProtocolError(f"{what}: expires must be after created and at most 7 days later")


def category_pattern_ok(value: str) -> bool:
    """A taxonomy code (``vehicles/tires``) or a whole group (``vehicles/*``)."""
    codes = category_codes()
    if value.endswith("/*"):
        group = value[:-2]
        return any(c.split("/", 1)[0] == group for c in codes)
    return value in codes


@message
class AgentProfile:
    """An agent's profile (spec 5.1 ``register_mai``): a signed DHT record stored under the agent's own
    profile key, one per agent, replaced by a higher ``seq``. The agent is the envelope's signer.

    Only ``protocols`` (the capability handshake: the protocol ids it serves) is always present; what else
    it says follows its human's ``share`` answer (a handle ``@owner/agent`` the owner chose, unverified;
    languages; categories it trades in; a coarse autonomy level).
    """

    TYPE = MsgType.AGENT_PROFILE
    seq: int = bounded(min=0, max=2**63 - 1)
    created: int = bounded(min=0, max=2**40)
    expires: int = bounded(min=0, max=2**40)
    protocols: list[str] = field(
        default_factory=list,
        metadata={"max": MAX_PROFILE_PROTOCOLS, "item": {"max": MAX_PROTOCOL_ID_LEN}},
    )
    handle: str | None = bounded(max=MAX_HANDLE_LEN, default=None)
    languages: list[str] = field(
        default_factory=list, metadata={"max": MAX_PROFILE_LANGS, "item": {"max": 12}}
    )
    categories: list[str] = field(
        default_factory=list, metadata={"max": MAX_PROFILE_CATEGORIES, "item": {"max": MAX_CATEGORY_LEN}}
    )
    autonomy: Autonomy | None = None

    def __post_init__(self) -> None:
        _check_lifetime(self.created, self.expires, "profile")
        if self.handle is not None and not HANDLE_RE.fullmatch(self.handle):
            raise LocalProtocolError(
                f"handle {self.handle[:70]!r} is not @owner/agent (lowercase a-z, 0-9, _ . -; 1-31 each)"
            )
        for lists, what in ((self.protocols, "protocols"), (self.languages, "languages"),
                            (self.categories, "categories")):  # fmt: skip
            if len(set(lists)) != len(lists):
                raise LocalProtocolError(f"profile {what} repeat an entry")
        for proto in self.protocols:
            if not _PROTOCOL_RE.fullmatch(proto):
                raise LocalProtocolError(f"bad protocol id {proto[:50]!r}")
        for lang in self.languages:
            if not _LANG_RE.fullmatch(lang):
                raise LocalProtocolError(f"bad language tag {lang[:20]!r}")
        for cat in self.categories:
            if not category_pattern_ok(cat):
                raise LocalProtocolError(f"unknown category {cat[:70]!r}")
        if self.autonomy is not None and not isinstance(self.autonomy, Autonomy):
            raise LocalProtocolError(f"unknown autonomy {self.autonomy!r}")


@message
class ReputationShare:
    """A rating (spec 5.2): the rater (the envelope's signer) rates ``subject`` after the deal ``deal``.

    It is valid only with its evidence: ``agreement`` is the co-signed agreement of session ``deal``, the
    two signatures verify, and the rater and ``subject`` are its buyer and seller (``wire.records.
    open_rating`` checks all of it; a storing node refuses anything else). Stored in the DHT under the
    rated agent's reputation key, one record per (rater, deal): a higher ``seq`` only renews it.
    """

    TYPE = MsgType.REPUTATION_SHARE
    subject: bytes = bounded(len=32)
    deal: bytes = bounded(len=SESSION_ID_LEN)
    score: int = bounded(min=1, max=5)
    as_agreed: bool
    agreement: Agreement
    buyer_signature: bytes = bounded(len=64)
    seller_signature: bytes = bounded(len=64)
    seq: int = bounded(min=0, max=2**63 - 1)
    created: int = bounded(min=0, max=2**40)
    expires: int = bounded(min=0, max=2**40)
    comment: str = bounded(max=MAX_RATING_COMMENT, default="")

    def __post_init__(self) -> None:
        _check_lifetime(self.created, self.expires, "rating")
        if not 1 <= self.score <= 5:
            raise LocalProtocolError("a rating is 1 to 5")
        if self.deal != self.agreement.session:
            raise LocalProtocolError("the rating's deal is not its agreement's session")
        if self.agreement.buyer == self.agreement.seller:
            raise LocalProtocolError("an agreement needs two parties")
        if self.subject not in (self.agreement.buyer, self.agreement.seller):
            raise LocalProtocolError("the rated agent is not a party to the agreement")
        if len(self.comment) > MAX_RATING_COMMENT or _CONTROL.search(self.comment):
            raise LocalProtocolError("a rating comment is one short text without control characters")

    @property
    def rater_of(self) -> bytes:
        """The other party of the agreement: the only agent who may sign this rating."""
        a = self.agreement
        return a.seller if self.subject == a.buyer else a.buyer


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
    MsgType.HANDOVER_PROPOSE: HandoverPropose,
    MsgType.HANDOVER_CONFIRM: HandoverConfirm,
    MsgType.HANDOVER_DECLINE: HandoverDecline,
    MsgType.QUERY: Query,
    MsgType.RESPONSE: Response,
    MsgType.TRUST_VERIFICATION: TrustVerification,
    MsgType.REPUTATION_SHARE: ReputationShare,
    MsgType.AGENT_PROFILE: AgentProfile,
    MsgType.TRUST_EVIDENCE: TrustEvidence,
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
    fast = fastcodec.encode_map(msg)
    return fast if fast is not None else cbor.encode(to_obj(msg))


def decode_body(mtype: MsgType, body: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Message:
    """Decode a message body of a known type. Raises RemoteProtocolError."""
    cls = MESSAGE_CLASSES[mtype]
    fast = fastcodec.decode_map(cls, body) if type(body) is bytes and len(body) <= max_bytes else None
    return fast if fast is not None else from_obj(cls, cbor.decode(body, max_bytes))


def encode_message(msg: Message) -> bytes:
    """A self-describing frame: canonical CBOR ``[type, body-map]`` (``wire.fastcodec`` when it can)."""
    fast = fastcodec.encode_frame(int(type_of(msg)), msg)
    return fast if fast is not None else encode_message_strict(msg)


def encode_message_strict(msg: Message) -> bytes:
    """:func:`encode_message` by the generic codec only (the reference the fast path is tested against)."""
    return cbor.encode([int(type_of(msg)), to_obj(msg)])


def decode_message(data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> Message:
    """Decode an untrusted frame into a typed message (``wire.fastcodec`` first; whatever it does not take
    exactly goes through the strict path, which accepts it or raises its own error).

    Raises:
        RemoteProtocolError: oversized, malformed, non-canonical, unknown type, wrong field types or bounds.
    """
    if type(data) is bytes and len(data) <= max_bytes:
        fast = fastcodec.decode_frame(MESSAGE_CLASSES, data)
        if fast is not None:
            return fast
    return decode_message_strict(data, max_bytes)


def decode_message_strict(data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> Message:
    """:func:`decode_message` by the generic codec only (same errors)."""
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
