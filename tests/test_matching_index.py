"""LocalIndex: filters, explanations, replace/remove/expire, layouts, persistence (fake embedder, fast)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from matching.embedder import l2_normalise
from matching.errors import EmbedderMismatchError, IndexFormatError
from matching.index import LocalIndex
from matching.partition import HNSW, IVF, IndexConfig
from matching.score import price_ok
from wire.geo import cell_at
from wire.intent import Action, Intent, Price

MADRID = (40.4168, -3.7038)
NOW = 1_700_000_000


class HashEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are similar. No model."""

    def __init__(self, dim: int = 64, model_id: str = "hash-test") -> None:
        self._dim = dim
        self._id = model_id
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(".", " ").replace(";", " ").split():
                seed = int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "big")
                out[i] += np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
        return l2_normalise(out + 1e-6)


class Recording(HashEmbedder):
    """HashEmbedder that records every text it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().embed(texts)


def mk(
    n: int,
    action: Action = Action.SELL,
    category: str = "vehicles/tires",
    attrs: dict[str, str] | None = None,
    price: Price | None = None,
    where: tuple[float, float] = MADRID,
    radius: int = 50,
    text: str = "tires",
    quantity: int = 1,
    author: int | None = None,
    seq: int = 0,
    ttl: int = 3600,
    withdrawn: bool = False,
) -> Intent:
    return Intent(
        id=n.to_bytes(16, "big"),
        author=(author if author is not None else n).to_bytes(32, "big"),
        seq=seq,
        action=action,
        category=category,
        attributes=attrs or {},
        price=price,
        quantity=quantity,
        cell=cell_at(where[0], where[1], 7),
        radius_km=radius,
        created=NOW,
        expires=NOW + ttl,
        text=text,
        lang="en",
        withdrawn=withdrawn,
    )


def usd(x: int) -> Price:
    return Price(x * 100, "USD")


@pytest.fixture
def index() -> LocalIndex:
    return LocalIndex(HashEmbedder())


def test_issue_scenario_filters(index: LocalIndex) -> None:
    near = (40.63, -3.70)  # ~24 km north
    index.add(mk(1, attrs={"size": "225/65R17", "condition": "used"}, price=usd(80), where=near, quantity=4))
    index.add(mk(2, attrs={"size": "205/55R16", "season": "winter"}, price=usd(60), where=near))
    index.add(mk(3, category="vehicles/bicycles", text="bicycle", price=usd(50), where=near))
    index.add(mk(4, attrs={"size": "225/65R17"}, price=usd(75), where=(41.65, -0.88)))  # Zaragoza, ~270 km
    index.add(mk(5, action=Action.BUY, attrs={"size": "225/65R17"}, price=usd(90), where=near))  # same side
    q = mk(100, action=Action.BUY, attrs={"size": "225/65R17"}, price=usd(70), text="llantas camioneta")
    res = index.search(q, k=10, now=NOW, category_probs={"vehicles/tires": 1.0})
    # the tires of another size, the far seller and the other buyer are filtered out; the bicycle (same group,
    # another fine category the query is sure it is not) is left out too
    assert [m.intent.id[-1] for m in res] == [1]
    # a query unsure between tires and bicycles sees the bicycle, ranked below, as a related category
    unsure = index.search(q, k=10, now=NOW, category_probs={"vehicles/tires": 0.6, "vehicles/bicycles": 0.4})
    assert [m.intent.id[-1] for m in unsure] == [1, 3]
    assert "related_category" in unsure[1].explanation.codes() and unsure[1].score < unsure[0].score
    m = res[0]
    assert "same_category" in m.explanation.codes()
    assert 0.0 <= m.score <= 1.0
    assert 15 < m.distance_km < 35
    codes = m.explanation.codes()
    assert "price_negotiable" in codes and "attribute_match" in codes
    assert "asks $80, you offered max $70 — negotiable" in m.explanation.text
    neg = next(r for r in m.explanation.reasons if r.code == "price_negotiable")
    assert neg.params["ask"] == 8000 and neg.params["max"] == 7000


def test_price_tolerance_is_configurable() -> None:
    strict = LocalIndex(HashEmbedder(), IndexConfig(price_tolerance=0.0))
    strict.add(mk(1, price=usd(80)))
    q = mk(100, action=Action.BUY, price=usd(70))
    assert strict.search(q) == []
    strict.add(mk(2, price=usd(70)))
    assert [m.intent.id[-1] for m in strict.search(q)] == [2]
    loose = LocalIndex(HashEmbedder(), IndexConfig(price_tolerance=0.2))
    loose.add(mk(1, price=usd(85)))  # 85 > 70 * 1.2 = 84
    assert loose.search(q) == []


def test_price_total_is_compared_per_unit(index: LocalIndex) -> None:
    index.add(mk(1, price=Price(32000, "USD", per_unit=False), quantity=4))  # $80 each
    assert len(index.search(mk(100, action=Action.BUY, price=usd(80)))) == 1
    assert index.search(mk(101, action=Action.BUY, price=usd(50))) == []


def test_seller_query_finds_buyers_within_their_max(index: LocalIndex) -> None:
    index.add(mk(1, action=Action.BUY, price=usd(90)))
    index.add(mk(2, action=Action.BUY, price=usd(40)))
    res = index.search(mk(100, price=usd(80)))
    assert [m.intent.id[-1] for m in res] == [1]
    assert "price_within" in res[0].explanation.codes()


def test_other_currency_and_missing_price_are_not_excluded(index: LocalIndex) -> None:
    index.add(mk(1, price=Price(8000, "EUR")))
    index.add(mk(2))
    res = index.search(mk(100, action=Action.BUY, price=usd(70)))
    codes = {m.intent.id[-1]: m.explanation.codes() for m in res}
    assert "price_currency_differs" in codes[1] and "price_unknown" in codes[2]


def test_a_price_a_hundred_times_off_is_misread_not_excluding(index: LocalIndex) -> None:
    """No buyer means a hundredth of an ask: one of the two prices lost a multiplier ("80 man", 800,000 yen,
    read as 80), so the pair is kept, its gap reported; a gap short of that still excludes."""
    index.add(mk(1, price=Price(750_000, "JPY")))
    misread = index.search(mk(100, action=Action.BUY, price=Price(80, "JPY")))
    assert [m.intent.id[-1] for m in misread] == [1]
    assert "price_unclear" in misread[0].explanation.codes()
    assert "one is likely misread" in misread[0].explanation.text
    assert index.search(mk(101, action=Action.BUY, price=Price(7_600, "JPY"))) == []  # 99x: a real gap
    # and from the seller's side: an ask 100x a buyer's max hides neither
    index.add(mk(2, action=Action.BUY, price=Price(80, "JPY")))
    index.add(mk(3, action=Action.BUY, price=Price(9_000, "JPY")))  # 89x: excluded
    assert [m.intent.id[-1] for m in index.search(mk(102, price=Price(800_000, "JPY")))] == [2]


def test_hard_attributes(index: LocalIndex) -> None:
    index.add(mk(1, category="electronics/phones", attrs={"model": "iphone 12", "storage": "128GB"}))
    index.add(mk(2, category="electronics/phones", attrs={"model": "iphone 12", "storage": "256GB"}))
    index.add(mk(3, category="electronics/phones", attrs={"model": "iphone 13", "storage": "128GB"}))
    index.add(mk(4, category="electronics/phones", attrs={"model": "iphone 12"}))
    q = mk(
        100,
        action=Action.BUY,
        category="electronics/phones",
        attrs={"model": "iphone 12", "storage": "128GB"},
    )
    res = index.search(q)
    assert sorted(m.intent.id[-1] for m in res) == [1, 4]
    m4 = next(m for m in res if m.intent.id[-1] == 4)
    assert "attribute_unknown" in m4.explanation.codes()


def test_geo_both_radii(index: LocalIndex) -> None:
    index.add(mk(1, where=(40.85, -3.70), radius=10))  # ~48 km away, seller only goes 10 km
    index.add(mk(2, where=(40.85, -3.70), radius=100))
    assert [m.intent.id[-1] for m in index.search(mk(100, action=Action.BUY, radius=60))] == [2]
    assert index.search(mk(101, action=Action.BUY, radius=20)) == []


def test_services_and_own_intents(index: LocalIndex) -> None:
    index.add(mk(1, action=Action.OFFER_SERVICE, category="services/moving", text="moving van"))
    index.add(mk(2, action=Action.SELL, category="services/moving", text="moving van"))
    index.add(mk(3, action=Action.OFFER_SERVICE, category="services/moving", text="moving van", author=100))
    res = index.search(mk(100, action=Action.SEEK_SERVICE, category="services/moving", text="moving"))
    # counterparts are the other side in either form (a SELL is supply too); never our own intent (3)
    assert sorted(m.intent.id[-1] for m in res) == [1, 2]


def test_a_counterpart_of_the_other_goods_service_form_is_found(index: LocalIndex) -> None:
    # the seller's randoseru is kids/school (SELL); the buyer's text was read as services/childcare, which
    # made it SEEK_SERVICE: searching the kids group it must still meet the SELL intent (the sides differ)
    index.add(mk(1, action=Action.SELL, category="kids/school", text="randoseru school bag black"))
    index.add(
        mk(2, action=Action.BUY, category="kids/school", text="randoseru school bag black")
    )  # same side
    q = mk(100, action=Action.SEEK_SERVICE, category="services/childcare", text="randoseru black")
    assert index.search(q, now=NOW) == []  # its own group only: services
    res = index.search(q, now=NOW, groups=["services", "kids"])
    assert [m.intent.id[-1] for m in res] == [1]
    # and the other way round: a supply query of the service form finds goods buyers of another group
    index.add(mk(3, action=Action.BUY, category="home/garden", text="birch firewood"))
    sup = mk(101, action=Action.OFFER_SERVICE, category="services/repairs", text="birch firewood")
    assert [m.intent.id[-1] for m in index.search(sup, now=NOW, groups=["services", "home"])] == [3]


def test_sides_hold_both_forms() -> None:
    from matching.discovery import SIDES

    assert SIDES[True] == (Action.BUY, Action.SEEK_SERVICE)
    assert SIDES[False] == (Action.SELL, Action.OFFER_SERVICE)
    assert all(a.demand for a in SIDES[True]) and not any(a.demand for a in SIDES[False])
    assert Action.BUY.demand and Action.SEEK_SERVICE.demand
    assert not Action.SELL.demand and not Action.OFFER_SERVICE.demand


def test_replace_remove_expire(index: LocalIndex) -> None:
    index.add(mk(1, price=usd(100)))
    q = mk(100, action=Action.BUY, price=usd(70))
    assert index.search(q) == []
    assert index.add(mk(1, price=usd(60), seq=1)) is True
    assert index.add(mk(1, price=usd(200), seq=1)) is False  # equal seq: ignored
    assert [m.intent.price for m in index.search(q)] == [usd(60)]
    assert index.add(mk(1, seq=2, withdrawn=True)) is True
    assert index.search(q) == [] and len(index) == 0
    index.add(mk(2, ttl=100))
    index.add(mk(3, ttl=10_000))
    assert [m.intent.id[-1] for m in index.search(q, now=NOW + 500)] == [3]
    assert index.expire(NOW + 500) == 1
    assert index.remove((3).to_bytes(16, "big")) is True
    assert index.remove((3).to_bytes(16, "big")) is False
    assert index.search(q) == []
    st_ = index.statistics()
    assert st_["expired"] == 1 and st_["removed"] == 1 and st_["intents"] == 0


def test_save_load_roundtrip(index: LocalIndex, tmp_path: Path) -> None:
    for n in range(1, 30):
        index.add(mk(n, attrs={"size": "225/65R17"}, text=f"tires code{n}", price=usd(50 + n)))
    index.remove((5).to_bytes(16, "big"))
    q = mk(100, action=Action.BUY, attrs={"size": "225/65R17"}, text="tires code7", price=usd(70))
    before = [(m.intent.id, round(m.score, 5)) for m in index.search(q, k=5)]
    index.save(tmp_path / "idx")
    index.add(mk(40, attrs={"size": "225/65R17"}, text="tires code7"))
    index.save(tmp_path / "idx")  # second generation replaces the first
    files = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert files == ["intents-2.cbor", "manifest.json", "vectors-2.npy"]
    emb = HashEmbedder()
    loaded = LocalIndex.load(tmp_path / "idx", emb)
    assert len(loaded) == 29
    calls = emb.calls
    loaded.remove((40).to_bytes(16, "big"))
    after = [(m.intent.id, round(m.score, 5)) for m in loaded.search(q, k=5)]
    assert after == before
    # the query, then its words and its first candidates' in one batch (matching.words); never stored intents
    assert emb.calls == calls + 2


def test_load_refuses_other_model_and_corruption(index: LocalIndex, tmp_path: Path) -> None:
    index.add(mk(1))
    index.save(tmp_path / "idx")
    with pytest.raises(EmbedderMismatchError):
        LocalIndex.load(tmp_path / "idx", HashEmbedder(model_id="other"))
    with pytest.raises(EmbedderMismatchError):
        LocalIndex.load(tmp_path / "idx", HashEmbedder(dim=32))
    (tmp_path / "idx" / "intents-1.cbor").write_bytes(b"\xff\x00garbage")
    with pytest.raises(IndexFormatError):
        LocalIndex.load(tmp_path / "idx", HashEmbedder())
    with pytest.raises(IndexFormatError):
        LocalIndex.load(tmp_path / "nothing", HashEmbedder())


def test_precomputed_vectors_must_match_model(index: LocalIndex) -> None:
    v = np.ones((1, 64), dtype=np.float32) / 8
    with pytest.raises(EmbedderMismatchError):
        index.add(mk(1), v, model_id="use-m3")
    with pytest.raises(EmbedderMismatchError):
        index.add(mk(1), np.ones((1, 32), dtype=np.float32), model_id="hash-test")
    with pytest.raises(EmbedderMismatchError):
        index.add(mk(1), v)
    assert index.add(mk(1), v, model_id="hash-test")


@pytest.mark.parametrize("kind", [IVF, HNSW])
def test_approximate_layouts_agree_with_exact(kind: str) -> None:
    rng = np.random.default_rng(1)
    n, dim = 600, 64
    vecs = l2_normalise(rng.standard_normal((n, dim)).astype(np.float32))
    intents = [mk(i + 1, where=MADRID if i % 3 else (48.85, 2.35)) for i in range(n)]
    exact = LocalIndex(HashEmbedder(), IndexConfig())
    approx = LocalIndex(
        HashEmbedder(), IndexConfig(approx_threshold=200, approx_kind=kind, exact_subset_max=0, ivf_nprobe=64)
    )
    exact.add_many(intents, vecs, "hash-test")
    approx.add_many(intents[:300], vecs[:300], "hash-test")
    approx.add_many(intents[300:], vecs[300:], "hash-test")
    assert approx.statistics()["layouts"] == {kind: 1}
    for i in range(0, 50, 7):
        approx.remove(intents[i].id)
        exact.remove(intents[i].id)
    recall = []
    for j in range(20):
        qv = vecs[j * 13 + 1] + 0.05 * rng.standard_normal(dim).astype(np.float32)
        q = mk(10_000 + j, action=Action.BUY)
        want = {m.intent.id for m in exact.search(q, k=10, vector=qv)}
        got = {m.intent.id for m in approx.search(q, k=10, vector=qv)}
        assert all(intents[i].id not in got for i in range(0, 50, 7))
        assert all(intents[i].cell == q.cell for i in range(n) if intents[i].id in got)  # geo filter held
        recall.append(len(want & got) / max(1, len(want)))
    assert np.mean(recall) >= 0.9


def test_compaction_keeps_results() -> None:
    index = LocalIndex(HashEmbedder(), IndexConfig(compact_min_dead=10, compact_dead_fraction=0.5))
    for n in range(1, 41):
        index.add(mk(n, text=f"tires code{n}"))
    for n in range(1, 31):
        index.remove(n.to_bytes(16, "big"))
    assert index.statistics()["compactions"] >= 1
    res = index.search(mk(100, action=Action.BUY, text="tires code35"), k=20)
    assert sorted(m.intent.id[-1] for m in res) == list(range(31, 41))
    assert res[0].intent.id[-1] == 35


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 10**6), st.floats(0, 1))
def test_price_rule(ask: int, max_pay: int, tol: float) -> None:
    assert price_ok(ask, max_pay, tol) == (ask <= max_pay * (1 + tol))
    if ask <= max_pay:
        assert price_ok(ask, max_pay, 0.0)


def test_a_precise_attribute_stated_alike_ranks_higher() -> None:
    from matching.score import combine_score
    from matching.signals import key_matches

    assert key_matches({"size": "225/65R17"}, {"size": "225/65R17", "brand": "michelin"}) == 1
    assert key_matches({"dimensions": "4x4"}, {"dimensions": "4x4,147x147", "capacity": "72Ah"}) == 1
    assert key_matches({"size": "225/65R17", "capacity": "72Ah"}, {"size": "235/60R18"}) == 0
    assert key_matches({}, {"size": "M"}) == 0
    # the seller who states the same tire size beats rims whose text is a little closer to the query's
    tires = combine_score(0.46, 1.0, 0.4, 1.0, 0, n_key_matches=1)
    rims = combine_score(0.58, 0.5, 0.4, 1.0, 0, n_key_matches=0)
    assert tires > rims
    # capped: many shared attributes do not outweigh everything else
    assert combine_score(0.1, 0.5, n_key_matches=5) == combine_score(0.1, 0.5, n_key_matches=2)


def test_search_groups_widen_with_doubt() -> None:
    from matching.discovery import MAX_SEARCH_GROUPS, search_groups

    q = mk(100, action=Action.BUY, category="kids/school", text="randoseru")
    sure = {"kids/school": 0.995, "fashion/bags": 0.005}
    assert search_groups(q, sure) == ["kids"]
    unsure = {"kids/school": 0.8, "fashion/bags": 0.15, "services/childcare": 0.05}
    assert search_groups(q, unsure) == ["kids", "fashion"]
    lost = {"kids/school": 0.2, "services/childcare": 0.3, "fashion/bags": 0.2, "vehicles/bicycles": 0.1}
    lost |= {"home/tools": 0.08, "sports/camping": 0.07, "pets/dogs": 0.05}
    got = search_groups(q, lost)
    assert len(got) == MAX_SEARCH_GROUPS  # its own, then the next groups by mass; sports and pets left out
    assert got == ["kids", "services", "fashion", "vehicles", "home"]


def test_identifiers_fold_accents() -> None:
    from matching.signals import coverage, identifiers

    es, pt = identifiers("batería de coche 72Ah"), identifiers("bateria de carro 72 Ah")
    assert "bateria" in es and "bater" not in es and "72ah" in es
    assert coverage(identifiers("experiência Galaxy S23"), identifiers("Galaxy S23 experiencia")) == 1.0
    assert "bateria" in es & pt


def test_identifiers_join_a_word_and_a_number_written_apart() -> None:
    from matching.signals import identifiers

    assert "pro2" in identifiers("Suche AirPods Pro 2, bitte original") & identifiers("AirPods Pro2 (USB-C)")
    assert "pro2" not in identifiers("AirPods 3rd gen, Pro case")
    assert {"256gb", "ga2100", "rtx3080"} <= identifiers("256 GB, GA-2100, RTX 3080")
    assert identifiers("256 GB") & identifiers("256GB") == {"256", "256gb"}
    # only a word and a number side by side: not across a comma or a full stop, not two words or numbers
    assert not {"pro2", "size42", "2025"} & identifiers("Pro, 2 left. Size. 42 20 25")


def test_a_model_designator_with_another_number_conflicts() -> None:
    from matching.signals import designator_conflict, designators, identifiers

    pad6 = designators(identifiers("Anyone selling a Xiaomi Pad 6? 128GB, up to 230"))
    assert pad6 == {"pad": "6"}  # not "to" (a stopword) nor "128gb" (a number before its unit)
    assert designator_conflict(pad6, identifiers("Xiaomi Pad 5 de 128 GB, 150 €"))
    assert not designator_conflict(pad6, identifiers("Vendo Xiaomi Pad 6 de 128 GB"))
    assert not designator_conflict(pad6, identifiers("Funda para Xiaomi Pad 5 / Pad 6"))  # names both
    assert not designator_conflict(pad6, identifiers("Xiaomi tablet"))  # says nothing of it
    assert designators(identifiers("JLPT N2 books, Dr Martens UK 8")) == {"n": "2", "uk": "8"}
    assert designators(identifiers("pago Rs 450, USD 20, de 128, up to 230")) == {}  # prices, quantities


def test_a_generation_after_a_model_is_read_and_conflicts() -> None:
    from matching.signals import generation_conflict, identifiers

    t30 = identifiers("Busco Fuji X-T30, solo cuerpo, hasta 650 €")
    t30_ii = identifiers("Vendo Fujifilm X-T30 II negra, cuerpo")
    assert "t30~2" in t30_ii and not any("~" in t for t in t30)
    assert generation_conflict(t30, t30_ii) and generation_conflict(t30_ii, t30)
    assert not generation_conflict(t30_ii, identifiers("富士 X-T30 II ボディ"))  # the same generation
    assert generation_conflict(identifiers("Sony A7 III body"), identifiers("Sony A7 IV, 2 batteries"))
    assert "5d~4" in identifiers("Canon EOS 5D Mark IV") and "a7~3" in identifiers("a7 mk3")
    assert not generation_conflict(t30, identifiers("Sony A7 III"))  # another model: not this signal
    assert not any("~" in t for t in identifiers("Volume II of the series, chapter iv"))  # no model before


def test_sets_conflict_only_when_they_share_no_value() -> None:
    from matching.signals import conflicts, key_matches

    assert conflicts({"animal": "cat"}, {"animal": "dog"}) == ["animal"]
    assert conflicts({"animal": "cat"}, {"animal": "cat,dog"}) == []  # a sitter of both takes cats
    assert key_matches({"role": "waiter"}, {"role": "waiter"}) == 1
    assert conflicts({"language": "english"}, {"role": "teacher"}) == []  # only one side states it


def test_a_measure_compares_within_a_tolerance() -> None:
    from matching.signals import conflicts, key_matches

    assert conflicts({"volume": "12l"}, {"volume": "8l"}) == ["volume"]
    assert conflicts({"volume": "0.5l"}, {"volume": "0.33l"}) == ["volume"]
    assert key_matches({"volume": "5l"}, {"volume": "5.2l,1l"}) == 1
    assert conflicts({"length": "7cm"}, {"length": "12cm"}) == ["length"]
    assert conflicts({"length": "320cm"}, {"length": "330cm"}) == []
    assert conflicts({"gender": "male"}, {"gender": "female"}) == ["gender"]  # not a measure: equal or not
    assert key_matches({"gender": "male"}, {"gender": "male"}) == 1


def test_search_lowers_the_other_generation_of_the_designated_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import matching.index

    def pad5_score() -> float:
        index = LocalIndex(HashEmbedder())
        index.add(mk(1, category="electronics/tablets", text="Xiaomi Pad 5 tablet, 128 GB"))
        q = mk(3, action=Action.BUY, category="electronics/tablets", text="Xiaomi Pad 6 tablet, 128 GB")
        return index.search(q, k=1)[0].score

    told = pad5_score()
    monkeypatch.setattr(matching.index, "designators", lambda ids: {})
    assert told < pad5_score() - 0.05  # a conflict's weight, halved by the word alignment


def test_identifiers_join_a_hyphened_name_whose_parts_are_too_short_alone() -> None:
    from matching.signals import identifiers

    assert "fzs" in identifiers("Vendo Yamaha FZ-S modelo 2021") & identifiers("求购雅马哈FZ-S，2021年款")
    assert "fzs" not in identifiers("Yamaha FZ 2021, S size")  # only across a hyphen
    assert {"crv", "nbox"} <= identifiers("Honda CR-V, ホンダ N-BOX")
    assert "wellknown" not in identifiers("a well-known brand")  # both parts are words of their own


def test_identifiers_read_a_japanese_era_year_as_the_gregorian_year() -> None:
    from matching.signals import identifiers

    assert "2018" in identifiers("H30年式 ホンダ N-BOX 走行4.2万km") & identifiers("Honda N-BOX del 2018")
    assert "2018" not in identifiers("H26年式 ホンダ N-BOX G") and "2014" in identifiers("H26年式 N-BOX")
    assert {"2019", "1990", "2026"} <= identifiers("令和元年 / 平成 2 年 / 車検R8年3月")
    # a letter glued to something else before it is no era
    assert "1930" not in identifiers("5s5年") and "1930" not in identifiers("s 5年")


def test_identifier_weights_count_what_the_index_holds_by_rarity() -> None:
    import math

    from matching.signals import coverage, identifiers

    index = LocalIndex(HashEmbedder())
    ads = ["global santoku knife tokyo", "kai santoku tokyo", "rice cooker tokyo", "desk lamp tokyo"]
    index.add_many([mk(i + 1, category="home/kitchen", text=t) for i, t in enumerate(ads)])
    q = identifiers("mutfak global santoku tokyo")
    w = index._id_weights(q)
    assert "mutfak" in q and "mutfak" not in w  # in no ad: cannot tell two ads apart, left out
    assert w["global"] == pytest.approx(math.log(5 / 1))
    assert w["santoku"] == pytest.approx(math.log(5 / 2))
    assert w["tokyo"] == pytest.approx(math.log(5 / 4))
    # the rare shared word counts most: the Global ad covers far more of the query than the Kai one
    assert coverage(q, identifiers(ads[0]), w) > 2 * coverage(q, identifiers(ads[1]), w)
    assert coverage(q, identifiers(ads[0]), w) == pytest.approx(1.0)
    assert coverage(q, identifiers("nothing shared"), w) == 0.0
    assert coverage(q, identifiers(ads[0]), {}) == 0.0
    # the query's own intent, indexed too (an agent indexes its own), is not an ad having its words
    own = mk(9, action=Action.BUY, category="home/kitchen", text="mutfak global santoku tokyo")
    index.add_many([own])
    assert index._id_weights(q, index._ids[own.id]) == pytest.approx(w)
    assert "mutfak" in index._id_weights(q)  # without saying whose intent it is, it would count
    index.remove(own.id)
    # the counts follow removals, expiry and replacement, and are given back
    index.remove((1).to_bytes(16, "big"))
    assert "global" not in index._id_weights(q) and index._df["santoku"] == 1
    index.add_many([mk(2, category="home/kitchen", text="kai gyuto", seq=1)])  # a newer version of ad 2
    assert "santoku" not in index._df and index._df["gyuto"] == 1
    index.expire(NOW + 10**6)
    assert index._df == {} and index._id_weights(q) == {}


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-89.9, 89.9),
    st.floats(-180.0, 179.99),
    st.integers(0, 400),
    st.lists(
        st.tuples(st.floats(-3.0, 3.0), st.floats(-6.0, 6.0), st.integers(0, 400)),
        min_size=1,
        max_size=9,
    ),
)
@example(10.0, 179.9, 60, [(0.0, 0.3, 60), (0.1, -0.4, 60), (0.0, 1.5, 60)])  # across the antimeridian
@example(10.0, -179.9, 60, [(0.0, -0.3, 60), (0.1, 0.4, 60)])
@example(89.5, 0.0, 200, [(0.2, 179.0, 200), (-0.3, 90.0, 200), (0.0, -120.0, 200)])  # over the pole
@example(-60.0, 20.0, 300, [(0.0, 5.9, 300), (2.0, -5.0, 300), (-2.5, 4.0, 300)])  # high latitude, wide
def test_geo_box_never_drops_a_row_within_reach(
    lat: float, lon: float, radius: int, offsets: list[tuple[float, float, int]]
) -> None:
    """The latitude/longitude box (the place-ordered runs and the tail) is only a shortcut: near the poles and
    across the antimeridian the rows kept are exactly those the great-circle rule keeps (cell centres, both
    radii)."""
    from wire.geo import cell_radius_km, center, haversine_km

    index = LocalIndex(HashEmbedder())
    rows = []
    for n, (dlat, dlon, r) in enumerate(offsets, start=1):
        where = (max(-89.99, min(89.99, lat + dlat)), ((lon + dlon + 180.0) % 360.0) - 180.0)
        rows.append(mk(n, where=where, radius=r))
    vecs = l2_normalise(np.ones((len(rows), 64), dtype=np.float32))
    half = len(rows) // 2 + 1
    index.add_many(rows[:half], vecs[:half], "hash-test")  # in place order (``place.py``)
    index.add_many(rows[half:], vecs[half:], "hash-test")  # the partition's unordered tail
    q = mk(10_000, action=Action.BUY, where=(lat, lon), radius=radius)
    got = {m.intent.id for m in index.search(q, k=50, vector=vecs[0], category_probs={"vehicles/tires": 1.0})}
    qc = center(q.cell)
    want = {
        i.id
        for i in rows
        if haversine_km(qc, center(i.cell)) - cell_radius_km(q.cell) - cell_radius_km(i.cell)
        <= min(q.radius_km, i.radius_km) - 1e-6
    }
    border = {
        i.id
        for i in rows
        if abs(
            haversine_km(qc, center(i.cell))
            - cell_radius_km(q.cell)
            - cell_radius_km(i.cell)
            - min(q.radius_km, i.radius_km)
        )
        <= 1e-6
    }
    assert want <= got and got <= want | border


@pytest.mark.parametrize("scan", ["int8", "fp16"])
def test_coded_scan_returns_what_the_exact_scan_returns(scan: str) -> None:
    from matching.partition import SCAN_EXACT

    rng = np.random.default_rng(3)
    n, dim = 3000, 64
    vecs = l2_normalise(rng.standard_normal((n, dim)).astype(np.float32))
    intents = [mk(i + 1, where=(40.0 + rng.random(), -4.0 + rng.random())) for i in range(n)]
    coded = LocalIndex(HashEmbedder(), IndexConfig(scan=scan))
    exact = LocalIndex(HashEmbedder(), IndexConfig(scan=SCAN_EXACT))
    coded.add_many(intents, vecs, "hash-test")
    exact.add_many(intents, vecs, "hash-test")
    for j in range(20):
        qv = vecs[j * 17] + 0.3 * rng.standard_normal(dim).astype(np.float32)
        q = mk(10_000 + j, action=Action.BUY, where=(40.5, -3.5))
        a = coded.search(q, k=10, vector=qv)
        b = exact.search(q, k=10, vector=qv)
        assert [m.intent.id for m in a] == [m.intent.id for m in b]
        assert [m.similarity for m in a] == pytest.approx([m.similarity for m in b], abs=1e-6)


def test_a_price_like_the_buyers_ranks_higher() -> None:
    """Two sellers alike in every other way: the one asking about the buyer's figure comes first, a lesser
    item of the same kind (a fraction of the price) second; another currency is not compared."""
    from matching.score import MAX_PRICE_GAP, W_PRICE_GAP, W_WORDS, price_gaps

    index = LocalIndex(HashEmbedder())
    v = l2_normalise(np.ones((3, 64), dtype=np.float32))
    index.add_many(
        [mk(1, price=usd(70)), mk(2, price=usd(120)), mk(3, price=Price(7000, "EUR"))], v, "hash-test"
    )
    q = mk(100, action=Action.BUY, price=usd(125))
    qv = l2_normalise(np.r_[np.ones(32), np.zeros(32)].astype(np.float32))[0]  # cosine 0.71: no score clipped
    res = index.search(q, k=3, vector=qv, category_probs={"vehicles/tires": 1.0})
    assert [m.intent.id[-1] for m in res] == [3, 2, 1]  # EUR: no gap; 120: a small one; 70: a big one
    # the same words on every side: the word alignment moves all three alike (``score.with_words``)
    assert res[0].score - res[2].score == pytest.approx(
        W_PRICE_GAP * min(MAX_PRICE_GAP, np.log(125 / 70)) / (1 + W_WORDS), abs=1e-6
    )
    assert price_gaps(100.0, np.array([100.0, np.nan, 0.0, 300.0])) == pytest.approx([0, 0, 0, np.log(3)])


def test_explanations_are_built_when_read_and_kept(
    index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matching.index as index_module

    calls: list[int] = []
    real = index_module.explain

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(index_module, "explain", counting)
    index.add(mk(1, attrs={"size": "225/65R17"}, price=usd(80)))
    (m,) = index.search(mk(100, action=Action.BUY, attrs={"size": "225/65R17"}), now=NOW)
    assert calls == []  # ranking built no explanation
    first = m.explanation
    assert "attribute_match" in first.codes() and m.explanation is first and calls == [1]


def test_a_second_filing_is_not_cut_as_unrelated() -> None:
    """A seller unsure of its category files under a second group too (``extra_groups``); a buyer searching
    that group meets it even when the buyer's classifier gives the seller's own category no mass."""
    index = LocalIndex(HashEmbedder())
    bed = mk(1, category="vehicles/cars", text="springbed 160x200 divan sandaran")
    bed = replace(bed, extra_groups=("home",))
    chair = mk(2, category="home/kitchen", text="bar stools pair oak")
    index.add_many([bed, chair])
    q = mk(3, action=Action.BUY, category="home/furniture", text="spring mattress with base wanted")
    probs = {"home/furniture": 1.0}
    found = [m.intent.id for m in index.search(q, now=NOW, groups=["home"], category_probs=probs)]
    assert bed.id in found  # filed here second: kept, ranked by its similarity and (zero) category mass
    assert chair.id not in found  # filed here first, another fine category, unrelated: cut as before


def test_an_accessory_for_the_designated_model_conflicts() -> None:
    from matching.signals import accessory_conflict, designators, identifiers, main_identifiers

    def conflict(query: str, cand: str) -> bool:
        return accessory_conflict(designators(identifiers(query)), identifiers(cand), cand)

    assert conflict("Bose QC45 हेडफ़ोन चाहिए", "Étui rigide pour casque Bose QC45, neuf")
    assert conflict("Busco Xiaomi Pad 6", "Funda con teclado para Xiaomi Pad 6")
    assert conflict("Cần mua laptop Dell XPS 13", "Dock Dell WD19S, perfetto per XPS. 60 €")
    # the thing itself, even when it also names what comes with it
    assert not conflict("Busco Xiaomi Pad 6", "Vendo Xiaomi Pad 6, con funda para Pad 6")
    assert not conflict("Bose QC45", "Bose QC45 headphones for travel")
    assert main_identifiers("Étui pour casque Bose QC45. Neuf") == identifiers("Étui. Neuf")
