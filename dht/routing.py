"""The Kademlia routing table: 256 k-buckets by XOR distance, allocated lazily, never doing I/O.

Theory of operation
-------------------
Bucket ``i`` holds contacts whose XOR distance to us has its highest set bit at ``i`` (255 = the farthest half
of the id space). Buckets live in one list indexed from the far end (``255 - i``) that grows only as deep
as the deepest non-empty bucket, so a node of a 100k network holds ~17 small lists. Inside a bucket contacts
are in least-recently-seen order: the oldest first, the most recently seen last.

``add(contact, now, probe, group)``:
  * known contact -> moved to the tail (UPDATED; a new Contact instance replaces the old one and keeps the
    subnet group the contact entered with unless a new observed ``group`` is given; if that subnet already
    has its share of the bucket, the contact is dropped: REFUSED_SUBNET);
  * an id without the required puzzle work (``id_puzzle_bits``) -> REFUSED_ID;
  * room in the bucket -> appended (ADDED), unless its subnet already has ``max_per_subnet`` contacts in the
    bucket (REFUSED_SUBNET: at most 2 per /24 or /48). The subnet is the one of the address the driver
    *observed* the contact at (``group``, from ``keys.ip_group``) or, when nothing was observed, of the first
    address it claims; loopback is exempt only with ``allow_loopback_subnet`` (a test mode);
  * bucket full, no pending entry -> the newcomer becomes the bucket's *pending entry* and the oldest contact
    is returned to be probed (PENDING); the driver pings it: ``probe_ok`` (it answered: it moves to the tail
    and the pending entry is dropped) or ``remove`` (it failed: the pending entry takes its place);
  * bucket full with a pending entry already -> dropped (FULL); likewise when the bucket asked for a probe
    less than ``probe_interval`` ago (``add(contact, now)``), or when the caller says the newcomer must not
    cause a probe (``probe=False``: the sender of a PING, itself a probe — otherwise probes cause probes in
    a chain across the network).

The table never evicts a live contact for a new one (old contacts are the most likely to stay up), and
``remove(pubkey, addrs)`` evicts a contact only when the addresses that failed are the ones the table holds
(addresses a third party listed for a known peer id prove nothing about the peer).
Contacts are the caller's shared ``Contact`` instances; their ids are cached on them (``keys.contact_id``).
"""

from __future__ import annotations

import enum
import hashlib
import math
from array import array
from collections.abc import Iterator

from dht.config import DhtConfig, Rng
from dht.keys import LOOPBACK_GROUP, NET_ATTR, bucket_of, contact_id, id_puzzle_bits, subnet_group
from wire.messages import Contact

NUM_BUCKETS = 256
INF = math.inf


