"""Watch and match: the agent's side of finding counterparts (inverse intents) and being found.

Theory of operation
-------------------
* **Watch.** For every live intent of ours, :meth:`Matchmaker.watch_once` looks up every key cell within
  its radius for the inverse action, verifies each record, holds it (:mod:`metaspace.peer.remote`:
  bounded, expiring, keyed by author and id), adds it to the local FAISS index, and ranks. It polls
  incrementally (``since``) while the intent is live. A new match is saved with the record it was found
  with, shown to the human, and announced to the other agent with a signed INTENT_MATCH on
  ``/metaspace/match/1.0.0`` — at the other intent's contact, by the host and key that speak for our
  intent (the agent's, or its persona's). An error in one intent's poll or one match is logged and
  counted (``stats``); it never stops the watcher or the daemon.
* **INTENT_MATCH notices** (:meth:`Matchmaker.on_notice`) are rate-limited per peer and for all peers
  together before any decoding, and everything is checked before anything is held
  (:mod:`metaspace.peer.notices`); a notice is taken only by the host that serves the intent it names.
  Then our own index re-ranks it; an intent that does not match is dropped again. What the other agent
  says about the match (its score) is never believed.
* **Housekeeping**: expired remote intents leave the holding and the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import trio

from dht.events import Found
from dht.keys import cells_within, intent_key
from matching import LocalIndex, Match
from matching.discovery import extra_groups, giveaway, search_groups
from metaspace.api.contract import BadRequest, SearchParams, ServiceError
from metaspace.peer.db import MatchRow
from metaspace.peer.notices import NoticeGate
from metaspace.peer.remote import Held, RemoteIntents
from metaspace.peer.views import intent_view, price_view
from p2p.dht_driver import usable_addrs
from p2p.framing import rpc
from p2p.host import P2PError
from wire.envelope import open_intent, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.geo import MAX_INTENT_RES, cell_at, cell_distance_km
from wire.identity import pubkey_to_text
from wire.intent import Action, Intent
from wire.limits import MAX_ADDRS_PER_PEER, MAX_CLOCK_SKEW_S
from wire.messages import IntentMatch

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

MATCH_PROTOCOL = "/metaspace/match/1.0.0"
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
#: GETs one watch round or search may run for one intent (groups x cells, own group first).
MAX_WATCH_GETS = 512


def match_id(mine: bytes, other_author: bytes, theirs: bytes) -> str:
    """A match's id: our intent id and the other's author and id (two authors may share an intent id)."""
    return hashlib.sha256(mine + other_author + theirs).hexdigest()[:40]


def error_text(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ServiceError) else str(exc)


class Matchmaker:
    """The agent's watcher, matcher and INTENT_MATCH handler (see the module docstring).

    Args:
        agent: the agent (database, identity, hosts, clock, event bus, dealer).
        index: the local FAISS index (holds exactly what ``remote`` holds, under index ids).
        remote: the held remote intents.
    """

    def __init__(self, agent: Agent, index: LocalIndex, remote: RemoteIntents) -> None:
        self.agent = agent
        self.index = index
        self.remote = remote
        self.notices = NoticeGate()
        self._index_lock = trio.Lock()
        self._last_poll: dict[bytes, int] = {}
        self.stats = {"watch_errors": 0, "match_errors": 0, "notices": 0, "notices_refused": 0,
                      "notices_rate_limited": 0, "notices_matched": 0}  # fmt: skip

    async def drop_from_index(self, ids: Sequence[bytes]) -> None:
        if ids:
            async with self._index_lock:
                await trio.to_thread.run_sync(lambda: [self.index.remove(i) for i in ids])

    async def expire(self, now: float) -> int:
        """Drop expired remote intents from the holding and the index; how many."""
        gone = self.remote.expire(now)
        await self.drop_from_index(gone)
        return len(gone)

    async def _category_probs(self, mine: Intent) -> dict[str, float]:
        """``mine``'s category distribution (``LocalIndex.query_features``: cached per id, seq and category;
        computed in a worker thread, as embedding is CPU work)."""
        async with self._index_lock:
            return await trio.to_thread.run_sync(lambda: self.index.query_features(mine)[1])

    async def _groups(self, mine: Intent) -> list[str]:
        """The taxonomy groups ``mine`` is searched in (DHT keys are per group; an unsure category adds the
        groups of its next candidates, at most 5): see ``matching.discovery``."""
        return search_groups(mine, await self._category_probs(mine))

    async def filed_groups(self, mine: Intent) -> list[str]:
        """The other groups ``mine`` is also filed under when unsure of its own (``Intent.extra_groups``:
        ``matching.discovery.extra_groups`` on the distribution its searches use)."""
        return extra_groups(mine.category, await self._category_probs(mine), giveaway(mine))

    async def _rank(
        self,
        mine: Intent,
        held: Sequence[Held],
        k: int,
        drop: Sequence[bytes] = (),
        groups: list[str] | None = None,
    ) -> list[Match]:
        """Add ``held`` intents to the index and rank them against ``mine`` — in a worker thread, because
        embedding is CPU work that would stall the network tasks. ``drop``: index ids to remove first;
        ``groups``: the taxonomy groups searched (default: ``mine``'s own).
        The matches returned carry the original intents (the index holds them under their index ids)."""
        now = self.agent.now()

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
            return self.index.search(mine, k=k, now=now, groups=groups)

        async with self._index_lock:
            found = await trio.to_thread.run_sync(work)
        out = []
        for m in found:
            original = self.remote.by_index_id(m.intent.id)
            if original is not None:
                out.append(replace(m, intent=original.intent))
        return out

    # -------------------------------------------------------------------------------------- search

    async def fetch(
        self, groups: list[str], cell: str, radius_km: float, action: Action, since: int = 0
    ) -> tuple[list[Held], list[bytes]]:
        """Verified, live intents of ``action``'s side in every key (taxonomy group x key cell within
        ``radius_km`` of ``cell``; ``groups`` are groups or category codes: keys hash the group only), now
        held; and the index ids the caller must drop (evicted or withdrawn meanwhile). One GET per key: its
        action filter is a side filter (goods and service forms alike: a key may hold both, as an intent is
        filed under its ``extra_groups`` too)."""
        cells = cells_within(cell, radius_km)[:MAX_WATCH_CELLS]
        gets = list(dict.fromkeys((intent_key(g, c), action) for g in groups for c in cells))[:MAX_WATCH_GETS]
        found: dict[tuple[bytes, bytes], tuple[Intent, bytes]] = {}

        async def one(key: bytes, wanted: Action) -> None:
            try:
                result = await self.agent.driver.get_records(key, action=wanted, since=since)
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
                if self.agent.firewall.blocked_key(intent.author):
                    continue  # a blocked author's intents are never ranked nor matched
                old = found.get(intent.key)
                if old is None or old[0].seq < intent.seq:
                    found[intent.key] = (intent, record)

        async with trio.open_nursery() as nursery:
            for key, wanted in gets:
                nursery.start_soon(one, key, wanted)
        now = self.agent.now()
        held: list[Held] = []
        drop: list[bytes] = []
        for intent, record in found.values():
            if intent.created > now + MAX_CLOCK_SKEW_S:
                continue
            own = self.agent.own_intent(intent.id)
            ours = own is not None and own.author == intent.author
            if ours or intent.author == self.agent.identity.pubkey:
                continue  # ours (signed by the agent or by one of its personas)
            h, dropped = self.remote.put(intent, record, now)
            drop.extend(dropped)
            if h is not None and h.intent.seq == intent.seq:
                held.append(h)
        # a full cache may have evicted some of these again: only what is still held goes to the index
        return [h for h in held if self.remote.get(h.intent.author, h.intent.id) is h], drop

    async def search(self, params: SearchParams) -> list[dict[str, Any]]:
        action = Action(params.action.upper())
        if params.cell:
            where = params.cell
        elif params.lat is not None and params.lon is not None:
            where = cell_at(params.lat, params.lon, MAX_INTENT_RES)
        elif self.agent.config.home_cell:
            where = self.agent.config.home_cell
        else:
            raise BadRequest("no location to search around")
        radius = float(params.radius_km or 25)
        wanted = params.category
        held, drop = await self.fetch([wanted], where, radius, action)
        if drop:
            async with self._index_lock:
                await trio.to_thread.run_sync(lambda: [self.index.remove(i) for i in drop])
        rows = []
        for h in held:
            if "/" in wanted and h.intent.category != wanted:
                continue  # keys hold a whole group; an explicit search lists its own category only
            dist = cell_distance_km(where, h.intent.cell)
            if dist <= radius + h.intent.radius_km + 15.0:  # cell-level precision: be generous, then sort
                rows.append(intent_view(h.intent, distance_km=round(dist, 1)))
        rows.sort(key=lambda r: r["distance_km"])
        return rows[: params.limit or 20]

    # ------------------------------------------------------------------------------- watch & match

    async def watch_once(self) -> int:
        """Poll every live intent's key cells once; returns how many new matches were found.

        An error while polling one intent, or recording one match, is logged and counted
        (``stats``); the other intents and matches go on.
        """
        new = 0
        now = self.agent.now()
        for _id, record, _replicas in self.agent.db.intents():
            _env, mine = open_intent(record)
            if not mine.is_live(now):
                continue
            since = self._last_poll.get(mine.id, 0)
            started = int(now)
            try:
                groups = await self._groups(mine)
                held, drop = await self.fetch(groups, mine.cell, mine.radius_km, mine.action.inverse, since)
                ranked = await self._rank(mine, held, MATCHES_PER_INTENT, drop, groups)
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
            created=self.agent.now(),
            other_expires=other.expires,
        )  # fmt: skip
        if not self.agent.db.save_match(row):
            return False
        if self.agent.reputations is not None:  # a persona's counterpart: from the DHT only
            self.agent.reputations.refresh_soon(other.author, ask=not self.agent.is_private(mine))
        self.agent.bus.emit(
            {"kind": "match", "match_id": mid, "intent_id": mine.id.hex(), "category": other.category,
             "other_action": other.action.value, "distance_km": row.distance_km, "price": price_view(other),
             "quantity": other.quantity, "score": row.score, "attributes": dict(other.attributes),
             "explanation": m.explanation.text},
            self.agent.now(),
        )  # fmt: skip
        if announce:
            await self._announce(mine, other, m.score)
        if self.agent.dealer is not None:
            await self.agent.dealer.on_new_match(mid)
        return True

    def known_record(self, author: bytes, intent_id: bytes) -> bytes | None:
        """The newest signed record we hold of another agent's intent, if any."""
        held = self.remote.get(author, intent_id)
        return None if held is None else held.record

    async def _announce(self, mine: Intent, other: Intent, score: float) -> None:
        """Tell the other agent (at its intent's contact, as the host and key speaking for ``mine``)."""
        record = self.agent.db.intent_record(mine.id.hex())
        if record is None:
            return
        peer = pubkey_to_text(other.author)
        try:
            host = await self.agent.host_for(mine)
            notice = IntentMatch(
                my_intent=mine.id, your_intent=other.id, record=record,
                score_milli=max(0, min(1000, int(score * 1000))), sent=int(self.agent.now()),
                addrs=host.listen_addrs()[:MAX_ADDRS_PER_PEER] or None,
            )  # fmt: skip
            data = seal(self.agent.identity_for(mine), notice).raw
            await rpc(host, peer, MATCH_PROTOCOL, data, timeout=NOTICE_TIMEOUT_S, addrs=other.contact)
        except (P2PError, RemoteProtocolError, ServiceError) as exc:
            log.info("could not announce match to %s: %s", peer, error_text(exc))
            return
        self.agent.db.update_match(match_id(mine.id, other.author, other.id), announced=True)

    async def on_notice(self, peer_id: str, data: bytes, serving: bytes | None = None) -> bytes:
        """An INTENT_MATCH from another agent: rate-limit, verify, re-check with our own index, record.
        ``serving``: the intent of the persona host it came to (None: the agent's own host)."""
        now = self.agent.now()
        self.stats["notices"] += 1
        if not self.notices.allow(peer_id, now):
            self.stats["notices_rate_limited"] += 1
            return b"rate_limited"
        try:
            checked = self.notices.check(
                peer_id, data, now, lambda iid: self.agent.served_intent(iid, serving)
            )
        except RemoteProtocolError:
            self.stats["notices_refused"] += 1
            raise
        if checked is None:
            return b"unknown"
        mine, other, record = checked.mine, checked.other, checked.record
        self._remember_addrs(serving, peer_id, checked.addrs)
        known = self.remote.get(other.author, other.id) is not None
        held, drop = self.remote.put(other, record, now)
        if held is None:
            return b"unknown"
        other_group = [other.category.split("/", 1)[0]]  # its partition, whatever our own category is
        for m in await self._rank(mine, [held], MATCHES_PER_INTENT * 5, drop, other_group):
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

    def _remember_addrs(self, serving: bytes | None, peer_id: str, addrs: Sequence[str] | None) -> None:
        """Where to reach the sender of a verified notice back (its relay addresses behind a NAT), for
        the host that took the notice (the one that will answer it)."""
        host = self.agent.host
        if serving is not None and self.agent.personas is not None:
            host = self.agent.personas.host(serving) or host
        if addrs:
            with contextlib.suppress(P2PError):
                host.add_peer_addrs(peer_id, host.believable_addrs(usable_addrs(addrs, peer_id)))
