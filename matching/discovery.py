"""Which taxonomy groups a search looks in: the discovery side of "a wrong fine category must not hide a
match".

Design (issue 11): DHT keys are made from the taxonomy's **top level** (``dht.keys.intent_key`` hashes the
group, "vehicles", never "vehicles/tires"), so a fine-category mistake on either side costs nothing: both
sides still store and look up the same key, and the local index ranks by fine category instead of filtering.
A query whose own group holds less than ``CONFIDENT_GROUP_MASS`` of its category distribution
also looks in the next group by mass, and one that holds less than ``LOST_GROUP_MASS`` (the classifier has
little idea) in the next ones up to ``MAX_SEARCH_GROUPS``. Publishing is the mirror image: an intent whose own
group holds less than ``PUBLISH_CONFIDENT_MASS`` is also filed under the next group by mass
(``extra_groups``, signed in ``Intent.extra_groups``: stored under that group's DHT key too and indexed in
that group's partitions), so two sides meet when either of them is unsure, not only when the searcher is.
A giveaway (``giveaway``) is filed and searched under both ``FREE_GROUP`` and its thing's own group, however
sure its category is: people file a thing given away either way. Measured on the tuning sets (before -> after,
non-English): top-1 tune3 .9357 -> .9369, tune4 .8728 -> .8750, top-5 tune3 .9881 -> .9905, tune4 .9665 ->
.9688, tune and tune2 the same; keys per publish tune2 1.516 -> 1.530, tune3 1.550 -> 1.561.
The goods/service form of an action follows the intent's category, so a search looks for both forms of the
other side in every group (``SIDES``): a wrong category never turns a SELL into an unseen OFFER_SERVICE.

Cost: per publish, 1 key for a confident intent, 2 for an unsure one (1.33 on average over eval2's tune
sellers and hard negatives; at most 1 + ``wire.limits.MAX_EXTRA_GROUPS`` accepted on the wire); per search,
the key cells within the radius times the groups (1 for a confident query, 2 when unsure, up to 5 when lost:
1.58 on average on eval2's tune split now, 1.67 when the rule was chosen), one GET each (a GET's action
filter is a side filter: both forms in one reply); a key holds the records of every category of its group and
the unsure intents filed there too (records per key and bytes per lookup grow with the group's share of the
traffic: measured in ``bench/matching.py``). Chosen on eval2's tune split (non-English top-1 / top-5 / keys
per publish): no extra group .867 / .949 / 1.00; own group < .90 -> one more .890 / .972 / 1.14; < .99 -> one
more (this rule, the searching side's threshold) .893 / .975 / 1.33; < .999 -> one more .893 / .975 / 1.54; <
.99 -> two more .898 / .980 / 1.65.
"""

from __future__ import annotations

from collections.abc import Mapping

from matching.cues import is_service_category, speaks
from matching.lexicon import fold, scope
from wire.intent import Action, Intent
from wire.taxonomy import group_of

#: At most this many groups per search (a query that has no idea what its item is).
MAX_SEARCH_GROUPS = 5
#: A query whose own group holds at least this much of its category mass searches that group only; below it,
#: the next group by mass too (``UNSURE_GROUPS`` in all); below ``LOST_GROUP_MASS``, ``MAX_SEARCH_GROUPS``.
#: Chosen on eval2's tune split, checked on both halves of its concepts (groups per search / non-en top-1:
#: one group 1.00 / -, own < .99 -> 3 groups 1.72 / .827, this rule 1.67 / .834, 5 groups whenever unsure
#: 2.6 / .839, every group with any mass 5.2 / .862).
#: Re-checked with unsure publishers filed twice (``extra_groups``; groups per search / non-en top-1): this
#: rule 1.58 / .893, own < .95 1.47 / .890, own < .90 1.41 / .888, lost below .5 1.38 / .878: kept.
CONFIDENT_GROUP_MASS = 0.99
UNSURE_GROUPS = 2
LOST_GROUP_MASS = 0.7
#: An intent whose own group holds less than this much of its mass is also filed under the next group
#: (``extra_groups``), at most ``MAX_EXTRA_PUBLISH`` more (the wire allows ``MAX_EXTRA_GROUPS``).
PUBLISH_CONFIDENT_MASS = 0.99
MAX_EXTRA_PUBLISH = 1
#: The category of things given away for nothing, and its group. A thing given away is filed by some people
#: under it and by others under the thing's own category: the labelled ads put a free sofa, kittens or
#: school books under furniture, pets or books, and free pallets, jars or boxes under ``other/free``; the
#: classifier files "免费送 旧沙发" (a sofa, free) under ``other/free`` and "Sofa zu verschenken" under
#: furniture. So a giveaway (``giveaway``) is filed and searched under both groups, whichever its category.
FREE_CATEGORY = "other/free"
FREE_GROUP = group_of(FREE_CATEGORY)
#: Categories (besides work: ``cues.is_service_category``) whose texts' "free" gives nothing away.
NEVER_GIVEN = ("property/",)


