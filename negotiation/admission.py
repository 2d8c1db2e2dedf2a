"""Admission: which negotiation sessions we take on, so a counterparty can't exhaust or probe us.

Theory of operation
-------------------
Every session costs a slot until it ends. :class:`Admission` is asked before a session starts
(:meth:`Admission.check`), told when it starts (:meth:`Admission.opened`) and when it ends
(:meth:`Admission.closed`). It refuses, with a typed :class:`Refusal`:

* ``KNOWN_SESSION`` — a session id we have already seen (a replayed NEGOTIATION_START). Ids are
  remembered for ``KNOWN_ID_TTL_S``, past which a replayed START's own deadline has passed; the agent
  also keeps every id in its database;
* ``BUSY`` / ``PEER_BUSY`` / ``INTENT_BUSY`` — more than ``max_sessions`` at once, or more than
  ``max_per_peer`` with one peer, or ``max_per_intent`` on one of our intents;
* ``INTENT_RATE`` — (remote openings only) more than ``intent_window_max`` sessions on one intent within
  ``intent_window_s`` — a bound on how fast even many identities can probe one intent;
* ``TOO_SOON`` — (remote openings only) the same peer reopening on the same intent after a session
  that ended without a deal, before its back-off (``reopen_after_s``, doubled after each such session,
  at most ``reopen_max_s``) has passed.

Sans-IO: time is passed in. Every table is bounded (oldest entries are forgotten first).
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from negotiation.types import AGREEMENT_CLOCK_SKEW_S, CONFIRM_GRACE_S, MAX_DURATION_S

#: Session ids are remembered at least this long: a replayed START is refused by its deadline after.
KNOWN_ID_TTL_S = MAX_DURATION_S + AGREEMENT_CLOCK_SKEW_S + CONFIRM_GRACE_S


class Refusal(enum.StrEnum):
    """Why a session was not admitted."""

    KNOWN_SESSION = "known_session"
    BUSY = "busy"
    PEER_BUSY = "peer_busy"
    INTENT_BUSY = "intent_busy"
    INTENT_RATE = "intent_rate"
    TOO_SOON = "too_soon"


@dataclass(frozen=True)
class AdmissionLimits:
    """The caps (see the module docstring). Defaults suit one human's agent.

    Attributes:
        max_sessions: sessions at once, all peers together.
        max_per_peer: sessions at once with one peer.
        max_per_intent: sessions at once on one of our intents.
        intent_window_s: the window of the per-intent opening rate.
        intent_window_max: remote openings on one intent within the window.
        reopen_after_s: back-off after a session without a deal (same peer, same intent).
        reopen_max_s: the longest back-off.
        max_pairs: (intent, peer) back-off entries remembered.
        max_known_ids: session ids remembered.
    """

    max_sessions: int = 64
    max_per_peer: int = 2
    max_per_intent: int = 8
    intent_window_s: float = 3600.0
    intent_window_max: int = 30
    reopen_after_s: float = 60.0
    reopen_max_s: float = 6 * 3600.0
    max_pairs: int = 4096
    max_known_ids: int = 8192

    def __post_init__(self) -> None:
        counts = (self.max_sessions, self.max_per_peer, self.max_per_intent, self.intent_window_max)
        if min(counts) < 1 or min(self.max_pairs, self.max_known_ids) < 1:
            raise ValueError("admission caps must be >= 1")
        if not 0 <= self.reopen_after_s <= self.reopen_max_s or self.intent_window_s <= 0:
            raise ValueError("admission times must satisfy 0 <= reopen_after_s <= reopen_max_s")


@dataclass
class _Backoff:
    failures: int
    not_before: float


class Admission:
    """Session admission control (see the module docstring).

    Args:
        limits: the caps.
    """

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        self._active: dict[bytes, tuple[bytes, bytes]] = {}  # session id -> (peer, intent)
        self._known: OrderedDict[bytes, float] = OrderedDict()  # session id -> time first seen
        self._backoff: OrderedDict[tuple[bytes, bytes], _Backoff] = OrderedDict()
        self._openings: OrderedDict[bytes, deque[float]] = OrderedDict()  # intent -> remote openings
        self._refused: dict[str, int] = {r.value: 0 for r in Refusal}

    # ------------------------------------------------------------------------------------ queries

    def check(
        self, peer: bytes, intent: bytes, session_id: bytes, now: float, *, remote: bool
    ) -> tuple[Refusal, float | None] | None:
        """May a session with ``peer`` on our ``intent`` start now?

        Args:
            peer: the counterpart's public key.
            intent: our intent id.
            session_id: the session id (the initiator's choice).
            now: current time.
            remote: True when the peer opened it (back-off and the per-intent rate apply).

        Returns:
            None if admitted, else ``(refusal, retry_at)`` (``retry_at`` None: no useful time to retry).
        """
        self._expire(now)
        refusal = self._refusal(peer, intent, session_id, now, remote)
        if refusal is not None:
            self._refused[refusal[0].value] += 1
        return refusal

    def _refusal(
        self, peer: bytes, intent: bytes, session_id: bytes, now: float, remote: bool
    ) -> tuple[Refusal, float | None] | None:
        lim = self.limits
        if session_id in self._known or session_id in self._active:
            return Refusal.KNOWN_SESSION, None
        if len(self._active) >= lim.max_sessions:
            return Refusal.BUSY, None
        if sum(1 for p, _ in self._active.values() if p == peer) >= lim.max_per_peer:
            return Refusal.PEER_BUSY, None
        if sum(1 for _, i in self._active.values() if i == intent) >= lim.max_per_intent:
            return Refusal.INTENT_BUSY, None
        if not remote:
            return None
        back = self._backoff.get((intent, peer))
        if back is not None and now < back.not_before:
            return Refusal.TOO_SOON, back.not_before
        window = self._openings.get(intent)
        if window is not None and len(window) >= lim.intent_window_max:
            return Refusal.INTENT_RATE, window[0] + lim.intent_window_s
        return None

    # ------------------------------------------------------------------------------------ updates

    def opened(self, peer: bytes, intent: bytes, session_id: bytes, now: float, *, remote: bool) -> None:
        """A session was admitted and started (call after :meth:`check` returned None)."""
        self._active[session_id] = (peer, intent)
        self._remember_id(session_id, now)
        if remote:
            window = self._openings.pop(intent, None) or deque()
            window.append(now)
            while len(window) > self.limits.intent_window_max:
                window.popleft()
            self._openings[intent] = window
            while len(self._openings) > self.limits.max_pairs:
                self._openings.popitem(last=False)

    def closed(self, session_id: bytes, agreed: bool, now: float) -> None:
        """A session ended: free its slot; without a deal, the pair's back-off grows."""
        pair = self._active.pop(session_id, None)
        if pair is None:
            return
        peer, intent = pair
        self.record_outcome(peer, intent, agreed, now)

    def record_outcome(self, peer: bytes, intent: bytes, agreed: bool, now: float) -> None:
        """Account for a session that ended at ``now`` (also used to reload history after a restart).

        Args:
            peer: the counterpart.
            intent: our intent.
            agreed: True if it ended with an agreement (the back-off is cleared).
            now: when it ended.
        """
        key = (intent, peer)
        old = self._backoff.pop(key, None)
        if agreed:
            return
        failures = (old.failures if old is not None else 0) + 1
        wait = min(self.limits.reopen_max_s, self.limits.reopen_after_s * 2 ** min(failures - 1, 30))
        not_before = max(now + wait, old.not_before if old is not None else 0.0)
        self._backoff[key] = _Backoff(failures, not_before)
        while len(self._backoff) > self.limits.max_pairs:
            self._backoff.popitem(last=False)

    def remember_id(self, session_id: bytes, now: float) -> None:
        """Remember a session id seen elsewhere (e.g. reloaded from the database)."""
        self._remember_id(session_id, now)

    def _remember_id(self, session_id: bytes, now: float) -> None:
        self._known.pop(session_id, None)
        self._known[session_id] = now
        while len(self._known) > self.limits.max_known_ids:
            self._known.popitem(last=False)

    def _expire(self, now: float) -> None:
        while self._known:
            sid, seen = next(iter(self._known.items()))
            if now - seen < KNOWN_ID_TTL_S or sid in self._active:
                break
            self._known.popitem(last=False)
        for intent in list(self._openings):
            window = self._openings[intent]
            while window and now - window[0] >= self.limits.intent_window_s:
                window.popleft()
            if not window:
                del self._openings[intent]

    # ------------------------------------------------------------------------------------ metrics

    @property
    def active(self) -> int:
        return len(self._active)

    def statistics(self) -> dict[str, Any]:
        """Active sessions, table sizes and refusals by reason."""
        return {
            "active": len(self._active),
            "known_ids": len(self._known),
            "backoffs": len(self._backoff),
            "refused": dict(self._refused),
        }
