"""Match vectors (``matching.features``): the lead clause, what is embedded, indexes of an older formula."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import matching
from matching.canonical import item_view
from matching.features import (
    FEATURES_VERSION,
    W_ITEM,
    W_LEAD,
    W_RAW,
    combine,
    features,
    lead_text,
    reading_digest,
    reading_files,
)
from matching.index import LocalIndex
from tests.test_matching_index import HashEmbedder, Recording, mk


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("Durian montong asli, daging tebal kuning, manis legit. Harga 65rb/kg", "Durian montong asli"),
        ("家庭手工水饺，猪肉白菜馅，皮薄馅大，现包现冻。50个一袋", "家庭手工水饺 猪肉白菜馅"),
        ("Sofa, grey, 3 seats. 200 EUR", "Sofa grey 3 seats"),  # clauses joined up to LEAD_MIN_CHARS
        ("Ведро 10 л — 4 000 ₽, самовывоз", "Ведро 10 л 4 000 ₽"),  # 10 characters: the next clause too
        ("Bicicleta 1.500 ₽ y 2,5jt. Nueva", "Bicicleta 1.500 ₽ y 2,5jt"),  # numbers are not clause ends
        ("need tires 225/65R17", "need tires 225/65R17"),  # one clause: its own lead
        ("WTB 2017 CR-V AWD\nunder 80k miles", "WTB 2017 CR-V AWD"),
        (" , . ", " , . "),  # nothing but marks: the text itself
        ("", ""),
    ],
)
def test_lead_text(text: str, lead: str) -> None:
    assert lead_text(text) == lead


def test_the_lead_is_embedded_only_when_it_is_not_the_whole_text() -> None:
    emb = Recording()
    short = mk(1, text="winter tires 225/65R17")
    long = mk(2, text="winter tires 225/65R17, four of them, used one season, pickup in the centre")
    f = features([short, long], emb, probs=False)
    assert emb.texts.count("winter tires 225/65R17") == 2  # the long ad's lead, and the short ad's raw text
    assert len(emb.texts) == 5  # two raw texts, two item renderings, one lead
    # a text that is its own lead: the vector is the two-part formula with the raw text counted as the lead
    raw, item = emb.embed([short.text or ""]), emb.embed([emb.texts[2]])
    assert np.allclose(f.vectors[0], combine(raw, item)[0], atol=1e-5)
    expected = (W_RAW + W_LEAD) * raw + W_ITEM * item
    assert np.allclose(f.vectors[0], expected[0] / np.linalg.norm(expected), atol=1e-5)


def test_the_lead_pulls_a_long_ad_towards_its_item() -> None:
    emb = HashEmbedder()
    text = "durian montong, thick yellow flesh, sweet, small seeds, cut at the stall, open evenings, per kg"
    ad = mk(1, text=text)
    q = emb.embed(["durian montong"])[0]
    with_lead = features([ad], emb, probs=False).vectors[0]
    raw, item = emb.embed([text]), emb.embed([item_view(ad).rendering])
    without = combine(raw, item)[0]  # the raw text in the lead's place
    assert float(with_lead @ q) > float(without @ q) + 0.05


def test_an_index_saved_with_another_formula_or_reading_is_recomputed_on_load(tmp_path: Path) -> None:
    emb = HashEmbedder()
    index = LocalIndex(emb)
    index.add_many([mk(1, text="winter tires 225/65R17, four of them, used one season")])
    index.save(tmp_path / "idx")
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["features"] == FEATURES_VERSION
    vec_file = tmp_path / "idx" / manifest["vectors"]
    fresh = np.load(vec_file)
    np.save(vec_file, np.roll(fresh, 1, axis=1).astype(np.float32))  # an older formula's (other) vectors
    kept = LocalIndex.load(tmp_path / "idx", HashEmbedder())
    assert not np.allclose(_vectors(kept), fresh)  # same version: the saved vectors are used as they are
    assert manifest["reading"] == reading_digest()
    for change in ({"reading": "0" * 64}, {"reading": None}, {"features": None}):
        # saved from other bank phrases or word tables, or before the reading (or the version) was recorded
        manifest_path.write_text(json.dumps({**manifest, **change}))
        redone = LocalIndex.load(tmp_path / "idx", HashEmbedder())
        assert np.allclose(_vectors(redone), fresh, atol=1e-6), change


def _vectors(index: LocalIndex) -> np.ndarray:
    parts = [p.all_vectors()[p.keep_rows()] for p in index._parts.values()]
    return np.concatenate(parts)


def test_the_view_reads_a_product_line_as_words_not_as_its_goods() -> None:
    # understanding glosses "G-Shock" as a watch (``canonical.find_glosses``); the view, which sets the match
    # vector and how widely the intent is filed and searched, does not (``item_view`` says why)
    text = "Jual G-Shock GA-2100 hitam, garansi resmi"
    attrs = {"brand": "casio", "line": "g-shock"}
    view = item_view(mk(1, category="fashion/watches", attrs=attrs, text=text))
    assert "watch" not in view.rendering.split(".")[0] and "fashion/watches" not in view.gloss_categories
    assert "g-shock" in view.rendering


#: The package data the item rendering does not read (so not in ``reading_digest``), and why.
UNREAD = {
    "data/eval": "evaluation sets (eval.jsonl, eval2 ... eval5, eval_ads)",
    "data/examples/": "the classifier's labelled ads: category probabilities, not the match vector",
    "data/adapter-": "the classifier's fitted adapter",
    "data/linear-": "the classifier's linear model",
    "data/places.tsv.gz": "place names: the location, not the rendering",
}


def test_every_data_file_is_in_the_reading_digest_or_said_not_to_be_read() -> None:
    # a new word table or bank folder the rendering reads must reach the digest, or a saved index would keep
    # vectors of the old reading; one it does not read is named in UNREAD with its reason
    root = Path(matching.__file__).parent
    read = reading_files()
    assert len(read) == len(set(read)) and all((root / name).is_file() for name in read)
    for path in sorted((root / "data").rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_dir() or path.name == "README.md" or "__pycache__" in name:
            continue
        assert name in read or name.startswith(tuple(UNREAD)), name
    assert any(n.startswith("data/bank_wide/") for n in read) and "data/lang/common.json" in read
    assert len(reading_digest()) == 64
