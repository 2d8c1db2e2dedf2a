"""The fast join for large N: converged routing tables built from global knowledge with numpy, O(N log N).

Theory of operation
-------------------
**What it builds (the assumption).** The tables of a network whose membership has been stable for longer
than the refresh interval (one hour by default): every node has looked itself up and refreshed every
bucket, so each bucket ``i`` of node ``x`` holds ``min(fill, n_i)`` contacts, ``n_i`` being the number of
nodes whose XOR distance to ``x`` falls in ``[2**i, 2**(i+1))``, drawn uniformly at random among those
``n_i`` (Kademlia keeps its longest-lived contacts; with no churn before the run, every node is as old as
any other). ``fill`` is k by default (``SimConfig.fast_fill``). So the far buckets are full, and the
deepest few — the ranges holding fewer than ``fill`` nodes — list *every* node of their range: a node
knows all of its close neighbours, the property lookups converge on. Besides:

* no pending entries and no probe history (nothing has failed yet);
* the per-subnet cap never binds: every simulated node listens on its own /24 (``sim.network.node_addrs``);
* ids are compared on their top 64 bits (``sim.population`` keeps them): two nodes sharing those 64 bits
  (probability about N**2 / 2**65, 3e-8 at 10**6 nodes) don't enter each other's tables;
* order inside a bucket (least-recently-seen first): random where the bucket was sampled, id order where
  it lists its whole range. It decides only which contact a full bucket probes first.

Measured against the protocol join at 10k nodes (``docs/simulation.md``), the protocol's tables are a
little sparser in the far buckets (its lookups have not yet passed through every range); lookups on
prefilled tables take the same hops.

**How.** The top-64-bit ids are sorted once. For the node at sorted position ``p``, the nodes of its
bucket at depth ``L`` (sharing its first ``L`` bits, differing at bit ``L``) are one contiguous range of
the sorted array: two ``searchsorted`` per level give every node's range at once. Levels go from 0 until
every node is alone in its own ``(L+1)``-bit prefix group (about log2 N + 7 levels). A range of at most
``fill`` nodes is taken whole; a larger one gives ``fill`` distinct members, uniformly: up to
``PAD_FACTOR * fill`` candidates by the smallest of random keys (``argpartition``), beyond that by drawing
with replacement and drawing again every row that drew one member twice (rejection: exact, and rare
since the range is large). Nodes go in chunks of ``CHUNK`` sorted positions, so the temporary arrays stay
small (about chunk x levels x fill integers).

Each node's buckets become Python lists of the engine's shared ``Contact`` instances (one slice per
bucket, exactly sized) handed to ``RoutingTable.load`` — no per-contact Python call. Each node is then
started (its periodic jobs armed, as after a first contact; with ``stagger``, at random phases within their
intervals, so that the prefilled nodes' hourly refresh does not come all at once) and the engine arms its
timer. The numpy part
is O(N log N); the Python part is one list per (node, bucket) plus one pointer per contact.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Sorted positions handled at once (bounds the temporary arrays: ~CHUNK x 40 levels x fill).
CHUNK = 1 << 15
#: Ranges of up to PAD_FACTOR * fill candidates: sampled by random keys; larger ones: duplicates redrawn.
PAD_FACTOR = 2
#: The timed phases: sort the ids, find the ranges and sample them, load the tables, start the nodes.
PHASES = ("sort", "sample", "load", "start")
#: Ids are compared on this many top bits.
ID_BITS = 64

Progress = Callable[[str, int, int], None]


@dataclass
class PrefillStats:
    """What the prefill built and what it cost.

    Attributes:
        nodes: tables filled. contacts: contacts placed in all tables. buckets: non-empty buckets.
        levels: the deepest bucket depth reached (+1). redraws: rows drawn again by the rejection sampler.
        wall_s, cpu_s: wall and CPU seconds by phase (``PHASES``).
    """

    nodes: int = 0
    contacts: int = 0
    buckets: int = 0
    levels: int = 0
    redraws: int = 0
    wall_s: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, since: tuple[float, float]) -> None:
        """Add the wall and CPU seconds elapsed since ``since`` (a ``clocks()`` reading) to ``phase``."""
        wall, cpu = clocks()
        self.wall_s[phase] = self.wall_s.get(phase, 0.0) + wall - since[0]
        self.cpu_s[phase] = self.cpu_s.get(phase, 0.0) + cpu - since[1]

    def to_dict(self) -> dict[str, Any]:
        """The figures as flat scalars (the machine ones are listed in ``sim.metrics.MACHINE_KEYS``)."""
        return {
            "prefill_nodes": self.nodes,
            "prefill_contacts": self.contacts,
            "prefill_contacts_per_node": round(self.contacts / self.nodes, 2) if self.nodes else None,
            "prefill_buckets": self.buckets,
            "prefill_levels": self.levels,
            "prefill_redraws": self.redraws,
            "prefill_wall_s": round(sum(self.wall_s.values()), 3),
            "prefill_cpu_s": round(sum(self.cpu_s.values()), 3),
            **{f"prefill_{p}_wall_s": round(self.wall_s.get(p, 0.0), 3) for p in PHASES},
        }


def clocks() -> tuple[float, float]:
    """(wall, CPU) seconds now."""
    return time.perf_counter(), time.process_time()


def top64(ids: list[int]) -> np.ndarray:
    """The top 64 bits of 256-bit ids, as a uint64 array."""
    return np.fromiter((x >> 192 for x in ids), dtype=np.uint64, count=len(ids))


@dataclass
class ChunkBuckets:
    """The buckets of the nodes at sorted positions ``[start, stop)``: one row per non-empty bucket.

    Rows are ordered by node, then depth. Row ``r`` is the bucket at depth ``level[r]`` of the node at sorted
    position ``node[r]``; its members are the sorted positions ``picks[offsets[r]:offsets[r + 1]]``.
    """

    node: np.ndarray
    level: np.ndarray
    offsets: np.ndarray
    picks: np.ndarray
    redraws: int = 0


def chunk_buckets(
    sorted_ids: np.ndarray, start: int, stop: int, fill: int, rng: np.random.Generator
) -> ChunkBuckets:
    """The converged buckets of the nodes at sorted positions ``[start, stop)`` (see the module docstring).

    Args:
        sorted_ids: every node's top-64-bit id, sorted ascending (uint64).
        start, stop: the chunk of sorted positions.
        fill: contacts per bucket at most.
        rng: numpy generator (the sampled members).
    Returns:
        The chunk's rows.
    """
    ids = sorted_ids
    x = ids[start:stop]
    positions = np.arange(start, stop, dtype=np.int64)
    active = np.arange(stop - start)
    nodes: list[np.ndarray] = []
    levels: list[np.ndarray] = []
    los: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    one = np.uint64(1)
    for depth in range(ID_BITS):
        if not active.size:
            break
        xs = x[active]
        shift = np.uint64(ID_BITS - 1 - depth)
        low = (one << shift) - one
        own = (xs >> shift) << shift  # our prefix of depth + 1 bits, the rest zero
        sib = own ^ (one << shift)  # the other half of our depth-bit prefix group
        lo = np.searchsorted(ids, sib, "left")
        hi = np.searchsorted(ids, sib | low, "right")
        c = hi - lo
        nz = c > 0
        nodes.append(positions[active[nz]])
        levels.append(np.full(int(nz.sum()), depth, dtype=np.int16))
        los.append(lo[nz])
        counts.append(c[nz])
        own_n = np.searchsorted(ids, own | low, "right") - np.searchsorted(ids, own, "left")
        active = active[own_n > 1]  # alone in our (depth+1)-bit group: no bucket deeper than this
    node = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    level = np.concatenate(levels) if levels else np.zeros(0, np.int16)
    lo = np.concatenate(los) if los else np.zeros(0, np.int64)
    cnt = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    order = np.argsort(node, kind="stable")  # node-major; depth order kept inside a node
    node, level, lo, cnt = node[order], level[order], lo[order], cnt[order]
    m = np.minimum(cnt, fill)
    offsets = np.zeros(len(m) + 1, dtype=np.int64)
    np.cumsum(m, out=offsets[1:])
    picks = np.empty(int(offsets[-1]), dtype=np.int64)
    # whole ranges: lo, lo+1, ... lo+c-1
    whole = np.flatnonzero(cnt <= fill)
    if whole.size:
        wm = cnt[whole]
        first = np.repeat(offsets[whole], wm)
        start_of = np.repeat(lo[whole], wm)
        run = np.arange(int(wm.sum()), dtype=np.int64) - np.repeat(np.cumsum(wm) - wm, wm)
        picks[first + run] = start_of + run
    redraws = 0
    pad = PAD_FACTOR * fill
    mid = np.flatnonzero((cnt > fill) & (cnt <= pad))
    if mid.size:
        keys = rng.random((mid.size, pad), dtype=np.float32)
        keys[np.arange(pad)[None, :] >= cnt[mid][:, None]] = 2.0  # beyond the range: never among the smallest
        part = np.sort(np.argpartition(keys, fill - 1, axis=1)[:, :fill], axis=1)
        picks[offsets[mid][:, None] + np.arange(fill)] = lo[mid][:, None] + part
    big = np.flatnonzero(cnt > pad)
    if big.size:
        span = cnt[big][:, None].astype(np.float64)
        draw = np.sort((rng.random((big.size, fill)) * span).astype(np.int64), axis=1)
        todo = np.arange(big.size)  # rows that may still hold a duplicate
        while todo.size:
            sub = draw[todo]
            dup = np.zeros(sub.shape, dtype=bool)
            dup[:, 1:] = sub[:, 1:] == sub[:, :-1]
            rows_dup, cols_dup = np.nonzero(dup)
            if not rows_dup.size:
                break
            redraws += int(rows_dup.size)
            # a duplicate draws again (uniform over the range): the procedure treats every member alike, so
            # the set it ends with is a uniform random subset
            sub[rows_dup, cols_dup] = (rng.random(rows_dup.size) * span[todo[rows_dup], 0]).astype(np.int64)
            sub.sort(axis=1)
            draw[todo] = sub
            todo = todo[np.unique(rows_dup)]
        picks[offsets[big][:, None] + np.arange(fill)] = lo[big][:, None] + draw
    return ChunkBuckets(node, level, offsets, picks, redraws)


def prefill_tables(
    engine: Any,
    ids: list[int],
    fill: int,
    seed: int,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    stagger: random.Random | None = None,
) -> PrefillStats:
    """Give every node of ``engine`` its converged routing table (see the module docstring), then start it.

    Args:
        engine: the ``sim.engine.Engine`` holding the nodes (node ``i`` has id ``ids[i]``; tables empty).
        ids: the node ids as ints.
        fill: contacts per bucket at most (k for a converged network).
        seed: seeds the sampling (the same seed gives the same tables).
        progress: ``progress("prefill", done, total)``.
        chunk: sorted positions handled at once.
        stagger: when given, each node's first refresh / replication / republish is drawn from it, uniformly
            over one interval (``dht.node.Node.stagger_jobs``), in node order: a network whose nodes have been
            up for different times, not one whose 10^5 nodes all refresh in the same minute.
    Returns:
        What was built, with the wall and CPU time of each phase.
    Raises:
        ValueError: ``fill < 1``, or more ids than nodes.
    """
    if fill < 1:
        raise ValueError(f"fill must be >= 1 (got {fill})")
    n = len(ids)
    if n > len(engine.nodes):
        raise ValueError(f"{n} ids for {len(engine.nodes)} nodes")
    stats = PrefillStats(nodes=n)
    t = clocks()
    keys = top64(ids)
    order = np.argsort(keys, kind="stable")
    sorted_ids = keys[order]
    del keys
    node_of = order.tolist()  # sorted position -> node number
    del order
    by_pos = np.empty(n, dtype=object)  # the contact at each sorted position
    by_pos[:] = [engine.nodes[i].contact for i in node_of]
    stats.add_time("sort", t)
    rng = np.random.default_rng([seed & (2**63 - 1), 0x5EED_F111])
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of new lists, no cycle among them: a collection would only rescan them
    try:
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            t = clocks()
            rows = chunk_buckets(sorted_ids, start, stop, fill, rng)
            stats.add_time("sample", t)
            t = clocks()
            _load_chunk(engine.nodes, rows, by_pos, node_of, start, stop, stats)
            stats.add_time("load", t)
            if progress is not None:
                progress("prefill", stop, n)
    finally:
        if gc_was_on:
            gc.enable()
    del by_pos, node_of, sorted_ids
    t = clocks()
    release_free_memory()
    nodes = engine.nodes
    now = engine.now
    for i in range(n):
        node = nodes[i]
        node.add_contact(node.contact, now)  # starts the node (its jobs' timers) and adds nothing
        if stagger is not None:
            node.stagger_jobs(now, stagger)
        engine.flush(i)
    stats.add_time("start", t)
    return stats


def _load_chunk(
    nodes: list[Any],
    rows: ChunkBuckets,
    by_pos: np.ndarray,
    node_of: list[int],
    start: int,
    stop: int,
    stats: PrefillStats,
) -> None:
    """Turn a chunk's rows into bucket lists of shared contacts and load them into the nodes' tables."""
    # one slot per (node, depth) down to the node's deepest bucket, empty ones included: a node's buckets are
    # then one run of slots, and its table's bucket list one slice of them
    local = rows.node - start
    depth = np.zeros(stop - start, dtype=np.int64)
    np.maximum.at(depth, local, rows.level.astype(np.int64) + 1)
    base = np.zeros(stop - start + 1, dtype=np.int64)
    np.cumsum(depth, out=base[1:])
    slot = base[local] + rows.level
    slot_lo = np.zeros(int(base[-1]), dtype=np.int64)
    slot_hi = np.zeros(int(base[-1]), dtype=np.int64)
    slot_lo[slot] = rows.offsets[:-1]
    slot_hi[slot] = rows.offsets[1:]
    members = by_pos[rows.picks].tolist()  # the contacts themselves: no Python int per pick
    lists = [members[lo:hi] or None for lo, hi in zip(slot_lo.tolist(), slot_hi.tolist(), strict=True)]
    bounds = base.tolist()
    for p in range(stop - start):
        nodes[node_of[start + p]].table.load(lists[bounds[p] : bounds[p + 1]])
    stats.contacts += len(members)
    stats.buckets += len(rows.node)
    stats.levels = max(stats.levels, int(depth.max(initial=0)))
    stats.redraws += rows.redraws


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim``; elsewhere nothing happens).

    The prefill's temporaries (numpy arrays of a few MB, lists of millions of pointers) are freed between the
    tables' small lists, and glibc keeps such holes in its heap: without this, RSS after a 20k-node prefill
    was 9.1 KB per node instead of 3.5 KB (measured).

    Returns:
        True if the C library had ``malloc_trim``.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return False
    trim(0)
    return True
