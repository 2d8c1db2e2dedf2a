"""Open export and import as Nostr NIP-99 listings (metaspace.peer.nip99, ``metaspace export/import``).

Checked against an independent NIP-01 implementation from PyPI: ``nostr-sdk`` (rust-nostr's Python
bindings; its own secp256k1 and BIP-340 code, not ours nor coincurve's), in the dev extra.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import h3
import pytest
import trio

from metaspace.peer import nip99
from metaspace.peer.nip99 import Nip99Error, geohash, geohash_center, import_event, verify_event
from tests.agent_helpers import agents, buy_tires, sell_tires, usd
from wire.envelope import open_intent
from wire.geo import cell_at, center

nostr_sdk = pytest.importorskip("nostr_sdk", reason="nostr-sdk==0.45.1 (the reference NIP-01 implementation)")
NOW = 1_790_000_000.0


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn)


def reference_verifies(event: dict[str, Any]) -> bool:
    """The reference implementation's verdict: id = sha256 of the NIP-01 serialization, BIP-340 sig."""
    parsed = nostr_sdk.Event.from_json(json.dumps(event, ensure_ascii=False))
    return bool(parsed.verify_id() and parsed.verify_signature() and parsed.verify())


def reference_event(
    tags: list[list[str]], content: str = "Llantas 225/65R17 en buen estado"
) -> dict[str, Any]:
    """A listing signed by the reference implementation with a fresh key."""
    keys = nostr_sdk.Keys.generate()
    builder = nostr_sdk.EventBuilder(nostr_sdk.Kind(30402), content).tags(
        [nostr_sdk.Tag.parse(t) for t in tags]
    )
    return dict(json.loads(builder.finalize(keys).as_json()))


def _tag(event: dict[str, Any], name: str) -> list[str]:
    return next(t for t in event["tags"] if t[0] == name)


def test_an_exported_intent_is_a_valid_nip99_event_that_keeps_private_things_private(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 1) as peers:
            agent = peers[0].agent
            view = await agent.publish(sell_tires(limit=usd(5500), text="4 used tires 225/65R17, $80 each"))
            event = await agent.export_intent(view["id"], "nip99")
            assert reference_verifies(event) and verify_event(event) is event
            assert event["kind"] == 30402 and _tag(event, "d") == ["d", view["id"]]
            assert _tag(event, "price") == ["price", "80.00", "USD"]  # the public price, never the limit
            visible = json.dumps([event["content"], [t for t in event["tags"] if t[0] != "d"]])
            assert "55.00" not in visible and "5500" not in visible and "$80" not in event["content"]
            assert ["t", "vehicles/tires"] in event["tags"] and ["t", "tires"] in event["tags"]
            assert int(_tag(event, "expiration")[1]) == view["expires"]
            g = _tag(event, "g")[1]
            cell = view["cell"]
            lat, lon, area = geohash_center(g)
            assert area >= h3.cell_area(cell, "km^2")  # never finer than what the intent discloses
            assert h3.latlng_to_cell(*center(cell), 3) == h3.latlng_to_cell(lat, lon, 3)
            # the same key every time (derived for this purpose), not the agent's ed25519 key
            again = await agent.export_intent(view["id"], "nip99")
            assert again["pubkey"] == event["pubkey"] and reference_verifies(again)
            assert event["pubkey"] != peers[0].identity.pubkey.hex()
            # what was exported imports back as the same public intent
            found = import_event(json.dumps(event).encode(), NOW)
            params = found["params"]
            assert params["category"] == "vehicles/tires" and params["action"] == "SELL"
            assert params["price"] == {"amount_minor": 8000, "currency": "USD", "per_unit": True}
            assert "limit" not in params

    run(main)


def test_share_nothing_exports_a_minimal_listing_signed_by_the_persona(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 1, configs={0: {"share": "nothing"}}) as peers:
            agent = peers[0].agent
            view = await agent.publish(buy_tires(text="necesito llantas 225/65R17, máximo 70 dólares"))
            event = await agent.export_intent(view["id"], "nip99")
            assert reference_verifies(event)
            assert event["content"] == "" and not any(t[0] == "summary" for t in event["tags"])
            assert ["t", "wanted"] in event["tags"] and not any(t[0] == "price" for t in event["tags"])
            record = agent.db.intent_record(view["id"])
            assert record is not None
            persona = agent.identity_for(open_intent(record)[1])
            assert persona.pubkey != peers[0].identity.pubkey
            assert event["pubkey"] == nip99.nostr_key(persona).public_key_xonly.format().hex()
            assert event["pubkey"] != nip99.nostr_key(peers[0].identity).public_key_xonly.format().hex()

    run(main)


