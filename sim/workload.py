"""The workload: real signed intents published by real identities, then lookups of their keys.

Theory of operation
-------------------
``IntentFactory`` makes one random, valid intent per call (random taxonomy category, random action,
random point in the region at H3 res 5..7, price, quantity, a 3-day expiry from the virtual ``now``),
signs it with the publisher's ``Identity`` (``wire.envelope.seal_intent``) and returns it with its DHT
key (``dht.keys.intent_key``). With ``extra_share`` > 0, that share of the intents (one draw each) also
names one ``extra_groups`` entry, a random other group: an agent unsure of the category files the intent
under the runner-up group too, and the DHT stores it under the key of each group (``keys_for_record``).
With ``extra_share`` = 0 no draw is made, so a seed gives the same run as before the option existed.

``Publisher`` and ``Looker`` schedule one operation every ``interval`` virtual seconds through the engine
and collect typed results: replicas per publish; per lookup whether the ``Found`` records contain the
looked-up record, its hops, messages and virtual latency. Lookups ask with the intent's action as the
server-side filter (a buyer asking for SELL intents does the same); a lookup of an intent filed under
several keys asks one of them, drawn uniformly (a counterpart reads one group's key).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dht.keys import intent_key, intent_keys
from sim.engine import Engine
from wire.envelope import seal_intent
from wire.geo import cell_at
from wire.identity import Identity
from wire.intent import Action, Intent, Price
from wire.taxonomy import category_codes, group_names, group_of

#: Default region: a 1 x 1 degree box (about 110 x 85 km) south-west of New York City.
DEFAULT_REGION = (40.2, -74.5, 41.2, -73.5)
INTENT_TTL_S = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class PublishedIntent:
    """One published record and what identifies it.

    ``keys`` lists every key the record is stored under, ``key`` (the primary one) first, when it has
    ``extra_groups``; empty means ``key`` alone.
    """

    key: bytes
    record: bytes
    action: Action
    publisher: int  # node number
    keys: tuple[bytes, ...] = ()

    @property
    def all_keys(self) -> tuple[bytes, ...]:
        """Every key the record is stored under, the primary one first."""
        return self.keys or (self.key,)

    def lookup_key(self, rng: random.Random) -> bytes:
        """The key a lookup asks: one of ``all_keys`` drawn uniformly (no draw when there is one)."""
        keys = self.keys
        return keys[rng.randrange(len(keys))] if len(keys) > 1 else self.key


class IntentFactory:
    """Random valid signed intents.

    Args:
        rng: the workload RNG.
        region: (lat_min, lon_min, lat_max, lon_max) in degrees.
        categories: category codes to draw from (default: the whole taxonomy, sorted).
        places: if given, every intent is at one of these (category, cell) places.
        extra_share: probability that an intent also names one ``extra_groups`` entry (a random group other
            than its category's, among the groups of ``categories``, or of the whole taxonomy if those are
            all one group).
    """

    def __init__(
        self,
        rng: random.Random,
        region: tuple[float, float, float, float] = DEFAULT_REGION,
        categories: list[str] | None = None,
        places: list[tuple[str, str]] | None = None,
        extra_share: float = 0.0,
    ) -> None:
        if not 0.0 <= extra_share <= 1.0:
            raise ValueError(f"extra_share must be in [0, 1] (got {extra_share})")
        self.rng = rng
        self.region = region
        self.categories = categories or sorted(category_codes())
        self.actions = list(Action)
        self.places = places or None
        self.extra_share = extra_share
        groups = sorted({group_of(c) for c in self.categories})
        self.groups = groups if len(groups) > 1 else sorted(group_names())

    def _extra_groups(self, category: str) -> list[str] | None:
        """With probability ``extra_share``, one random group other than ``category``'s (else None)."""
        if not self.extra_share or self.rng.random() >= self.extra_share:
            return None
        own = group_of(category)
        others = [g for g in self.groups if g != own]
        return [others[self.rng.randrange(len(others))]] if others else None

    def draw_place(self, rng: random.Random) -> tuple[str, str]:
        """A random (category, res-6 cell) of the region and taxonomy, drawn from ``rng``."""
        lat0, lon0, lat1, lon1 = self.region
        category = self.categories[rng.randrange(len(self.categories))]
        return category, cell_at(lat0 + (lat1 - lat0) * rng.random(), lon0 + (lon1 - lon0) * rng.random(), 6)

    def make(self, identity: Identity, now: float) -> tuple[Intent, bytes, bytes]:
        """A new intent by ``identity`` created at ``now``.

        Returns:
            (intent, signed record bytes, primary DHT key: its category's group's); ``make_published``
            also lists the keys of its ``extra_groups``.
        """
        rng = self.rng
        if self.places is not None:  # only the given places (e.g. the keys an attack targets)
            category, cell = self.places[rng.randrange(len(self.places))]
        else:
            lat0, lon0, lat1, lon1 = self.region
            cell = cell_at(
                lat0 + (lat1 - lat0) * rng.random(), lon0 + (lon1 - lon0) * rng.random(), rng.randint(5, 7)
            )
            category = self.categories[rng.randrange(len(self.categories))]
        created = int(now)
        intent = Intent(
            id=rng.randbytes(16),
            author=identity.pubkey,
            seq=1,
            action=self.actions[rng.randrange(len(self.actions))],
            category=category,
            attributes={"condition": rng.choice(["new", "used", "refurbished"])},
            price=Price(rng.randint(100, 100_000), "USD"),
            quantity=rng.randint(1, 4),
            cell=cell,
            radius_km=rng.choice([5, 10, 25, 50]),
            created=created,
            expires=created + INTENT_TTL_S,
            extra_groups=self._extra_groups(category),
        )
        return intent, seal_intent(identity, intent), intent_key(category, cell)

    def make_published(self, identity: Identity, publisher: int, now: float) -> PublishedIntent:
        """``make``, as the ``PublishedIntent`` of node ``publisher`` (with every key of the intent)."""
        intent, record, key = self.make(identity, now)
        keys = intent_keys(intent) if intent.extra_groups else ()
        return PublishedIntent(key, record, intent.action, publisher, keys)


