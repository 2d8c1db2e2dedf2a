"""From a rating record on the wire to a :class:`~reputation.score.Rating`, with its evidence checked."""

from __future__ import annotations

from reputation.score import Rating
from wire.records import open_rating


def rating_from_record(record: bytes) -> Rating:
    """Verify a REPUTATION_SHARE record (signature, co-signed agreement, parties) and read its rating.

    Args:
        record: the signed record bytes (untrusted).

    Returns:
        The rating; its time is the deal's (the agreement's ``created``).

    Raises:
        RemoteProtocolError: the record or its evidence does not verify.
    """
    env, share = open_rating(record)
    return Rating(
        rater=env.author,
        subject=share.subject,
        deal=share.deal,
        stars=share.score,
        as_agreed=share.as_agreed,
        at=float(share.agreement.created),
        comment=share.comment,
    )
