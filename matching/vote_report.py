"""``python -m matching.vote_report SPLIT [SPLIT ...]``: how often each vote of the category classifier puts a
side of a tuning split in its gold category on its own, and how often the classifier does without it.

Theory of operation: every side of the split (each seller once, each buyer, each hard negative) is read as
``understand`` reads it at its author's place (a price without its currency in the local one, as
``evaluate_pairs``) and its votes taken apart (``understand.category_votes``, ``Classifier.votes``). Per role
(sellers with the hard negatives, buyers) and language (English, the others), for each vote: the share of
the texts that hear it whose best category by that vote alone is the gold one ("alone"), and the share of all
whose best category by the sum less that vote is ("without"); and the sum's own share ("sum", before the
owned/rented word pairs that ``Classifier.probabilities`` applies after the softmax, so it can differ from
``evaluate_pairs``' category by a few texts). A vote whose "without" beats "sum" costs more than it brings on
that split; one right alone where the sum is wrong shows what a heavier weight could win. "any vote" is the
share of texts that at least one vote alone puts right: where it is low, the votes lack the knowledge, and
no weighting finds a category none of them favours (a sum can still be right where no vote alone is).

The held-out split is refused: the weights are chosen on the tuning splits only, and held-out is read once
per decided change, by ``evaluate_pairs``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from matching.classify import VOTE_NAMES, Votes
from matching.embedder import Embedder, get_embedder
from matching.evaluate_pairs import SPLITS, Side, by_place_currency, load_split
from matching.understand import category_votes

#: Texts embedded and voted on per call (bounds the vote matrices: 7 x 256 x 63 floats).
BATCH = 256
#: Splits this report refuses (chosen on nothing, read only by ``evaluate_pairs``).
REFUSED = ("heldout",)
ROLES = ("sell", "buy")


def split_sides(split: str) -> list[tuple[Side, str, str]]:
    """``(side, gold category, role)`` of every side of a split: each seller once, every buyer, every hard
    negative (a seller).

    Raises:
        ValueError: an unknown split, or one this report refuses (``REFUSED``).
    """
    if split in REFUSED:
        raise ValueError(f"{split!r} is held out: it is read by evaluate_pairs only, never tuned on")
    pairs, negatives = load_split(split)
    out: list[tuple[Side, str, str]] = []
    sellers: set[str] = set()
    for p in pairs:
        if p.sell.id not in sellers:
            sellers.add(p.sell.id)
            out.append((p.sell, p.category, "sell"))
        out.append((p.buy, p.category, "buy"))
    out += [(side, category, "sell") for _, category, side in negatives]
    return out


def side_votes(sides: Sequence[Side], embedder: Embedder, progress: bool = False) -> Votes:
    """The votes on every side, in order, each read with its place's currency (``BATCH`` texts a call)."""
    weights: np.ndarray | None = None
    scores: np.ndarray | None = None
    codes: tuple[str, ...] = ()
    done = 0
    for currency, rows in by_place_currency(sides).items():
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            v = category_votes([sides[n].text for n in chunk], currency=currency, embedder=embedder)
            if weights is None or scores is None:
                codes = v.codes
                weights = np.zeros((len(sides), len(VOTE_NAMES)), dtype=np.float32)
                scores = np.zeros((len(VOTE_NAMES), len(sides), len(codes)), dtype=np.float32)
            weights[chunk] = v.weights
            scores[:, chunk] = v.scores
            done += len(chunk)
            if progress:
                print(f"  {done}/{len(sides)} texts", file=sys.stderr, flush=True)
    if weights is None or scores is None:
        raise ValueError("no sides to vote on")
    return Votes(codes, weights, scores)


