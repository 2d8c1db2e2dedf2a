"""reputation — reputation from real deals, as a pure function (sans-IO: no clocks, sockets or randomness).

Ratings come from verified REPUTATION_SHARE records (``wire.records.open_rating``); :func:`score_all`
turns them into scores (age, the rater's standing, a cap per counterparty, ring flags). ``market``
simulates honest traders, cheaters and Sybil rings to measure it.
"""

from reputation.evidence import rating_from_record
from reputation.score import Rating, Reputation, ScoreParams, score_all, score_subject, unrated

__all__ = [
    "Rating",
    "Reputation",
    "ScoreParams",
    "rating_from_record",
    "score_all",
    "score_subject",
    "unrated",
]
