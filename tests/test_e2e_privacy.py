"""Byte level, real processes: nothing the humans kept private is ever sent, in any form.

The three-agent flow of ``make demo``, started as real OS processes on 127.0.0.1 (a bootstrap node and
three agent peers) with ``METASPACE_CAPTURE_PLAINTEXT`` set: every byte each process writes to a Noise
connection is copied *before encryption* (:mod:`p2p.capture`) — yamux, multistream-select, identify,
ping, every DHT RPC and record, INTENT_MATCH, every negotiation message. The humans use the real CLI:

* A (en, Chicago, ``share: nothing``, city-level location): "... tires 225/65R17 ..., at least $55 each"
  — $55 is A's private floor;
* B (es, ~25 km south, ``share: whatever``, neighbourhood location): "Necesito llantas ..., máximo 70
  dólares cada una" — $70 is B's private ceiling;
* C (zh, a bicycle, ``share: basic``, precise location).

A and B close a deal and rate each other (``metaspace rate``: the rating publishes the agreement). Then
every process's bytes are taken apart (:mod:`tests.net_helpers.wiretap`:
yamux -> streams -> frames -> CBOR -> records and envelopes, with their signers) and checked:

* no private amount in any form: the minor units (5500, 7000) and the major ones (55, 70) as integers
  in any message the human's agent signed, and as text ("$55", "70.00", "7000", ...) anywhere;
* no private phrase ("at least", "máximo", "dólares"), in any process's bytes;
* no coordinates (as text or as scaled integers) and no H3 cell finer than the human allowed
  (A's cells at res 6..15 never appear; no cell anywhere is finer than res 7);
* A (``share: nothing``) publishes no free text, and its agent's own key (its DHT node's peer id)
  signs nothing but its bare profile (the protocols it serves): A's intent, its INTENT_MATCH notices,
  its negotiation and its rating of the deal are all signed by the intent's persona key.

On main the test fails: B's published record carries "máximo 70 dólares cada una" verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from p2p.capture import CAPTURE_ENV
from tests.net_helpers.procs import (
    Peer,
    Procs,
    init_home,
    metaspace_cmd,
    poll_until,
    run_cli,
    start_bootstrap,
    wait_peer,
)
from tests.net_helpers.wiretap import KAD_MUX, Sent, load
from wire.geo import cell_at, is_cell, resolution
from wire.identity import pubkey_from_text
from wire.messages import MsgType

pytestmark = pytest.mark.slow

STEP_TIMEOUT = 180.0
IDENTIFY = "/ipfs/id/1.0.0"


@dataclass
class Human:
    name: str
    lat: float
    lon: float
    command: str
    text: str
    flags: list[str]
    max_res: int
    amounts: tuple[int, ...] = ()  # private, in minor units
    phrases: tuple[str, ...] = ()
    peer: Peer | None = None
    authors: set[bytes] = field(default_factory=set)
    sent: Sent | None = None


def _humans() -> list[Human]:
    return [
        Human("A", 41.8781, -87.6298, "sell",
              "I have some old tires, 225/65R17, they're still good. Wish I could get rid of them, "
              "at least $55 each",
              ["--share", "nothing", "--location", "city", "--language", "en"], 5,
              amounts=(5500,), phrases=("at least", "$55", "55 each")),
        Human("B", 41.6600, -87.7000, "buy",
              "Necesito llantas para mi camioneta, 225/65R17, máximo 70 dólares cada una",
              ["--share", "whatever", "--location", "neighborhood", "--language", "es"], 7,
              amounts=(7000,), phrases=("máximo", "dólares", "70 d")),
        Human("C", 41.8524, -87.6325, "sell", "出售二手山地自行车，九成新，价格500元",
              ["--share", "basic", "--location", "precise", "--language", "zh"], 7),
    ]  # fmt: skip


def _amount_text(minor: int) -> re.Pattern[bytes]:
    major = minor // 100
    forms = [
        rf"{major}[.,]00",
        str(minor),
        rf"\${major}(?![\d])",
        rf"{major} ?(?:USD|usd|d[oó]lares|dollars)",
    ]
    return re.compile(rb"(?<![\d])(?:" + "|".join(forms).encode() + rb")(?![\d])")


def _coordinate_texts(h: Human) -> list[bytes]:
    out = []
    for v in (h.lat, h.lon):
        for digits in (2, 3, 4):
            out.append(f"{v:.{digits}f}".encode())
    return out


def _coordinate_ints(h: Human) -> set[int]:
    return {round(v * 10**k) for v in (h.lat, h.lon) for k in (4, 5, 6, 7)}


_OPAQUE = re.compile(r"^(?:/.*|[1-9A-HJ-NP-Za-km-z]{40,}|[a-z_]+/[a-z_]+|[A-Z]{3})$")
_AMOUNT_WORD = re.compile(r"(?<![\d./])(\d+)(?:[.,]\d{1,2})?(?![\d/])")


def _start(procs: Procs, tmp_path: Path, humans: list[Human]) -> None:
    boot = start_bootstrap(procs, tmp_path / "boot")
    for i, h in enumerate(humans):
        home = init_home(tmp_path / h.name, h.lat, h.lon, extra=[*h.flags, "--spend-limit", "500USD"])
        argv = metaspace_cmd("--home", str(home.root), "peer", "--bootstrap", boot.addr,
                             "--watch-interval", "0.5", "--deal-timeout", "40")  # fmt: skip
        h.peer = wait_peer(i, home, procs.start(h.name, argv))


def _deal(p: Peer) -> dict[str, Any] | None:
    deals = p.client.get("/api/v1/deals")["deals"]
    return next((d for d in deals if d["state"] in ("agreed", "failed")), None)


def test_nothing_private_is_ever_sent(tmp_path: Path) -> None:
    humans = _humans()
    capture = tmp_path / "capture"
    procs = Procs(tmp_path, extra_env={CAPTURE_ENV: str(capture)})
    try:
        _start(procs, tmp_path, humans)
        for h in humans:
            assert h.peer is not None
            where = ("--lat", str(h.lat), "--lon", str(h.lon))
            run_cli("--home", str(h.peer.home.root), h.command, h.text, *where, "--yes", "--json")
            for view in h.peer.client.get("/api/v1/intents")["intents"]:
                h.authors.add(pubkey_from_text(view["author"]))
            if "nothing" not in h.flags:
                h.authors.add(pubkey_from_text(h.peer.peer_id))
            else:
                assert pubkey_from_text(h.peer.peer_id) not in h.authors, "a persona signs a private intent"
        a, b, _c = humans
        assert a.peer is not None and b.peer is not None
        deal = poll_until(lambda: _deal(b.peer), STEP_TIMEOUT, "B's deal")  # type: ignore[arg-type]
        assert deal["state"] == "agreed", deal
        poll_until(lambda: _deal(a.peer), STEP_TIMEOUT, "A's side of the deal")  # type: ignore[arg-type]
        for h, stars in ((a, "4"), (b, "5")):
            assert h.peer is not None
            run_cli("--home", str(h.peer.home.root), "rate", deal["id"], stars, "ok", "--json")
        pids = {h.peer.proc.pid: h for h in humans if h.peer is not None}
    finally:
        procs.close()

    files = {int(p.stem): p for p in capture.glob("*.cap")}
    for pid, h in pids.items():
        assert pid in files, f"no capture from {h.name}"
        h.sent = load(files[pid])
    everyone = [load(p) for p in files.values()]  # the bootstrap node too
    _check_the_capture_is_complete(humans)
    kinds: dict[str, int] = {}
    for sent in everyone:
        for mtype, *_rest in sent.envelopes:
            kinds[MsgType(mtype).name] = kinds.get(MsgType(mtype).name, 0) + 1
    print(  # what was checked (pytest -s shows it)
        f"captured {len(everyone)} processes, {sum(len(r) for x in everyone for r in x.raw)} bytes, "
        f"{sum(len(x.streams) for x in everyone)} streams, {sum(len(x.leaves) for x in everyone)} values; "
        f"envelopes {sorted(kinds.items())}"
    )
    for sent in everyone:
        _check_raw(sent, humans)
        _check_structured(sent, humans)
    assert a.sent is not None and a.peer is not None
    a_agent = pubkey_from_text(a.peer.peer_id)
    a_signed = [(mtype, body) for mtype, author, body, _p in a.sent.envelopes if author in a.authors]
    assert {MsgType.INTENT_BROADCAST, MsgType.NEGOTIATION_OFFER, MsgType.REPUTATION_SHARE} <= {
        m for m, _b in a_signed
    }
    for mtype, body in a_signed:
        if mtype == MsgType.INTENT_BROADCAST:
            assert "text" not in body and "lang" not in body, "share: nothing publishes no free text"
    for sent in everyone:
        for mtype, author, body, _p in sent.envelopes:
            if author == a_agent:  # only A's bare profile: the protocols it serves, nothing about A
                assert mtype == MsgType.AGENT_PROFILE, f"A's agent key signed a {MsgType(mtype).name}"
                assert not any(body.get(k) for k in ("handle", "languages", "categories", "autonomy")), body


def _check_the_capture_is_complete(humans: list[Human]) -> None:
    """The test is only as good as its capture: each kind of traffic must be in it."""
    kinds: set[int] = set()
    for h in humans:
        assert h.sent is not None
        assert IDENTIFY in h.sent.protocols() and KAD_MUX in h.sent.protocols(), h.sent.protocols()
        own = [e for e in h.sent.envelopes if e[0] == MsgType.INTENT_BROADCAST and e[1] in h.authors]
        assert own, f"{h.name}'s own intent record was not seen leaving it"
        kinds |= {e[0] for e in h.sent.envelopes}
    for t in (MsgType.INTENT_MATCH, MsgType.NEGOTIATION_START, MsgType.NEGOTIATION_OFFER,
              MsgType.TRANSACTION_INIT, MsgType.TRANSACTION_CONFIRM):  # fmt: skip
        assert t in kinds, f"no {t.name} captured"


def _check_raw(sent: Sent, humans: list[Human]) -> None:
    chunks = sent.raw + [data for _p, data in sent.streams]
    for h in humans:
        needles = [p.encode() for p in h.phrases] + _coordinate_texts(h)
        for data in chunks:
            for needle in needles:
                assert needle not in data, f"{h.name}'s private {needle!r} was sent"
            for minor in h.amounts:
                m = _amount_text(minor).search(data)
                assert m is None, f"{h.name}'s private amount sent as text: {m.group(0)!r}"


def _check_structured(sent: Sent, humans: list[Human]) -> None:
    by_author = {author: h for h in humans for author in h.authors}
    all_amounts = {m for h in humans for m in h.amounts}
    forbidden_cells = {cell_at(h.lat, h.lon, r) for h in humans for r in range(h.max_res + 1, 16)}
    coordinate_ints = set().union(*(_coordinate_ints(h) for h in humans))
    for leaf in sent.leaves:
        owner = by_author.get(leaf.author) if leaf.author is not None else None
        if isinstance(leaf.value, int):
            assert leaf.value not in coordinate_ints, f"a coordinate as an integer: {leaf}"
            if owner is not None:
                private = set(owner.amounts) | {m // 100 for m in owner.amounts}
                assert leaf.value not in private, f"{owner.name}'s private amount in its own message: {leaf}"
            elif leaf.author is None:
                assert leaf.value not in all_amounts, f"a private amount outside any envelope: {leaf}"
            continue
        text = leaf.value
        if is_cell(text):
            assert resolution(text) <= 7 and text not in forbidden_cells, f"a cell finer than allowed: {leaf}"
            continue
        if owner is not None and not _OPAQUE.match(text):
            for m in _AMOUNT_WORD.finditer(text):
                major = int(m.group(1))
                assert major * 100 not in owner.amounts, f"{owner.name}'s private amount in text: {leaf}"
    for mtype, author, body, _proto in sent.envelopes:
        owner = by_author.get(author)
        if mtype == MsgType.INTENT_BROADCAST and owner is not None:
            assert resolution(body["cell"]) <= owner.max_res, f"{owner.name} disclosed a finer cell"
