"""The scoring core: age, standing, caps per counterparty, rings, the observer, and the record path."""

from __future__ import annotations

import dataclasses
import random

import pytest

from reputation import Rating, ScoreParams, rating_from_record, score_all, score_subject, unrated
from reputation.score import DAY_S, raters_to_expand
from tests.test_wire_records import forge
from tests.test_wire_strategies import ALICE, BOB, rating_of
from wire.errors import RemoteProtocolError
from wire.messages import MsgType
from wire.records import seal_rating

NOW = 1_800_000_000.0
X = b"X" * 32


def agent(name: str) -> bytes:
    return name.encode().ljust(32, b".")


_deal_ids = iter(range(1, 10**9))


def rated(
    rater: bytes, subject: bytes, stars: int = 5, *, agreed: bool = True, days_ago: float = 1.0
) -> Rating:
    return Rating(rater, subject, next(_deal_ids).to_bytes(16, "big"), stars, agreed, NOW - days_ago * DAY_S)


def trader(name: str, partners: int = 4) -> list[Rating]:
    """An established trader: ``partners`` distinct counterparts, each rated by two others too."""
    me = agent(name)
    out = []
    for i in range(partners):
        p = agent(f"{name}-p{i}")
        out += [rated(p, me), rated(me, p)]
        out += [rated(agent(f"{name}-p{i}-q{j}"), p) for j in range(2)]
    return out


def test_an_agent_nobody_rated_is_neutral_and_new():
    rep = score_subject(X, [], NOW)
    assert rep == unrated(X) and rep.score == 50.0 and rep.level == "new" and rep.flags == ("new",)
    assert rep.to_dict()["score"] == 50.0


def test_value_combines_stars_and_as_agreed():
    assert rated(X, X, 5).value == 1.0 and rated(X, X, 1, agreed=False).value == 0.0
    assert rated(X, X, 5, agreed=False).value == rated(X, X, 1).value == 0.5


def test_the_observers_own_deal_counts_fully_a_strangers_little():
    me, stranger = agent("me"), agent("stranger")
    mine = score_subject(X, [rated(me, X)], NOW, observer=me)
    theirs = score_subject(X, [rated(stranger, X)], NOW, observer=me)
    assert mine.score == pytest.approx(100 * (1 + 1) / 3, abs=0.5)  # prior 2 at 0.5, one full 5-star
    assert 50 < theirs.score < mine.score
    assert score_subject(X, [rated(me, X, 1, agreed=False)], NOW, observer=me).score < 40


def test_older_deals_weigh_less():
    me = agent("me")
    fresh = score_subject(X, [rated(me, X, days_ago=1)], NOW, observer=me).score
    old = score_subject(X, [rated(me, X, days_ago=360)], NOW, observer=me).score
    future = score_subject(X, [rated(me, X, days_ago=-30)], NOW, observer=me).score
    assert 50 < old < fresh and future == pytest.approx(score_subject(X, [rated(me, X, days_ago=0)], NOW,
                                                                       observer=me).score)  # fmt: skip


def test_one_counterpartys_ratings_are_capped():
    # Ten deals with one well-standing partner weigh about what two do...
    partner = trader("partner")
    many = partner + [rated(agent("partner"), X) for _ in range(10)]
    two = partner + [rated(agent("partner"), X) for _ in range(2)]
    assert score_all(many, NOW)[X].score - score_all(two, NOW)[X].score < 2.0
    # ...and far less than ten deals with ten different well-standing traders.
    ten = [r for i in range(10) for r in trader(f"t{i}")] + [rated(agent(f"t{i}"), X) for i in range(10)]
    assert score_all(ten, NOW)[X].score > score_all(many, NOW)[X].score + 10


def test_standing_counts_a_newcomers_praise_less_than_an_established_traders():
    established = [*trader("est"), rated(agent("est"), X)]
    newcomer = [rated(agent("fresh"), X)]
    assert score_all(established, NOW)[X].score > score_all(newcomer, NOW)[X].score > 50
    liar = trader("liar")
    liar = [
        dataclasses.replace(r, stars=1, as_agreed=False) if r.subject == agent("liar") else r for r in liar
    ]
    assert score_all([*liar, rated(agent("liar"), X)], NOW)[X].score < score_all(newcomer, NOW)[X].score


def test_fresh_identities_count_together_as_one_newcomer():
    one = [rated(agent("f0"), X)]
    fifty = [rated(agent(f"f{i}"), X) for i in range(50)]
    assert score_all(fifty, NOW)[X].score == pytest.approx(score_all(one, NOW)[X].score, abs=3.0)


def test_one_rating_per_deal_per_rater_and_no_self_rating():
    r = rated(agent("a"), X)
    assert score_all([r, r, dataclasses.replace(r, stars=1)], NOW)[X].ratings == 1
    assert score_all([rated(X, X)], NOW) == {}


def test_rings_are_flagged_and_count_as_one_counterparty():
    def ring(n: int) -> list[Rating]:
        members = [agent(f"s{i}") for i in range(n)]
        return [rated(a, b) for a in members for b in members if a != b for _ in range(3)]

    small, big = score_all(ring(4), NOW), score_all(ring(30), NOW)
    assert all(rep.ring and "ring" in rep.flags for rep in small.values())
    assert big[agent("s0")].score == pytest.approx(small[agent("s0")].score, abs=1.5)  # 30 ~ 4
    assert big[agent("s0")].score < 55 and big[agent("s0")].ring_ratings == 29 * 3
    # the observer's own rating of a ring member is not discounted
    seen = score_all([*ring(4), rated(agent("me"), agent("s0"))], NOW, observer=agent("me"))
    assert seen[agent("s0")].score > small[agent("s0")].score + 10


def test_order_does_not_matter_and_inputs_are_bounded():
    ratings = [r for i in range(6) for r in trader(f"t{i}")] + [rated(agent(f"t{i}"), X) for i in range(6)]
    shuffled = list(ratings)
    random.Random(3).shuffle(shuffled)
    assert score_all(ratings, NOW) == score_all(shuffled, NOW)
    capped = score_all(ratings, NOW, ScoreParams(max_ratings=5))
    assert sum(rep.ratings for rep in capped.values()) == 5


@pytest.mark.parametrize(
    "bad", [{"prior_weight": 0}, {"neutral": 1.5}, {"iterations": 0}, {"ring_factor": -0.1}, {"pair_cap": 0}]
)
def test_params_are_checked(bad):
    with pytest.raises(ValueError):
        ScoreParams(**bad)


def test_raters_to_expand_prefers_recent_counterparts():
    ratings = [rated(agent(f"r{i}"), X, days_ago=i) for i in range(20)] + [rated(X, agent("r0"))]
    assert raters_to_expand(X, ratings, limit=3) == [agent("r0"), agent("r1"), agent("r2")]


def test_a_rating_record_becomes_a_rating_only_with_its_evidence():
    share = rating_of(ALICE, BOB, score=4, as_agreed=False, comment="late")
    r = rating_from_record(seal_rating(ALICE, share))
    assert (r.rater, r.subject, r.deal, r.stars, r.as_agreed, r.comment) == (
        ALICE.pubkey, BOB.pubkey, share.deal, 4, False, "late",
    )  # fmt: skip
    assert r.at == share.agreement.created
    with pytest.raises(RemoteProtocolError):
        rating_from_record(forge(BOB, MsgType.REPUTATION_SHARE, share))  # Bob can't rate himself
