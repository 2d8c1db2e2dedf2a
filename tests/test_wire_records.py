"""Agent profiles and ratings as signed records: shapes, sizes, and the evidence a rating must carry."""

from __future__ import annotations

import dataclasses

import pytest

from tests.test_wire_strategies import ALICE, BOB, cosigned_agreement, rating_of, tire_intent
from wire import cbor
from wire.envelope import DOMAIN, ENVELOPE_VERSION, open_envelope, seal, seal_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity
from wire.limits import MAX_INTENT_TTL_S, MAX_PROFILE_BYTES, MAX_RATING_COMMENT
from wire.messages import AgentProfile, Autonomy, MsgType, ReputationShare, TrustEvidence, encode_body
from wire.records import (
    PROFILE_RECORD_ID,
    check_rating,
    open_profile,
    open_rating,
    open_record,
    seal_profile,
    seal_rating,
)

CAROL = Identity(bytes(range(2, 34)))
T = 1_790_000_000


def profile(**changes: object) -> AgentProfile:
    fields: dict[str, object] = {
        "seq": 1, "created": T, "expires": T + 3600, "protocols": ["/metaspace/negotiate/1.0.0"],
        "handle": "@ana/llantas", "languages": ["es", "en"], "categories": ["vehicles/tires", "home/*"],
        "autonomy": Autonomy.ASKS_BIG,
    }  # fmt: skip
    fields.update(changes)
    return AgentProfile(**fields)  # type: ignore[arg-type]


def forge(identity: Identity, mtype: MsgType, msg: object) -> bytes:
    """A correctly signed envelope that ``seal`` would refuse to make (oversized, or wrong evidence)."""
    body = encode_body(msg)
    sig = identity.sign(DOMAIN + cbor.encode([ENVELOPE_VERSION, int(mtype), identity.pubkey, body]))
    return cbor.encode([ENVELOPE_VERSION, int(mtype), identity.pubkey, body, sig])


# ---------------------------------------------------------------------------------------------- profiles


def test_a_profile_round_trips_and_is_indexed_as_one_record_per_agent():
    record = seal_profile(ALICE, profile())
    env, got = open_profile(record)
    assert got == profile() and env.author == ALICE.pubkey
    _, view = open_record(record)
    assert (view.author, view.id, view.seq, view.action, view.withdrawn) == (
        ALICE.pubkey, PROFILE_RECORD_ID, 1, None, False,
    )  # fmt: skip


def test_a_minimal_profile_says_only_what_it_serves():
    minimal = AgentProfile(seq=1, created=T, expires=T + 60, protocols=["/metaspace/trust/1.0.0"])
    assert open_profile(seal_profile(ALICE, minimal))[1] == minimal


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"handle": "ana/llantas"}, "@owner/agent"),
        ({"handle": "@Ana/llantas"}, "@owner/agent"),
        ({"handle": "@ana/llan tas"}, "@owner/agent"),
        ({"handle": "@ana/llantas\n"}, "@owner/agent"),
        ({"handle": "@" + "a" * 32 + "/x"}, "@owner/agent"),
        ({"languages": ["spanish"]}, "language"),
        ({"categories": ["vehicles/rockets"]}, "category"),
        ({"categories": ["nothing/*"]}, "category"),
        ({"protocols": ["metaspace"]}, "protocol"),
        ({"languages": ["es", "es"]}, "repeat"),
        ({"expires": T}, "expires"),
        ({"expires": T + MAX_INTENT_TTL_S + 1}, "expires"),
    ],
)
def test_bad_profiles_are_refused_with_a_reason(changes, why):
    with pytest.raises(LocalProtocolError, match=why):
        profile(**changes)


def test_a_profile_over_its_size_limit_is_refused_on_both_sides():
    big = profile(  # every list at its bound: within each field's limit, over the record's
        categories=sorted(_codes())[:16],
        languages=["es", "en", "pt-BR", "zh", "fr", "de", "ja", "ko"],
        protocols=[f"/metaspace/a-much-longer-protocol-name-{i:02d}/1.0.0" for i in range(12)],
    )
    with pytest.raises(LocalProtocolError, match=f"over the {MAX_PROFILE_BYTES}-byte limit"):
        seal_profile(ALICE, big)
    raw = forge(ALICE, MsgType.AGENT_PROFILE, big)
    assert len(raw) > MAX_PROFILE_BYTES
    with pytest.raises(RemoteProtocolError, match="size limit"):
        open_record(raw)


def _codes() -> frozenset[str]:
    from wire.taxonomy import category_codes

    return category_codes()


# ----------------------------------------------------------------------------------------------- ratings


