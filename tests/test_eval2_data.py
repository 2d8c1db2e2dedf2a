"""The independent matching evaluation set ``matching/data/eval2/``: loader and validator.

The format is documented in ``matching/data/eval2/README.md``. This test reads the files with nothing but
the standard library and ``wire`` (taxonomy, currency, intent limits, geo), never ``matching`` code, so
the set stays independent of the system it measures. It checks structure, gold facts, geography, the
tune/heldout split by whole concept and the minimum sizes.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from wire import geo
from wire.intent import INVERSE, Action, Price
from wire.limits import MAX_ATTR_KEY_LEN, MAX_ATTR_VALUE_LEN, MAX_ATTRIBUTES, MAX_QUANTITY, MAX_TEXT_LEN
from wire.taxonomy import category_codes, taxonomy

EVAL2 = Path(__file__).resolve().parent.parent / "matching" / "data" / "eval2"
LANGS = ("en", "es", "zh", "fr", "de", "pt", "ar", "hi", "vi", "ja", "ru", "ko", "it", "tr", "id")
SPLITS = ("tune", "heldout")
BOUNDS = frozenset({"exact", "max", "min", "approx"})
PERS = frozenset({"hour", "day", "night", "week", "month", "kg", "lesson", "visit", "trip"})
NO_ACTION_PREFIXES = ("property/", "jobs/", "transport/car-rental")
SERVICE_PREFIXES = ("services/", "transport/rideshare", "transport/courier")
PAIR_KEYS = {"id", "split", "concept", "category", "sell", "buy"}
NEG_KEYS = {"id", "split", "concept", "category", "kind", "conflict", "sell"}
SIDE_KEYS = {"lang", "text", "lat", "lon", "gold"}
GOLD_KEYS = {"action", "price", "quantity", "attributes"}
CONCEPT_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ATTR_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
MIN_CONCEPTS = 60
MIN_PAIRS = 720
MIN_HELDOUT_PER_LANG = 50
BUY_KM = (10.0, 40.0)
#: Minimum share of a non-Latin-script text's letters (and combining marks) in its own script.
OWN_SCRIPT_SHARE = 0.3
NEGATIVE_KM = 3.0

Record = dict[str, Any]


def load(name: str, split: str | None = None, root: Path = EVAL2) -> list[Record]:
    """Records of ``pairs.jsonl`` or ``negatives.jsonl``, optionally of one split.

    Args:
        name: ``"pairs"`` or ``"negatives"``.
        split: ``"tune"``, ``"heldout"`` or None for both.
        root: the folder holding the files (the shipped set by default).

    Returns:
        The decoded records, in file order.

    Raises:
        ValueError: a line is not a JSON object (the message names the file and line).
    """
    path = root / f"{name}.jsonl"
    out: list[Record] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path.name}:{n}: not JSON: {e}") from e
        if not isinstance(rec, dict):
            raise ValueError(f"{path.name}:{n}: not a JSON object")
        if split is None or rec.get("split") == split:
            out.append(rec)
    return out


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km (haversine, mean Earth radius)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC", "DEVANAGARI", "CYRILLIC"):
        if name.startswith(script) or f" {script} " in f" {name} ":
            return script
    return "OTHER"


def script_ok(lang: str, text: str) -> bool:
    """True when the letters of ``text`` are in the script(s) ``lang`` is written in.

    Brand and model names in Latin letters are allowed in every language; at least ``OWN_SCRIPT_SHARE`` of
    the letters of a non-Latin-script language are in its own script (Japanese must contain kana, Chinese
    Han and no kana or Hangul); a Latin-script language is written (almost) only in Latin letters.
    """
    counts = Counter(_script(ch) for ch in text if unicodedata.category(ch)[0] in "LM")
    letters = sum(counts.values()) or 1
    own = {
        "zh": counts["CJK"],
        "ja": counts["HIRAGANA"] + counts["KATAKANA"] + counts["CJK"],
        "ko": counts["HANGUL"],
        "ar": counts["ARABIC"],
        "hi": counts["DEVANAGARI"],
        "ru": counts["CYRILLIC"],
    }
    if lang == "zh":
        return own["zh"] > 0 and counts["HIRAGANA"] + counts["KATAKANA"] + counts["HANGUL"] == 0
    if lang == "ja":
        return counts["HIRAGANA"] + counts["KATAKANA"] > 0
    if lang in own:
        return own[lang] / letters >= OWN_SCRIPT_SHARE
    return counts["LATIN"] / letters >= 0.95


@pytest.fixture(scope="module")
def pairs() -> list[Record]:
    return load("pairs")


@pytest.fixture(scope="module")
def negatives() -> list[Record]:
    return load("negatives")


def _check_gold(gold: Any, role: str, category: str, where: str) -> None:
    assert isinstance(gold, dict) and GOLD_KEYS - {"action"} <= set(gold) <= GOLD_KEYS, where
    if category.startswith(NO_ACTION_PREFIXES):
        assert "action" not in gold, f"{where}: no action convention for {category}"
    else:
        service = category.startswith(SERVICE_PREFIXES)
        want = {("sell", False): "SELL", ("buy", False): "BUY"}.get((role, service))
        want = want or ("OFFER_SERVICE" if role == "sell" else "SEEK_SERVICE")
        assert gold.get("action") == want, f"{where}: action {gold.get('action')} != {want}"
    p = gold["price"]
    if p is not None:
        assert set(p) <= {"amount_minor", "currency", "per_unit", "bound", "per"}, where
        Price(p["amount_minor"], p["currency"], p["per_unit"])  # wire validates amount and ISO-4217 code
        assert isinstance(p["amount_minor"], int) and p["amount_minor"] > 0, where
        assert isinstance(p["per_unit"], bool) and p["bound"] in BOUNDS, where
        assert p.get("per", "hour") in PERS, where
    q = gold["quantity"]
    assert q is None or (isinstance(q, int) and not isinstance(q, bool) and 1 <= q <= MAX_QUANTITY), where
    attrs = gold["attributes"]
    assert isinstance(attrs, dict) and len(attrs) <= MAX_ATTRIBUTES, where
    for k, v in attrs.items():
        assert ATTR_KEY_RE.fullmatch(k) and len(k) <= MAX_ATTR_KEY_LEN, f"{where}: attribute key {k!r}"
        assert isinstance(v, str) and 0 < len(v) <= MAX_ATTR_VALUE_LEN, f"{where}: attribute {k}={v!r}"


def _check_side(side: Any, role: str, category: str, where: str) -> None:
    keys = SIDE_KEYS | ({"id"} if role == "sell" else set())
    assert isinstance(side, dict) and set(side) == keys, f"{where}: keys {sorted(side)}"
    assert side["lang"] in LANGS, f"{where}: language {side['lang']!r}"
    text = side["text"]
    assert isinstance(text, str) and 0 < len(text) <= MAX_TEXT_LEN and text == text.strip(), where
    assert script_ok(side["lang"], text), f"{where}: text is not written as {side['lang']}: {text!r}"
    lat, lon = side["lat"], side["lon"]
    assert isinstance(lat, float) and isinstance(lon, float), where
    assert -90 <= lat <= 90 and -180 <= lon <= 180, where
    assert geo.is_cell(geo.cell_at(lat, lon, geo.MAX_INTENT_RES)), where
    _check_gold(side["gold"], role, category, where)


def test_pairs_are_well_formed(pairs: list[Record]) -> None:
    codes = category_codes()
    for r in pairs:
        where = r.get("id", "?")
        assert set(r) == PAIR_KEYS, f"{where}: keys {sorted(r)}"
        assert CONCEPT_RE.fullmatch(r["concept"]), where
        assert r["split"] in SPLITS, where
        assert r["category"] in codes, f"{where}: unknown category {r['category']!r}"
        assert r["id"] == f"{r['concept']}/{r['buy'].get('lang')}", where
        assert r["sell"].get("id") == f"{r['concept']}/sell", where
        _check_side(r["sell"], "sell", r["category"], f"{where} sell")
        _check_side(r["buy"], "buy", r["category"], f"{where} buy")
        if "action" in r["sell"]["gold"]:
            assert INVERSE[Action(r["sell"]["gold"]["action"])] == Action(r["buy"]["gold"]["action"]), where
        km = km_between((r["sell"]["lat"], r["sell"]["lon"]), (r["buy"]["lat"], r["buy"]["lon"]))
        assert BUY_KM[0] <= km <= BUY_KM[1], f"{where}: buyer {km:.1f} km from the seller"


def test_each_concept_has_one_seller_one_split_and_a_buyer_per_language(pairs: list[Record]) -> None:
    by_concept: dict[str, list[Record]] = defaultdict(list)
    for r in pairs:
        by_concept[r["concept"]].append(r)
    for concept, recs in by_concept.items():
        assert len({json.dumps(r["sell"], sort_keys=True) for r in recs}) == 1, f"{concept}: several sellers"
        assert len({r["split"] for r in recs}) == 1, f"{concept}: split across tune and heldout"
        assert len({r["category"] for r in recs}) == 1, f"{concept}: several categories"
        assert sorted(r["buy"]["lang"] for r in recs) == sorted(LANGS), f"{concept}: languages"


def test_negatives_are_well_formed_and_near_their_seller(
    pairs: list[Record], negatives: list[Record]
) -> None:
    codes = category_codes()
    seller = {r["concept"]: r for r in pairs}
    for r in negatives:
        where = r.get("id", "?")
        assert set(r) == NEG_KEYS, f"{where}: keys {sorted(r)}"
        assert r["concept"] in seller, f"{where}: unknown concept"
        assert re.fullmatch(re.escape(r["concept"]) + r"/neg[1-9][0-9]*", r["id"]), where
        assert r["sell"].get("id") == r["id"], where
        assert r["split"] == seller[r["concept"]]["split"], f"{where}: split differs from its concept"
        assert r["category"] in codes, f"{where}: unknown category {r['category']!r}"
        assert r["kind"] in ("attribute", "nearby"), where
        conflict = r["conflict"]
        assert isinstance(conflict, dict) and (bool(conflict) == (r["kind"] == "attribute")), where
        _check_side(r["sell"], "sell", r["category"], where)
        for k, v in conflict.items():
            assert r["sell"]["gold"]["attributes"].get(k) == v, f"{where}: conflict {k} not in its gold"
        s = seller[r["concept"]]["sell"]
        km = km_between((s["lat"], s["lon"]), (r["sell"]["lat"], r["sell"]["lon"]))
        assert km <= NEGATIVE_KM, f"{where}: {km:.1f} km from the concept's seller"
    assert set(seller) <= {r["concept"] for r in negatives}, "every concept has a hard negative"


def test_ids_and_texts_are_unique(pairs: list[Record], negatives: list[Record]) -> None:
    ids = [r["id"] for r in pairs] + [r["id"] for r in negatives]
    assert len(ids) == len(set(ids))
    sellers = {r["sell"]["id"]: r["sell"]["text"] for r in pairs}
    texts = [r["buy"]["text"] for r in pairs] + list(sellers.values())
    texts += [r["sell"]["text"] for r in negatives]
    dupes = [t for t, n in Counter(" ".join(t.lower().split()) for t in texts).items() if n > 1]
    assert not dupes, f"duplicated texts: {dupes[:5]}"


def test_sizes_and_coverage(pairs: list[Record], negatives: list[Record]) -> None:
    concepts = {r["concept"]: r for r in pairs}
    assert len(concepts) >= MIN_CONCEPTS
    assert len(pairs) >= MIN_PAIRS
    assert len(negatives) >= len(concepts)
    groups = {c.code.split("/")[0] for c in taxonomy().categories}
    assert {r["category"].split("/")[0] for r in concepts.values()} == groups, "every top-level group"
    heldout = Counter(r["buy"]["lang"] for r in pairs if r["split"] == "heldout")
    assert all(heldout[lang] >= MIN_HELDOUT_PER_LANG for lang in LANGS), heldout
    tune_share = sum(r["split"] == "tune" for r in concepts.values()) / len(concepts)
    assert 0.25 <= tune_share <= 0.45, tune_share


def test_loader_filters_by_split_and_reports_bad_lines(tmp_path: Path) -> None:
    tune, heldout = load("pairs", "tune"), load("pairs", "heldout")
    assert tune and heldout and len(tune) + len(heldout) == len(load("pairs"))
    assert {r["concept"] for r in tune}.isdisjoint(r["concept"] for r in heldout)
    (tmp_path / "pairs.jsonl").write_text('{"id": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.jsonl:2: not a JSON object"):
        load("pairs", root=tmp_path)
    (tmp_path / "pairs.jsonl").write_text('{"id": 1}\n{"id": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.jsonl:2: not JSON"):
        load("pairs", root=tmp_path)


def test_script_check_tells_languages_apart() -> None:
    assert script_ok("ja", "ゴルフ7の左ヘッドライト")
    assert not script_ok("ja", "求购大众高尔夫7左前大灯")
    assert script_ok("zh", "求购大众高尔夫7左前大灯")
    assert not script_ok("ru", "Golf 7 sol far lazım")
    assert script_ok("tr", "Golf 7 sol far lazım")
    assert not script_ok("fr", "Нужна левая фара")
    assert script_ok("hi", "पेरिस में MacBook Air M1 चाहिए, 256GB वाला")
    assert not script_ok("hi", "MacBook Air M1 256GB wala chahiye")
