"""The agent: what a running peer does for its human (the ``AgentService`` of the control API).

Theory of operation
-------------------
* **Publish.** :mod:`metaspace.peer.publishing` decides what an intent publishes (the guardian's rules,
  the coarsened cell, the published text without prices or private limits); the preview endpoint shows
  the human exactly that before they confirm. The intent is signed, saved in the agent's database, then
  stored at the k closest DHT nodes. The DHT core keeps republishing it while it lives.
* **Who speaks for an intent.** With ``share: nothing`` every intent is published by a persona
  (:mod:`metaspace.peer.personas`): a key and a host of its own, named by the intent's ``contact``;
  otherwise by the agent's key and host. Everything about an intent (its record, the INTENT_MATCH
  notices, its negotiations) goes through :meth:`Agent.identity_for` / :meth:`Agent.host_for`, and a
  host answers only for the intents it speaks for (:meth:`Agent.served_intent`).
* **Watch and match.** See :mod:`metaspace.peer.matchmaker` (watcher, ranking, INTENT_MATCH).
* **Contacts behind a NAT.** A private intent's ``contact`` names where its persona is reachable (its
  relay address first, see :mod:`metaspace.peer.personas`). Every ``CONTACT_CHECK_INTERVAL_S`` it is
  compared with the persona's addresses now; if the persona has a relay address the contact lacks (its
  slot came after the intent was published, or moved to another relay), the intent is re-signed with
  the new contact (next seq) and published again.
* **Housekeeping** (every ``HOUSEKEEPING_INTERVAL_S``): expired remote intents leave the index; old
  matches and failed deals leave the database (see :meth:`metaspace.peer.db.AgentDB.prune`); personas
  of intents that ended (and have no negotiation running) stop.
* **Negotiate.** See ``metaspace.peer.deals`` (the negotiation part of the agent).
* **Trust.** Every incoming message first passes the firewall (:mod:`metaspace.peer.firewall`: blocked
  and flooding peers are dropped unread); profiles, ratings and reputation lookups live in
  :mod:`metaspace.peer.reputations`, which the daemon sets as ``reputations``.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import trio

from dht.events import Published
from matching import LocalIndex, UnderstandError, understand
from matching.score import rank_with_reputation
from metaspace.api.contract import (
    BadRequest,
    NotFound,
    PublishParams,
    SearchParams,
    ServiceError,
    Unavailable,
)
from metaspace.config import AgentConfig
from metaspace.peer.db import AgentDB
from metaspace.peer.events import EventBus
from metaspace.peer.firewall import Firewall, FirewallLimits
from metaspace.peer.handover_api import HandoverEndpoints
from metaspace.peer.matchmaker import MATCH_PROTOCOL, NOTICE_TIMEOUT_S, Matchmaker, error_text
from metaspace.peer.personas import Personas
from metaspace.peer.publishing import Plan, plan_intent, preview_view
from metaspace.peer.remote import RemoteIntents
from metaspace.peer.trust_api import TrustEndpoints
from metaspace.peer.trustdb import TrustDB
from metaspace.peer.views import intent_view
from negotiation.margin import public_ask
from p2p.dht_driver import DhtDriver
from p2p.framing import serve_rpc
from p2p.host import P2PError, P2PHost
from p2p.relay_client import is_circuit
from wire.envelope import open_intent, seal_intent
from wire.errors import LocalProtocolError
from wire.identity import Identity
from wire.intent import Action, Intent
from wire.limits import MAX_ADDRS_PER_PEER

log = logging.getLogger(__name__)


def _direct(contact: list[str] | None) -> list[str]:
    """The direct (listen) addresses of a contact: the ports a restarted persona listens on again."""
    return [a for a in contact or [] if not is_circuit(a)]


__all__ = ["DEFAULT_WATCH_INTERVAL", "MATCH_PROTOCOL", "NOTICE_TIMEOUT_S", "Agent"]

#: How often a live intent's key cells are polled for new inverse intents (seconds).
DEFAULT_WATCH_INTERVAL = 30.0
#: How often old matches, failed deals and expired remote intents are cleared (seconds).
HOUSEKEEPING_INTERVAL_S = 300.0
#: How often private intents' contacts are compared with their personas' relay addresses (seconds).
CONTACT_CHECK_INTERVAL_S = 30.0


class Agent(TrustEndpoints, HandoverEndpoints):
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
        personas: Personas | None = None,
        trust_db: TrustDB | None = None,
    ) -> None:
        self.identity = identity
        self.config = config
        self.host = host
        self.driver = driver
        self.db = db
        self.bus = bus
        self.watch_interval = watch_interval
        self.bootstrap_addrs = list(bootstrap or [])
        self.personas = personas
        if personas is not None:
            personas.serve = self._serve_persona
        self._wake = trio.Event()
        self.dealer: Any = None  # set by the daemon to a DealMaker (negotiation)
        self.nat: Any = None  # set by the daemon to a p2p.nat.NatService (reachability, relays)
        self.reputations: Any = None  # set by the daemon to a Reputations (ratings, profiles)
        self.handovers: Any = None  # set by the daemon to a Handovers (the meeting after a deal)
        self.trust_db = trust_db if trust_db is not None else TrustDB(None)
        self.firewall = Firewall(
            self.trust_db, bus, self.now, FirewallLimits(auto_block_s=config.auto_block_s), identity.peer_id
        )
        index = index if index is not None else LocalIndex()
        self.matcher = Matchmaker(self, index, remote if remote is not None else RemoteIntents())
        # the matcher's parts, by their usual names
        self.index, self.remote, self.stats = self.matcher.index, self.matcher.remote, self.matcher.stats

    def now(self) -> float:
        return self.driver.now()

    # ------------------------------------------------------------------------- who speaks for what

    def is_private(self, intent: Intent) -> bool:
        """True if ``intent`` is published by a persona (``share: nothing``), not by the agent's key."""
        return intent.author != self.identity.pubkey

    def identity_for(self, intent: Intent) -> Identity:
        """The key that signs everything about our ``intent``: the agent's, or its persona's."""
        if not self.is_private(intent):
            return self.identity
        if self.personas is None:
            raise Unavailable("this agent runs no personas: its private intents can't be served")
        return self.personas.identity_for(intent.id)

    async def host_for(self, intent: Intent) -> P2PHost:
        """The host that speaks for our ``intent``: the agent's own, or its persona's (started if needed).

        Raises:
            Unavailable: no personas, or the persona's host could not start.
        """
        if not self.is_private(intent):
            return self.host
        if self.personas is None:
            raise Unavailable("this agent runs no personas: its private intents can't be served")
        try:
            return await self.personas.ensure(intent.id)
        except P2PError as exc:
            raise Unavailable(f"could not start the intent's own host: {exc}") from None

    def served_intent(self, intent_id: bytes, serving: bytes | None) -> Intent | None:
        """Our intent ``intent_id`` if the host that was asked serves it: the agent's own host
        (``serving`` None) serves only the intents signed by the agent's key, a persona's host only its
        one intent — so asking one address about another's intent learns nothing."""
        mine = self.own_intent(intent_id)
        if mine is None:
            return None
        if serving is None:
            return None if self.is_private(mine) else mine
        return mine if intent_id == serving and self.is_private(mine) else None

    def serve(self, host: P2PHost, serving: bytes | None) -> None:
        """Take INTENT_MATCH (and negotiation, once a dealer is set) on ``host`` for what it serves."""

        async def on_notice(peer_id: str, data: bytes) -> bytes:
            return await self.matcher.on_notice(peer_id, data, serving)

        serve_rpc(host, MATCH_PROTOCOL, self.firewall.gate_rpc("match", on_notice), timeout=NOTICE_TIMEOUT_S)
        if self.dealer is not None:
            self.dealer.serve(host, serving)
        if self.handovers is not None:
            self.handovers.serve(host, serving)

    def _serve_persona(self, host: P2PHost, intent_id: bytes) -> None:
        self.serve(host, intent_id)

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve INTENT_MATCH notices, republish our intents, and watch for matches until cancelled."""
        self.serve(self.host, None)
        # Load the embedding model and the classifier prototypes now, off the event loop, so the first
        # understanding or match isn't slow (the daemon reports ready only after this).
        await trio.to_thread.run_sync(self._warm_up)
        task_status.started()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._republish_saved)
            nursery.start_soon(self._watch_loop)
            nursery.start_soon(self._housekeeping_loop)
            nursery.start_soon(self._contacts_loop)

    def _warm_up(self) -> None:
        self.index.embedder.embed(["warm up"])
        understand("warm up: selling 4 tires 225/65R17, $80 each")

    async def _republish_saved(self) -> None:
        """After a restart: publish our live intents again (the DHT core then keeps republishing). A
        private intent's persona is started again; if its address changed, the intent is re-signed
        with the new contact (next seq)."""
        for _id, record, _replicas in self.db.intents():
            _env, intent = open_intent(record)
            if not intent.is_live(self.now()):
                continue
            try:
                if self.is_private(intent) and self.personas is not None:
                    host = await self.personas.ensure(intent.id, prefer=_direct(intent.contact))
                    if await self._move_contact(intent, host, relayed_only=False):
                        continue
                result = await self.driver.publish(record)
            except (P2PError, ServiceError) as exc:
                log.info("republish of %s failed: %s", intent.id.hex(), error_text(exc))
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

    async def _contacts_loop(self) -> None:
        while True:
            await trio.sleep(CONTACT_CHECK_INTERVAL_S)
            await self.refresh_contacts()

    async def refresh_contacts(self) -> int:
        """Publish again (re-signed, next seq) each live private intent whose persona has a relay
        address its ``contact`` lacks; returns how many. A failed publish is logged (tried again next
        time)."""
        moved = 0
        for intent_id in self.personas.intent_ids() if self.personas is not None else []:
            host = self.personas.host(intent_id)  # type: ignore[union-attr]
            mine = self.own_intent(intent_id)
            if host is None or mine is None or not mine.is_live(self.now()):
                continue
            try:
                moved += int(await self._move_contact(mine, host, relayed_only=True))
            except (P2PError, ServiceError) as exc:
                log.info("contact update of %s failed: %s", intent_id.hex(), error_text(exc))
        return moved

    async def _move_contact(self, intent: Intent, host: P2PHost, *, relayed_only: bool) -> bool:
        """Re-sign and publish ``intent`` with ``host``'s addresses as its contact if they differ (only if
        they hold a relay address, with ``relayed_only``: a slot being renewed is not a move)."""
        contact = host.listen_addrs()[:MAX_ADDRS_PER_PEER]
        if not contact or contact == (intent.contact or []):
            return False
        if relayed_only and not any(is_circuit(a) for a in contact):
            return False
        moved = intent.next_version(contact=contact)
        await self._publish_record(
            moved, seal_intent(self.identity_for(moved), moved), kind="intent_republished"
        )
        return True

    async def housekeeping(self) -> dict[str, int]:
        """Drop expired remote intents (and their index entries), old matches and old failed deals, and
        stop the personas of intents that ended."""
        now = self.now()
        expired = await self.matcher.expire(now)
        pruned = self.db.prune(now)
        busy: set[bytes] = set()
        if self.dealer is not None:
            self.dealer.forget_finished()
            busy = self.dealer.active_intents()
        stopped = 0
        for intent_id in self.personas.intent_ids() if self.personas is not None else []:
            mine = self.own_intent(intent_id)
            if (mine is None or not mine.is_live(now)) and intent_id not in busy:
                stopped += int(self.personas.stop(intent_id))  # type: ignore[union-attr]
        return {"remote_expired": expired, "personas_stopped": stopped, **pruned}

    # ------------------------------------------------------------------------------------- publish

    async def _plan(self, params: PublishParams, intent_id: bytes, author: bytes) -> Plan:
        """The plan of an intent (its text is cleaned in a worker thread: regex work on the user's text),
        filed under a second taxonomy group too when its own is uncertain (``Matchmaker.filed_groups``)."""
        now = self.now()
        plan = await trio.to_thread.run_sync(
            lambda: plan_intent(params, self.config, author=author, intent_id=intent_id, now=now)
        )
        extra = await self.matcher.filed_groups(plan.intent)
        return replace(plan, intent=replace(plan.intent, extra_groups=extra or None)) if extra else plan

    def _private_publishing(self) -> bool:
        """``share: nothing``: every intent gets a persona."""
        return self.config.share == "nothing"

    async def preview(self, params: PublishParams) -> dict[str, Any]:
        """Exactly what ``publish(params)`` would publish, and what it keeps private; nothing is sent."""
        intent_id = os.urandom(16)
        private = self._private_publishing()
        author = self.personas_key(intent_id) if private else self.identity.pubkey
        plan = await self._plan(params, intent_id, author)
        view = intent_view(plan.intent)
        if private:
            view["author"] = "a key of its own (made for this intent only)"
            view["contact"] = ["an address of its own on this machine"]
        else:
            view["contact"] = self.host.listen_addrs()[:MAX_ADDRS_PER_PEER]
        return preview_view(plan, view)

    def personas_key(self, intent_id: bytes) -> bytes:
        if self.personas is None:
            raise Unavailable("your settings share nothing, but this agent runs no personas to publish with")
        return self.personas.identity_for(intent_id).pubkey

    async def publish(self, params: PublishParams) -> dict[str, Any]:
        intent_id = os.urandom(16)
        private = self._private_publishing()
        ident = self.identity
        if private:
            self.personas_key(intent_id)  # raises without personas
            assert self.personas is not None
            ident = self.personas.identity_for(intent_id)
        plan = await self._plan(params, intent_id, ident.pubkey)
        host: P2PHost = self.host
        if private:
            assert self.personas is not None
            try:
                host = await self.personas.ensure(intent_id)
            except P2PError as exc:
                raise Unavailable(f"could not start the intent's own host: {exc}") from None
        intent = replace(plan.intent, contact=host.listen_addrs()[:MAX_ADDRS_PER_PEER] or None)
        try:
            record = seal_intent(ident, intent)
        except LocalProtocolError as exc:
            if private and self.personas is not None:
                self.personas.stop(intent_id)
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
        record = seal_intent(self.identity_for(tomb), tomb)
        return await self._publish_record(tomb, record, kind="intent_withdrawn")

    async def intents(self) -> list[dict[str, Any]]:
        out = []
        for _id, record, replicas in self.db.intents():
            _env, intent = open_intent(record)
            out.append(intent_view(intent, replicas=replicas, live=intent.is_live(self.now())))
        return out

    def own_intent(self, intent_id: bytes) -> Intent | None:
        record = self.db.intent_record(intent_id.hex())
        return None if record is None else open_intent(record)[1]

    # ----------------------------------------------------------------- watch & match (Matchmaker)

    async def search(self, params: SearchParams) -> list[dict[str, Any]]:
        return await self.matcher.search(params)

    async def watch_once(self) -> int:
        """Poll every live intent's key cells once; how many new matches were found."""
        return await self.matcher.watch_once()

    def known_record(self, author: bytes, intent_id: bytes) -> bytes | None:
        """The newest signed record we hold of another agent's intent, if any."""
        return self.matcher.known_record(author, intent_id)

    # ---------------------------------------------------------------------------- other endpoints

    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]:
        try:
            location = None if lat is None or lon is None else (lat, lon)
            # what a bare "$" or an amount without a unit means: the currency where the human is
            # (``understand`` reads it from the place and says so), else the one of their config
            defaults = {"fallback_currency": self.config.currency}
            u = await trio.to_thread.run_sync(lambda: understand(text, location=location, defaults=defaults))
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
            "personas": 0 if self.personas is None else len(self.personas),
            "hygiene": dict(self.stats),
            "network": None if self.nat is None else self.nat.status(),
            "persona_network": [] if self.personas is None else self.personas.network(),
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
