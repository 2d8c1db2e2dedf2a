"""The agent: what a running peer does for its human (the ``AgentService`` of the control API).

Theory of operation
-------------------
* **Publish.** The human's limits are checked first (marketplace access, categories, location precision:
  the cell is coarsened to the finest resolution the human allowed, never finer than res 7). The intent
  is signed, saved in the agent's database, then stored at the k closest DHT nodes. The DHT core keeps
  republishing it while it lives.
* **Watch.** For every live intent, a watcher looks up every key cell within its radius for the inverse
  action, verifies each record, adds it to the local FAISS index, and ranks. It polls incrementally
  (``since``) while the intent is live. A new match is saved, shown to the human, and announced to the
  other agent with a signed INTENT_MATCH on ``/metaspace/match/1.0.0``; the other side re-checks the
  match with its own index before believing it.
* **Negotiate.** See ``metaspace.peer.deals`` (the negotiation part of the agent).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator
from typing import Any

import trio

from dht.events import Found, Published
from dht.keys import cells_within, intent_key
from matching import LocalIndex, Match, UnderstandError, understand
from metaspace.api.contract import BadRequest, Forbidden, NotFound, Unavailable
from metaspace.config import AgentConfig
from metaspace.peer.db import AgentDB, MatchRow
from metaspace.peer.events import EventBus
from metaspace.peer.views import intent_view, price_view
from negotiation.margin import public_ask
from p2p.dht_driver import DhtDriver
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PError, P2PHost
from wire.envelope import open_envelope, open_intent, seal, seal_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.geo import MAX_INTENT_RES, cell_at, cell_distance_km, coarsen, resolution
from wire.identity import Identity, pubkey_to_text
from wire.intent import Action, Intent, Price
from wire.limits import MAX_INTENT_TTL_S
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
#: Signed records of other agents' intents kept in memory for matches.
MAX_KEPT_RECORDS = 50_000


def match_id(mine: bytes, theirs: bytes) -> str:
    return (mine + theirs).hex()[:40]


class Agent:
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
        self._wake = trio.Event()
        self._index_lock = trio.Lock()
        self._last_poll: dict[bytes, int] = {}
        self.dealer: Any = None  # set by the daemon to a DealMaker (negotiation)
        self._records: dict[tuple[bytes, bytes, int], bytes] = {}

    def now(self) -> float:
        return self.driver.now()

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve INTENT_MATCH notices, republish our intents, and watch for matches until cancelled."""
        serve_rpc(self.host, MATCH_PROTOCOL, self._on_notice, timeout=NOTICE_TIMEOUT_S)
        # Load the embedding model and the classifier prototypes now, off the event loop, so the first
        # understanding or match isn't slow (the daemon reports ready only after this).
        await trio.to_thread.run_sync(self._warm_up)
        task_status.started()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._republish_saved)
            nursery.start_soon(self._watch_loop)

    def _warm_up(self) -> None:
        self.index.embedder.embed(["warm up"])
        understand("warm up: selling 4 tires 225/65R17, $80 each")

    async def _rank(self, mine: Intent, others: list[Intent], k: int) -> list[Match]:
        """Add ``others`` to the index and rank them against ``mine`` — in a worker thread, because
        embedding is CPU work that would stall the network tasks."""
        now = self.now()

        def work() -> list[Match]:
            for other in others:
                existing = self.index.get(other.id)
                if existing is not None and existing.seq >= other.seq:
                    continue
                if existing is not None:
                    self.index.remove(other.id)
                self.index.add(other)
            return self.index.search(mine, k=k, now=now)

        async with self._index_lock:
            return await trio.to_thread.run_sync(work)

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

    # ------------------------------------------------------------------------------------- publish

    def _intent_cell(self, params: dict[str, Any]) -> str:
        finest = self.config.max_h3_res
        if finest is None:
            raise Forbidden(
                "your settings never share a location, and intents need an approximate one; "
                "allow city-level location with `metaspace init --reconfigure --location city`"
            )
        finest = min(finest, MAX_INTENT_RES)
        if params.get("cell"):
            cell = str(params["cell"])
        elif params.get("lat") is not None and params.get("lon") is not None:
            cell = cell_at(float(params["lat"]), float(params["lon"]), finest)
        elif self.config.home_cell:
            cell = self.config.home_cell
        else:
            raise BadRequest("no location: give --lat/--lon, or set a home location with `metaspace init`")
        return coarsen(cell, finest) if resolution(cell) > finest else cell

    def check_publish(self, action: str, category: str) -> None:
        """The guardian's publish rules from the human's birth answers.

        Raises:
            Forbidden: the marketplace access or the allowed categories refuse it.
        """
        if not self.config.allows_action(action):
            raise Forbidden(
                f"your marketplace access ({self.config.marketplace}) does not allow {action} intents; "
                "change it with `metaspace init --reconfigure --marketplace ...`"
            )
        if not self.config.allows_category(category):
            raise Forbidden(f"category {category} is not among the categories you allowed")

    async def publish(self, params: dict[str, Any]) -> dict[str, Any]:
        action = str(params["action"]).upper()
        category = str(params["category"])
        self.check_publish(action, category)
        now = self.now()
        cell = self._intent_cell(params)
        price = params.get("price")
        ttl = min(int(params.get("expires_in_s") or MAX_INTENT_TTL_S), MAX_INTENT_TTL_S)
        try:
            intent = Intent(
                id=os.urandom(16),
                author=self.identity.pubkey,
                seq=1,
                action=Action(action),
                category=category,
                attributes=dict(params.get("attributes") or {}),
                price=None
                if not price
                else Price(
                    int(price["amount_minor"]), str(price["currency"]), bool(price.get("per_unit", True))
                ),
                quantity=int(params.get("quantity") or 1),
                cell=cell,
                radius_km=int(params.get("radius_km") or 0),
                created=int(now),
                expires=int(now) + ttl,
                text=params.get("text") or None,
                lang=params.get("lang") or self.config.language,
            )
            record = seal_intent(self.identity, intent)
        except (LocalProtocolError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
        limit = params.get("limit")
        if limit:
            if intent.price is not None and limit["currency"] != intent.price.currency:
                raise BadRequest("the private limit must be in the price's currency")
            self.db.set_reservation(intent.id.hex(), int(limit["amount_minor"]), str(limit["currency"]))
        return await self._publish_record(intent, record, kind="intent_published")

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
    ) -> list[Intent]:
        """Verified, live intents of ``action`` in every key cell within ``radius_km`` of ``cell``."""
        cells = cells_within(cell, radius_km)[:MAX_WATCH_CELLS]
        found: dict[tuple[bytes, bytes], Intent] = {}

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
                old = found.get(intent.key)
                if old is None or old.seq < intent.seq:
                    found[intent.key] = intent
                    self.remember_record(intent, record)

        async with trio.open_nursery() as nursery:
            for c in cells:
                nursery.start_soon(one, intent_key(category, c))
        now = self.now()
        return [i for i in found.values() if i.is_live(now) and i.author != self.identity.pubkey]

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
        intents = await self._fetch(str(params["category"]), where, radius, action)
        rows = []
        for it in intents:
            dist = cell_distance_km(where, it.cell)
            if dist <= radius + it.radius_km + 15.0:  # cell-level precision: be generous, then sort
                rows.append(intent_view(it, distance_km=round(dist, 1)))
        rows.sort(key=lambda r: r["distance_km"])
        return rows[: int(params.get("limit") or 20)]

    # ------------------------------------------------------------------------------- watch & match

    async def watch_once(self) -> int:
        """Poll every live intent's key cells once; returns how many new matches were found."""
        new = 0
        now = self.now()
        for _id, record, _replicas in self.db.intents():
            _env, mine = open_intent(record)
            if not mine.is_live(now):
                continue
            since = self._last_poll.get(mine.id, 0)
            started = int(now)
            try:
                found = await self._fetch(
                    mine.category, mine.cell, mine.radius_km, mine.action.inverse, since
                )
            except (LocalProtocolError, P2PError) as exc:
                log.info("watch of %s failed: %s", mine.id.hex(), exc)
                continue
            self._last_poll[mine.id] = max(1, started - SINCE_OVERLAP_S)
            for m in await self._rank(mine, found, MATCHES_PER_INTENT):
                if m.score >= MIN_MATCH_SCORE and await self._record_match(mine, m, announce=True):
                    new += 1
        return new

    async def _record_match(self, mine: Intent, m: Match, *, announce: bool) -> bool:
        """Save a new match, tell the human, and (if ``announce``) the other agent. False if known."""
        other = m.intent
        mid = match_id(mine.id, other.id)
        row = MatchRow(
            id=mid,
            intent_id=mine.id.hex(),
            other_record=self._record_of(other),
            other_author=pubkey_to_text(other.author),
            score=round(m.score, 4),
            distance_km=round(m.distance_km, 1),
            explanation={"text": m.explanation.text,
                         "reasons": [{"code": r.code, "params": r.params} for r in m.explanation.reasons]},
            state="new",
            announced=False,
            created=self.now(),
        )  # fmt: skip
        if not self.db.save_match(row):
            return False
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

    def remember_record(self, intent: Intent, record: bytes) -> None:
        """Keep the signed record of another agent's intent (matches store it; bounded)."""
        if len(self._records) >= MAX_KEPT_RECORDS:
            self._records.pop(next(iter(self._records)))
        self._records[(intent.author, intent.id, intent.seq)] = record

    def known_record(self, author: bytes, intent_id: bytes) -> bytes | None:
        """The newest signed record we keep of another agent's intent, if any."""
        best = None
        for (a, i, seq), record in self._records.items():
            if a == author and i == intent_id and (best is None or seq > best[0]):
                best = (seq, record)
        return None if best is None else best[1]

    def _record_of(self, intent: Intent) -> bytes:
        rec = self._records.get((intent.author, intent.id, intent.seq))
        if rec is None:
            raise LocalProtocolError("no record kept for a matched intent")
        return rec

    async def _announce(self, mine: Intent, other: Intent, score: float) -> None:
        record = self.db.intent_record(mine.id.hex())
        if record is None:
            return
        notice = IntentMatch(
            my_intent=mine.id, your_intent=other.id, record=record,
            score_milli=max(0, min(1000, int(score * 1000))), sent=int(self.now()),
        )  # fmt: skip
        data = seal(self.identity, notice).raw
        peer = pubkey_to_text(other.author)
        try:
            await rpc(self.host, peer, MATCH_PROTOCOL, data, timeout=NOTICE_TIMEOUT_S)
        except (P2PError, RemoteProtocolError) as exc:
            log.info("could not announce match to %s: %s", peer, exc)
            return
        self.db.update_match(match_id(mine.id, other.id), announced=True)

    async def _on_notice(self, peer_id: str, data: bytes) -> bytes:
        """An INTENT_MATCH from another agent: verify, re-check with our own index, record it."""
        env = open_envelope(data)
        notice = env.message
        if not isinstance(notice, IntentMatch) or pubkey_to_text(env.author) != peer_id:
            raise RemoteProtocolError("not an INTENT_MATCH from the stream's peer")
        _renv, other = open_intent(notice.record)
        if other.author != env.author or other.id != notice.my_intent:
            raise RemoteProtocolError("the notice's record is not the sender's intent")
        mine = self.own_intent(notice.your_intent)
        now = self.now()
        if mine is None or not mine.is_live(now) or not other.is_live(now):
            return b"unknown"
        self.remember_record(other, notice.record)
        for m in await self._rank(mine, [other], MATCHES_PER_INTENT * 5):
            if m.intent.id == other.id and m.score >= MIN_MATCH_SCORE:
                await self._record_match(mine, m, announce=False)
                return b"ok"
        return b"no-match"

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
        }

    async def settings(self) -> dict[str, Any]:
        return self.config.to_dict()

    async def matches(self) -> list[dict[str, Any]]:
        out = []
        for m in self.db.matches():
            _env, other = open_intent(m.other_record)
            out.append({
                "id": m.id, "intent_id": m.intent_id, "other": intent_view(other), "score": m.score,
                "distance_km": m.distance_km, "state": m.state, "announced": m.announced,
                "explanation": m.explanation.get("text", ""), "reasons": m.explanation.get("reasons", []),
            })  # fmt: skip
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
