"""Benchmark of the wire layer on a realistic intent (four used tires for sale).

Measures, per second: ed25519 sign and verify of the envelope's signed bytes, canonical encoding and
strict decoding of the intent body, and the full ``seal_intent`` (encode + sign + frame) and
``open_intent`` (strict decode + verify + typed body) of a DHT record. Then, per DHT message of a search
(a GET_RECORDS request and its RECORDS reply: that record and 19 contacts, as a 20-node network answers),
the CPU microseconds of ``encode_message`` / ``decode_message`` (``wire.fastcodec``) and of the strict
codec alone (``*_strict``), for the per-RPC cost of the wire layer.

Usage: ``.venv/bin/python bench/wire.py [--seconds 0.5]``. Prints ONE JSON line on stdout.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wire import geo
from wire.envelope import ENVELOPE_VERSION, _signed_bytes, open_intent, seal_intent
from wire.identity import Identity, verify
from wire.intent import Action, Intent, Price
from wire.messages import (
    Contact,
    GetRecords,
    MsgType,
    Records,
    decode_body,
    decode_message,
    decode_message_strict,
    encode_body,
    encode_message,
    encode_message_strict,
)


def tire_intent(identity: Identity) -> Intent:
    """Four used 225/65R17 tires, at least $50 each, pickup within 50 km of Querétaro."""
    created = 1_790_000_000
    return Intent(
        id=bytes(range(16)),
        author=identity.pubkey,
        seq=3,
        action=Action.SELL,
        category="vehicles/tires",
        attributes={
            "size": "225/65R17",
            "condition": "used",
            "brand": "michelin",
            "model": "defender ltx m/s",
            "tread_mm": "6",
            "season": "all_season",
        },
        price=Price(amount_minor=5000, currency="USD", per_unit=True),
        quantity=4,
        cell=geo.cell_at(20.5888, -100.3899, 7),
        radius_km=50,
        created=created,
        expires=created + 7 * 24 * 3600,
        text="Four used Michelin Defender 225/65R17 tires, about 6 mm of tread left, no patches. "
        "Pickup near the centre, or I can meet within 50 km.",
        lang="en",
    )


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls of ``fn`` per CPU second of this process, over at least ``seconds`` (after a warm-up).

    CPU time rather than wall time, so that other work on a shared machine does not skew the figure;
    the work is single-threaded, so on an idle machine the two are the same.
    """
    for _ in range(20):
        fn()
    n, batch = 0, 50
    start = time.process_time()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement (default 0.5)")
    args = parser.parse_args(argv)

    identity = Identity(bytes(range(32)))
    intent = tire_intent(identity)
    body = encode_body(intent)
    signed = _signed_bytes(ENVELOPE_VERSION, int(MsgType.INTENT_BROADCAST), identity.pubkey, body)
    signature = identity.sign(signed)
    record = seal_intent(identity, intent)
    assert open_intent(record)[1] == intent and decode_body(MsgType.INTENT_BROADCAST, body) == intent

    figures: dict[str, Any] = {"bench": "wire", "record_bytes": len(record), "body_bytes": len(body)}
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("sign_per_s", lambda: identity.sign(signed)),
        ("verify_per_s", lambda: verify(identity.pubkey, signed, signature)),
        ("encode_per_s", lambda: encode_body(intent)),
        ("decode_per_s", lambda: decode_body(MsgType.INTENT_BROADCAST, body)),
        ("seal_intent_per_s", lambda: seal_intent(identity, intent)),
        ("open_intent_per_s", lambda: open_intent(record)),
    ]
    for name, fn in cases:
        print(f"measuring {name} ...", file=sys.stderr)
        figures[name] = round(rate(fn, args.seconds))
    addrs = ["/ip4/127.0.0.1/tcp/40000"]
    peers = [Contact(bytes([i]) * 32, [f"/ip4/127.0.0.1/tcp/{40001 + i}"]) for i in range(19)]
    search = {
        "get_records": GetRecords(rid=2**62 + 1, key=bytes(32), action=Action.SELL, addrs=addrs),
        "records": Records(rid=2**62 + 1, records=[record], peers=peers),
    }
    for kind, msg in search.items():
        raw = encode_message(msg)
        assert raw == encode_message_strict(msg) and decode_message(raw) == msg == decode_message_strict(raw)
        figures[f"{kind}_bytes"] = len(raw)
        for name, fn, arg in [
            ("encode_us", encode_message, msg),
            ("decode_us", decode_message, raw),
            ("encode_strict_us", encode_message_strict, msg),
            ("decode_strict_us", decode_message_strict, raw),
        ]:
            print(f"measuring {kind}_{name} ...", file=sys.stderr)
            figures[f"{kind}_{name}"] = round(1e6 / rate(functools.partial(fn, arg), args.seconds), 1)
    figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
    figures["python"] = platform.python_version()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
