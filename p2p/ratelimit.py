"""Per-peer request rate limiting for DHT nodes (token buckets; time is passed in).

A bucket that has refilled carries no information (a new peer starts full too), so buckets idle long enough
to be full again, with no strikes, are forgotten: every ``SWEEP_INTERVAL`` seconds one sweep drops them,
along with bans that ran out and buckets idle for ``ban_seconds`` (their strikes are stale). What the limiter
holds is therefore bounded by the peers seen in the last few seconds (plus the ones banned), not by every
peer it ever served: a bootstrap node sees a fresh identity per connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Peers whose buckets we remember; beyond this the least recently seen are forgotten.
MAX_TRACKED_PEERS = 100_000
#: How often (seconds of the caller's clock) idle buckets and expired bans are forgotten.
SWEEP_INTERVAL = 10.0


@dataclass
class _Bucket:
    tokens: float
    updated: float
    strikes: int = 0


@dataclass
class RateLimiter:
    """A token bucket per peer: ``rate`` requests/s sustained, ``burst`` at once.

    A peer that keeps hitting an empty bucket accumulates strikes; past ``ban_strikes`` it is cut off
    for ``ban_seconds`` (the driver then closes its connections and refuses its streams).
    """

    rate: float = 50.0
    burst: float = 100.0
    ban_strikes: int = 200
    ban_seconds: float = 300.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _banned_until: dict[str, float] = field(default_factory=dict)
    _next_sweep: float | None = None
    refused: int = 0
    banned: int = 0

    def allow(self, peer: str, now: float) -> bool:
        """Consume one token for ``peer``; False when it is over its rate or banned."""
        if self._next_sweep is None or now >= self._next_sweep:
            self.sweep(now)
        until = self._banned_until.get(peer)
        if until is not None:
            if now < until:
                self.refused += 1
                return False
            del self._banned_until[peer]
        b = self._buckets.get(peer)
        if b is None:
            if len(self._buckets) >= MAX_TRACKED_PEERS:
                oldest = min(self._buckets, key=lambda p: self._buckets[p].updated)
                del self._buckets[oldest]
            b = self._buckets[peer] = _Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.rate)
        b.updated = now
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return True
        self.refused += 1
        b.strikes += 1
        if b.strikes >= self.ban_strikes:
            self._banned_until[peer] = now + self.ban_seconds
            b.strikes = 0
            self.banned += 1
        return False

    def sweep(self, now: float) -> int:
        """Forget full buckets without strikes, buckets idle for ``ban_seconds`` and bans that ran out
        (done by :meth:`allow` every ``SWEEP_INTERVAL``). Returns how many buckets were forgotten."""
        self._next_sweep = now + SWEEP_INTERVAL
        refill = self.burst / self.rate if self.rate > 0 else float("inf")
        gone = [
            peer for peer, b in self._buckets.items()
            if (not b.strikes and now - b.updated >= refill) or now - b.updated >= self.ban_seconds
        ]  # fmt: skip
        for peer in gone:
            del self._buckets[peer]
        for peer in [p for p, until in self._banned_until.items() if until <= now]:
            del self._banned_until[peer]
        return len(gone)

    def is_banned(self, peer: str, now: float) -> bool:
        until = self._banned_until.get(peer)
        return until is not None and now < until

    def statistics(self) -> dict[str, int]:
        return {"tracked": len(self._buckets), "refused": self.refused, "banned_total": self.banned,
                "banned_now": len(self._banned_until)}  # fmt: skip
