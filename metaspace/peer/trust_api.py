"""The agent's trust endpoints (part of :class:`metaspace.api.contract.AgentService`): rating, reputation,
profile and blocks, delegating to :class:`~metaspace.peer.reputations.Reputations` and
:class:`~metaspace.peer.firewall.Firewall`. A mixin of :class:`metaspace.peer.agent.Agent`."""

from __future__ import annotations

from typing import Any

from metaspace.api.contract import Unavailable
from metaspace.peer.firewall import Firewall
from metaspace.peer.profiles import profile_view
from metaspace.peer.reputations import Reputations
from wire.identity import Identity


class TrustEndpoints:
    """What the control API asks of the agent about trust (see the module docstring)."""

    reputations: Reputations | None
    firewall: Firewall
    identity: Identity
    config: Any

    def _reputations(self) -> Reputations:
        if self.reputations is None:
            raise Unavailable("ratings and reputation are not running in this peer")
        return self.reputations

    def peer_info(self, peer: str) -> dict[str, Any]:
        """What we know of a counterpart: its id, handle and reputation summary (if looked up), blocked."""
        known = self.reputations.peer_info(peer) if self.reputations is not None else None
        return {"id": peer, **(known or {}), "blocked": self.firewall.blocked(peer)}

    async def rate(self, deal_id: str, score: int, as_agreed: bool, comment: str) -> dict[str, Any]:
        return await self._reputations().rate(deal_id, score, as_agreed, comment)

    async def reputation(self, peer: str) -> dict[str, Any]:
        return await self._reputations().reputation(peer)

    async def ratings(self) -> list[dict[str, Any]]:
        return self._reputations().my_ratings()

    async def profile(self) -> dict[str, Any]:
        own = self._reputations().profiles.own()
        return {"peer": self.identity.peer_id, "profile": profile_view(own), "share": self.config.share}

    async def block(self, peer: str) -> dict[str, Any]:
        return self.firewall.block(peer)

    async def unblock(self, peer: str) -> dict[str, Any]:
        return self.firewall.unblock(peer)

    async def blocked(self) -> list[dict[str, Any]]:
        return self.firewall.list()
