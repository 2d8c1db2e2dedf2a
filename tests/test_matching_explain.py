"""Each vote of the category classifier on its own (``Classifier.votes``, ``understand.category_votes``) and
``metaspace understand --explain``, which shows them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from matching import understand
from matching.classify import TEMPERATURE_TEXTS, VOTE_NAMES
from matching.cli import main as cli_main
from matching.second import W_SECOND
from matching.understand import category_votes

# no words of an owned/rented or full/part-time pair: the distribution is the softmax of the votes' sum
TEXTS = [
    "Vendo sofá de cuero de 3 plazas, poco uso, 200 euros",
    "need tires 225/65R17",
    "पुराना सोफा बेचना है, 5 हज़ार रुपये",
    "bán xe máy Honda Wave cũ, 8 triệu đồng",
    "出售二手婴儿车，九成新",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_votes_add_up_to_the_distribution_understand_gives(text: str) -> None:
    votes = category_votes([text])
    assert votes.weights.shape == (1, len(VOTE_NAMES))
    assert votes.scores.shape == (len(VOTE_NAMES), 1, len(votes.codes))
    logits = votes.total()[0] / TEMPERATURE_TEXTS
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    u = understand(text)
    for code, p in u.candidates:
        assert probs[votes.codes.index(code)] == pytest.approx(p, abs=1e-5)
    assert votes.codes[int(np.argmax(probs))] == u.intent.category


def test_the_sum_is_each_vote_times_its_weight() -> None:
    votes = category_votes(TEXTS[:1])
    by_hand = sum(float(votes.weights[0, v]) * votes.scores[v, 0].astype(np.float64) for v in range(7))
    assert np.allclose(votes.total()[0], by_hand, atol=1e-5)


def test_the_second_encoder_is_heard_only_in_languages_the_embedder_was_not_trained_on() -> None:
    second = VOTE_NAMES.index("second encoder")
    votes = category_votes([TEXTS[2], TEXTS[0]])  # Hindi, Spanish: one batch, each row its own
    assert votes.weights[0, second] == pytest.approx(W_SECOND)
    assert votes.scores[second, 0].max() > 0.0
    assert votes.weights[1, second] == 0.0 and not votes.scores[second, 1].any()
    alone = category_votes([TEXTS[0]])
    assert np.allclose(alone.total()[0], votes.total()[1], atol=1e-5)


def test_explain_shows_every_vote_heard_and_where_the_chosen_category_stands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["understand", TEXTS[0], "--explain"]) == 0
    out = capsys.readouterr().out
    assert "category:   home/furniture" in out and "votes:" in out
    for name in ("item words", "whole text", "labelled ads", "n-grams", "linear model", "boosts", "sum"):
        line = next(x for x in out.splitlines() if x.startswith(f"  {name} "))
        assert "home/furniture" in line
    assert "second encoder" not in out  # not heard in Spanish

    assert cli_main(["understand", TEXTS[1], "--explain", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)["votes"]
    assert [row["vote"] for row in table][-1] == "sum"
    total = table[-1]
    assert total["best"][0]["code"] == "vehicles/tires" and total["chosen"]["rank"] == 1
    boosts = next(row for row in table if row["vote"] == "boosts")
    assert boosts["best"] and all(b["score"] > 0.0 for b in boosts["best"])  # only what they raise
    assert all(len(row["best"]) <= 3 for row in table)


def test_explain_of_bad_input_is_the_same_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["understand", "   ", "--explain"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: empty text") and "Traceback" not in err


def test_tally_counts_each_vote_alone_and_the_sum_without_it() -> None:
    from matching.classify import Votes
    from matching.vote_report import tally

    codes = ("a", "b", "c")
    weights = np.zeros((2, len(VOTE_NAMES)), dtype=np.float32)
    weights[:, 0] = 1.0  # item words: text 0 says a, text 1 says b
    weights[0, 1] = 2.0  # whole text, heard by text 0 only: c, outweighing item words
    scores = np.zeros((len(VOTE_NAMES), 2, 3), dtype=np.float32)
    scores[0] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    scores[1, 0] = [0.0, 0.0, 0.9]
    got = tally(Votes(codes, weights, scores), ["a", "b"])
    assert got["n"] == 2 and got["sum"] == 0.5  # text 0: c (1.8) beats a (1.0)
    item, whole = got["votes"]["item words"], got["votes"]["whole text"]
    assert (item["heard"], item["alone"], item["without"]) == (2, 1.0, 0.0)
    assert (whole["heard"], whole["alone"], whole["without"]) == (1, 0.0, 1.0)
    assert got["votes"]["n-grams"]["heard"] == 0
    assert got["any"] == 1.0  # text 0: item words; text 1: item words too


def test_the_vote_report_reads_tuning_splits_only(capsys: pytest.CaptureFixture[str]) -> None:
    from matching.evaluate_pairs import load_split
    from matching.vote_report import main, split_sides

    pairs, negatives = load_split("tune")
    sides = split_sides("tune")
    sellers = {p.sell.id for p in pairs}
    assert len(sides) == len(sellers) + len(pairs) + len(negatives)
    assert sum(role == "buy" for _, _, role in sides) == len(pairs)
    with pytest.raises(ValueError, match="held out"):
        split_sides("heldout")
    assert main(["heldout"]) == 2
    assert "held out" in capsys.readouterr().err
    assert main(["nonsense"]) == 2


def test_the_vote_report_sum_is_the_classifiers_category(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a few tuning pairs: the report's "sum" share is the share of sides whose understood category is
    the gold one (no text here names owned/rented or full/part-time words, which act after the sum)."""
    from matching import evaluate_pairs, vote_report
    from matching.evaluate_pairs import _understand_at

    pairs, _ = evaluate_pairs.load_split("tune2")
    few = [p for p in pairs if p.sell.lang != "en"][:40:4]
    monkeypatch.setattr(vote_report, "load_split", lambda split: (few, []))
    report = vote_report.vote_report("tune2")
    sides = vote_report.split_sides("tune2")
    emb = vote_report.get_embedder()
    unders = _understand_at([s for s, _, _ in sides], emb)
    for role in ("sell", "buy"):
        rows = [n for n, (s, _, r) in enumerate(sides) if r == role and s.lang != "en"]
        right = np.mean([unders[n].intent.category == sides[n][1] for n in rows])
        assert report[f"{role}_non_en"]["n"] == len(rows)
        assert report[f"{role}_non_en"]["sum"] == pytest.approx(right, abs=1e-4)


