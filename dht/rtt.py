"""Round-trip-time estimation for the lookup's peer deadlines, sans-IO (RFC 6298's SRTT and RTTVAR).

Theory of operation
-------------------
One estimator per node, fed with the round-trip time of every reply the node receives (the time between
the request's ``SendRequest`` and its ``handle_response``; a request that failed gives no sample, as Karn's
rule says for retransmitted segments)::

    first sample R:   SRTT = R,  RTTVAR = R / 2
    later samples R:  RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,  SRTT = 7/8 SRTT + 1/8 R
    timeout()       = clamp(SRTT + 4 RTTVAR, floor, cap)      (``initial``, clamped, before any sample)
    backoff()       : timeout doubles (up to cap) when a request outlives it, until the next sample

The timeout is how long a lookup waits for a peer before it counts the peer as unresponsive and may ask
another: a *soft* deadline. The request itself stays open until the hard ``rpc_timeout`` (the cap), so a
slow peer's late reply is still used and a slow peer is never dropped from the routing table for being
slower than the estimate. Estimates are per node, not per peer: most peers of a lookup are asked once, so a
per-peer estimate would rarely have a sample, and the node-wide variance covers near and far peers alike.
Samples are bounded (a negative or non-finite one is ignored, any other is clamped to the cap), so a peer
can't push the estimate outside [floor, cap].

``PeerTimeouts`` keeps two estimators: one for peers in the routing table (they talked to us lately; on a
real network the connection is usually still open) and one for first contacts, whose round trip includes
dialing (TCP, Noise and yamux handshakes: several round trips and some crypto). Mixing the two would give
first contacts a deadline fitted to warm connections, and a lookup would then skip exactly the peers it has
not talked to yet. In the simulator both see the same samples.
"""

from __future__ import annotations

import math

#: The deadline before any round trip has been measured (RFC 6298 says 1 s).
INITIAL_TIMEOUT_S = 1.0
#: RFC 6298's gains and variance factor.
SRTT_GAIN = 1 / 8
RTTVAR_GAIN = 1 / 4
VARIANCE_FACTOR = 4


class RttEstimator:
    """Smoothed round-trip time and its variation; ``timeout()`` is the adaptive peer deadline.

    Args:
        floor: the smallest timeout given (seconds, > 0).
        cap: the largest (the hard RPC timeout).
        initial: the timeout before the first sample.
    Raises:
        ValueError: ``floor`` is not in (0, cap].
    """

    __slots__ = ("_timeout", "backoffs", "cap", "floor", "initial", "rttvar", "samples", "srtt")

    def __init__(self, floor: float, cap: float, initial: float = INITIAL_TIMEOUT_S) -> None:
        if not 0 < floor <= cap:
            raise ValueError(f"need 0 < floor <= cap, got floor={floor} cap={cap}")
        self.floor = floor
        self.cap = cap
        self.initial = initial
        self.srtt = 0.0
        self.rttvar = 0.0
        self.samples = 0
        self.backoffs = 0
        self._timeout = min(max(initial, floor), cap)

    def observe(self, rtt: float) -> None:
        """One measured round trip, in seconds."""
        if not rtt >= 0 or math.isinf(rtt):  # negative or NaN (a clock step) or infinite: no sample
            return
        rtt = min(rtt, self.cap)
        if self.samples == 0:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar += RTTVAR_GAIN * (abs(self.srtt - rtt) - self.rttvar)
            self.srtt += SRTT_GAIN * (rtt - self.srtt)
        self.samples += 1
        self._timeout = min(max(self.srtt + VARIANCE_FACTOR * self.rttvar, self.floor), self.cap)

    def backoff(self) -> None:
        """A request outlived the timeout: double it (up to the cap) until the next sample recomputes it
        (RFC 6298, 5.5). Under overload the deadlines grow back to the cap instead of sending ever more
        requests while the slow ones are still in flight."""
        self._timeout = min(self._timeout * 2, self.cap)
        self.backoffs += 1

    def timeout(self) -> float:
        """The current peer deadline, in seconds, within [floor, cap]."""
        return self._timeout

    def statistics(self) -> dict[str, float]:
        """SRTT, RTTVAR and the timeout in milliseconds, and the number of samples."""
        return {
            "srtt_ms": round(self.srtt * 1000, 3),
            "rttvar_ms": round(self.rttvar * 1000, 3),
            "timeout_ms": round(self._timeout * 1000, 3),
            "samples": self.samples,
            "backoffs": self.backoffs,
        }


class PeerTimeouts:
    """Adaptive peer deadlines: one ``RttEstimator`` for known peers and one for first contacts.

    Args:
        floor: the smallest deadline (``DhtConfig.min_peer_timeout``).
        cap: the largest (``DhtConfig.rpc_timeout``).
    """

    __slots__ = ("first", "known")

    def __init__(self, floor: float, cap: float) -> None:
        self.known = RttEstimator(floor, cap)
        self.first = RttEstimator(floor, cap)

    def observe(self, rtt: float, known: bool) -> None:
        """A round trip to a peer that was (``known``) or was not in the routing table when asked."""
        (self.known if known else self.first).observe(rtt)

    def backoff(self, known: bool) -> None:
        """A request to a known peer (or a first contact) outlived its deadline."""
        (self.known if known else self.first).backoff()

    def timeout(self, known: bool) -> float:
        """The deadline for a request to a known peer or to a first contact."""
        return self.known.timeout() if known else self.first.timeout()

    @property
    def samples(self) -> int:
        return self.known.samples + self.first.samples

    def statistics(self) -> dict[str, float]:
        """Both estimators' figures, prefixed ``known_`` and ``first_``."""
        out = {f"known_{k}": v for k, v in self.known.statistics().items()}
        out.update({f"first_{k}": v for k, v in self.first.statistics().items()})
        return out
