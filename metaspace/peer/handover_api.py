"""The agent's endpoints for the meeting after a deal, the open export, and the page's language (part of
:class:`metaspace.api.contract.AgentService`). A mixin of :class:`metaspace.peer.agent.Agent`, delegating
to :class:`~metaspace.peer.handovers.Handovers` and :mod:`metaspace.peer.nip99`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metaspace.api.contract import HandoverProposal, NotFound, Unavailable
from metaspace.peer import notify
from wire.envelope import open_intent
from wire.identity import Identity
from wire.intent import Intent


class HandoverEndpoints:
    """What the control API asks of the agent about meetings, export and the page (see the module doc)."""

    handovers: Any
    identity: Identity
    config: Any
    db: Any

    now: Callable[[], float]
    identity_for: Callable[[Intent], Identity]

    def _handovers(self) -> Any:
        if self.handovers is None:
            raise Unavailable("meeting arrangements are not running in this peer")
        return self.handovers

    async def handover(self, deal_id: str) -> dict[str, Any]:
        return self._handovers().view(deal_id)  # type: ignore[no-any-return]

    async def propose_handover(self, deal_id: str, proposal: HandoverProposal) -> dict[str, Any]:
        return await self._handovers().propose(  # type: ignore[no-any-return]
            deal_id, proposal.cell, proposal.start, proposal.end, list(proposal.payment) or None
        )

    async def confirm_handover(self, deal_id: str, payment: str | None) -> dict[str, Any]:
        return await self._handovers().confirm(deal_id, payment)  # type: ignore[no-any-return]

    async def decline_handover(self, deal_id: str, reason: str) -> dict[str, Any]:
        return await self._handovers().decline(deal_id, reason)  # type: ignore[no-any-return]

    async def handover_ics(self, deal_id: str) -> bytes:
        return self._handovers().ics(deal_id)  # type: ignore[no-any-return]

    async def export_intent(self, intent_id: str, fmt: str) -> dict[str, Any]:
        """One of our intents as an open listing (``nip99``: a signed Nostr kind-30402 event)."""
        from metaspace.peer.nip99 import export_event

        record = self.db.intent_record(intent_id)
        if record is None:
            raise NotFound(f"no intent {intent_id} of yours")
        _env, intent = open_intent(record)
        return export_event(intent, self.identity_for(intent), self.config, self.now())

    async def page_strings(self, lang: str | None) -> dict[str, Any]:
        """The web page's labels in ``lang`` (default: the agent's language) and that language's code."""
        base, strings = notify.page_strings(lang or self.config.language)
        return {"lang": base, "strings": strings, "tips": notify.safety_tips(base)}