def test_the_report_table_names_every_vote_and_what_was_not_heard() -> None:
    from matching.classify import Votes
    from matching.vote_report import ROLES, report_lines, tally

    codes = ("a", "b")
    weights = np.zeros((2, len(VOTE_NAMES)), dtype=np.float32)
    weights[:, 0] = 1.0
    weights[1, 4] = 3.0  # the second encoder, heard by one text of two
    weights[:, 6] = 1.0  # boosts that count but raise nothing: not heard
    scores = np.zeros((len(VOTE_NAMES), 2, 2), dtype=np.float32)
    scores[0] = [[1.0, 0.0], [0.0, 1.0]]
    scores[4, 1] = [0.2, 0.1]
    part = tally(Votes(codes, weights, scores), ["a", "a"])
    report = {"split": "tune"} | {f"{r}_{g}": part for r in ROLES for g in ("en", "non_en")}
    lines = report_lines(report)
    assert lines[0].startswith("split tune:") and "sell_en (2)" in lines[2]
    rows = {line[:16].strip(): re.split(r"\s{2,}", line[16:].strip()) for line in lines[3:]}
    assert list(rows) == [*VOTE_NAMES, "sum", "any vote"]
    assert all(len(cells) == 4 for cells in rows.values())  # a cell per role and language group
    # item words: right for text 0 only; without them every score ties and the first code, a, wins
    assert rows["item words"][0] == "0.500 / 1.000"
    # the second encoder, heard by text 1 only, says a (right) but is outweighed there: the sum says b anyway
    assert rows["second encoder"][0] == "1.000 / 0.500 (1)" and rows["n-grams"][0] == "not heard"
    assert rows["boosts"][0] == "not heard"
    assert rows["sum"][0] == "0.500" and rows["any vote"][0] == "1.000"  # text 1: the second encoder
