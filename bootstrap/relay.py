"""The relay options of ``metaspace bootstrap`` (``--relay`` and its limits) and the relay's metrics.

Off by default: an operator turns it on with ``--relay``; every limit has a flag (see
``docs/bootstrap.md``). The relay itself is :class:`p2p.relay.RelayService`; AutoNAT dial-backs
(:class:`p2p.autonat.AutoNatServer`) are always served: they cost one bounded dial per request.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from p2p.relay_limits import RelayLimits

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep py-libp2p out of that
    from prometheus_client import CollectorRegistry

    from p2p.relay import RelayService


def add_relay_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--relay*`` flags of ``metaspace bootstrap``."""
    d = RelayLimits()
    g = parser.add_argument_group("circuit relay (off by default)")
    g.add_argument(
        "--relay", action="store_true",
        help="relay connections for agents behind NAT (circuit relay v2, with the limits below)",
    )  # fmt: skip
    g.add_argument("--relay-max-reservations", type=int, default=None, metavar="N",
                   help=f"agents holding a slot at once ({d.max_reservations})")  # fmt: skip
    g.add_argument("--relay-max-reservations-per-ip", type=int, default=None, metavar="N",
                   help=f"slots held from one IP address ({d.max_reservations_per_ip})")  # fmt: skip
    g.add_argument("--relay-reservation-ttl", type=float, default=None, metavar="S",
                   help=f"seconds a slot lasts unless renewed ({d.reservation_ttl:g})")  # fmt: skip
    g.add_argument("--relay-max-circuits", type=int, default=None, metavar="N",
                   help=f"relayed connections at once ({d.max_circuits})")  # fmt: skip
    g.add_argument("--relay-max-circuits-per-peer", type=int, default=None, metavar="N",
                   help=f"relayed connections at once to, and from, one peer ({d.max_circuits_per_peer})",
                   )  # fmt: skip
    g.add_argument("--relay-circuit-duration", type=float, default=None, metavar="S",
                   help=f"seconds one relayed connection may last ({d.circuit_duration:g})")  # fmt: skip
    g.add_argument("--relay-circuit-bytes", type=int, default=None, metavar="N",
                   help=f"bytes one relayed connection may carry, both ways ({d.circuit_bytes})")  # fmt: skip


def relay_limits_from_args(args: argparse.Namespace) -> RelayLimits:
    """The relay limits the flags ask for (defaults for the others).

    Raises:
        ValueError: a limit that is not positive (the message names it).
    """
    fields = {
        "max_reservations": "relay_max_reservations",
        "max_reservations_per_ip": "relay_max_reservations_per_ip",
        "reservation_ttl": "relay_reservation_ttl",
        "max_circuits": "relay_max_circuits",
        "max_circuits_per_peer": "relay_max_circuits_per_peer",
        "circuit_duration": "relay_circuit_duration",
        "circuit_bytes": "relay_circuit_bytes",
    }
    given: dict[str, Any] = {}
    for name, flag in fields.items():
        value = getattr(args, flag, None)
        if value is not None:
            given[name] = value
    return RelayLimits(**given)


class RelayMetrics:
    """Prometheus metrics of the relay (``metaspace_relay_*``), on the node's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Gauge

        self.events = Counter(
            "metaspace_relay_events", "Relay reservations and circuits by outcome", ["kind", "outcome"],
            registry=registry,
        )  # fmt: skip
        self.bytes = Counter("metaspace_relay_bytes", "Bytes relayed", registry=registry)
        self.reservations = Gauge("metaspace_relay_reservations", "Slots held now", registry=registry)
        self.circuits = Gauge("metaspace_relay_circuits", "Relayed connections now", registry=registry)
        self._service: RelayService | None = None

    def attach(self, service: RelayService) -> None:
        self._service = service
        # Read from the metrics server's thread: plain counts, no pruning (that runs in the event loop).
        self.reservations.set_function(lambda: service.counts()[0])
        self.circuits.set_function(lambda: service.counts()[1])

    def relay_event(self, kind: str, outcome: str) -> None:
        self.events.labels(kind=kind, outcome=outcome).inc()

    def relay_bytes(self, n: int) -> None:
        self.bytes.inc(n)


__all__ = ["RelayMetrics", "add_relay_arguments", "relay_limits_from_args"]
