"""What the lookup's peer iterator (``dht.lookup.ClosestPeersIter``) says: a peer's state, and the iterator's
answer to ``next(now)``: ``Waiting(peer)`` (send the request now), ``AtCapacity`` (wait for a reply) or
``Finished``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wire.messages import Contact


class PeerState(enum.IntEnum):
    NOT_CONTACTED = 0
    WAITING = 1
    SUCCEEDED = 2
    FAILED = 3
    UNRESPONSIVE = 4  # past its peer deadline: no longer waited for; a late reply still counts
    DISCARDED = 5  # suggested only by a discredited referrer: never asked


@dataclass(frozen=True, slots=True)
class Waiting:
    """Send the lookup's request to ``peer`` now."""

    peer: Contact


@dataclass(frozen=True, slots=True)
class AtCapacity:
    """Every path has its requests in flight (or only in-flight peers are left): wait for one to end."""


@dataclass(frozen=True, slots=True)
class Finished:
    """The lookup is over; ``timed_out`` when it ran past ``lookup_timeout``."""

    timed_out: bool = False


IterState = Waiting | AtCapacity | Finished
