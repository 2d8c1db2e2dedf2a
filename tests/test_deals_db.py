"""Deal positions (explicit seller floors, limit currency) and the append-only agreements in the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from metaspace.api.contract import BadRequest
from metaspace.peer.db import AgentDB, AgreementRow, AppendOnlyError, DealRow, PrivateLimit
from metaspace.peer.positions import intent_rng, position_for
from tests.deal_helpers import AgentDouble
from wire.intent import Action

# ------------------------------------------------------------------------------------------ positions


@pytest.fixture
def agents(tmp_path: Path) -> tuple[AgentDouble, AgentDouble]:
    return AgentDouble("s", tmp_path / "s.db", None), AgentDouble("b", tmp_path / "b.db", None)


def test_a_seller_without_a_floor_or_a_price_is_told_what_to_set(agents) -> None:
    seller, buyer = agents
    mine, _ = seller.publish(Action.SELL, None, None)
    other, _ = buyer.publish(Action.BUY, 7000, None)
    with pytest.raises(BadRequest, match="--limit"):
        position_for(mine, other, None, "USD", seller.identity, "USD")


def test_a_seller_without_a_floor_holds_its_asking_price_no_silent_discount(agents) -> None:
    seller, buyer = agents
    mine, _ = seller.publish(Action.SELL, 8000, None)
    other, _ = buyer.publish(Action.BUY, 7000, None)
    pos = position_for(mine, other, None, "USD", seller.identity, "USD")
    assert pos.reservation == 8000 == pos.opening  # was 0.8 x 8000 = 6400, never asked for


def test_a_seller_with_only_a_floor_opens_above_it(agents) -> None:
    seller, buyer = agents
    mine, _ = seller.publish(Action.SELL, None, 5000)
    other, _ = buyer.publish(Action.BUY, None, None)
    pos = position_for(mine, other, PrivateLimit(5000, "USD"), "USD", seller.identity, "USD")
    assert pos.reservation == 5000 and pos.opening > 5000 * 1.14
    # the same intent always opens at the same (private) markup
    assert position_for(mine, other, PrivateLimit(5000, "USD"), "USD", seller.identity, "USD") == pos


def test_a_limit_in_another_currency_is_refused(agents) -> None:
    seller, buyer = agents
    mine, _ = buyer.publish(Action.BUY, None, None)
    other, _ = seller.publish(Action.SELL, 8000, None)
    with pytest.raises(BadRequest, match="EUR but this deal is in USD"):
        position_for(mine, other, PrivateLimit(7000, "EUR"), "USD", buyer.identity, "USD")
    # a legacy limit (no currency stored) is read in the agent's currency
    with pytest.raises(BadRequest, match="EUR but this deal is in USD"):
        position_for(mine, other, PrivateLimit(7000, None), "USD", buyer.identity, "EUR")
    assert (
        position_for(mine, other, PrivateLimit(7000, None), "USD", buyer.identity, "USD").reservation == 7000
    )


def test_the_other_sides_price_in_another_currency_is_not_used(agents) -> None:
    seller, buyer = agents
    mine, _ = buyer.publish(Action.BUY, 7000, None)
    other, _ = seller.publish(Action.SELL, 100, None, currency="JPY")
    pos = position_for(mine, other, None, "USD", buyer.identity, "USD")
    assert pos.opening == int(7000 * 0.8)  # not min(5600, 100 yen)


def test_the_margin_generator_is_keyed_by_the_identity_and_the_intent(agents) -> None:
    seller, buyer = agents
    a = intent_rng(seller.identity, b"i" * 16).random()
    assert a == intent_rng(seller.identity, b"i" * 16).random()
    assert (
        a != intent_rng(buyer.identity, b"i" * 16).random() != intent_rng(seller.identity, b"j" * 16).random()
    )


def test_reservations_keep_their_currency(tmp_path: Path) -> None:
    db = AgentDB(tmp_path / "a.db")
    db.set_reservation("ab", 7000, "EUR")
    assert db.private_limit("ab") == PrivateLimit(7000, "EUR") and db.reservation("ab") == 7000
    assert db.private_limit("cd") is None


# ------------------------------------------------------------------------------------- append-only


def _deal(state: str = "WAIT_REPLY") -> DealRow:
    return DealRow("d1", None, "seller", "peer", state, {"k": 1}, 1.0, 1.0)


def test_agreements_are_append_only(tmp_path: Path) -> None:
    db = AgentDB(tmp_path / "a.db")
    assert db.create_deal(_deal())
    row = AgreementRow("d1", b"agreement", b"b" * 64, b"s" * 64, 2.0)
    db.add_agreement(row)
    db.add_agreement(row)  # the same again: a no-op
    with pytest.raises(AppendOnlyError):
        db.add_agreement(AgreementRow("d1", b"another", b"b" * 64, b"s" * 64, 3.0))
    raw = sqlite3.connect(str(tmp_path / "a.db"))
    for sql in ("UPDATE agreements SET agreement = x'00'", "DELETE FROM agreements"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(sql)
    raw.close()
    assert db.agreement("d1") == row


def test_a_known_deal_id_is_never_overwritten_and_agreed_stays_agreed(tmp_path: Path) -> None:
    db = AgentDB(tmp_path / "a.db")
    assert db.create_deal(_deal())
    assert not db.create_deal(DealRow("d1", "m", "buyer", "mallory", "WAIT_START", {}, 5.0, 5.0))
    assert db.deal("d1") == _deal()
    db.save_deal("d1", "AGREED", {"k": 2}, 6.0)
    db.save_deal("d1", "FAILED", {"k": 3}, 7.0)
    assert db.deal("d1").state == "AGREED"  # type: ignore[union-attr]


def test_legacy_agreements_move_to_the_append_only_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(str(path))
    old.executescript(
        "CREATE TABLE deals (id TEXT PRIMARY KEY, match_id TEXT, role TEXT NOT NULL,"
        " counterparty TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL, agreement BLOB,"
        " created REAL NOT NULL, updated REAL NOT NULL);"
        "CREATE TABLE private (intent_id TEXT PRIMARY KEY, reservation INTEGER NOT NULL);"
    )
    data = json.dumps({"signatures": {"buyer": "aa" * 64, "seller": "bb" * 64}})
    old.execute("INSERT INTO deals VALUES ('d1', NULL, 'buyer', 'p', 'AGREED', ?, x'0102', 1, 2)", (data,))
    old.execute("INSERT INTO private VALUES ('i1', 500)")
    old.commit()
    old.close()
    db = AgentDB(path)
    assert db.agreement("d1") == AgreementRow("d1", b"\x01\x02", b"\xaa" * 64, b"\xbb" * 64, 2.0)
    assert db.private_limit("i1") == PrivateLimit(500, None)
    raw = sqlite3.connect(str(path))
    with pytest.raises(sqlite3.IntegrityError, match="never changed"):
        raw.execute("UPDATE deals SET agreement = NULL WHERE id = 'd1'")
    raw.close()
