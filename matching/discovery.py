"""Which taxonomy groups a search looks in: the discovery side of "a wrong fine category must not hide a
match".

Design (issue 11): DHT keys are made from the taxonomy's **top level** (``dht.keys.intent_key`` hashes the
group, "vehicles", never "vehicles/tires"), so a fine-category mistake on either side costs nothing: both
sides still store and look up the same key, and the local index ranks by fine category instead of filtering.
A query whose own group holds less than ``CONFIDENT_GROUP_MASS`` of its category distribution
also looks in the next group by mass, and one that holds less than ``LOST_GROUP_MASS`` (the classifier has
little idea) in the next ones up to ``MAX_SEARCH_GROUPS``. Publishing always uses one key.
The goods/service form of an action follows the intent's category, so a search looks for both forms of the
other side where a group holds them (``side_actions``): a wrong category never turns a SELL into an unseen
OFFER_SERVICE.

Cost: one key per publish (as before); per search, the key cells within the radius times the groups (1 for
a confident query, 2 when unsure, up to 5 when lost: 1.67 on average on eval2's tune split), one GET each
(two for a group holding goods and services, transport); a key holds the records of every category of its
group (records per key and bytes per lookup grow with the group's share of the traffic: measured in
``bench/matching.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from matching.cues import is_service_category
from wire.intent import Action, Intent
from wire.taxonomy import taxonomy

#: At most this many groups per search (a query that has no idea what its item is).
MAX_SEARCH_GROUPS = 5
#: A query whose own group holds at least this much of its category mass searches that group only; below it,
#: the next group by mass too (``UNSURE_GROUPS`` in all); below ``LOST_GROUP_MASS``, ``MAX_SEARCH_GROUPS``.
#: Chosen on eval2's tune split, checked on both halves of its concepts (groups per search / non-en top-1:
#: one group 1.00 / -, own < .99 -> 3 groups 1.72 / .827, this rule 1.67 / .834, 5 groups whenever unsure
#: 2.6 / .839, every group with any mass 5.2 / .862).
CONFIDENT_GROUP_MASS = 0.99
UNSURE_GROUPS = 2
LOST_GROUP_MASS = 0.7


def group_of(code: str) -> str:
    """The taxonomy's top level of a category code ("vehicles/tires" -> "vehicles")."""
    return code.split("/", 1)[0]


@cache
def _group_kinds(group: str) -> tuple[bool, ...]:
    """Whether each category of ``group`` is a service (a group may hold both kinds: transport)."""
    kinds = {is_service_category(c.code) for c in taxonomy().categories if group_of(c.code) == group}
    return tuple(sorted(kinds)) or (False,)


def side_actions(action: Action, group: str) -> list[Action]:
    """The actions on ``action``'s side (demand or supply) that intents of ``group`` carry.

    The goods/service form of an action follows its intent's category, so a counterpart filed under another
    group than ours may carry the other form: a buyer whose text was read as ``services/childcare``
    (SEEK_SERVICE) must still meet the SELL intents of ``kids/school``. Search the inverse side with
    ``side_actions(intent.action.inverse, group)``.

    Args:
        action: any action of the wanted side.
        group: a taxonomy group (or a category code: its group is used).

    Returns:
        One action, or two for a group holding goods and services (``transport``).
    """
    demand = action in (Action.BUY, Action.SEEK_SERVICE)
    out = []
    for service in _group_kinds(group_of(group)):
        if service:
            out.append(Action.SEEK_SERVICE if demand else Action.OFFER_SERVICE)
        else:
            out.append(Action.BUY if demand else Action.SELL)
    return out


def search_groups(intent: Intent, probs: Mapping[str, float]) -> list[str]:
    """The groups a search for ``intent`` looks in: its own first, then unsure alternatives.

    Args:
        intent: the query (its category, possibly chosen by its human, comes first).
        probs: the query's category distribution (``LocalIndex.query_features``).

    Returns:
        1 to ``MAX_SEARCH_GROUPS`` group names.
    """
    mass: dict[str, float] = {}
    for code, p in probs.items():
        mass[group_of(code)] = mass.get(group_of(code), 0.0) + float(p)
    out = [group_of(intent.category)]
    own = mass.get(out[0], 0.0)
    if own >= CONFIDENT_GROUP_MASS:
        return out
    limit = UNSURE_GROUPS if own >= LOST_GROUP_MASS else MAX_SEARCH_GROUPS
    for g, _p in sorted(mass.items(), key=lambda kv: -kv[1]):
        if len(out) >= limit:
            break
        if g not in out:
            out.append(g)
    return out