def test_a_rating_by_either_party_opens_with_its_evidence():
    for seller_rates in (False, True):
        rating = rating_of(ALICE, BOB, seller_rates=seller_rates)
        env, got = open_rating(seal_rating(ALICE, rating))
        assert got == rating and env.author == ALICE.pubkey and got.rater_of == ALICE.pubkey
        _, view = open_record(seal_rating(ALICE, rating))
        assert (view.id, view.author, view.seq) == (rating.deal, ALICE.pubkey, rating.seq)


def test_nobody_can_rate_an_agent_it_made_no_deal_with():
    rating = rating_of(ALICE, BOB)  # a deal between Alice and Bob...
    with pytest.raises(LocalProtocolError, match="other party"):
        seal_rating(CAROL, rating)  # ...rated by Carol
    with pytest.raises(RemoteProtocolError, match="other party"):
        open_record(forge(CAROL, MsgType.REPUTATION_SHARE, rating))
    with pytest.raises(RemoteProtocolError, match="other party"):  # Bob rating himself
        open_record(forge(BOB, MsgType.REPUTATION_SHARE, rating))


def test_a_rating_needs_both_signatures_of_the_agreement():
    agreement, bsig, ssig = cosigned_agreement(ALICE, BOB)
    good = rating_of(ALICE, BOB)
    for buyer_sig, seller_sig in ((bsig, bsig), (ssig, ssig), (bytes(64), ssig), (bsig, bytes(64))):
        bad = dataclasses.replace(good, buyer_signature=buyer_sig, seller_signature=seller_sig)
        with pytest.raises(LocalProtocolError, match="co-signed"):
            seal_rating(ALICE, bad)
        with pytest.raises(RemoteProtocolError, match="co-signed"):
            open_record(forge(ALICE, MsgType.REPUTATION_SHARE, bad))
    # Terms changed after signing: the signatures no longer cover them.
    cheaper = dataclasses.replace(agreement, terms=dataclasses.replace(agreement.terms, price_minor=1))
    with pytest.raises(RemoteProtocolError, match="co-signed"):
        check_rating(ALICE.pubkey, dataclasses.replace(good, agreement=cheaper))


def test_rating_shape_rules():
    good = rating_of(ALICE, BOB)
    with pytest.raises(LocalProtocolError, match="deal"):
        dataclasses.replace(good, deal=b"x" * 16)
    with pytest.raises(LocalProtocolError, match="not a party"):
        dataclasses.replace(good, subject=CAROL.pubkey)
    with pytest.raises(LocalProtocolError, match="1 to 5"):
        dataclasses.replace(good, score=6)
    with pytest.raises(LocalProtocolError, match="control"):
        dataclasses.replace(good, comment="fine\nreally")
    with pytest.raises(LocalProtocolError, match="expires"):
        dataclasses.replace(good, expires=good.created)
    assert len(dataclasses.replace(good, comment="é" * MAX_RATING_COMMENT).comment) == MAX_RATING_COMMENT
    early = dataclasses.replace(good, created=good.agreement.created - 3600, expires=good.agreement.created)
    with pytest.raises(RemoteProtocolError, match="predate"):
        check_rating(ALICE.pubkey, early)


def test_other_envelopes_are_not_records():
    assert open_record(seal_intent(ALICE, tire_intent()))[1].type is MsgType.INTENT_BROADCAST
    evidence = seal(ALICE, TrustEvidence(subject=ALICE.pubkey, nonce=b"n" * 16)).raw
    with pytest.raises(RemoteProtocolError, match="not a DHT record"):
        open_record(evidence)
    with pytest.raises(RemoteProtocolError, match="not an AGENT_PROFILE"):
        open_profile(seal_rating(ALICE, rating_of(ALICE, BOB)))
    with pytest.raises(RemoteProtocolError, match="not a REPUTATION_SHARE"):
        open_rating(seal_profile(ALICE, profile()))


def test_evidence_replies_carry_many_ratings_within_their_own_limit():
    ratings = [seal_rating(ALICE, rating_of(ALICE, BOB, session=bytes([i]) * 16)) for i in range(32)]
    reply = seal(BOB, TrustEvidence(subject=BOB.pubkey, nonce=b"n" * 16, ratings=ratings)).raw
    assert len(reply) > 8 * 1024  # more than any other envelope may hold
    from wire.limits import MAX_EVIDENCE_BYTES

    got = open_envelope(reply, MAX_EVIDENCE_BYTES).message
    assert isinstance(got, TrustEvidence) and got.ratings == ratings
    with pytest.raises(RemoteProtocolError):
        open_envelope(reply)  # the default limit refuses it


def test_a_rating_record_is_well_under_a_dht_record():
    raw = seal_rating(ALICE, rating_of(ALICE, BOB, comment="x" * MAX_RATING_COMMENT))
    assert len(raw) < 1536
    assert isinstance(open_rating(raw)[1], ReputationShare)
