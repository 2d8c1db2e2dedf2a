"""Interop: a js-libp2p peer (code we did not write) against a real ``metaspace bootstrap`` process.

The js side is ``tests/interop_js/peer.mjs`` on the pinned npm packages (js-libp2p 3.3, TCP, Noise,
yamux, identify, ping, plaintext; see tests/interop_js/package.json), with its own CBOR encoder for our
DHT frames. It checks what a newcomer's client sees: the Noise + yamux upgrade, identify (our agent
version and ``/metaspace/kad/1.0.0``), libp2p ping, real PING / FIND_NODE / PUT_RECORDS / GET_RECORDS
exchanges, the refusal of a plaintext-only peer, and churn past py-libp2p's 250-connection swarm limit
(the slot leak of issue 9 refuses every dial after the 249th).

Without ``node`` the tests skip locally and fail in CI (``tests/net_helpers/jspeer.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import trio

from dht.keys import intent_key
from p2p.host import open_host
from tests.net_helpers import raw
from tests.net_helpers.jspeer import require_node, run_peer, write_records
from tests.net_helpers.procs import Bootstrap, Procs, start_bootstrap
from wire.identity import Identity
from wire.messages import PutStatus

pytestmark = pytest.mark.slow

#: What identify must say about us (issue 9, item 6): the installed distribution's version.
AGENT_VERSION = f"metaspace-net/{version('metaspace-net')}"
KAD = "/metaspace/kad/1.0.0"
#: Connections of the churn test: past py-libp2p's 250 swarm slots.
CHURN_CONNECTIONS = 300


@pytest.fixture(scope="module")
def node() -> str:
    return require_node()


@pytest.fixture(scope="module")
def boot(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bootstrap]:
    root = tmp_path_factory.mktemp("interop")
    procs = Procs(root)
    try:
        yield start_bootstrap(procs, root / "bootstrap")
    finally:
        procs.close()


def _records(n: int, tmp_path: Path, seed: int) -> tuple[Path, bytes, list[bytes]]:
    """``n`` signed intents of distinct authors under one key; the records file, the key, the records."""
    now = time.time()
    records = []
    for i in range(n):
        author = Identity(bytes([seed, i]) * 16)
        records.append(raw.sealed(author, raw.make_intent(author, now, lat=10.0 + seed, lon=20.0)))
    intent = raw.make_intent(Identity(bytes([seed, 0]) * 16), now, lat=10.0 + seed, lon=20.0)
    key = intent_key(intent.category, intent.cell)
    return write_records(tmp_path / "records.jsonl", [(key, r) for r in records]), key, records


def _python_get(boot: Bootstrap, key: bytes) -> list[bytes]:
    """GET_RECORDS from our own Python client, to see what the js peer stored."""

    async def main() -> list[bytes]:
        async with open_host(Identity(bytes([0x77]) * 32)) as host:
            return await raw.get_all(host, boot.peer_id, boot.transport, key)

    return trio.run(main)


def test_js_peer_connects_identifies_pings_and_speaks_kad(node: str, boot: Bootstrap, tmp_path: Path) -> None:
    path, key, records = _records(3, tmp_path, seed=1)
    doc = run_peer(node, "probe", boot.addr, "--records", str(path), "--timeout", "20")
    assert doc["ok"], f"{doc.get('error')}: {doc}"
    assert doc["versions"]["libp2p"].startswith("3.3."), doc["versions"]
    assert doc["connected"] and doc["remote_peer_id"] == boot.peer_id
    assert (doc["encryption"], doc["multiplexer"]) == ("/noise", "/yamux/1.0.0")
    assert doc["agent_version"] == AGENT_VERSION
    assert KAD in doc["protocols"], doc["protocols"]
    assert "/ipfs/ping/1.0.0" in doc["protocols"]
    assert isinstance(doc["ping_ms"], int | float) and doc["ping_ms"] >= 0
    kad = doc["kad"]
    assert kad["ping"]["reply"] == "PONG"
    assert kad["find_node"]["reply"] == "NODES" and kad["find_node"]["peers"] is not None
    assert kad["put"] == {"reply": "PUT_RESULT", "statuses": [int(PutStatus.STORED)] * 3}
    assert kad["get"]["reply"] == "RECORDS" and kad["get"]["all_found"], kad["get"]
    # What the js peer stored is what our own client reads back: the records, byte for byte.
    assert set(records) <= set(_python_get(boot, key))


def test_plaintext_only_js_peer_is_refused(node: str, boot: Bootstrap) -> None:
    doc = run_peer(node, "plaintext", boot.addr, "--timeout", "20")
    assert doc["refused"], f"a plaintext-only js peer connected: {doc}"
    assert "plaintext" in doc["error"] or "Encryption" in doc["error"], doc["error"]
    # The refusal cost the node nothing: a Noise peer still gets in.
    again = run_peer(node, "probe", boot.addr, "--timeout", "20")
    assert again["ok"] and again["encryption"] == "/noise", f"{again.get('error')}: {again}"


def test_js_churn_past_the_swarm_slot_limit(node: str, boot: Bootstrap, tmp_path: Path) -> None:
    """300 sequential connections, each from a fresh js identity doing 2 RPCs: none refused.

    On py-libp2p 0.8.1 unfenced, dial 250 and every later one is reset (issue 9).
    """
    path, key, records = _records(3, tmp_path, seed=2)
    doc = run_peer(
        node, "churn", boot.addr, "--seconds", "240", "--max-connections", str(CHURN_CONNECTIONS),
        "--rpcs-per-connection", "2", "--records", str(path), "--timeout", "20", timeout=300,
    )  # fmt: skip
    doc.pop("latencies_ms")
    assert doc["refused"] == 0, f"{doc['refused']} of {CHURN_CONNECTIONS} honest dials refused: {doc}"
    assert doc["connections"] == CHURN_CONNECTIONS, doc
    assert doc["rpc_failures"] == 0 and doc["rpcs"] == 2 * CHURN_CONNECTIONS, doc
    assert set(doc["replies"]) == {"PONG", "NODES", "PUT_RESULT", "RECORDS"}, doc["replies"]
    assert set(records) <= set(_python_get(boot, key))
