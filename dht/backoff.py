"""The peers a node backs off from, sans-IO: a peer that answered ``rate_limited`` or ``busy`` gets no
request for ``SOFT_FAILURE_BACKOFF_S``; at most ``MAX_BACKOFF_PEERS`` are remembered."""

from __future__ import annotations

#: How long no request goes to a peer after it answered ``rate_limited`` or ``busy``.
SOFT_FAILURE_BACKOFF_S = 30.0
#: Peers we remember backing off from (beyond it, expired entries go first, then the oldest).
MAX_BACKOFF_PEERS = 1024


class BackOff:
    """Peer public key -> until when we back off from it, in order of back-off start (bounded)."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[bytes, float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def start(self, peer: bytes, now: float) -> None:
        """Back off from ``peer`` from ``now`` on."""
        until = self._until
        until.pop(peer, None)  # re-inserted last: the dict stays in order of back-off start
        if len(until) >= MAX_BACKOFF_PEERS:
            for pk in [pk for pk, end in until.items() if end <= now]:
                del until[pk]
            if len(until) >= MAX_BACKOFF_PEERS:
                del until[next(iter(until))]
        until[peer] = now + SOFT_FAILURE_BACKOFF_S

    def active(self, peer: bytes, now: float) -> bool:
        """Whether we still back off from ``peer`` at ``now`` (an ended back-off is forgotten)."""
        until = self._until
        end = until.get(peer)
        if end is None:
            return False
        if end <= now:
            del until[peer]
            return False
        return True
