"""dht — Kademlia with signed multi-value records, as a sans-IO core (no sockets, clocks or randomness).

The simulator (``sim``) and the libp2p driver (``p2p``) run the same ``Node``: they feed it requests, replies,
failures and timer ticks with an explicit ``now`` and an rng, and drain its outputs (``SendRequest``,
``OpDone``).
"""

from dht.config import DhtConfig, Rng
from dht.events import Closest, Found, NotFound, OpDone, Output, Published, Result, SendRequest, Timeout
from dht.keys import bucket_of, cells_within, contact_id, id_int, intent_key, subnet_group
from dht.lookup import ClosestPeersIter
from dht.lookup_states import AtCapacity, Finished, PeerState, Waiting
from dht.node import Node
from dht.routing import AddResult, RoutingTable
from dht.store import PAGE_BYTES, RecordStore, StoreBackend, StoredRecord, open_record

__all__ = [
    "PAGE_BYTES",
    "AddResult",
    "AtCapacity",
    "Closest",
    "ClosestPeersIter",
    "DhtConfig",
    "Finished",
    "Found",
    "Node",
    "NotFound",
    "OpDone",
    "Output",
    "PeerState",
    "Published",
    "RecordStore",
    "Result",
    "Rng",
    "RoutingTable",
    "SendRequest",
    "StoreBackend",
    "StoredRecord",
    "Timeout",
    "Waiting",
    "bucket_of",
    "cells_within",
    "contact_id",
    "id_int",
    "intent_key",
    "open_record",
    "subnet_group",
]
