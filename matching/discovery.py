"""Which taxonomy groups a search looks in: the discovery side of "a wrong fine category must not hide a
match".

Design (issue 11): DHT keys are made from the taxonomy's **top level** (``dht.keys.intent_key`` hashes the
group,
"vehicles", never "vehicles/tires"), so a fine-category mistake on either side costs nothing: both sides
still store and look up the same key, and the local index ranks by fine category instead of filtering.
A query whose classifier is unsure also looks in the groups of its next candidates, at most
``MAX_SEARCH_GROUPS`` in all and only those above ``EXPAND_MIN_PROB``. Publishing always uses one key.

Cost: one key per publish (as before); per search, the usual key cells times 1 group, or up to 3 for unsure
queries; a key holds the records of every category of its group (records per key and bytes per lookup grow
with the group's share of the traffic: measured in ``bench/matching.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from wire.intent import Intent

MAX_SEARCH_GROUPS = 3
#: Another group is searched too when the query gives it at least this probability.
EXPAND_MIN_PROB = 0.05


def group_of(code: str) -> str:
    """The taxonomy's top level of a category code ("vehicles/tires" -> "vehicles")."""
    return code.split("/", 1)[0]


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
    for g, p in sorted(mass.items(), key=lambda kv: -kv[1]):
        if len(out) >= MAX_SEARCH_GROUPS:
            break
        if p >= EXPAND_MIN_PROB and g not in out:
            out.append(g)
    return out
