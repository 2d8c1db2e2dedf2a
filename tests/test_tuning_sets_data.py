"""The later tuning sets ``matching/data/eval3/`` (``tune2``), ``eval4/`` (``tune3``) and ``eval5/``
(``tune4``): eval2's format and checks, each set's own sizes.

Like ``test_eval2_data``, this reads the files with the standard library and ``wire`` only. Every record is a
``tune`` record (the sets are for tuning; eval2's ``heldout`` stays the only held-out part), and no two sets
share a concept or a text (``test_matching_bank.test_evaluation_splits_are_disjoint``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import test_eval2_data as eval2
from wire.taxonomy import taxonomy

DATA = Path(__file__).resolve().parent.parent / "matching" / "data"

Record = eval2.Record


@dataclass(frozen=True)
class TuningSet:
    folder: str
    min_concepts: int
    min_pairs: int
    #: Leaf categories the set may leave out (eval4: 60 concepts for 63 leaves, six authors with ten each).
    leaves_missing: int


SETS = (TuningSet("eval3", 70, 1050, 2), TuningSet("eval4", 60, 900, 8), TuningSet("eval5", 64, 960, 0))


@pytest.fixture(scope="module", params=SETS, ids=[s.folder for s in SETS])
def tuning_set(request: pytest.FixtureRequest) -> tuple[TuningSet, list[Record], list[Record]]:
    s: TuningSet = request.param
    return s, eval2.load("pairs", root=DATA / s.folder), eval2.load("negatives", root=DATA / s.folder)


def test_records_follow_eval2s_format(tuning_set: tuple[TuningSet, list[Record], list[Record]]) -> None:
    _, pairs, negatives = tuning_set
    eval2.test_pairs_are_well_formed(pairs)
    eval2.test_each_concept_has_one_seller_one_split_and_a_buyer_per_language(pairs)
    eval2.test_negatives_are_well_formed_and_near_their_seller(pairs, negatives)
    eval2.test_ids_and_texts_are_unique(pairs, negatives)


def test_every_record_is_for_tuning(tuning_set: tuple[TuningSet, list[Record], list[Record]]) -> None:
    _, pairs, negatives = tuning_set
    assert {r["split"] for r in pairs} | {r["split"] for r in negatives} == {"tune"}


def test_sizes_and_coverage(tuning_set: tuple[TuningSet, list[Record], list[Record]]) -> None:
    s, pairs, negatives = tuning_set
    concepts = {r["concept"]: r for r in pairs}
    assert len(concepts) >= s.min_concepts and len(pairs) >= s.min_pairs
    assert Counter(r["concept"] for r in negatives) == Counter(dict.fromkeys(concepts, 2))
    groups = {c.code.split("/")[0] for c in taxonomy().categories}
    assert {r["category"].split("/")[0] for r in concepts.values()} == groups, "every top-level group"
    leaves = {c.code for c in taxonomy().categories}
    assert len({r["category"] for r in concepts.values()}) >= len(leaves) - s.leaves_missing
    per_lang = Counter(r["buy"]["lang"] for r in pairs)
    assert set(per_lang) == set(eval2.LANGS) and len(set(per_lang.values())) == 1