#: Both forms of each side, demand (True) and supply (False): the goods/service form of an action follows its
#: intent's own category, so a counterpart filed under another group than ours (a courier's OFFER_SERVICE
#: also filed under "food"; a buyer whose text was read as ``services/childcare``, SEEK_SERVICE, meeting the
#: SELL intents of ``kids/school``) may carry either form. A search looks for both in every group it
#: searches (one DHT GET per key: a GET's action filter is a side filter, ``dht.store.RecordStore.get``).
SIDES: dict[bool, tuple[Action, Action]] = {
    True: (Action.BUY, Action.SEEK_SERVICE),
    False: (Action.SELL, Action.OFFER_SERVICE),
}


def giveaway(intent: Intent) -> bool:
    """Whether ``intent`` gives a thing away or asks for one for nothing: its category is ``FREE_CATEGORY``,
    or it has no price and its text says so in its language's words (the tables' ``giveaway`` lists: "zu
    verschenken", "отдам даром", "免费送", "free to a good home"; not "free delivery", "envío gratis"), as
    ``says_giveaway`` reads it."""
    if intent.category == FREE_CATEGORY:
        return True
    if intent.price is not None and intent.price.amount_minor > 0:
        return False
    return says_giveaway(intent.text, intent.lang, intent.category)


def says_giveaway(text: str | None, lang: str | None, category: str) -> bool:
    """Whether ``text`` (in ``lang``) says a thing of ``category`` is given away or asked for free (the
    tables' ``giveaway`` lists). Work and homes are never given away: "first consultation free", "Wifi dan
    air gratis" (a room with free wifi and water) give nothing away."""
    if is_service_category(category) or category.startswith(NEVER_GIVEN):
        return False
    return bool(text) and speaks(fold(text or ""), "giveaway", scope(lang))


def _other_side_of_free(category: str, mass: Mapping[str, float]) -> str:
    """For a giveaway, the group its counterpart may have filed it under: the heaviest group that is not
    ``FREE_GROUP`` when it is in ``FREE_CATEGORY`` (the thing's own), else ``FREE_GROUP``."""
    if category != FREE_CATEGORY:
        return FREE_GROUP
    things = sorted((g for g, m in mass.items() if g != FREE_GROUP and m > 0.0), key=lambda g: -mass[g])
    return things[0] if things else FREE_GROUP


def extra_groups(category: str, probs: Mapping[str, float], free: bool = False) -> list[str]:
    """The other groups an intent is also filed under when its own holds too little of its mass.

    Publishing under the runner-up group too (``Intent.extra_groups``: one more DHT key, one more index row)
    lets a counterpart whose text was read into that group meet the intent, where that counterpart's search
    of its own groups would not look in ours.

    Args:
        category: the intent's (published) category.
        probs: the intent's category distribution (``LocalIndex.query_features``: its own category already
            holds ``features.CONFIRMED_SHARE``, as on the searching side).
        free: the intent is a giveaway (``giveaway``): also filed under the other group a giveaway may be
            filed under (``FREE_GROUP`` or the thing's own).

    Returns:
        No group when ``category``'s group holds at least ``PUBLISH_CONFIDENT_MASS`` of the mass, else the
        ``MAX_EXTRA_PUBLISH`` heaviest others; a giveaway's other group first (at most
        ``wire.limits.MAX_EXTRA_GROUPS`` in all).
    """
    mass = _group_mass(probs)
    own = group_of(category)
    out: list[str] = []
    if free:
        other = _other_side_of_free(category, mass)
        if other != own:
            out.append(other)
    if mass.get(own, 0.0) >= PUBLISH_CONFIDENT_MASS:
        return out
    others = sorted((g for g, m in mass.items() if g not in (own, *out) and m > 0.0), key=lambda g: -mass[g])
    return out + others[:MAX_EXTRA_PUBLISH]


def _group_mass(probs: Mapping[str, float]) -> dict[str, float]:
    mass: dict[str, float] = {}
    for code, p in probs.items():
        mass[group_of(code)] = mass.get(group_of(code), 0.0) + float(p)
    return mass


def search_groups(intent: Intent, probs: Mapping[str, float]) -> list[str]:
    """The groups a search for ``intent`` looks in: its own first, then unsure alternatives.

    Args:
        intent: the query (its category, possibly chosen by its human, comes first).
        probs: the query's category distribution (``LocalIndex.query_features``).

    Returns:
        1 to ``MAX_SEARCH_GROUPS`` group names.
    """
    mass = _group_mass(probs)
    out = [group_of(intent.category)]
    if giveaway(intent):
        other = _other_side_of_free(intent.category, mass)
        if other not in out:
            out.append(other)
    own = mass.get(out[0], 0.0)
    if own >= CONFIDENT_GROUP_MASS:
        return out
    wanted = UNSURE_GROUPS if own >= LOST_GROUP_MASS else MAX_SEARCH_GROUPS
    limit = min(MAX_SEARCH_GROUPS, wanted + len(out) - 1)  # a giveaway's other group comes on top
    for g, _p in sorted(mass.items(), key=lambda kv: -kv[1]):
        if len(out) >= limit:
            break
        if g not in out:
            out.append(g)
    return out
