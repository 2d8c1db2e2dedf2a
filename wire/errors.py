"""The two error shapes of the protocol.

``RemoteProtocolError`` is the one error type raised for bad input that came from a remote peer:
every decoder either returns a typed value or raises it, never anything else.
``LocalProtocolError`` is raised when *our own* code asks for something the protocol forbids
(building an oversized intent, signing with a wrong key, ...): a bug or bad user input, not an attack.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of both protocol error types."""


class RemoteProtocolError(ProtocolError):
    """Bytes or values received from a remote peer are malformed, forged or out of bounds."""


class LocalProtocolError(ProtocolError):
    """Our side attempted something the protocol does not allow."""
