"""wire — bytes <-> typed messages: canonical CBOR, ed25519 signed envelopes, identity, intents, geo cells.

Sans-IO: no sockets, clocks or randomness. Callers pass ``now`` and random bytes in.
"""

from wire.envelope import Envelope, open_envelope, open_intent, seal, seal_intent
from wire.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from wire.identity import Identity, node_id, pubkey_from_text, pubkey_to_text
from wire.intent import INVERSE, Action, Intent, Price
from wire.messages import MsgType, decode_message, encode_message

__all__ = [
    "INVERSE",
    "Action",
    "Envelope",
    "Identity",
    "Intent",
    "LocalProtocolError",
    "MsgType",
    "Price",
    "ProtocolError",
    "RemoteProtocolError",
    "decode_message",
    "encode_message",
    "node_id",
    "open_envelope",
    "open_intent",
    "pubkey_from_text",
    "pubkey_to_text",
    "seal",
    "seal_intent",
]
