"""Accuracy floors on the first labelled evaluation set ``data/eval.jsonl`` (use-m3, six languages).

The independent set of issue 11 (``data/eval2``, held-out floors) is in ``test_matching_eval2.py``; the bank's
no-overlap rule in ``test_matching_bank.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from matching.bank import phrases
from matching.evaluate import evaluate, load_eval

LANGS = {"en", "es", "zh", "fr", "de", "pt"}


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return evaluate()


def test_eval_set_shape() -> None:
    items = load_eval()
    assert len(items) >= 300
    assert {i.lang for i in items} >= LANGS
    per_lang = Counter(i.lang for i in items)
    assert min(per_lang[lang] for lang in LANGS) >= 40
    groups = Counter(i.group for i in items)
    assert all(n >= 6 for n in groups.values())
    actions = {i.action for i in items}
    assert actions == {"SELL", "BUY", "OFFER_SERVICE", "SEEK_SERVICE"}
    # hard negatives: same category with another size/model; same brand in another category
    tires = {json.dumps(i.attributes, sort_keys=True) for i in items if i.category == "vehicles/tires"}
    assert len(tires) >= 2
    samsung = {i.category for i in items if i.attributes.get("brand") == "samsung"}
    assert len(samsung) >= 2


def test_no_leakage_between_bank_and_eval() -> None:
    bank = {p.text.lower().strip() for p in phrases()}
    for item in load_eval():
        t = item.text.lower().strip()
        assert t not in bank
        assert not any(len(p) > 25 and p in t for p in bank), item.text


def test_understanding_floors(result: dict[str, Any]) -> None:
    overall = result["understanding"]["all"]
    assert overall["action"] >= 0.95, result["errors"]
    assert overall["category"] >= 0.90, result["errors"]
    assert overall["attributes"] >= 0.90, result["errors"]
    for lang in LANGS:
        assert result["understanding"][lang]["action"] >= 0.9, lang
        assert result["understanding"][lang]["category"] >= 0.8, lang


def test_matching_floors(result: dict[str, Any]) -> None:
    m = result["matching"]
    assert m["corpus_all"]["non_en_top1"] >= 0.90, m
    assert m["corpus_en"]["non_en_top1"] >= 0.80, m
    for lang in LANGS:
        assert m["corpus_all"][lang]["top5"] >= 0.8, (lang, m)


def test_the_command_line_refuses_an_unknown_split_with_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from matching.evaluate import main

    with pytest.raises(SystemExit) as bad:
        main(["heldot"])
    assert bad.value.code == 2
    assert "usage: python -m matching.evaluate [eval|tune|tune2|heldout]" in capsys.readouterr().err
    with pytest.raises(SystemExit) as help_:
        main(["--help"])
    assert help_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_the_pair_evaluation_reads_each_split_from_its_set(capsys: pytest.CaptureFixture[str]) -> None:
    from matching.evaluate_pairs import load_split, main

    tune, tune_negs = load_split("tune")
    tune2, tune2_negs = load_split("tune2")  # data/eval3: its records say "tune", the split is its own
    tune3, tune3_negs = load_split("tune3")  # data/eval4, likewise
    tune4, tune4_negs = load_split("tune4")  # data/eval5, likewise
    assert len(tune2) > len(tune3) > len(tune) > 0 and tune2_negs and tune3_negs and tune_negs
    assert len(tune4) > len(tune) and tune4_negs
    concepts = [{p.concept for p in split} for split in (tune, tune2, tune3, tune4)]
    assert sum(map(len, concepts)) == len(set().union(*concepts))
    with pytest.raises(ValueError, match="split must be one of"):
        load_split("eval3")
    with pytest.raises(SystemExit) as bad:
        main(["tune5"])
    assert bad.value.code == 2
    usage = "usage: python -m matching.evaluate_pairs [tune|heldout|tune2|tune3|tune4]"
    assert usage in capsys.readouterr().err


def test_the_concept_interval_resamples_whole_concepts() -> None:
    from matching.evaluate_pairs import _concept_interval

    # every concept alike: no spread; [buyers, top-1 hits, agreements] per concept
    assert _concept_interval([[14.0, 7.0, 14.0]] * 40) == {
        "concepts": 40, "top1": [0.5, 0.5], "category_agreement": [1.0, 1.0],
    }  # fmt: skip
    # half the concepts all right, half all wrong: the interval holds .5 and is wide (one concept = 1/40)
    mixed = [[14.0, 14.0, 14.0]] * 20 + [[14.0, 0.0, 0.0]] * 20
    iv = _concept_interval(mixed)
    assert iv["top1"][0] < 0.5 < iv["top1"][1] and iv["top1"][1] - iv["top1"][0] > 0.2
    assert iv == _concept_interval(mixed), "seeded: the same interval every run"
    assert _concept_interval([]) == {"concepts": 0}
