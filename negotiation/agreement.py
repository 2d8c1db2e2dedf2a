"""Agreements: the canonical bytes both sides sign, and their verification.

An agreement is held as ``(agreement_bytes, buyer_signature, seller_signature)``: the canonical CBOR of
:class:`wire.messages.Agreement` and two ed25519 signatures over
``wire.envelope.agreement_signing_bytes(agreement)``. Anyone can check it with :func:`verify_agreement`.
"""

from __future__ import annotations

from wire import cbor
from wire.codec import from_obj
from wire.envelope import agreement_signing_bytes
from wire.errors import RemoteProtocolError
from wire.identity import Identity, verify
from wire.limits import MAX_ENVELOPE_BYTES
from wire.messages import Agreement, encode_body


def agreement_bytes(agreement: Agreement) -> bytes:
    """The canonical bytes of an agreement (what both sides store identically)."""
    return encode_body(agreement)


def sign_agreement(identity: Identity, agreement: Agreement) -> bytes:
    """Our signature over the agreement (domain-separated)."""
    return identity.sign(agreement_signing_bytes(agreement))


def signature_valid(agreement: Agreement, pubkey: bytes, signature: bytes) -> bool:
    """True if ``signature`` is ``pubkey``'s signature of ``agreement``."""
    return verify(pubkey, agreement_signing_bytes(agreement), signature)


def verify_agreement(data: bytes, buyer_signature: bytes, seller_signature: bytes) -> Agreement:
    """Decode a stored or received agreement and check both signatures.

    Args:
        data: canonical agreement bytes.
        buyer_signature: the buyer's signature.
        seller_signature: the seller's signature.

    Returns:
        The agreement.

    Raises:
        RemoteProtocolError: malformed or non-canonical bytes, or a signature that does not verify.
    """
    agreement = from_obj(Agreement, cbor.decode(data, MAX_ENVELOPE_BYTES))
    if agreement_bytes(agreement) != data:
        raise RemoteProtocolError("agreement bytes are not canonical")
    if not signature_valid(agreement, agreement.buyer, buyer_signature):
        raise RemoteProtocolError("buyer signature does not verify")
    if not signature_valid(agreement, agreement.seller, seller_signature):
        raise RemoteProtocolError("seller signature does not verify")
    return agreement