def test_a_listing_signed_by_the_reference_implementation_imports() -> None:
    lat, lon = 41.66, -87.70
    event = reference_event([
        ["d", "tires-1"], ["title", "Llantas 225/65R17"], ["summary", "cuatro llantas, buen estado"],
        ["price", "65.50", "USD"], ["t", "vehicles/tires"], ["g", geohash(lat, lon, 5)],
        ["expiration", str(int(NOW) + 86400)],
    ])  # fmt: skip
    found = import_event(json.dumps(event).encode(), NOW)
    p = found["params"]
    assert p["price"] == {"amount_minor": 6550, "currency": "USD", "per_unit": True}
    assert p["category"] == "vehicles/tires" and "cuatro llantas" in p["text"]
    assert h3.latlng_to_cell(p["lat"], p["lon"], 4) == h3.latlng_to_cell(lat, lon, 4)
    assert found["listing"]["pubkey"] == event["pubkey"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda e: {**e, "sig": ("0" if e["sig"][0] != "0" else "1") + e["sig"][1:]}, "bad signature"),
        (lambda e: {**e, "content": e["content"] + "!"}, "event id"),
        (lambda e: {**e, "pubkey": "ab" * 32}, "event id"),
        (lambda e: {**e, "kind": 1}, "event id"),
        (lambda e: {k: v for k, v in e.items() if k != "sig"}, "exactly id"),
        (lambda e: {**e, "tags": [["t"] * 9]}, "short list"),
    ],
)
def test_tampered_or_malformed_events_are_refused(change: Any, match: str) -> None:
    event = change(reference_event([["price", "10", "USD"], ["t", "vehicles/tires"]]))
    with pytest.raises(Nip99Error, match=match):
        import_event(json.dumps(event).encode(), NOW)
    if "sig" in event and "exactly" not in match and "short" not in match:
        assert not reference_verifies(event)  # the reference agrees


@pytest.mark.parametrize(
    ("tags", "match"),
    [
        ([["price", "10", "XXX"]], "unknown currency 'XXX'"),
        ([["price", "10", "usd"]], "unknown currency"),
        ([["price", "10.001", "USD"]], "bad price amount"),
        ([["price", "NaN", "USD"]], "bad price amount"),
        ([["expiration", str(int(NOW) - 1)]], "expired"),
        ([["g", "aaaa"]], "not a geohash"),
    ],
)
def test_validly_signed_but_bad_listings_are_refused(tags: list[list[str]], match: str) -> None:
    event = reference_event([["t", "vehicles/tires"], *tags])
    assert reference_verifies(event)
    with pytest.raises(Nip99Error, match=match):
        import_event(json.dumps(event).encode(), NOW)


def test_other_kinds_and_oversized_input_are_refused() -> None:
    keys = nostr_sdk.Keys.generate()
    note = json.loads(nostr_sdk.EventBuilder(nostr_sdk.Kind(1), "hi").finalize(keys).as_json())
    with pytest.raises(Nip99Error, match="not a NIP-99"):
        import_event(json.dumps(note).encode(), NOW)
    with pytest.raises(Nip99Error, match="larger"):
        import_event(b" " * (nip99.MAX_EVENT_BYTES + 1), NOW)
    with pytest.raises(Nip99Error, match="not JSON"):
        import_event(b"\xff{", NOW)


def test_our_serialization_matches_the_reference_on_awkward_strings() -> None:
    """Escapes NIP-01 names (and only those), non-ASCII verbatim: the ids agree with the reference's."""
    key = nip99.nostr_key(__import__("wire.identity", fromlist=["Identity"]).Identity(b"k" * 32))
    content = 'line\nbreak "quoted" back\\slash\ttab\r\b\f ünïcödé 轮胎 😀 </script>'
    event = nip99.sign_event(key, int(NOW), 30402, [["title", content], ["t", "x"]], content)
    assert reference_verifies(event)


def test_geohash_matches_known_values() -> None:
    assert geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"  # the Wikipedia example
    lat, lon, _ = geohash_center("u4pruydqqvj")
    assert abs(lat - 57.64911) < 1e-4 and abs(lon - 10.40744) < 1e-4
    cell = cell_at(41.8781, -87.6298, 7)
    assert len(nip99.geohash_for_cell(cell)) == 5
    assert len(nip99.geohash_for_cell(cell_at(41.8781, -87.6298, 5))) == 4
