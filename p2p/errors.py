"""The error types of the p2p layer (re-exported by :mod:`p2p.host`)."""

from __future__ import annotations


class P2PError(Exception):
    """The network failed us: a peer is unreachable, a stream broke, a wait timed out.

    Not raised for malformed bytes from a peer: that is ``wire.errors.RemoteProtocolError``.
    """


class DialError(P2PError):
    """No connection or no stream could be established to a peer (refused, bad address, protocol
    not supported by the peer, security handshake failed)."""


class PeerTimeout(P2PError):
    """A bounded network wait expired."""


__all__ = ["DialError", "P2PError", "PeerTimeout"]
