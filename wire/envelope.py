"""Signed envelopes: ``[version, type, author_pubkey, body, signature]`` in canonical CBOR.

The signature covers a domain-separated encoding: ``DOMAIN || cbor([version, type, author, body])``,
so a signature made for Meta Space can never be replayed as something else. ``open_envelope`` checks
shape and sizes, then the signature, and only then decodes the body: no field is trusted before that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from wire import cbor
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import PUBKEY_LEN, SIGNATURE_LEN, Identity, verify
from wire.intent import Intent
from wire.limits import (
    MAX_ENVELOPE_BYTES,
    MAX_EVIDENCE_BYTES,
    MAX_INTENT_BYTES,
    MAX_PROFILE_BYTES,
    MAX_RATING_BYTES,
)
from wire.messages import MsgType, decode_body, encode_body, type_of

ENVELOPE_VERSION = 1
DOMAIN = b"metaspace/v1/envelope\x00"
AGREEMENT_DOMAIN = b"metaspace/v1/agreement\x00"
#: The largest signed envelope of a type with its own limit (every other type: MAX_ENVELOPE_BYTES). The
#: three DHT record types and the evidence reply; ``seal`` and ``open_envelope`` both apply them.
SIZE_LIMITS: dict[int, int] = {
    MsgType.INTENT_BROADCAST: MAX_INTENT_BYTES,
    MsgType.AGENT_PROFILE: MAX_PROFILE_BYTES,
    MsgType.REPUTATION_SHARE: MAX_RATING_BYTES,
    MsgType.TRUST_EVIDENCE: MAX_EVIDENCE_BYTES,
}


@dataclass(frozen=True)
class Envelope:
    """A verified envelope (only ``open_envelope`` and ``seal`` build one) and its decoded message."""

    version: int
    type: MsgType
    author: bytes
    body: bytes
    signature: bytes
    message: object
    raw: bytes

    @property
    def digest(self) -> bytes:
        """sha256 of the exact envelope bytes (used to name an accepted offer)."""
        return hashlib.sha256(self.raw).digest()


def _signed_bytes(version: int, mtype: int, author: bytes, body: bytes) -> bytes:
    return DOMAIN + cbor.encode([version, mtype, author, body])


def seal(identity: Identity, msg: object) -> Envelope:
    """Sign ``msg`` as ``identity``.

    Raises:
        LocalProtocolError: the message is not a protocol message, or is too large once encoded.
    """
    mtype = type_of(msg)
    if isinstance(msg, Intent) and msg.author != identity.pubkey:
        raise LocalProtocolError("an intent must be signed by its author")
    body = encode_body(msg)
    sig = identity.sign(_signed_bytes(ENVELOPE_VERSION, int(mtype), identity.pubkey, body))
    raw = cbor.encode([ENVELOPE_VERSION, int(mtype), identity.pubkey, body, sig])
    limit = SIZE_LIMITS.get(mtype, MAX_ENVELOPE_BYTES)
    if len(raw) > limit:
        raise LocalProtocolError(f"signed {mtype.name} is {len(raw)} bytes, over the {limit}-byte limit")
    return Envelope(ENVELOPE_VERSION, mtype, identity.pubkey, body, sig, msg, raw)


def open_envelope(data: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Verify and decode an untrusted envelope.

    Raises:
        RemoteProtocolError: malformed, oversized, unknown version or type, bad signature, bad body.
    """
    value = cbor.decode(data, max_bytes)
    if not isinstance(value, list) or len(value) != 5:
        raise RemoteProtocolError("an envelope is [version, type, author, body, signature]")
    version, mtype, author, body, sig = value
    if version != ENVELOPE_VERSION or type(version) is not int:
        raise RemoteProtocolError(f"unsupported envelope version {version!r}")
    if type(mtype) is not int:
        raise RemoteProtocolError("envelope type must be an int")
    if len(data) > SIZE_LIMITS.get(mtype, MAX_ENVELOPE_BYTES):
        raise RemoteProtocolError(f"envelope of type {mtype} over its size limit ({len(data)} bytes)")
    if not isinstance(author, bytes) or len(author) != PUBKEY_LEN:
        raise RemoteProtocolError("envelope author must be a 32-byte key")
    if not isinstance(body, bytes) or not isinstance(sig, bytes) or len(sig) != SIGNATURE_LEN:
        raise RemoteProtocolError("envelope body or signature malformed")
    if not verify(author, _signed_bytes(version, mtype, author, body), sig):
        raise RemoteProtocolError("bad envelope signature")
    try:
        msg_type = MsgType(mtype)
    except ValueError:
        raise RemoteProtocolError(f"unknown message type {mtype}") from None
    message = decode_body(msg_type, body, max_bytes)
    if isinstance(message, Intent) and message.author != author:
        raise RemoteProtocolError("intent author differs from the envelope's signer")
    return Envelope(version, msg_type, author, body, sig, message, bytes(data))


def seal_intent(identity: Identity, intent: Intent) -> bytes:
    """The DHT record of an intent: its signed envelope bytes (at most MAX_INTENT_BYTES)."""
    return seal(identity, intent).raw


def open_intent(record: bytes) -> tuple[Envelope, Intent]:
    """Verify an intent record from the network. Raises RemoteProtocolError."""
    env = open_envelope(record, MAX_INTENT_BYTES)
    if not isinstance(env.message, Intent):
        raise RemoteProtocolError("record is not an INTENT_BROADCAST")
    return env, env.message


def agreement_signing_bytes(agreement: object) -> bytes:
    """What both parties sign for an agreement: a domain tag and its canonical body."""
    return AGREEMENT_DOMAIN + encode_body(agreement)
