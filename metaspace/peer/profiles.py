"""Agent profiles (spec 5.1 ``register_mai``): ours published in the DHT, others' looked up.

Theory of operation
-------------------
Our profile is one signed AGENT_PROFILE record under our profile key (``dht.keys.profile_key``). What it
says follows the human's ``share`` answer (:func:`profile_for`):

==========================  ==========================================================================
``share``                   the profile says
==========================  ==========================================================================
``nothing`` (anonymous)     only the protocols this agent serves (the capability handshake)
``basic`` (interests)       + the handle ``@owner/agent`` (if the human chose an owner name), its
                            languages, and the category *groups* of its live intents (``vehicles/*``)
``detailed`` / ``whatever``  + the exact categories of its live intents and a coarse autonomy level
==========================  ==========================================================================

It is published when the peer starts (retried until it reaches a node) and again whenever what it says
changes (a new intent in a new category, a reconfigured ``share``: checked every few minutes), and renewed
(a higher seq, a new expiry) a day before it expires; in between, the DHT core republishes it hourly.
Another agent's profile is read from its profile key: only a record signed by that agent counts, the
highest seq wins, and lookups are cached for ``PROFILE_CACHE_S``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dht.events import Found, Published
from dht.keys import profile_key
from metaspace.config import AgentConfig
from metaspace.peer.trustdb import TrustDB
from p2p.host import P2PError
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.limits import MAX_PROFILE_CATEGORIES, MAX_RECORD_TTL_S
from wire.messages import AgentProfile, Autonomy
from wire.records import open_profile, seal_profile

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

#: Our profile's lifetime in the DHT, and how long before its expiry it is renewed.
PROFILE_TTL_S = MAX_RECORD_TTL_S
RENEW_BEFORE_S = 24 * 3600
#: Other agents' profiles looked up are kept this long, at most this many.
PROFILE_CACHE_S = 600.0
MAX_CACHED_PROFILES = 1024
#: The config's autonomy answer as a profile says it (coarse on purpose).
AUTONOMY_OF = {
    "always_ask": Autonomy.ASKS,
    "ask_big": Autonomy.ASKS_BIG,
    "act_notify": Autonomy.ACTS,
    "full": Autonomy.ACTS,
}


def handle_of(config: AgentConfig) -> str | None:
    """``@owner/agent`` from the birth answers, or None when the human chose no owner name."""
    owner = getattr(config, "owner", None)
    if not owner:
        return None
    return f"@{owner}/{getattr(config, 'agent_name', None) or 'agent'}"


def profile_for(
    config: AgentConfig, categories: Iterable[str], protocols: Iterable[str], now: float, seq: int
) -> AgentProfile:
    """What our profile says, by the human's ``share`` answer (see the module docstring).

    Args:
        config: the birth answers.
        categories: the categories of our live intents.
        protocols: the protocol ids this peer serves.
        now: the current time (the profile's ``created``).
        seq: its sequence number.

    Returns:
        The profile (unsigned).
    """
    base = AgentProfile(
        seq=seq, created=int(now), expires=int(now) + PROFILE_TTL_S, protocols=sorted(set(protocols))
    )
    if config.share == "nothing":
        return base
    cats = sorted(set(categories))
    groups = sorted({c.split("/", 1)[0] + "/*" for c in cats})
    shown = groups if config.share == "basic" else cats
    base = replace(
        base, handle=handle_of(config), languages=[config.language], categories=shown[:MAX_PROFILE_CATEGORIES]
    )
    if config.share == "basic":
        return base
    return replace(base, autonomy=AUTONOMY_OF.get(config.autonomy))


def profile_view(profile: AgentProfile | None) -> dict[str, Any] | None:
    """A profile as the API shows it."""
    if profile is None:
        return None
    return {
        "handle": profile.handle,
        "languages": list(profile.languages),
        "categories": list(profile.categories),
        "autonomy": None if profile.autonomy is None else str(profile.autonomy),
        "protocols": list(profile.protocols),
        "created": profile.created,
        "expires": profile.expires,
    }


def _content(p: AgentProfile) -> tuple[Any, ...]:
    return (p.handle, tuple(p.languages), tuple(p.categories), p.autonomy, tuple(p.protocols))


class Profiles:
    """Our profile and the lookup of others' (see the module docstring).

    Args:
        agent: the agent (identity, config, database of intents, DHT driver, clock).
        db: the trust database (our last profile record).
        protocols: the protocol ids this peer serves.
    """

    def __init__(self, agent: Agent, db: TrustDB, protocols: Iterable[str]) -> None:
        self.agent = agent
        self.db = db
        self.protocols = tuple(protocols)
        self._cache: OrderedDict[bytes, tuple[float, AgentProfile | None]] = OrderedDict()
        self._reached = False  # the last publish reached at least one node (else: publish again)

    def own(self) -> AgentProfile | None:
        """Our last signed profile, if any."""
        saved = self.db.own_profile()
        return None if saved is None else open_profile(saved[0])[1]

    def _live_categories(self) -> list[str]:
        from wire.envelope import open_intent

        now = self.agent.now()
        out = []
        for _id, record, _replicas in self.agent.db.intents():
            intent = open_intent(record)[1]
            if intent.is_live(now):
                out.append(intent.category)
        return out

    async def publish(self, *, force: bool = False) -> bool:
        """Publish our profile if what it says changed, it is about to expire, its last publish reached
        nobody, or ``force``.

        Returns:
            True if the published profile is current (False: retry later; a profile over its size limit
            is logged and never stored).
        """
        now = self.agent.now()
        saved = self.db.own_profile()
        last = None if saved is None else open_profile(saved[0])[1]
        seq = max(int(now), (saved[1] + 1) if saved is not None else 0)
        profile = profile_for(self.agent.config, self._live_categories(), self.protocols, now, seq)
        fresh = last is not None and last.expires - now > RENEW_BEFORE_S and self._reached
        if not force and fresh and last is not None and _content(last) == _content(profile):
            return True
        try:
            record = seal_profile(self.agent.identity, profile)
        except LocalProtocolError as exc:  # over MAX_PROFILE_BYTES: refused, nothing stored
            log.error("profile not published: %s", exc)
            return True
        self.db.save_profile(record, profile.seq)
        try:
            result = await self.agent.driver.publish(record)
        except (P2PError, LocalProtocolError) as exc:
            log.info("profile publish failed (retried later): %s", exc)
            result = None
        self._reached = isinstance(result, Published) and result.replicas > 0
        if not self._reached:
            log.info("profile publish reached nobody yet (retried later)")
        return self._reached

    async def lookup(self, agent: bytes) -> AgentProfile | None:
        """Another agent's profile from the DHT (cached for PROFILE_CACHE_S), or None if it has none."""
        now = self.agent.now()
        hit = self._cache.get(agent)
        if hit is not None and now - hit[0] < PROFILE_CACHE_S:
            return hit[1]
        if agent == self.agent.identity.pubkey:
            return self.own()
        best: AgentProfile | None = None
        try:
            result = await self.agent.driver.get_records(profile_key(agent))
        except P2PError as exc:
            log.info("profile lookup failed: %s", exc)
            return hit[1] if hit is not None else None
        if isinstance(result, Found):
            for record in result.records:
                try:
                    env, profile = open_profile(record)
                except RemoteProtocolError:
                    continue
                if env.author == agent and profile.expires > now and (best is None or profile.seq > best.seq):
                    best = profile
        self._cache.pop(agent, None)
        self._cache[agent] = (now, best)
        while len(self._cache) > MAX_CACHED_PROFILES:
            self._cache.popitem(last=False)
        return best
