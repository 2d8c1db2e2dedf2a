"""Reputation in the agent peer: rating deals, storing and showing ratings, and the trust protocol.

Theory of operation
-------------------
* **Rating** (``metaspace rate DEAL_ID 5 "..."``). Only a deal with a co-signed agreement can be rated,
  once per deal (refused with a reason otherwise, nothing stored). The rating is a REPUTATION_SHARE
  record carrying that agreement and both signatures as its evidence: saved in the trust database, stored
  in the DHT under the rated agent's reputation key (``dht.keys.reputation_key``), and pushed to the
  rated agent on ``/metaspace/trust/1.0.0``, which checks it and tells its human. Publishing a rating makes
  its agreement public (both agents, the intents and the agreed terms): that evidence is what makes it
  count. The DHT keeps records 7 days: our agent renews its ratings (a higher seq, the same rating)
  for deals of the last ``RATING_HORIZON_S``, and republishes those whose publish failed.
* **Looking up** an agent's reputation (a match, a negotiation, ``metaspace reputation PEER``): the
  ratings about it from its reputation key, plus those it shows us when asked (TRUST_VERIFICATION: it
  answers with the rating records it holds about itself, each checked here; it can hide bad ones, not
  forge good ones), plus our own; then the ratings about its most recent raters (second hop, at most
  ``reputation.score.MAX_EXPANDED_RATERS``), and the pure scoring (:mod:`reputation.score`) with us
  as the observer. The result (handle, score) is kept per counterpart and shown next to matches and
  deals; a match or negotiation refreshes it in the background when older than ``PEER_INFO_TTL_S``.
* **The trust protocol** serves one request per stream, after the firewall admitted the peer: a
  REPUTATION_SHARE about us (answer ``ok``) or a TRUST_VERIFICATION (answer: a signed TRUST_EVIDENCE
  with the ratings we hold about the subject, newest first, at most MAX_EVIDENCE_RATINGS).
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import trio

from dht.events import Found, Published
from dht.keys import reputation_key
from metaspace.api.contract import BadRequest, Conflict, NotFound
from metaspace.peer.firewall import check_peer
from metaspace.peer.profiles import Profiles, profile_view
from metaspace.peer.trustdb import RatingRow, TrustDB
from negotiation import verify_agreement
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PError
from reputation import Rating, rating_from_record
from reputation.score import MAX_EXPANDED_RATERS, Reputation, raters_to_expand, score_subject
from wire.envelope import open_envelope, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity, pubkey_from_text, pubkey_to_text
from wire.intent import Intent
from wire.limits import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_RATINGS, MAX_RATING_BYTES, MAX_RECORD_TTL_S
from wire.messages import CLAIM_RATINGS, Agreement, ReputationShare, TrustEvidence, TrustVerification
from wire.records import open_rating, seal_rating

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

TRUST_PROTOCOL = "/metaspace/trust/1.0.0"
#: One trust request: connect, send, wait for the answer.
TRUST_TIMEOUT_S = 10.0
#: A rating record's lifetime in the DHT, and how long before its expiry our agent renews it.
RATING_TTL_S = MAX_RECORD_TTL_S
RENEW_BEFORE_S = 2 * 24 * 3600
#: Ratings of deals older than this are no longer renewed (their weight has mostly decayed).
RATING_HORIZON_S = 365 * 24 * 3600
#: How often the profile is checked (republished when what it says changed) and ratings renewed; after
#: a publish that reached nobody (the peer is still joining), the next try comes sooner.
RENEW_INTERVAL_S = 300.0
RETRY_S = 30.0
#: A counterpart's looked-up handle and score are refreshed when older than this.
PEER_INFO_TTL_S = 600.0
#: Background lookups running at once, and waiting at most (more are skipped: refreshed next time).
MAX_LOOKUPS_AT_ONCE = 4
MAX_LOOKUPS_QUEUED = 64
#: Ratings listed in a reputation view.
MAX_RATINGS_SHOWN = 20


class Reputations:
    """Ratings, reputation lookups, our profile and the trust protocol of one agent.

    Args:
        agent: the agent (identity, config, database, DHT driver, host, event bus, firewall, clock).
        db: the trust database.
        protocols: the protocol ids this peer serves (for our profile).
    """

    def __init__(self, agent: Agent, db: TrustDB, protocols: tuple[str, ...]) -> None:
        self.agent = agent
        self.db = db
        self.profiles = Profiles(agent, db, (*protocols, TRUST_PROTOCOL))
        self.me = agent.identity.pubkey
        self.me_text = agent.identity.peer_id
        self._nursery: trio.Nursery | None = None
        self._limit = trio.Semaphore(MAX_LOOKUPS_AT_ONCE)
        self._inflight: set[bytes] = set()
        self.stats = {"ratings_received": 0, "evidence_served": 0, "lookups": 0, "lookups_skipped": 0}

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the trust protocol, publish our profile, renew our ratings, until cancelled."""
        gate = self.agent.firewall.gate_rpc("trust", self._on_request)
        serve_rpc(self.agent.host, TRUST_PROTOCOL, gate, max_request_bytes=MAX_RATING_BYTES,
                  timeout=TRUST_TIMEOUT_S)  # fmt: skip
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            while True:
                pending = await self.renew()
                await trio.sleep(RETRY_S if pending else RENEW_INTERVAL_S)

    async def renew(self) -> int:
        """Publish our profile if needed; renew or republish our ratings.

        Returns:
            How many of them still wait for a successful publish (retried sooner).
        """
        pending = 0 if await self.profiles.publish() else 1
        now = self.agent.now()
        for row in self.db.ratings_by(self.me_text):
            share = open_rating(row.record)[1]
            if now - share.agreement.created > RATING_HORIZON_S:
                continue
            if row.expires - now < RENEW_BEFORE_S:
                renewed = replace(share, seq=share.seq + 1, created=int(now), expires=int(now) + RATING_TTL_S)
                record = seal_rating(self.agent.identity, renewed)
                row = RatingRow(row.rater, row.subject, row.deal_id, record, renewed.seq, row.score,
                                renewed.expires, False, row.created)  # fmt: skip
                self.db.replace_rating(row)
            elif row.published:
                continue
            if await self._publish(row.record):
                self.db.set_published(row.rater, row.deal_id, True)
            else:
                pending += 1
        return pending

    # --------------------------------------------------------------------------------------- rating

    async def rate(self, deal_id: str, score: int, as_agreed: bool, comment: str) -> dict[str, Any]:
        """Rate the other party of one of our deals (``metaspace rate``).

        Raises:
            NotFound: no such deal. Conflict: no co-signed agreement, or already rated. BadRequest: the
                rating can't be made (e.g. its comment).
        """
        db = self.agent.db
        deal = db.deal(deal_id)
        if deal is None:
            raise NotFound(f"no deal {deal_id}")
        stored = db.agreement(deal_id)
        if stored is None or not stored.buyer_signature or not stored.seller_signature:
            raise Conflict(
                f"deal {deal_id} has no co-signed agreement (state: {deal.state.lower()}): "
                "only a deal both sides signed can be rated"
            )
        try:
            agreement = verify_agreement(stored.agreement, stored.buyer_signature, stored.seller_signature)
        except RemoteProtocolError as exc:
            raise Conflict(f"the stored agreement of deal {deal_id} does not verify: {exc}") from None
        party = self._party(agreement)
        if party is None:
            raise Conflict(f"this agent is not a party to deal {deal_id}")
        signer, own = party
        subject = agreement.seller if agreement.buyer == signer.pubkey else agreement.buyer
        rater = signer.peer_id
        old = self.db.rating(rater, agreement.session.hex())
        if old is not None:
            raise Conflict(
                f"you already rated deal {deal_id} ({old.score}/5); a deal is rated once by each side"
            )
        now = self.agent.now()
        try:
            share = ReputationShare(
                subject=subject, deal=agreement.session, score=score, as_agreed=as_agreed,
                agreement=agreement, buyer_signature=stored.buyer_signature,
                seller_signature=stored.seller_signature, seq=1, created=int(now),
                expires=int(now) + RATING_TTL_S, comment=comment,
            )  # fmt: skip
            record = seal_rating(signer, share)
        except LocalProtocolError as exc:
            raise BadRequest(f"cannot rate deal {deal_id}: {exc}") from None
        row = RatingRow(rater, pubkey_to_text(subject), agreement.session.hex(), record, 1, score,
                        share.expires, False, now)  # fmt: skip
        if not self.db.add_rating(row):
            raise Conflict(f"you already rated deal {deal_id}; a deal is rated once by each side")
        published = await self._publish(record)
        if published:
            self.db.set_published(row.rater, row.deal_id, True)
        host = self.agent.host if own is None else await self.agent.host_for(own)
        delivered = await self._deliver(pubkey_to_text(subject), record, host)
        self.db_peer_stale(subject, ask=own is None)
        return {**self._rating_view(rating_from_record(record)), "published": published,
                "delivered": delivered}  # fmt: skip

    def _party(self, agreement: Agreement) -> tuple[Identity, Intent | None] | None:
        """Our key in ``agreement`` (and our intent if a persona signed it): the agent's, or — for an
        intent published by a persona (``share: nothing``, :mod:`metaspace.peer.personas`) — that
        intent's persona key, so the rating (which makes the agreement public) and its delivery (from
        the persona's host) link nothing to the agent."""
        for intent_id in (agreement.buyer_intent, agreement.seller_intent):
            own = self.agent.own_intent(intent_id)
            if own is not None and own.author in (agreement.buyer, agreement.seller):
                if own.author == self.me:
                    return self.agent.identity, None
                return self.agent.identity_for(own), own
        return (self.agent.identity, None) if self.me in (agreement.buyer, agreement.seller) else None

    async def _publish(self, record: bytes) -> bool:
        try:
            return isinstance(await self.agent.driver.publish(record), Published)
        except (P2PError, LocalProtocolError) as exc:
            log.info("rating publish failed (retried later): %s", exc)
            return False

    async def _deliver(self, peer: str, record: bytes, host: Any = None) -> bool:
        """Push a rating to the agent it is about (best effort: the DHT has it anyway), from ``host``
        (default: the agent's own)."""
        try:
            reply = await rpc(host or self.agent.host, peer, TRUST_PROTOCOL, record, timeout=TRUST_TIMEOUT_S)
        except (P2PError, RemoteProtocolError) as exc:
            log.info("could not deliver a rating to %s: %s", peer, exc)
            return False
        return reply == b"ok"

    # ---------------------------------------------------------------------------- trust protocol

    async def _on_request(self, peer_id: str, data: bytes) -> bytes:
        """One trust request from ``peer_id`` (already admitted by the firewall)."""
        env = open_envelope(data, MAX_RATING_BYTES)
        if pubkey_to_text(env.author) != peer_id:
            raise RemoteProtocolError("a trust request signed by another peer than the stream's")
        msg = env.message
        if isinstance(msg, ReputationShare):
            self._receive(open_rating(data)[1], data)
            return b"ok"
        if isinstance(msg, TrustVerification):
            self.stats["evidence_served"] += 1
            return seal(self.agent.identity, self._evidence(msg)).raw
        raise RemoteProtocolError(f"{env.type.name} is not a trust request")

    def _receive(self, share: ReputationShare, record: bytes) -> None:
        """A rating about us, pushed by its rater (its evidence checked already)."""
        if share.subject != self.me:
            raise RemoteProtocolError("a rating pushed to an agent it is not about")
        rater = pubkey_to_text(share.rater_of)
        first = self.db.rating(rater, share.deal.hex()) is None
        row = RatingRow(rater, self.me_text, share.deal.hex(), record, share.seq, share.score, share.expires,
                        True, self.agent.now())  # fmt: skip
        if self.db.replace_rating(row) and first:
            self.stats["ratings_received"] += 1
            info = self.peer_info(rater) or {}
            self.agent.bus.emit(
                {"kind": "rating_received", "deal_id": share.deal.hex(), "peer": rater,
                 "handle": info.get("handle"), "stars": share.score, "as_agreed": share.as_agreed,
                 "comment": share.comment},
                self.agent.now(),
            )  # fmt: skip

    def _evidence(self, request: TrustVerification) -> TrustEvidence:
        """The rating records we hold about the subject (about us: those we received), newest first."""
        records: list[bytes] = []
        if request.claim == CLAIM_RATINGS:
            rows = self.db.ratings_about(pubkey_to_text(request.subject), limit=MAX_EVIDENCE_RATINGS)
            records = [r.record for r in rows]
        return TrustEvidence(subject=request.subject, nonce=request.nonce, ratings=records)

    async def ask_evidence(self, subject: bytes) -> list[Rating]:
        """Ask ``subject`` for the ratings about it (TRUST_VERIFICATION); each one is checked here.

        Returns:
            The valid ratings about ``subject`` it showed (empty if unreachable or nothing valid).
        """
        nonce = os.urandom(16)
        request = seal(
            self.agent.identity, TrustVerification(subject=subject, nonce=nonce, claim=CLAIM_RATINGS)
        )
        peer = pubkey_to_text(subject)
        try:
            reply = await rpc(self.agent.host, peer, TRUST_PROTOCOL, request.raw, timeout=TRUST_TIMEOUT_S,
                              max_reply_bytes=MAX_EVIDENCE_BYTES)  # fmt: skip
            env = open_envelope(reply, MAX_EVIDENCE_BYTES)
        except (P2PError, RemoteProtocolError) as exc:
            log.info("no evidence from %s: %s", peer, exc)
            return []
        evidence = env.message
        if env.author != subject or not isinstance(evidence, TrustEvidence) or evidence.nonce != nonce:
            log.info("evidence from %s refused: not its signed answer to our request", peer)
            return []
        out = []
        for record in evidence.ratings:
            try:
                rating = rating_from_record(record)
            except RemoteProtocolError:
                continue
            if rating.subject == subject:
                out.append(rating)
        return out

    # ------------------------------------------------------------------------------------ looking up

    async def _from_dht(self, subject: bytes) -> list[Rating] | None:
        """Valid ratings about ``subject`` in the DHT; None if the lookup failed."""
        try:
            result = await self.agent.driver.get_records(reputation_key(subject))
        except P2PError as exc:
            log.info("reputation lookup failed: %s", exc)
            return None
        out = []
        if isinstance(result, Found):
            for record in result.records:
                try:
                    rating = rating_from_record(record)
                except RemoteProtocolError:
                    continue
                if rating.subject == subject:
                    out.append(rating)
        return out

    def _local(self, subject: bytes) -> list[Rating]:
        out = []
        for row in self.db.ratings_about(pubkey_to_text(subject)):
            try:
                out.append(rating_from_record(row.record))
            except RemoteProtocolError:
                continue
        return out

    async def lookup(
        self, subject: bytes, *, ask: bool = True
    ) -> tuple[Reputation, list[Rating], dict[str, int]]:
        """Score ``subject`` as we see it (see "Looking up" in the module docstring).

        Returns:
            Its reputation, the ratings about it, and how many came from each source.
        """
        self.stats["lookups"] += 1
        first: dict[str, list[Rating]] = {"dht": [], "evidence": []}

        async def dht() -> None:
            first["dht"] = await self._from_dht(subject) or []

        async def evidence() -> None:
            first["evidence"] = await self.ask_evidence(subject)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(dht)
            if ask and subject != self.me:
                nursery.start_soon(evidence)
        local = self._local(subject)
        about = first["dht"] + first["evidence"] + local
        second: dict[bytes, list[Rating]] = {}

        async def hop(rater: bytes) -> None:
            found = await self._from_dht(rater)
            if found is not None:
                second[rater] = found + self._local(rater)

        async with trio.open_nursery() as nursery:
            for rater in raters_to_expand(subject, about, MAX_EXPANDED_RATERS):
                nursery.start_soon(hop, rater)
        ratings = about + [r for rs in second.values() for r in rs]
        complete = {subject, *second}
        rep = score_subject(subject, ratings, self.agent.now(), observer=self.me, complete=complete)
        sources = {"dht": len(first["dht"]), "evidence": len(first["evidence"]), "local": len(local)}
        return rep, [r for r in about if r.subject == subject], sources

    async def reputation(self, peer: str, *, ask: bool = True) -> dict[str, Any]:
        """``metaspace reputation PEER``: its profile, score, the ratings behind it.

        Raises:
            BadRequest: not a peer id.
        """
        subject = pubkey_from_text(check_peer(peer))
        profile = None

        async def prof() -> None:
            nonlocal profile
            profile = await self.profiles.lookup(subject)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(prof)
            rep, about, sources = await self.lookup(subject, ask=ask)
        view = self._remember(subject, rep, profile)
        unique = {(r.rater, r.deal): r for r in about}
        recent = sorted(unique.values(), key=lambda r: -r.at)[:MAX_RATINGS_SHOWN]
        return {
            "peer": pubkey_to_text(subject),
            "handle": view.get("handle"),
            "profile": profile_view(profile),
            "reputation": rep.to_dict(),
            "ratings": [self._rating_view(r) for r in recent],
            "sources": sources,
            "blocked": self.agent.firewall.blocked(pubkey_to_text(subject)),
        }

    def _remember(self, subject: bytes, rep: Reputation, profile: Any) -> dict[str, Any]:
        info = {
            "handle": None if profile is None else profile.handle,
            "languages": [] if profile is None else list(profile.languages),
            "score": round(rep.score, 1), "level": rep.level, "ring": rep.ring, "ratings": rep.ratings,
            "signal": round(rep.signal, 4),
        }  # fmt: skip
        self.db.save_peer(pubkey_to_text(subject), info, self.agent.now())
        return info

    def peer_info(self, peer: str) -> dict[str, Any] | None:
        """What we last learned about a counterpart (for match and deal views), or None."""
        found = self.db.peer(peer)
        return None if found is None else {**found[0], "updated": found[1]}

    def db_peer_stale(self, subject: bytes, *, ask: bool = True) -> None:
        """Our view of ``subject`` changed (we rated it): refresh it in the background."""
        self.refresh_soon(subject, force=True, ask=ask)

    def refresh_soon(self, subject: bytes, *, force: bool = False, ask: bool = True) -> None:
        """Look ``subject`` up in the background if what we know is older than PEER_INFO_TTL_S.

        ``ask=False``: from the DHT only, without asking ``subject`` itself for evidence (a request
        signed by the agent's key): what a persona's counterpart is looked up with, so the lookup does
        not tell it which agent is behind the persona (``share: nothing``)."""
        if self._nursery is None or subject == self.me or subject in self._inflight:
            return
        known = self.db.peer(pubkey_to_text(subject))
        if not force and known is not None and self.agent.now() - known[1] < PEER_INFO_TTL_S:
            return
        if len(self._inflight) >= MAX_LOOKUPS_QUEUED:
            self.stats["lookups_skipped"] += 1
            return
        self._inflight.add(subject)
        self._nursery.start_soon(self._refresh, subject, ask)

    async def _refresh(self, subject: bytes, ask: bool = True) -> None:
        try:
            async with self._limit:
                profile = await self.profiles.lookup(subject)
                rep, _about, _sources = await self.lookup(subject, ask=ask)
                self._remember(subject, rep, profile)
        except (P2PError, RemoteProtocolError, LocalProtocolError) as exc:
            log.info("background lookup of %s failed: %s", pubkey_to_text(subject), exc)
        finally:
            self._inflight.discard(subject)

    def _rating_view(self, r: Rating) -> dict[str, Any]:
        return {
            "deal_id": r.deal.hex(), "rater": pubkey_to_text(r.rater), "subject": pubkey_to_text(r.subject),
            "score": r.stars, "as_agreed": r.as_agreed, "comment": r.comment, "deal_time": r.at,
        }  # fmt: skip

    def my_ratings(self) -> list[dict[str, Any]]:
        """The ratings we made and those we received, newest first."""
        rows = self.db.ratings_by(self.me_text) + self.db.ratings_about(self.me_text)
        rows.sort(key=lambda r: -r.created)
        out = []
        for row in rows:
            view = self._rating_view(rating_from_record(row.record))
            out.append({**view, "mine": row.rater == self.me_text, "published": row.published})
        return out