def tally(votes: Votes, gold: Sequence[str]) -> dict[str, Any]:
    """For the texts of ``votes`` and their gold categories: ``n``, the sum's share right, ``any``: the share
    for which at least one vote alone is right, and per vote its ``alone`` share (of the texts that hear it,
    ``heard`` of them: it counts there and does not score every category the same, as the boosts of a text
    without any) and its ``without`` share."""
    col = np.array([votes.codes.index(g) for g in gold], dtype=np.int64)
    total = votes.total()
    out: dict[str, Any] = {"n": len(gold), "sum": _share(total, col), "votes": {}}
    some_right = np.zeros(len(gold), dtype=bool)
    for v, name in enumerate(VOTE_NAMES):
        weighted = votes.weights[:, v : v + 1] * votes.scores[v]
        # a vote hears a text when it counts there and tells its categories apart (no boost: says nothing)
        heard = (votes.weights[:, v] != 0.0) & (np.ptp(votes.scores[v], axis=1) > 0.0)
        some_right |= heard & (np.argmax(weighted, axis=1) == col)
        out["votes"][name] = {
            "heard": int(heard.sum()),
            "alone": _share(weighted[heard], col[heard]),
            "without": _share(total - weighted, col),
        }
    out["any"] = round(float(some_right.mean()), 4) if len(gold) else 0.0
    return out


def _share(scores: np.ndarray, col: np.ndarray) -> float:
    if not len(col):
        return 0.0
    return round(float(np.mean(np.argmax(scores, axis=1) == col)), 4)


def vote_report(split: str, embedder: Embedder | None = None, progress: bool = False) -> dict[str, Any]:
    """``tally`` per role and language group (``en``, ``non_en``) of one tuning split (module docstring).

    Raises:
        ValueError: as ``split_sides``.
    """
    sides = split_sides(split)
    votes = side_votes([s for s, _, _ in sides], embedder or get_embedder(), progress)
    out: dict[str, Any] = {"split": split}
    for role in ROLES:
        for group in ("en", "non_en"):
            rows = [
                n for n, (s, _, r) in enumerate(sides) if r == role and (s.lang == "en") == (group == "en")
            ]
            part = Votes(votes.codes, votes.weights[rows], votes.scores[:, rows])
            out[f"{role}_{group}"] = tally(part, [sides[n][1] for n in rows])
    return out


def report_lines(report: dict[str, Any]) -> list[str]:
    """``vote_report`` as a table: a row per vote, a column pair (alone / without) per role and group, and in
    brackets how many texts heard the vote when not all did."""
    keys = [f"{role}_{group}" for role in ROLES for group in ("en", "non_en")]
    head = "  ".join(f"{k + ' (' + str(report[k]['n']) + ')':>22}" for k in keys)
    title = f"split {report['split']}: a vote alone / the sum without it, share in the gold category"
    lines = [title, "", f"{'':16}{head}"]
    for name in VOTE_NAMES:
        cells = []
        for k in keys:
            v = report[k]["votes"][name]
            heard = "" if v["heard"] == report[k]["n"] else f" ({v['heard']})"
            cells.append(f"{v['alone']:.3f} / {v['without']:.3f}{heard}" if v["heard"] else "not heard")
        lines.append(f"{name:16}" + "  ".join(f"{c:>22}" for c in cells))
    lines.append(f"{'sum':16}" + "  ".join(f"{report[k]['sum']:>22.3f}" for k in keys))
    lines.append(f"{'any vote':16}" + "  ".join(f"{report[k]['any']:>22.3f}" for k in keys))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print each split's table (``--json``: one JSON line per split). Returns the exit code."""
    import argparse

    tuning = [s for s in SPLITS if s not in REFUSED]
    parser = argparse.ArgumentParser(
        prog="python -m matching.vote_report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("splits", nargs="+", metavar="SPLIT", help=f"one of {', '.join(tuning)}")
    parser.add_argument("--json", action="store_true", help="one JSON line per split")
    args = parser.parse_args(argv)
    bad = [s for s in args.splits if s not in tuning]
    if bad:
        held = [s for s in bad if s in REFUSED]
        why = f"{held[0]} is held out (read by evaluate_pairs only, never tuned on)" if held else "unknown"
        print(f"error: {why}: {', '.join(bad)}; choose from {', '.join(tuning)}", file=sys.stderr)
        return 2
    emb = get_embedder()
    for split in args.splits:
        print(f"{split}: voting ...", file=sys.stderr, flush=True)
        report = vote_report(split, emb, progress=not args.json)
        print(json.dumps(report) if args.json else "\n".join([*report_lines(report), ""]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