@dataclass
class LookupStats:
    """Per-lookup outcomes, in completion order."""

    found: int = 0
    done: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    hops: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)


class Publisher:
    """Publishes ``count`` intents from random live publisher nodes, one every ``interval`` seconds.

    Args:
        engine: the engine.
        factory: the intent factory.
        identities: node number -> Identity of every publisher node.
        count: intents to publish.
        rng: the workload RNG (publisher choice).
        interval: virtual seconds between publish starts.
        progress: ``progress("publish", done, total)``.
    """

    def __init__(
        self,
        engine: Engine,
        factory: IntentFactory,
        identities: dict[int, Identity],
        count: int,
        rng: random.Random,
        interval: float = 0.01,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.identities = identities
        self.publishers = sorted(identities)
        self.count = count
        self.rng = rng
        self.interval = interval
        self.progress = progress
        self.done = 0
        self.published: list[PublishedIntent] = []
        self.replicas: list[int] = []
        self.hops: list[int] = []
        self.messages: list[int] = []
        self.latency_ms: list[float] = []
        self.failed = 0  # publishes that reached no replica at all
        self.keys_published = 0  # keys of the intents handed to node.publish (> 1 each with extra_groups)
        self._busy: set[int] = set()  # nodes that published and may still run an op (``settled``)

    def start(self) -> None:
        t0 = self.engine.now
        for j in range(self.count):
            self.engine.schedule(t0 + j * self.interval, self._publish, None)

    def finished(self) -> bool:
        return self.done >= self.count

    def settled(self) -> bool:
        """No node that published has an operation running (the extra keys' publishes, never reported,
        ended). Checked after every event: only the nodes still busy are looked at again."""
        nodes = self.engine.nodes
        self._busy = {i for i in self._busy if len(getattr(nodes[i], "ops", ()))}
        return not self._busy

    def _publish(self, _arg: Any) -> None:
        engine = self.engine
        i = self.publishers[self.rng.randrange(len(self.publishers))]
        for _ in range(16):
            if engine.alive[i]:
                break
            i = self.publishers[self.rng.randrange(len(self.publishers))]
        item = self.factory.make_published(self.identities[i], i, engine.now)
        record = item.record
        self.keys_published += len(item.all_keys)
        self._busy.add(i)

        def on_done(_node: int, result: Any, started: float) -> None:
            replicas = int(getattr(result, "replicas", 0) or 0)
            self.replicas.append(replicas)
            self.latency_ms.append((engine.now - started) * 1000.0)
            self.hops.append(int(getattr(result, "hops", 0)))
            self.messages.append(int(getattr(result, "messages", 0)))
            if replicas > 0:
                self.published.append(item)
            else:
                self.failed += 1
            self.done += 1
            if self.progress is not None:
                self.progress("publish", self.done, self.count)

        engine.start_op(i, lambda node, now: node.publish(record, now), on_done)


class Looker:
    """Runs ``count`` lookups of published records from random live nodes, one every ``interval`` seconds.

    Args:
        engine: the engine.
        targets: the published intents to look up (one drawn uniformly per lookup; one of its keys too).
        live: node numbers that may start a lookup.
        count: lookups to run.
        rng: the workload RNG.
        interval: virtual seconds between lookup starts.
        use_action: ask with the intent's action as the server-side filter.
        progress: ``progress("lookup", done, total)``.
    """

    def __init__(
        self,
        engine: Engine,
        targets: list[PublishedIntent],
        live: list[int],
        count: int,
        rng: random.Random,
        interval: float = 0.01,
        use_action: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.targets = targets
        self.live = live
        self.count = count if targets and live else 0
        self.rng = rng
        self.interval = interval
        self.use_action = use_action
        self.progress = progress
        self.stats = LookupStats()

    def start(self) -> None:
        t0 = self.engine.now
        for j in range(self.count):
            self.engine.schedule(t0 + j * self.interval, self._lookup, None)

    def finished(self) -> bool:
        return self.stats.done >= self.count

    def _lookup(self, _arg: Any) -> None:
        target = self.targets[self.rng.randrange(len(self.targets))]
        i = self.live[self.rng.randrange(len(self.live))]
        key = target.lookup_key(self.rng)
        action = target.action if self.use_action else None
        stats = self.stats

        def on_done(_node: int, result: Any, started: float) -> None:
            name = type(result).__name__
            stats.outcomes[name] = stats.outcomes.get(name, 0) + 1
            records = getattr(result, "records", None)
            if records is not None and target.record in records:
                stats.found += 1
            stats.hops.append(int(getattr(result, "hops", 0)))
            stats.messages.append(int(getattr(result, "messages", 0)))
            stats.latency_ms.append((self.engine.now - started) * 1000.0)
            stats.done += 1
            if self.progress is not None:
                self.progress("lookup", stats.done, self.count)

        self.engine.start_op(i, lambda node, now: node.get_records(key, now, action=action), on_done)
