"""The byte-level privacy checker itself (tests/test_e2e_privacy.py): it finds a leak where there is one.

A capture is built by hand the way a process writes it (p2p.capture records of yamux frames carrying
multistream-select and our frames), holding a signed intent whose text and price leak B's limit, then
run through the same parsing and checks as the end-to-end test. Cheap, in-process.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from p2p.capture import PlaintextCapture
from tests.net_helpers.raw import make_intent
from tests.net_helpers.wiretap import KAD_MUX, load
from tests.test_e2e_privacy import Human, _check_raw, _check_structured, _humans
from wire.envelope import seal_intent
from wire.geo import cell_at
from wire.identity import Identity
from wire.intent import Price
from wire.messages import PutRecords, encode_message


def _line(text: str) -> bytes:
    data = (text + "\n").encode()
    return bytes([len(data)]) + data


_SERIAL = iter(range(1, 1000))


def _capture(tmp_path: Path, record: bytes) -> Path:
    payload = _line("/multistream/1.0.0") + _line(KAD_MUX)
    body = encode_message(PutRecords(7, b"k" * 32, [record]))
    payload += struct.pack(">I", 9 + len(body)) + b"\x00" + (7).to_bytes(8, "big") + body
    conn = _line("/multistream/1.0.0") + _line("/yamux/1.0.0")
    half = len(payload) // 2  # split over two yamux frames (and two captured writes)
    path = tmp_path / f"{next(_SERIAL)}.cap"
    cap = PlaintextCapture(path)
    connection = SimpleNamespace()
    cap.record(connection, conn)
    for i, chunk in enumerate((payload[:half], payload[half:])):
        cap.record(connection, struct.pack(">BBHII", 0, 0, 1 if i == 0 else 0, 3, len(chunk)) + chunk)
    return path


def _b(humans: list[Human]) -> tuple[Human, Identity]:
    b = humans[1]
    ident = Identity(b"\x0b" * 32)
    b.authors = {ident.pubkey}
    return b, ident


def test_the_checker_finds_the_limit_phrase_and_amount(tmp_path: Path) -> None:
    humans = _humans()
    b, ident = _b(humans)
    intent = make_intent(ident, 1_800_000_000, lat=b.lat, lon=b.lon, text="llantas, máximo 70 dólares")
    sent = load(_capture(tmp_path, seal_intent(ident, intent)))
    assert sent.envelopes and sent.envelopes[0][1] == ident.pubkey
    with pytest.raises(AssertionError, match=r"B.s private b.m\\xc3\\xa1ximo. was sent"):
        _check_raw(sent, humans)


def test_the_checker_finds_an_amount_a_finer_cell_and_coordinates(tmp_path: Path) -> None:
    humans = _humans()
    b, ident = _b(humans)
    base = make_intent(ident, 1_800_000_000, lat=b.lat, lon=b.lon, text="llantas 225/65R17")
    leaks = [
        (replace(base, price=Price(7000, "USD")), "private amount"),
        (replace(base, attributes={"note": "hasta 70.00"}), "private amount"),
        (replace(base, text="llantas", attributes={"where": "41.6600"}), "private"),
    ]
    for leaky, message in leaks:
        sent = load(_capture(tmp_path, seal_intent(ident, leaky)))
        with pytest.raises(AssertionError, match=message):
            _check_raw(sent, humans)
            _check_structured(sent, humans)
    a = humans[0]
    a_ident = Identity(b"\x0a" * 32)
    a.authors = {a_ident.pubkey}
    fine = make_intent(a_ident, 1_800_000_000, lat=a.lat, lon=a.lon)  # res 7, A allows 5
    assert fine.cell == cell_at(a.lat, a.lon, 7)
    sent = load(_capture(tmp_path, seal_intent(a_ident, fine)))
    with pytest.raises(AssertionError, match="finer"):
        _check_structured(sent, humans)
    clean = load(_capture(tmp_path, seal_intent(ident, base)))
    _check_raw(clean, humans)
    _check_structured(clean, humans)
