"""Intents filed under a second taxonomy group (``Intent.extra_groups``, issue 11's "publish a
low-confidence intent under its top candidates"): the wire field's bounds, the publishing rule, the index's
rows in every group (search, dedupe, replace, remove, expire, rebuild, save/load), and both goods/service
forms per group."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from matching.discovery import (
    MAX_EXTRA_PUBLISH,
    MAX_SEARCH_GROUPS,
    PUBLISH_CONFIDENT_MASS,
    extra_groups,
    giveaway,
    search_groups,
)
from matching.index import LocalIndex
from matching.partition import IndexConfig
from tests.test_matching_index import NOW, HashEmbedder, mk
from wire import open_intent, seal_intent
from wire.codec import to_obj
from wire.errors import LocalProtocolError
from wire.identity import Identity
from wire.intent import Action, Intent, Price
from wire.limits import MAX_EXTRA_GROUPS
from wire.taxonomy import group_names


def filed(intent: Intent, *groups: str) -> Intent:
    return dataclasses.replace(intent, extra_groups=list(groups))


# -- wire ------------------------------------------------------------------------------------------------
def test_extra_groups_are_bounded_known_and_distinct() -> None:
    base = mk(1, category="home/furniture", text="leather sofa")
    assert base.groups == ("home",) and base.extra_groups is None
    assert filed(base, "kids").groups == ("home", "kids")
    assert filed(base, "kids", "fashion").groups == ("home", "kids", "fashion")
    assert MAX_EXTRA_GROUPS == 2 and {"home", "kids", "vehicles"} <= group_names()
    bad_lists = ([], ["kids", "fashion", "sports"], ["home"], ["kids", "kids"], ["nowhere"], ["home/x"])
    for bad in bad_lists:
        with pytest.raises(LocalProtocolError):
            filed(base, *bad)


def test_extra_groups_are_signed_and_absent_ones_change_nothing_on_the_wire() -> None:
    ident = Identity(bytes(range(32)))
    plain = dataclasses.replace(mk(1, category="home/furniture"), author=ident.pubkey)
    assert "extra_groups" not in to_obj(plain)  # the encoding of an intent without them is as before
    record = seal_intent(ident, filed(plain, "kids"))
    _env, back = open_intent(record)
    assert back.extra_groups == ["kids"] and back.groups == ("home", "kids")
    assert len(record) > len(seal_intent(ident, plain))


# -- the publishing rule ---------------------------------------------------------------------------------
def test_extra_groups_only_when_the_own_group_is_unsure() -> None:
    sure = {"home/furniture": 0.995, "kids/strollers": 0.005}
    assert extra_groups("home/furniture", sure) == []
    unsure = {"home/furniture": 0.6, "home/decor": 0.1, "kids/strollers": 0.2, "fashion/bags": 0.1}
    assert extra_groups("home/furniture", unsure) == ["kids"]  # the heaviest other group, never its own
    # the human picked a category of a group the classifier thought little of: the classifier's group is next
    assert extra_groups("fashion/bags", unsure) == ["home"]
    spread = {c: 0.1 for c in ("home/a", "kids/b", "fashion/c")}
    assert len(extra_groups("other/misc", spread)) == MAX_EXTRA_PUBLISH
    assert PUBLISH_CONFIDENT_MASS > 0.5


@pytest.mark.parametrize(
    ("text", "lang", "category", "price", "free"),
    [
        ("Sofa zu verschenken, nur Abholung", "de", "home/furniture", None, True),
        ("Отдам даром диван", "ru", "home/furniture", None, True),
        ("免费送 旧沙发 自提", "zh", "other/free", None, True),
        ("Free couch, must pick up", "en", "home/furniture", None, True),
        ("Busco palés de madera gratis", "es", "home/garden", None, True),
        ("소파 무료 나눔", "ko", "home/furniture", None, True),
        # free delivery, a free first consultation or a free gift with a priced thing give nothing away
        ("Vendo sofá, envío gratis", "es", "home/furniture", None, False),
        ("Продаю диван, бесплатная доставка", "ru", "home/furniture", None, False),
        ("iPhone 13 送料無料", "ja", "electronics/phones", None, False),
        ("Abogada laboralista, primera consulta gratuita", "es", "services/legal", None, False),
        ("Free shipping on all sofas", "en", "home/furniture", None, False),
        ("Bán điện thoại cũ, tặng ốp", "vi", "electronics/phones", Price(450_000_000, "VND"), False),
        ("Sofa zu verschenken", "de", "home/furniture", Price(5000, "EUR"), False),
        ("Selling a sofa", "en", "home/furniture", None, False),
        ("Terima kost campur, Wifi dan air gratis", "id", "property/rooms", None, False),  # a room
        ("Evinizin bahçe taşlarını yıkıyoruz, keşif ücretsiz", "tr", "home/garden", None, False),
        ("Vendo abono de tres días, cambio de nombre gratuito", "es", "sports/tickets", None, False),
    ],
)
def test_a_giveaway_is_told_by_its_words_and_no_price(
    text: str, lang: str, category: str, price: Price | None, free: bool
) -> None:
    intent = dataclasses.replace(mk(1, category=category, text=text, price=price), lang=lang)
    assert giveaway(intent) is free


def test_a_giveaway_is_filed_and_searched_under_free_things_and_its_things_group() -> None:
    """People file a thing given away under ``other/free`` or under the thing's own category (the labelled
    ads do both), so a giveaway is stored and looked for under both groups, even when sure of its category."""
    sofa = {"home/furniture": 0.999, "other/free": 0.001}
    assert extra_groups("home/furniture", sofa) == []
    assert extra_groups("home/furniture", sofa, free=True) == ["other"]
    as_free = {"other/free": 0.998, "home/furniture": 0.002}
    assert extra_groups("other/free", as_free, free=True) == ["home"]  # the thing's own group
    unsure = {"home/furniture": 0.6, "kids/strollers": 0.3, "other/free": 0.1}
    assert extra_groups("home/furniture", unsure, free=True) == ["other", "kids"]
    assert len(extra_groups("home/furniture", unsure, free=True)) <= MAX_EXTRA_GROUPS
    q = mk(100, action=Action.BUY, category="home/furniture", text="busco sofá gratis")
    q = dataclasses.replace(q, lang="es")
    assert search_groups(q, sofa) == ["home", "other"]
    q_free = dataclasses.replace(q, category="other/free", text="求免费的沙发")
    assert search_groups(q_free, as_free) == ["other", "home"]
    lost = {"home/furniture": 0.3, "kids/toys": 0.3, "fashion/bags": 0.2, "pets/dogs": 0.1}
    lost |= {"sports/books": 0.1}
    assert len(search_groups(q, lost)) == MAX_SEARCH_GROUPS  # never more, giveaway or not


# -- the index -------------------------------------------------------------------------------------------
@pytest.fixture
def index() -> LocalIndex:
    return LocalIndex(HashEmbedder())


def buyer(n: int, category: str, text: str) -> Intent:
    return mk(n, action=Action.BUY, category=category, text=text)


def test_a_buyer_in_the_runner_up_group_meets_the_seller(index: LocalIndex) -> None:
    index.add(filed(mk(1, category="home/furniture", text="brown leather sofa"), "kids"))
    index.add(mk(2, category="home/furniture", text="brown leather sofa"))  # the same ad, filed once
    q = buyer(100, "kids/strollers", "brown leather sofa")
    assert [m.intent.id[-1] for m in index.search(q, now=NOW)] == [1]
    # a search reaching both of its groups returns it once
    both = index.search(q, now=NOW, groups=["kids", "home"])
    assert sorted(m.intent.id[-1] for m in both) == [1, 2]
    assert len(index) == 2 and index.get((1).to_bytes(16, "big")) is not None


def test_replace_remove_and_expire_drop_every_row(index: LocalIndex) -> None:
    sofa = filed(mk(1, category="home/furniture", text="sofa", ttl=100), "kids")
    index.add(sofa)
    kids_q, home_q = buyer(100, "kids/strollers", "sofa"), buyer(101, "home/furniture", "sofa")
    # a new version filed in its own group only leaves the other group
    index.add(dataclasses.replace(sofa, seq=1, extra_groups=None))
    assert index.search(kids_q, now=NOW) == [] and len(index.search(home_q, now=NOW)) == 1
    index.add(dataclasses.replace(sofa, seq=2, extra_groups=["kids"]))
    assert len(index.search(kids_q, now=NOW)) == 1
    assert index.remove(sofa.id) and not index.remove(sofa.id)
    assert index.search(kids_q) == [] and index.search(home_q) == [] and len(index) == 0
    index.add(dataclasses.replace(sofa, seq=3))
    index.add(mk(2, category="home/furniture", text="sofa", ttl=10_000))
    assert index.expire(NOW + 200) == 1  # counted once, though it had two rows
    assert index.search(kids_q) == [] and [m.intent.id[-1] for m in index.search(home_q)] == [2]
    assert index.statistics()["expired"] == 1


def test_rebuilds_keep_each_row_of_an_intent_filed_twice() -> None:
    cfg = IndexConfig(compact_min_dead=4, compact_dead_fraction=0.2)
    index = LocalIndex(HashEmbedder(), cfg)
    index.add_many([mk(n, category="home/furniture", text=f"lamp {n}") for n in range(10, 30)])
    index.add(filed(mk(1, category="home/furniture", text="oak wardrobe"), "kids"))
    for n in range(10, 25):  # the home partition is compacted (rows move), the kids one is not
        index.remove(n.to_bytes(16, "big"))
    assert index.statistics()["compactions"] >= 1
    for cat in ("home/furniture", "kids/toys"):
        assert [m.intent.id[-1] for m in index.search(buyer(100, cat, "oak wardrobe"), k=1, now=NOW)] == [1]
    assert index.remove((1).to_bytes(16, "big"))
    assert index.search(buyer(101, "kids/toys", "oak wardrobe"), now=NOW) == []
    assert all(m.intent.id[-1] != 1 for m in index.search(buyer(102, "home/furniture", "oak wardrobe")))


def test_save_and_load_keep_one_copy_in_both_groups(index: LocalIndex, tmp_path: Path) -> None:
    index.add(filed(mk(1, category="home/furniture", text="sofa"), "kids"))
    index.add(mk(2, category="kids/toys", text="sofa"))
    index.save(tmp_path / "idx")
    loaded = LocalIndex.load(tmp_path / "idx", index.embedder)
    assert len(loaded) == 2 and loaded.statistics()["stale"] == 0  # saved once, not once per row
    got = loaded.search(buyer(100, "kids/toys", "sofa"), now=NOW)
    assert sorted(m.intent.id[-1] for m in got) == [1, 2]
    assert [m.intent.id[-1] for m in loaded.search(buyer(101, "home/furniture", "sofa"), now=NOW)] == [1]


def test_a_service_filed_under_a_goods_group_is_found_there(index: LocalIndex) -> None:
    """The goods/service form follows the intent's own category: a courier (OFFER_SERVICE) filed also under
    "food" is found by a food buyer (BUY), whose search there looks for both supply forms."""
    courier = mk(1, action=Action.OFFER_SERVICE, category="transport/courier", text="hot meals delivered")
    index.add(filed(courier, "food"))
    q = buyer(100, "food/produce", "hot meals delivered")
    assert [m.intent.id[-1] for m in index.search(q, now=NOW)] == [1]
    assert index.search(q, now=NOW, groups=["kids"]) == []
