"""The third tuning set ``matching/data/eval4/`` (``tune3``): eval2's format and checks, its own sizes.

Like ``test_eval2_data``, this reads the files with the standard library and ``wire`` only. Every record is a
``tune`` record (the set is for tuning; eval2's ``heldout`` stays the only held-out part), and the set shares
no concept and no text with eval2 or eval3 (``test_matching_bank.test_evaluation_splits_are_disjoint``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests import test_eval2_data as eval2
from wire.taxonomy import taxonomy

EVAL4 = Path(__file__).resolve().parent.parent / "matching" / "data" / "eval4"
MIN_CONCEPTS = 60
MIN_PAIRS = 900

Record = eval2.Record


@pytest.fixture(scope="module")
def pairs() -> list[Record]:
    return eval2.load("pairs", root=EVAL4)


@pytest.fixture(scope="module")
def negatives() -> list[Record]:
    return eval2.load("negatives", root=EVAL4)


def test_records_follow_eval2s_format(pairs: list[Record], negatives: list[Record]) -> None:
    eval2.test_pairs_are_well_formed(pairs)
    eval2.test_each_concept_has_one_seller_one_split_and_a_buyer_per_language(pairs)
    eval2.test_negatives_are_well_formed_and_near_their_seller(pairs, negatives)
    eval2.test_ids_and_texts_are_unique(pairs, negatives)


def test_every_record_is_for_tuning(pairs: list[Record], negatives: list[Record]) -> None:
    assert {r["split"] for r in pairs} | {r["split"] for r in negatives} == {"tune"}


def test_sizes_and_coverage(pairs: list[Record], negatives: list[Record]) -> None:
    concepts = {r["concept"]: r for r in pairs}
    assert len(concepts) >= MIN_CONCEPTS and len(pairs) >= MIN_PAIRS
    assert Counter(r["concept"] for r in negatives) == Counter(dict.fromkeys(concepts, 2))
    groups = {c.code.split("/")[0] for c in taxonomy().categories}
    assert {r["category"].split("/")[0] for r in concepts.values()} == groups, "every top-level group"
    leaves = {c.code for c in taxonomy().categories}
    # 60 concepts for 63 leaves: six authors, ten concepts each, at most three leaves of their groups left out
    assert len({r["category"] for r in concepts.values()}) >= len(leaves) - 8
    per_lang = Counter(r["buy"]["lang"] for r in pairs)
    assert set(per_lang) == set(eval2.LANGS) and len(set(per_lang.values())) == 1