class AddResult(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    PENDING = "pending"  # full bucket: newcomer kept as pending, the returned oldest contact must be probed
    FULL = "full"  # full bucket with a probe already in progress: newcomer dropped
    REFUSED_SUBNET = "refused_subnet"
    REFUSED_ID = "refused_id"  # the id lacks the puzzle work the network requires
    SELF = "self"


class RoutingTable:
    """k-buckets around ``self_id`` (an int). See the module docstring."""

    __slots__ = (
        "_buckets",
        "_count",
        "_k",
        "_loopback_ok",
        "_max_subnet",
        "_pending",
        "_probe_interval",
        "_probed",
        "_puzzle",
        "self_id",
    )

    def __init__(self, self_id: int, config: DhtConfig, loopback_ok: bool = False) -> None:
        """Args:
        self_id: our node id.
        config: k, the subnet cap, the probe interval, the id puzzle.
        loopback_ok: loopback contacts are exempt from the subnet cap even without
            ``config.allow_loopback_subnet`` (the node itself listens on loopback only).
        """
        self.self_id = self_id
        self._k = config.k
        self._max_subnet = config.max_per_subnet
        self._loopback_ok = config.allow_loopback_subnet or loopback_ok
        self._buckets: list[list[Contact] | None] = []
        self._pending: dict[int, tuple[Contact, Contact]] | None = None  # bucket -> (pending, probed)
        self._probe_interval = config.probe_interval
        self._probed: array[float] | None = None  # by 255 - bucket: when it last asked for a probe
        self._puzzle = config.id_puzzle_bits
        self._count = 0

    # ------------------------------------------------------------------------------------------ queries

    def __len__(self) -> int:
        return self._count

    def bucket_index(self, contact: Contact) -> int:
        """The bucket a contact belongs in. Raises ValueError for ourselves."""
        return bucket_of(contact_id(contact) ^ self.self_id)

    def bucket(self, index: int) -> list[Contact]:
        """A copy of bucket ``index``'s contacts, oldest first."""
        j = NUM_BUCKETS - 1 - index
        b = self._buckets[j] if j < len(self._buckets) else None
        return list(b) if b else []

    def bucket_size(self, index: int) -> int:
        """How many contacts bucket ``index`` holds (no copy)."""
        j = NUM_BUCKETS - 1 - index
        b = self._buckets[j] if j < len(self._buckets) else None
        return len(b) if b else 0

    def nonempty_buckets(self) -> list[int]:
        """Indices of the buckets that hold contacts, farthest first."""
        return [NUM_BUCKETS - 1 - j for j, b in enumerate(self._buckets) if b]

    def deepest_bucket(self) -> int:
        """The smallest allocated bucket index (255 when the table is empty)."""
        return NUM_BUCKETS - max(1, len(self._buckets))

    def pending(self, index: int) -> Contact | None:
        """The pending entry of bucket ``index``, if any."""
        entry = self._pending.get(index) if self._pending else None
        return entry[0] if entry else None

    def contacts(self) -> list[Contact]:
        """Every contact, farthest bucket first (for persistence: re-``add`` them on load)."""
        return [c for b in self._buckets if b for c in b]

    def find(self, pubkey: bytes) -> Contact | None:
        """The contact with this public key, if present."""
        nid = int.from_bytes(hashlib.sha256(pubkey).digest(), "big")
        if nid == self.self_id:
            return None
        j = NUM_BUCKETS - 1 - bucket_of(nid ^ self.self_id)
        b = self._buckets[j] if j < len(self._buckets) else None
        if b:
            for c in b:
                if c.pubkey == pubkey:
                    return c
        return None

    def get(self, contact: Contact) -> Contact | None:
        """The table's own Contact for ``contact``'s peer (the addresses we know), if present. Uses the id
        cached on ``contact`` (cheaper than ``find``)."""
        d = contact_id(contact) ^ self.self_id
        if d == 0:
            return None
        j = NUM_BUCKETS - 1 - (d.bit_length() - 1)
        b = self._buckets[j] if j < len(self._buckets) else None
        if b:
            pk = contact.pubkey
            for c in b:
                if c is contact or c.pubkey == pk:
                    return c
        return None

    def touch(self, contact: Contact) -> None:
        """Move ``contact``, the table's own instance (as ``get`` returned it, still in the table), to the
        tail of its bucket: what ``add(contact)`` does to a known contact (UPDATED), found by identity."""
        d = contact_id(contact) ^ self.self_id
        j = NUM_BUCKETS - d.bit_length()
        b = self._buckets[j] if 0 <= j < len(self._buckets) else None
        if b:
            if b[-1] is contact:
                return
            for pos, c in enumerate(b):
                if c is contact:
                    del b[pos]
                    b.append(contact)
                    return
        raise ValueError("touch() takes a contact the table holds")

    def _walk(self, target: int) -> Iterator[list[Contact]]:
        """The non-empty buckets in increasing distance to ``target`` (lazily: callers stop early).

        With ``d = target ^ self_id`` and ``b`` its highest bit: bucket ``b`` first (distances below
        ``2**b``), then the buckets ``i < b`` where bit ``i`` of ``d`` is set, descending, then those where
        it is clear, ascending (those above ``b`` included) — as rust-libp2p's ``ClosestBucketsIter``. Every
        bucket's distances to the target form an interval disjoint from the others'.
        """
        buckets = self._buckets
        top = NUM_BUCKETS - 1
        lowest = NUM_BUCKETS - len(buckets)  # the deepest allocated bucket index
        d = target ^ self.self_id
        b = d.bit_length() - 1  # -1 when the target is our own id
        if b >= lowest:
            bj = buckets[top - b]
            if bj:
                yield bj
        for i in range(min(b - 1, top), lowest - 1, -1):  # zoom in: bits of d set below b
            if (d >> i) & 1:
                bj = buckets[top - i]
                if bj:
                    yield bj
        for i in range(lowest, top + 1):  # zoom out: bits of d clear
            if not (d >> i) & 1:
                bj = buckets[top - i]
                if bj:
                    yield bj

    def closest(
        self, target: int, n: int, exclude: bytes | None = None, exclude_id: int | None = None
    ) -> list[Contact]:
        """The ``n`` contacts closest to ``target`` by XOR distance, closest first.

        Buckets are visited in increasing distance to the target (``_walk``) and only those are sorted; the
        walk stops once ``n`` are collected (``n + 1`` when the excluded contact is among the first n).

        Args:
            target: the id.
            n: how many.
            exclude: a public key left out (the asker's).
            exclude_id: its id, when the caller has it (it spares looking for it among the first n when it is
                farther than the n-th).
        """
        out: list[Contact] = []
        if n <= 0 or not self._buckets:
            return out
        complete = False  # the first n of ``out`` are the answer (``exclude`` is not among them)
        for bj in self._walk(target):
            if len(bj) == 1:
                out.append(bj[0])
            else:
                # ids in a table are distinct: no ties (sorting by a key is ~2x faster than sorting pairs)
                out.extend(sorted(bj, key=lambda c: c._dht_id ^ target))
            if len(out) >= n:
                if exclude is None:
                    complete = True
                    break
                far = exclude_id is not None and exclude_id ^ target > out[n - 1]._dht_id ^ target
                if far or exclude not in [c.pubkey for c in out]:
                    complete = True
                    break
                if len(out) > n:
                    break  # n others are here once ``exclude`` is dropped
        if exclude is not None and not complete:
            out = [c for c in out if c.pubkey != exclude]
        del out[n:]
        return out

    def count_closer(self, target: int, distance: int, cap: int) -> int:
        """How many contacts are closer to ``target`` than ``distance`` (counting stops at ``cap``).

        Cheaper than ``closest``: nothing is sorted, and the walk stops at the first bucket that reaches
        ``distance``.
        """
        n = 0
        for bj in self._walk(target):
            m = 0
            for c in bj:
                if c._dht_id ^ target < distance:
                    m += 1
            n += m
            if n >= cap or m < len(bj):  # this bucket reaches past ``distance``: every later one is farther
                return min(n, cap)
        return n

    def random_id_in_bucket(self, index: int, rng: Rng) -> int:
        """A random id whose distance to us falls in bucket ``index`` (for bucket refresh)."""
        return self.self_id ^ ((1 << index) | rng.getrandbits(index) if index > 0 else 1)

    # ------------------------------------------------------------------------------------------ updates

    def add(
        self, contact: Contact, now: float | None = None, probe: bool = True, group: bytes | None = None
    ) -> tuple[AddResult, Contact | None]:
        """Insert or refresh ``contact``.

        Args:
            contact: the contact (a shared instance; its id is cached on it).
            now: the current time; when given, a full bucket asks for a probe at most once per
                ``probe_interval`` (within it a newcomer to a full bucket is dropped: FULL).
            probe: False: never make the newcomer a pending entry (a full bucket gives FULL), e.g. for the
                sender of a PING, which is itself somebody's probe (a probe must not cause another).
            group: the subnet group of the address the contact was observed at (``keys.ip_group``); None:
                the group it entered the table with, or for a newcomer the group of its first claimed address.
        Returns:
            The outcome and, for PENDING, the oldest contact of the bucket, to be probed.
        """
        d = contact_id(contact) ^ self.self_id
        if d == 0:
            return AddResult.SELF, None
        i = d.bit_length() - 1
        j = NUM_BUCKETS - 1 - i
        buckets = self._buckets
        if j >= len(buckets):
            buckets.extend([None] * (j + 1 - len(buckets)))
        b = buckets[j]
        if b is None:
            b = buckets[j] = []
        elif b and b[-1] is contact and group is None:
            return AddResult.UPDATED, None  # already the most recently seen
        pk = contact.pubkey
        if b:
            keys = [c.pubkey for c in b]  # a list comprehension and ``in`` run in C: faster than a loop
            if pk in keys:
                pos = keys.index(pk)
                old = b[pos]
                was = getattr(old, NET_ATTR, None)
                if group is None:
                    group = was  # the group it was admitted with stays its group
                del b[pos]
                if group is not None:
                    object.__setattr__(contact, NET_ATTR, group)  # a cache on the instance, not a field
                    if group != was and not self._subnet_ok(b, contact):
                        # seen in another subnet, already full in this bucket: it loses its place
                        self._count -= 1
                        if not b:
                            self._trim()
                        return AddResult.REFUSED_SUBNET, None
                b.append(contact)
                return AddResult.UPDATED, None
        if self._puzzle and id_puzzle_bits(pk) < self._puzzle:
            if not b:
                self._trim()
            return AddResult.REFUSED_ID, None
        if group is not None:
            object.__setattr__(contact, NET_ATTR, group)
        if len(b) < self._k:
            if not self._subnet_ok(b, contact):
                if not b:
                    self._trim()
                return AddResult.REFUSED_SUBNET, None
            b.append(contact)
            self._count += 1
            return AddResult.ADDED, None
        pend = self._pending
        if pend is not None and i in pend:
            if pend[i][0].pubkey == pk:
                pend[i] = (contact, pend[i][1])
            return AddResult.FULL, None
        if not probe:
            return AddResult.FULL, None
        probed = self._probed
        if (
            now is not None
            and probed is not None
            and j < len(probed)
            and now < probed[j] + self._probe_interval
        ):
            return AddResult.FULL, None  # this bucket probed lately: keep what we have
        if not self._subnet_ok(b, contact):
            return AddResult.REFUSED_SUBNET, None
        if pend is None:
            pend = self._pending = {}
        pend[i] = (contact, b[0])
        if now is not None and self._probe_interval > 0:
            if probed is None:
                probed = self._probed = array("d")
            if j >= len(probed):
                probed.extend([-INF] * (j + 1 - len(probed)))
            probed[j] = now
        return AddResult.PENDING, b[0]

    def probe_ok(self, pubkey: bytes) -> None:
        """The probed contact ``pubkey`` answered: it stays (as the most recently seen contact) and its
        bucket's pending entry is dropped."""
        if not self._pending:
            return
        for i, (_, probed) in list(self._pending.items()):
            if probed.pubkey == pubkey:
                del self._pending[i]
                self.add(probed)
        if not self._pending:
            self._pending = None

    def remove(self, pubkey: bytes, addrs: list[str] | None = None) -> bool:
        """Drop the contact ``pubkey`` (it failed); its bucket's pending entry, if any, takes its place.

        Args:
            pubkey: the contact's public key.
            addrs: the addresses that failed; when given, the contact is dropped only if the table holds it
                with exactly these addresses (addresses a third party listed for a known id prove nothing).
        Returns:
            True if the contact was in the table (and was dropped).
        """
        nid = int.from_bytes(hashlib.sha256(pubkey).digest(), "big")
        d = nid ^ self.self_id
        if d == 0:
            return False
        i = d.bit_length() - 1
        j = NUM_BUCKETS - 1 - i
        b = self._buckets[j] if j < len(self._buckets) else None
        pend = self._pending
        if pend and i in pend and pend[i][0].pubkey == pubkey and addrs in (None, pend[i][0].addrs):
            # the pending entry itself failed
            del pend[i]
            if not pend:
                self._pending = None
        if not b:
            return False
        for pos, c in enumerate(b):
            if c.pubkey == pubkey:
                if addrs is not None and c.addrs != addrs:
                    return False
                del b[pos]
                self._count -= 1
                if pend and i in pend:
                    newcomer = pend.pop(i)[0]
                    if not pend:
                        self._pending = None
                    if self._subnet_ok(b, newcomer):
                        b.append(newcomer)
                        self._count += 1
                if not b:
                    self._trim()
                return True
        return False

    # ------------------------------------------------------------------------------------------ helpers

    def _subnet_ok(self, bucket: list[Contact], contact: Contact) -> bool:
        cap = self._max_subnet
        if cap <= 0:
            return True
        group = subnet_group(contact)
        if group == LOOPBACK_GROUP and self._loopback_ok:
            return True
        if len(bucket) < cap:
            return True
        groups = [getattr(c, NET_ATTR, None) for c in bucket]  # cached on every contact the table checked
        if None in groups:
            groups = [subnet_group(c) for c in bucket]
        return groups.count(group) < cap

    def _trim(self) -> None:
        """Free trailing empty buckets (the list only reaches as deep as the deepest non-empty bucket)."""
        buckets = self._buckets
        while buckets and not buckets[-1]:
            buckets.pop()

    # ------------------------------------------------------------------------------------------ bulk load

    def load(self, buckets: list[list[Contact] | None]) -> None:
        """Fill an empty table at once with trusted contacts (a simulator's prefill from global knowledge).

        No per-contact check runs (that is the point: 10^8 contacts at 10^6 nodes): the caller guarantees that
        every contact of ``buckets[j]`` lies at distance ``[2**(255-j), 2**(256-j))`` from us, that none
        appears twice, and that the subnet rule holds. The lists are kept as given (not copied), oldest first.

        Args:
            buckets: ``buckets[j]`` = the contacts of bucket ``255 - j`` (``j``: the bits shared with our id),
                or None / an empty list.
        Raises:
            ValueError: the table is not empty, more than 256 buckets, or a bucket holds more than k contacts.
        """
        if self._count or self._buckets:
            raise ValueError("load() fills an empty routing table only")
        if len(buckets) > NUM_BUCKETS:
            raise ValueError(f"{len(buckets)} buckets: a table has {NUM_BUCKETS}")
        count = 0
        for b in buckets:
            if b:
                if len(b) > self._k:
                    raise ValueError(f"a bucket of {len(b)} contacts exceeds k={self._k}")
                count += len(b)
        self._buckets = list(buckets)
        self._count = count
        self._trim()
