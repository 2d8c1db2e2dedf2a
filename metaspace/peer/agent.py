"""The agent: what a running peer does for its human (the ``AgentService`` of the control API).

Theory of operation
-------------------
* **Publish.** :mod:`metaspace.peer.publishing` decides what an intent publishes (the guardian's rules,
  the coarsened cell, the published text without prices or private limits); the preview endpoint shows
  the human exactly that before they confirm. The intent is signed, saved in the agent's database, then
  stored at the k closest DHT nodes. The DHT core keeps republishing it while it lives.
* **Watch.** For every live intent, a watcher looks up every key cell within its radius for the inverse
  action, verifies each record, holds it (:mod:`metaspace.peer.remote`: bounded, expiring, keyed by
  author and id), adds it to the local FAISS index, and ranks. It polls incrementally (``since``) while
  the intent is live. A new match is saved with the record it was found with, shown to the human, and
  announced to the other agent with a signed INTENT_MATCH on ``/metaspace/match/1.0.0``. An error in
  one intent's poll or one match is logged and counted; it never stops the watcher or the daemon.
* **INTENT_MATCH notices** are rate-limited per peer and for all peers together before any decoding,
  and everything is checked before anything is held: the signature, the sender (the stream's peer),
  the record (the sender's own intent, live, created not in the future, the inverse action of our live
  intent), the notice's age. Then our own index re-ranks it; an intent that does not match is dropped
  again. What the other agent says about the match (its score) is never believed.
* **Housekeeping** (every ``HOUSEKEEPING_INTERVAL_S``): expired remote intents leave the index; old
  matches and failed deals leave the database (see :meth:`metaspace.peer.db.AgentDB.prune`).
* **Negotiate.** See ``metaspace.peer.deals`` (the negotiation part of the agent).
* **Trust.** Every incoming message first passes the firewall (:mod:`metaspace.peer.firewall`: blocked
  and flooding peers are dropped unread); profiles, ratings and reputation lookups live in
  :mod:`metaspace.peer.reputations`, which the daemon sets as ``reputations``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import trio

from dht.events import Found, Published
from dht.keys import cells_within, intent_key
from matching import LocalIndex, Match, UnderstandError, understand
from matching.score import rank_with_reputation
from metaspace.api.contract import BadRequest, NotFound, ServiceError, Unavailable
from metaspace.config import AgentConfig
from metaspace.peer.db import AgentDB, MatchRow
from metaspace.peer.events import EventBus
from metaspace.peer.firewall import Firewall, FirewallLimits
from metaspace.peer.notices import NoticeGate
from metaspace.peer.publishing import Plan, plan_intent, preview_view
from metaspace.peer.remote import Held, RemoteIntents
from metaspace.peer.trust_api import TrustEndpoints
from metaspace.peer.trustdb import TrustDB
from metaspace.peer.views import intent_view, price_view
from negotiation.margin import public_ask
from p2p.dht_driver import DhtDriver, usable_addrs
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PError, P2PHost
from wire.envelope import open_envelope, open_intent, seal, seal_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.geo import MAX_INTENT_RES, cell_at, cell_distance_km
from wire.identity import Identity, pubkey_to_text
from wire.intent import Action, Intent
from wire.limits import MAX_ADDRS_PER_PEER, MAX_CLOCK_SKEW_S
from wire.messages import IntentMatch

log = logging.getLogger(__name__)

MATCH_PROTOCOL = "/metaspace/match/1.0.0"
#: How often a live intent's key cells are polled for new inverse intents (seconds).
DEFAULT_WATCH_INTERVAL = 30.0
#: Overlap of incremental polls: records stored this long before the last poll are asked for again
#: (storing nodes' clocks differ a little from ours).
SINCE_OVERLAP_S = 120
#: Matches kept per intent, and the lowest score worth telling the human about.
MATCHES_PER_INTENT = 10
MIN_MATCH_SCORE = 0.30
#: One INTENT_MATCH notice: connect, send, wait for the ack.
NOTICE_TIMEOUT_S = 10.0
#: Key cells one intent may watch (a 500 km radius at res 4 is ~200 cells; bound the work).
MAX_WATCH_CELLS = 256
#: How often old matches, failed deals and expired remote intents are cleared (seconds).
HOUSEKEEPING_INTERVAL_S = 300.0


def match_id(mine: bytes, other_author: bytes, theirs: bytes) -> str:
    """A match's id: our intent id and the other's author and id (two authors may share an intent id)."""
    return hashlib.sha256(mine + other_author + theirs).hexdigest()[:40]


class Agent(TrustEndpoints):
    """One human's agent: publish, search, watch and match (negotiation is added by ``DealMaker``)."""

    def __init__(
        self,
        identity: Identity,
        config: AgentConfig,
        host: P2PHost,
        driver: DhtDriver,
        db: AgentDB,
        bus: EventBus,
        *,
        index: LocalIndex | None = None,
        watch_interval: float = DEFAULT_WATCH_INTERVAL,
        bootstrap: list[str] | None = None,
        remote: RemoteIntents | None = None,
        trust_db: TrustDB | None = None,
    ) -> None:
        self.identity = identity
        self.config = config
        self.host = host
        self.driver = driver
        self.db = db
        self.bus = bus
        self.index = index if index is not None else LocalIndex()
        self.watch_interval = watch_interval
        self.bootstrap_addrs = list(bootstrap or [])
        self.remote = remote if remote is not None else RemoteIntents()
        self.notices = NoticeGate()
        self._wake = trio.Event()
        self._index_lock = trio.Lock()
        self._last_poll: dict[bytes, int] = {}
        self.dealer: Any = None  # set by the daemon to a DealMaker (negotiation)
        self.nat: Any = None  # set by the daemon to a p2p.nat.NatService (reachability, relays)
        self.stats = {"watch_errors": 0, "match_errors": 0, "notices": 0, "notices_refused": 0,
                      "notices_rate_limited": 0, "notices_matched": 0}  # fmt: skip
        self.reputations: Any = None  # set by the daemon to a Reputations (ratings, profiles)
        self.trust_db = trust_db if trust_db is not None else TrustDB(None)
        self.firewall = Firewall(
            self.trust_db, bus, self.now, FirewallLimits(auto_block_s=config.auto_block_s), identity.peer_id
        )

    def now(self) -> float:
        return self.driver.now()

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve INTENT_MATCH notices, republish our intents, and watch for matches until cancelled."""
        notices = self.firewall.gate_rpc("match", self._on_notice)
        serve_rpc(self.host, MATCH_PROTOCOL, notices, timeout=NOTICE_TIMEOUT_S)
        # Load the embedding model and the classifier prototypes now, off the event loop, so the first
        # understanding or match isn't slow (the daemon reports ready only after this).
        await trio.to_thread.run_sync(self._warm_up)
        task_status.started()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._republish_saved)
            nursery.start_soon(self._watch_loop)
            nursery.start_soon(self._housekeeping_loop)

    def _warm_up(self) -> None:
        self.index.embedder.embed(["warm up"])
        understand("warm up: selling 4 tires 225/65R17, $80 each")

    async def _rank(
        self, mine: Intent, held: Sequence[Held], k: int, drop: Sequence[bytes] = ()
    ) -> list[Match]:
        """Add ``held`` intents to the index and rank them against ``mine`` — in a worker thread, because
        embedding is CPU work that would stall the network tasks. ``drop``: index ids to remove first.
        The matches returned carry the original intents (the index holds them under their index ids)."""
        now = self.now()

        def work() -> list[Match]:
            for iid in drop:
                self.index.remove(iid)
            for h in held:
                existing = self.index.get(h.index_id)
                if existing is not None and existing.seq >= h.intent.seq:
                    continue
                if existing is not None:
                    self.index.remove(h.index_id)
                self.index.add(h.indexed())
            return self.index.search(mine, k=k, now=now)

        async with self._index_lock:
            found = await trio.to_thread.run_sync(work)
        out = []
        for m in found:
            original = self.remote.by_index_id(m.intent.id)
            if original is not None:
                out.append(replace(m, intent=original.intent))
        return out

    async def _republish_saved(self) -> None:
        """After a restart: publish our live intents again (the DHT core then keeps republishing)."""
        for _id, record, _replicas in self.db.intents():
            _env, intent = open_intent(record)
            if intent.expires > self.now():
                try:
                    result = await self.driver.publish(record)
                except P2PError as exc:
                    log.info("republish of %s failed: %s", intent.id.hex(), exc)
                    continue
                if isinstance(result, Published):
                    self.db.set_replicas(intent.id.hex(), result.replicas)

    async def _watch_loop(self) -> None:
        while True:
            self._wake = trio.Event()
            await self.watch_once()
            with trio.move_on_after(self.watch_interval):
                await self._wake.wait()

    def wake_watcher(self) -> None:
        self._wake.set()

    async def _housekeeping_loop(self) -> None:
        while True:
            await self.housekeeping()
            await trio.sleep(HOUSEKEEPING_INTERVAL_S)

    async def housekeeping(self) -> dict[str, int]:
        """Drop expired remote intents (and their index entries), old matches and old failed deals."""
        now = self.now()
        gone = self.remote.expire(now)
        if gone:
            async with self._index_lock:
                await trio.to_thread.run_sync(lambda: [self.index.remove(i) for i in gone])
        pruned = self.db.prune(now)
        if self.dealer is not None:
            self.dealer.forget_finished()
        return {"remote_expired": len(gone), **pruned}

    # ------------------------------------------------------------------------------------- publish

    async def _plan(self, params: dict[str, Any]) -> Plan:
        """The plan of an intent (its text is cleaned in a worker thread: regex work on the user's text)."""
        now, author = self.now(), self.identity.pubkey
        return await trio.to_thread.run_sync(
            lambda: plan_intent(params, self.config, author=author, intent_id=os.urandom(16), now=now)
        )

    async def preview(self, params: dict[str, Any]) -> dict[str, Any]:
        """Exactly what ``publish(params)`` would publish, and what it keeps private; nothing is sent."""
        plan = await self._plan(params)
        return preview_view(plan, intent_view(plan.intent))

    async def publish(self, params: dict[str, Any]) -> dict[str, Any]:
        plan = await self._plan(params)
        intent = plan.intent
        try:
            record = seal_intent(self.identity, intent)
        except LocalProtocolError as exc:
            raise BadRequest(str(exc)) from None
        if plan.limit:
            self.db.set_reservation(
                intent.id.hex(), int(plan.limit["amount_minor"]), str(plan.limit["currency"])
            )
        view = await self._publish_record(intent, record, kind="intent_published")
        return {**view, "warnings": plan.warnings} if plan.warnings else view

    async def _publish_record(self, intent: Intent, record: bytes, *, kind: str) -> dict[str, Any]:
        self.db.save_intent(intent.id.hex(), record, intent.seq, intent.withdrawn, intent.expires, self.now())
        try:
            result = await self.driver.publish(record)
        except P2PError as exc:
            raise Unavailable(f"saved, but the DHT publish failed ({exc}); it will be retried") from None
        replicas = result.replicas if isinstance(result, Published) else 0
        self.db.set_replicas(intent.id.hex(), replicas)
        self.bus.emit(
            {"kind": kind, "intent_id": intent.id.hex(), "action": intent.action.value,
             "category": intent.category, "replicas": replicas},
            self.now(),
        )  # fmt: skip
        self.wake_watcher()
        return intent_view(intent, replicas=replicas)

    async def withdraw(self, intent_id: str) -> dict[str, Any]:
        record = self.db.intent_record(intent_id)
        if record is None:
            raise NotFound(f"no intent {intent_id}")
        _env, intent = open_intent(record)
        if intent.withdrawn:
            return intent_view(intent)
        tomb = intent.next_version(withdrawn=True)
        self.driver.unpublish(intent.author, intent.id)
        return await self._publish_record(tomb, seal_intent(self.identity, tomb), kind="intent_withdrawn")

    async def intents(self) -> list[dict[str, Any]]:
        out = []
        for _id, record, replicas in self.db.intents():
            _env, intent = open_intent(record)
            out.append(intent_view(intent, replicas=replicas, live=intent.is_live(self.now())))
        return out

    def own_intent(self, intent_id: bytes) -> Intent | None:
        record = self.db.intent_record(intent_id.hex())
        return None if record is None else open_intent(record)[1]

    # -------------------------------------------------------------------------------------- search

    async def _fetch(
        self, category: str, cell: str, radius_km: float, action: Action, since: int = 0
    ) -> tuple[list[Held], list[bytes]]:
        """Verified, live intents of ``action`` in every key cell within ``radius_km`` of ``cell``, now
        held; and the index ids the caller must drop (evicted or withdrawn meanwhile)."""
        cells = cells_within(cell, radius_km)[:MAX_WATCH_CELLS]
        found: dict[tuple[bytes, bytes], tuple[Intent, bytes]] = {}

        async def one(key: bytes) -> None:
            try:
                result = await self.driver.get_records(key, action=action, since=since)
            except P2PError as exc:
                log.info("lookup failed: %s", exc)
                return
            if not isinstance(result, Found):
                return
            for record in result.records:
                try:
                    _env, intent = open_intent(record)
                except RemoteProtocolError:
                    continue  # the core verified already; a second check costs little
                if self.firewall.blocked_key(intent.author):
                    continue  # a blocked author's intents are never ranked nor matched
                old = found.get(intent.key)
                if old is None or old[0].seq < intent.seq:
                    found[intent.key] = (intent, record)

        async with trio.open_nursery() as nursery:
            for c in cells:
                nursery.start_soon(one, intent_key(category, c))
        now = self.now()
        held: list[Held] = []
        drop: list[bytes] = []
        for intent, record in found.values():
            if intent.author == self.identity.pubkey or intent.created > now + MAX_CLOCK_SKEW_S:
                continue
            h, dropped = self.remote.put(intent, record, now)
            drop.extend(dropped)
            if h is not None and h.intent.seq == intent.seq:
                held.append(h)
        # a full cache may have evicted some of these again: only what is still held goes to the index
        return [h for h in held if self.remote.get(h.intent.author, h.intent.id) is h], drop

    async def search(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        action = Action(str(params["action"]).upper())
        if params.get("cell"):
            where = str(params["cell"])
        elif params.get("lat") is not None:
            where = cell_at(float(params["lat"]), float(params["lon"]), MAX_INTENT_RES)
        elif self.config.home_cell:
            where = self.config.home_cell
        else:
            raise BadRequest("no location to search around")
        radius = float(params.get("radius_km") or 25)
        held, drop = await self._fetch(str(params["category"]), where, radius, action)
        if drop:
            async with self._index_lock:
                await trio.to_thread.run_sync(lambda: [self.index.remove(i) for i in drop])
        rows = []
        for h in held:
            dist = cell_distance_km(where, h.intent.cell)
            if dist <= radius + h.intent.radius_km + 15.0:  # cell-level precision: be generous, then sort
                rows.append(intent_view(h.intent, distance_km=round(dist, 1)))
        rows.sort(key=lambda r: r["distance_km"])
        return rows[: int(params.get("limit") or 20)]

    # ------------------------------------------------------------------------------- watch & match

    async def watch_once(self) -> int:
        """Poll every live intent's key cells once; returns how many new matches were found.

        An error while polling one intent, or recording one match, is logged and counted
        (``stats``); the other intents and matches go on.
        """
        new = 0
        now = self.now()
        for _id, record, _replicas in self.db.intents():
            _env, mine = open_intent(record)
            if not mine.is_live(now):
                continue
            since = self._last_poll.get(mine.id, 0)
            started = int(now)
            try:
                held, drop = await self._fetch(
                    mine.category, mine.cell, mine.radius_km, mine.action.inverse, since
                )
                ranked = await self._rank(mine, held, MATCHES_PER_INTENT, drop)
            except (LocalProtocolError, RemoteProtocolError, P2PError) as exc:
                self.stats["watch_errors"] += 1
                log.info("watch of %s failed: %s", mine.id.hex(), exc)
                continue
            self._last_poll[mine.id] = max(1, started - SINCE_OVERLAP_S)
            for m in ranked:
                if m.score >= MIN_MATCH_SCORE and await self._record_match_safely(mine, m, announce=True):
                    new += 1
        return new

    async def _record_match_safely(self, mine: Intent, m: Match, *, announce: bool) -> bool:
        """``_record_match``, with any error of this one match logged and counted instead of raised."""
        try:
            return await self._record_match(mine, m, announce=announce)
        except (ServiceError, LocalProtocolError, RemoteProtocolError, P2PError, sqlite3.Error) as exc:
            self.stats["match_errors"] += 1
            log.warning("match of %s with %s not recorded: %s", mine.id.hex(), m.intent.id.hex(), exc)
            return False

    async def _record_match(self, mine: Intent, m: Match, *, announce: bool) -> bool:
        """Save a new match, tell the human, and (if ``announce``) the other agent. False if known."""
        other = m.intent
        held = self.remote.get(other.author, other.id)
        if held is None or held.intent.seq != other.seq:
            return False  # dropped meanwhile (expired, withdrawn, evicted): nothing to record
        mid = match_id(mine.id, other.author, other.id)
        row = MatchRow(
            id=mid,
            intent_id=mine.id.hex(),
            other_record=held.record,
            other_author=pubkey_to_text(other.author),
            score=round(m.score, 4),
            distance_km=round(m.distance_km, 1),
            explanation={"text": m.explanation.text,
                         "reasons": [{"code": r.code, "params": r.params} for r in m.explanation.reasons]},
            state="new",
            announced=False,
            created=self.now(),
            other_expires=other.expires,
        )  # fmt: skip
        if not self.db.save_match(row):
            return False
        if self.reputations is not None:
            self.reputations.refresh_soon(other.author)
        self.bus.emit(
            {"kind": "match", "match_id": mid, "intent_id": mine.id.hex(), "category": other.category,
             "other_action": other.action.value, "distance_km": row.distance_km, "price": price_view(other),
             "quantity": other.quantity, "score": row.score, "attributes": dict(other.attributes),
             "explanation": m.explanation.text},
            self.now(),
        )  # fmt: skip
        if announce:
            await self._announce(mine, other, m.score)
        if self.dealer is not None:
            await self.dealer.on_new_match(mid)
        return True

    def known_record(self, author: bytes, intent_id: bytes) -> bytes | None:
        """The newest signed record we hold of another agent's intent, if any."""
        held = self.remote.get(author, intent_id)
        return None if held is None else held.record

    async def _announce(self, mine: Intent, other: Intent, score: float) -> None:
        record = self.db.intent_record(mine.id.hex())
        if record is None:
            return
        notice = IntentMatch(
            my_intent=mine.id, your_intent=other.id, record=record,
            score_milli=max(0, min(1000, int(score * 1000))), sent=int(self.now()),
            addrs=self.host.listen_addrs()[:MAX_ADDRS_PER_PEER],
        )  # fmt: skip
        data = seal(self.identity, notice).raw
        peer = pubkey_to_text(other.author)
        try:
            await rpc(self.host, peer, MATCH_PROTOCOL, data, timeout=NOTICE_TIMEOUT_S)
        except (P2PError, RemoteProtocolError) as exc:
            log.info("could not announce match to %s: %s", peer, exc)
            return
        self.db.update_match(match_id(mine.id, other.author, other.id), announced=True)

    async def _on_notice(self, peer_id: str, data: bytes) -> bytes:
        """An INTENT_MATCH from another agent: rate-limit, verify, re-check with our own index, record."""
        now = self.now()
        self.stats["notices"] += 1
        if not self.notices.allow(peer_id, now):
            self.stats["notices_rate_limited"] += 1
            return b"rate_limited"
        try:
            checked = self.notices.check(peer_id, data, now, self.own_intent)
        except RemoteProtocolError:
            self.stats["notices_refused"] += 1
            raise
        if checked is None:
            return b"unknown"
        mine, other, record = checked.mine, checked.other, checked.record
        self._remember_addrs(peer_id, data)
        known = self.remote.get(other.author, other.id) is not None
        held, drop = self.remote.put(other, record, now)
        if held is None:
            return b"unknown"
        for m in await self._rank(mine, [held], MATCHES_PER_INTENT * 5, drop):
            if m.intent.key == other.key and m.score >= MIN_MATCH_SCORE:
                self.stats["notices_matched"] += 1
                await self._record_match_safely(mine, m, announce=False)
                return b"ok"
        if not known:  # not a match by our own judgement: keep nothing of it
            iid = self.remote.discard(other.author, other.id)
            if iid is not None:
                async with self._index_lock:
                    await trio.to_thread.run_sync(self.index.remove, iid)
        return b"no-match"

    def _remember_addrs(self, peer_id: str, data: bytes) -> None:
        """Where to reach the sender of a verified notice back (its relay addresses behind a NAT)."""
        notice = open_envelope(data).message
        addrs = getattr(notice, "addrs", None)
        if addrs:
            with contextlib.suppress(P2PError):
                self.host.add_peer_addrs(peer_id, self.host.believable_addrs(usable_addrs(addrs, peer_id)))

    # ---------------------------------------------------------------------------- other endpoints

    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]:
        try:
            location = None if lat is None or lon is None else (lat, lon)
            u = await trio.to_thread.run_sync(lambda: understand(text, location=location))
        except UnderstandError as exc:
            raise BadRequest(str(exc)) from None
        draft = u.summary()
        out: dict[str, Any] = {k: v for k, v in draft.items() if k not in ("canonical",) and v is not None}
        price = out.pop("price", None)
        if price is not None:
            bound = price.pop("bound", None)
            if bound == "max" and u.intent.action in (Action.BUY, Action.SEEK_SERVICE):
                out["limit"] = price  # "at most $70": the buyer's private ceiling, never published
            elif bound == "min" and u.intent.action in (Action.SELL, Action.OFFER_SERVICE):
                out["limit"] = dict(price)  # "at least $50": the seller's private floor...
                # ...and a public ask a private random markup above it (the floor can't be computed back)
                price["amount_minor"] = public_ask(int(price["amount_minor"]), random.SystemRandom())
                out["price"] = price
            else:
                out["price"] = price
        if lat is not None and lon is not None:
            out["lat"], out["lon"] = lat, lon
        if u.intent.text:
            out["text"] = u.intent.text
        out["radius_km"] = u.intent.radius_km or 50
        return out

    async def status(self) -> dict[str, Any]:
        node = self.driver.node
        return {
            "agent_id": self.identity.peer_id,
            "peer_id": self.identity.peer_id,
            "addrs": self.host.addrs(),
            "bootstrap": self.bootstrap_addrs,
            "peers": len(node.table),
            "connected": len(self.host.connected_peers()),
            "records_stored": len(node.store),
            "intents": len(self.db.intents()),
            "matches": len(self.db.matches()),
            "deals": len(self.db.deals()),
            "language": self.config.language,
            "autonomy": self.config.autonomy,
            "remote_intents": len(self.remote),
            "hygiene": dict(self.stats),
            "network": None if self.nat is None else self.nat.status(),
        }

    async def settings(self) -> dict[str, Any]:
        return self.config.to_dict()

    async def matches(self) -> list[dict[str, Any]]:
        out = []
        for m in self.db.matches():
            _env, other = open_intent(m.other_record)
            peer = self.peer_info(m.other_author)
            out.append({
                "id": m.id, "intent_id": m.intent_id, "other": intent_view(other), "score": m.score,
                "distance_km": m.distance_km, "state": m.state, "announced": m.announced,
                "explanation": m.explanation.get("text", ""), "reasons": m.explanation.get("reasons", []),
                "peer": peer, "rank": round(rank_with_reputation(m.score, peer.get("signal")), 4),
            })  # fmt: skip
        out.sort(key=lambda v: -v["rank"])
        return out

    def events(self) -> AsyncIterator[dict[str, Any]]:
        return self.bus.listen()

    # -------------------------------------------------------------------- deals (see DealMaker)

    def _deals(self) -> Any:
        if self.dealer is None:
            raise Unavailable("negotiation is not running in this peer")
        return self.dealer

    async def deals(self) -> list[dict[str, Any]]:
        return await self._deals().list()  # type: ignore[no-any-return]

    async def negotiate(self, match_id: str) -> dict[str, Any]:
        return await self._deals().start(match_id)  # type: ignore[no-any-return]

    async def approve(self, deal_id: str) -> dict[str, Any]:
        return await self._deals().approve(deal_id)  # type: ignore[no-any-return]

    async def decline(self, deal_id: str) -> dict[str, Any]:
        return await self._deals().decline(deal_id)  # type: ignore[no-any-return]
