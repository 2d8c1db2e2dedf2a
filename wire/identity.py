"""Identity: ed25519 keys (pynacl), their text form, and the DHT id.

One text form is used everywhere for a public key: the libp2p peer-id form (base58btc of the identity
multihash of the protobuf-encoded ed25519 key, "12D3KooW..."). So an agent's id *is* its libp2p peer id.
A peer's 256-bit DHT id is ``sha256(raw 32-byte public key)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import nacl.exceptions
import nacl.signing

from wire.errors import LocalProtocolError, RemoteProtocolError

PUBKEY_LEN = 32
SIGNATURE_LEN = 64
SEED_LEN = 32
NODE_ID_BITS = 256

# protobuf PublicKey{Type: Ed25519 (1), Data: 32 bytes}, wrapped in an identity multihash (0x00, len 36).
_PB_PREFIX = bytes([0x08, 0x01, 0x12, 0x20])
_MH_PREFIX = bytes([0x00, 0x24])
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
MAX_PEER_ID_TEXT = 64


def _b58encode(data: bytes) -> str:
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(_B58[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    num = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise RemoteProtocolError("invalid base58 character")
        num = num * 58 + _B58_INDEX[ch]
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def node_id(pubkey: bytes) -> bytes:
    """The 256-bit DHT id of a public key: sha256 of its 32 raw bytes."""
    return hashlib.sha256(pubkey).digest()


def pubkey_to_text(pubkey: bytes) -> str:
    """The peer-id text form of an ed25519 public key ("12D3KooW...")."""
    if len(pubkey) != PUBKEY_LEN:
        raise LocalProtocolError("an ed25519 public key has 32 bytes")
    return _b58encode(_MH_PREFIX + _PB_PREFIX + pubkey)


def pubkey_from_text(text: str) -> bytes:
    """Parse the peer-id text form back to the 32 raw key bytes.

    Raises:
        RemoteProtocolError: not a peer id of an ed25519 key.
    """
    if not isinstance(text, str) or not 0 < len(text) <= MAX_PEER_ID_TEXT:
        raise RemoteProtocolError("peer id text of wrong length")
    raw = _b58decode(text)
    prefix = _MH_PREFIX + _PB_PREFIX
    if len(raw) != len(prefix) + PUBKEY_LEN or not raw.startswith(prefix):
        raise RemoteProtocolError("not an ed25519 peer id")
    return raw[len(prefix) :]


def verify(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid ed25519 signature of ``message`` by ``pubkey``."""
    if len(pubkey) != PUBKEY_LEN or len(signature) != SIGNATURE_LEN:
        return False
    try:
        nacl.signing.VerifyKey(pubkey).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        return False
    return True


@dataclass(frozen=True)
class Identity:
    """A private ed25519 identity. Build it from a 32-byte seed (never generated in here: sans-IO)."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_LEN:
            raise LocalProtocolError("an ed25519 seed has 32 bytes")

    # Deriving the key from the seed costs as much as a signature: do it once per Identity.
    @cached_property
    def _key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.seed)

    @cached_property
    def pubkey(self) -> bytes:
        """The raw 32-byte ed25519 public key."""
        return bytes(self._key.verify_key)

    @cached_property
    def peer_id(self) -> str:
        """The libp2p peer-id text form of the public key ("12D3KooW...")."""
        return pubkey_to_text(self.pubkey)

    @cached_property
    def node_id(self) -> bytes:
        """The 256-bit DHT id: sha256 of the public key."""
        return node_id(self.pubkey)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte ed25519 signature of ``message``."""
        return self._key.sign(message).signature

    def __repr__(self) -> str:  # never print the seed
        return f"Identity({self.peer_id})"
