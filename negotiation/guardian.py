"""The guardian: the limits a human set at ``metaspace init``, checked before the agent commits.

It is consulted before an intent is published (:meth:`Guardian.check_publish`) and before a deal is
accepted or signed (:meth:`Guardian.check_deal`). It answers with a :class:`Decision`:

* ``ALLOW`` — the agent may act alone (``notify`` says whether to tell the human afterwards);
* ``NEEDS_APPROVAL(reason)`` — the session pauses in AWAITING_APPROVAL until the human answers;
* ``DENY(reason)`` — never (a category the human did not allow, a location finer than allowed).

Autonomy levels:

===============  ==========================================================================
``always_ask``   every publish and every deal waits for the human
``ask_big``      deals (bought *or* sold) whose total is over the spend limit wait
``act_notify``   acts alone, tells the human after; only spending over the limit waits
``full``         acts alone; only spending over the limit waits
===============  ==========================================================================

The spend limit is the one line no autonomy level crosses alone: a buyer's total over the limit (or
in a currency other than the limit's) always needs the human. ``Guardian.from_dict`` reads the
``metaspace init`` config document directly (``autonomy``, ``spend_limit_minor`` (null = no limit),
``currency``, ``categories`` patterns, ``max_h3_res`` (null = no location), ``marketplace``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from negotiation.types import Role
from wire.geo import MAX_INTENT_RES, resolution
from wire.intent import Action, Intent
from wire.messages import Agreement, Terms


class Autonomy(enum.StrEnum):
    ALWAYS_ASK = "always_ask"
    ASK_BIG = "ask_big"
    ACT_NOTIFY = "act_notify"
    FULL = "full"


class Verdict(enum.StrEnum):
    ALLOW = "ALLOW"
    NEEDS_APPROVAL = "NEEDS_APPROVAL"
    DENY = "DENY"


@dataclass(frozen=True)
class Decision:
    """The guardian's answer. ``reason`` is a short code ("over_limit", "category", ...)."""

    verdict: Verdict
    reason: str = ""
    notify: bool = False

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


def allow(notify: bool = False) -> Decision:
    return Decision(Verdict.ALLOW, "", notify)


def needs_approval(reason: str) -> Decision:
    return Decision(Verdict.NEEDS_APPROVAL, reason)


def deny(reason: str) -> Decision:
    return Decision(Verdict.DENY, reason)


SELLING_ACTIONS = frozenset({Action.SELL, Action.OFFER_SERVICE})


def role_of(action: Action) -> Role:
    """SELL and OFFER_SERVICE speak as the seller; BUY and SEEK_SERVICE as the buyer."""
    return Role.SELLER if action in SELLING_ACTIONS else Role.BUYER


#: ``marketplace`` answer of ``metaspace init`` -> actions the agent may publish. Every level except
#: ``full`` also means each deal waits for the human (mirrors ``metaspace.config``).
MARKETPLACE_ACTIONS: dict[str, frozenset[Action]] = {
    "browse": frozenset(),
    "buy_approval": frozenset({Action.BUY, Action.SEEK_SERVICE}),
    "sell_approval": frozenset({Action.SELL, Action.OFFER_SERVICE}),
    "full": frozenset(Action),
}
ALL_CATEGORIES = "*"


