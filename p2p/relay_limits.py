"""The limits of a circuit relay (:mod:`p2p.relay`), apart so that the CLI can show the defaults
without importing py-libp2p."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayLimits:
    """What one relay offers (the flags of ``metaspace bootstrap --relay-*``).

    Attributes:
        max_reservations: reservations held at once.
        max_reservations_per_ip: reservations from one IP address (many identities are free).
        reservation_ttl: seconds a reservation lasts unless renewed.
        max_circuits: circuits relayed at once.
        max_circuits_per_peer: circuits at once to one reserved peer, and from one source peer.
        circuit_duration: seconds one circuit may last (then both ends are reset).
        circuit_bytes: bytes one circuit may carry, both directions together (then reset).
        handshake_timeout: reading a request, and the STOP exchange with the target.
    """

    max_reservations: int = 256
    max_reservations_per_ip: int = 16
    reservation_ttl: float = 3600.0
    max_circuits: int = 64
    max_circuits_per_peer: int = 4
    circuit_duration: float = 300.0
    circuit_bytes: int = 4 << 20
    handshake_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_reservations", "max_reservations_per_ip", "max_circuits", "max_circuits_per_peer",
                     "circuit_bytes"):  # fmt: skip
            if int(getattr(self, name)) < 1:
                raise ValueError(f"relay limit {name} must be at least 1")
        for name in ("reservation_ttl", "circuit_duration", "handshake_timeout"):
            if float(getattr(self, name)) <= 0:
                raise ValueError(f"relay limit {name} must be positive")


__all__ = ["RelayLimits"]