@dataclass(frozen=True)
class Guardian:
    """The human's limits.

    Attributes:
        autonomy: how much the agent may do alone.
        spend_limit_minor: largest total (price x quantity, minor units) the agent may commit to alone;
            None = no limit ("trust").
        currency: ISO-4217 code of the spend limit.
        allowed_categories: category patterns the agent may deal in: ``"*"`` (all), ``"group/*"``,
            ``"group/leaf"``; empty = all.
        max_location_res: finest H3 resolution an intent may disclose (<= 7); None = no location at all.
        allowed_actions: actions the agent may publish (None = all).
        deals_need_approval: every deal waits for the human (marketplace access short of ``full``).
    """

    autonomy: Autonomy = Autonomy.ASK_BIG
    spend_limit_minor: int | None = 0
    currency: str = "USD"
    allowed_categories: frozenset[str] = field(default_factory=frozenset)
    max_location_res: int | None = MAX_INTENT_RES
    allowed_actions: frozenset[Action] | None = None
    deals_need_approval: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.autonomy, Autonomy):
            object.__setattr__(self, "autonomy", Autonomy(self.autonomy))
        if self.spend_limit_minor is not None and self.spend_limit_minor < 0:
            raise ValueError("spend limit must be >= 0")
        if self.max_location_res is not None and not 0 <= self.max_location_res <= MAX_INTENT_RES:
            raise ValueError(f"location precision must be an H3 resolution in [0, {MAX_INTENT_RES}]")
        object.__setattr__(self, "allowed_categories", frozenset(self.allowed_categories))
        if self.allowed_actions is not None:
            object.__setattr__(self, "allowed_actions", frozenset(Action(a) for a in self.allowed_actions))

    # ------------------------------------------------------------------------------------- checks

    def category_allowed(self, category: str) -> bool:
        if not self.allowed_categories or ALL_CATEGORIES in self.allowed_categories:
            return True
        group = category.split("/", 1)[0]
        return category in self.allowed_categories or f"{group}/*" in self.allowed_categories

    def _over(self, total: int) -> bool:
        return self.spend_limit_minor is not None and total > self.spend_limit_minor

    def _value_check(self, total: int, currency: str, role: Role) -> Decision:
        spending = role is Role.BUYER
        if self.autonomy is Autonomy.ALWAYS_ASK:
            return needs_approval("always_ask")
        if spending and currency != self.currency and self.spend_limit_minor is not None:
            return needs_approval("currency")
        if spending and self._over(total):
            return needs_approval("over_limit")
        if self.autonomy is Autonomy.ASK_BIG and (currency != self.currency or self._over(total)):
            return needs_approval("big_deal")
        return allow(notify=self.autonomy is Autonomy.ACT_NOTIFY)

    def check_publish(self, intent: Intent) -> Decision:
        """May the agent publish this intent?

        Args:
            intent: the intent about to be signed and published.

        Returns:
            DENY for an action, a category or a location precision the human did not allow; otherwise the
            autonomy rules applied to the intent's total price (no price: only ``always_ask`` asks).
        """
        if self.allowed_actions is not None and intent.action not in self.allowed_actions:
            return deny("action")
        if not self.category_allowed(intent.category):
            return deny("category")
        if intent.cell and (self.max_location_res is None or resolution(intent.cell) > self.max_location_res):
            return deny("location_precision")
        if intent.price is None:
            return needs_approval("always_ask") if self.autonomy is Autonomy.ALWAYS_ASK else allow()
        unit = intent.price.unit_amount(intent.quantity)
        return self._value_check(unit * intent.quantity, intent.price.currency, role_of(intent.action))

    def check_deal(self, deal: Terms | Agreement, role: Role, category: str | None = None) -> Decision:
        """May the agent commit to this deal?

        Args:
            deal: the terms (or the agreement) about to be accepted or signed.
            role: our side of it.
            category: the deal's category, when known (checked against the allowed ones).

        Returns:
            The decision.
        """
        terms = deal.terms if isinstance(deal, Agreement) else deal
        if category is not None and not self.category_allowed(category):
            return deny("category")
        decision = self._value_check(terms.price_minor * terms.quantity, terms.currency, role)
        if decision.allowed and self.deals_need_approval:
            return needs_approval("marketplace")
        return decision

    # ------------------------------------------------------------------------------------- config

    def to_dict(self) -> dict[str, Any]:
        return {
            "autonomy": str(self.autonomy),
            "spend_limit_minor": self.spend_limit_minor,
            "currency": self.currency,
            "allowed_categories": sorted(self.allowed_categories),
            "max_location_res": self.max_location_res,
            "allowed_actions": None if self.allowed_actions is None else sorted(self.allowed_actions),
            "deals_need_approval": self.deals_need_approval,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Guardian:
        """Build from :meth:`to_dict` output or from the ``metaspace init`` config document.

        The config's keys are understood too: ``categories`` (patterns), ``max_h3_res`` and
        ``marketplace`` (which sets the allowed actions and, short of ``full``, approval of every deal).
        Missing keys take the defaults.

        Raises:
            ValueError: an unknown autonomy level or marketplace answer, or an out-of-range value.
        """
        cats: Iterable[str] = data.get("allowed_categories", data.get("categories")) or ()
        res = data.get("max_location_res", data.get("max_h3_res", MAX_INTENT_RES))
        actions: frozenset[Action] | None = None
        need = bool(data.get("deals_need_approval", False))
        if data.get("allowed_actions") is not None:
            actions = frozenset(Action(a) for a in data["allowed_actions"])
        if "marketplace" in data:
            try:
                actions = MARKETPLACE_ACTIONS[data["marketplace"]]
            except KeyError:
                raise ValueError(f"unknown marketplace access {data['marketplace']!r}") from None
            need = need or data["marketplace"] != "full"
        limit = data.get("spend_limit_minor", 0)
        return cls(
            autonomy=Autonomy(data.get("autonomy", Autonomy.ASK_BIG)),
            spend_limit_minor=None if limit is None else int(limit),
            currency=str(data.get("currency", "USD")),
            allowed_categories=frozenset(cats),
            max_location_res=None if res is None else int(res),
            allowed_actions=actions,
            deals_need_approval=need,
        )
