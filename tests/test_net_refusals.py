"""A real bootstrap node (its own OS process) refuses bad input from a raw client and keeps serving.

Forged signature -> INVALID, stale seq -> STALE, oversized frame -> stream reset, non-canonical CBOR ->
stream reset, a plaintext-only client can't even connect; after each, a normal GET still works.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import multiaddr
import pytest
import trio
from libp2p import new_host
from libp2p.custom_types import TProtocol
from libp2p.host.basic_host import BasicHost
from libp2p.network.config import RetryConfig
from libp2p.network.exceptions import SwarmException
from libp2p.network.swarm import Swarm
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport

from dht.keys import intent_key
from p2p.dht_driver import KAD_PROTOCOL
from p2p.framing import read_frame, rpc
from p2p.host import P2PError, P2PHost, PeerTimeout, key_pair_from_identity, open_host, reset_stream
from tests.net_helpers import raw
from tests.net_helpers.procs import Bootstrap, Procs, start_bootstrap
from wire.envelope import open_intent
from wire.errors import RemoteProtocolError
from wire.identity import Identity
from wire.intent import Intent
from wire.limits import MAX_FRAME_BYTES
from wire.messages import GetRecords, PutStatus, decode_message, encode_message

pytestmark = pytest.mark.slow

CLIENT_SEED = bytes([0x61]) * 32
AUTHOR_SEED = bytes([0x62]) * 32
OTHER_SEED = bytes([0x63]) * 32
PLAIN_SEED = bytes([0x64]) * 32
#: A refusal must come at once, not as a timeout.
FAST = 5.0


@pytest.fixture(scope="module")
def boot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bootstrap]:
    root = tmp_path_factory.mktemp("refusals")
    procs = Procs(root)
    try:
        yield start_bootstrap(procs, root / "bootstrap")
    finally:
        procs.close()


def _key(intent: Intent) -> bytes:
    return intent_key(intent.category, intent.cell)


async def _still_serving(
    host: P2PHost, boot: Bootstrap, key: bytes, want: set[tuple[bytes, bytes, int]]
) -> None:
    got = raw.record_ids(await raw.get_all(host, boot.peer_id, boot.transport, key))
    assert got == want


def test_forged_stale_oversized_noncanonical_and_plaintext_are_refused(boot: Bootstrap) -> None:
    author, other = Identity(AUTHOR_SEED), Identity(OTHER_SEED)
    now = time.time()
    v1 = raw.make_intent(author, now)
    key = _key(v1)
    rec1 = raw.sealed(author, v1)
    v2 = v1.next_version(text="four used tires, barely driven")
    rec2 = raw.sealed(author, v2)

    async def main() -> None:
        async with open_host(Identity(CLIENT_SEED)) as host:
            assert await raw.put(host, boot.peer_id, boot.transport, key, [rec1]) == [PutStatus.STORED]
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 1)})

            # Forged signature: the last byte of the record is the last byte of its ed25519 signature.
            forged = rec2[:-1] + bytes([rec2[-1] ^ 0x01])
            with pytest.raises(RemoteProtocolError, match="signature"):
                open_intent(forged)
            # ... and an intent claiming an author that did not sign it.
            impostor = raw.make_intent(other, now, intent_id=v1.id, seq=5)
            stolen = raw.sealed(other, impostor)
            stolen = _swap_author(stolen, other.pubkey, author.pubkey)
            statuses = await raw.put(host, boot.peer_id, boot.transport, key, [forged, stolen])
            assert statuses == [PutStatus.INVALID, PutStatus.INVALID]
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 1)})

            # A newer version replaces; the older one (and the same one again) is stale.
            assert await raw.put(host, boot.peer_id, boot.transport, key, [rec2]) == [PutStatus.REPLACED]
            statuses = await raw.put(host, boot.peer_id, boot.transport, key, [rec1, rec2])
            assert statuses == [PutStatus.STALE, PutStatus.STALE]
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 2)})

            # A record filed under the wrong key is invalid there.
            wrong = intent_key("kids/toys", v1.cell)
            assert await raw.put(host, boot.peer_id, boot.transport, wrong, [rec2]) == [PutStatus.INVALID]

            # Oversized frame: a length prefix above MAX_FRAME_BYTES; the node resets the stream unread.
            stream = await host.open_stream(boot.peer_id, KAD_PROTOCOL)
            started = time.monotonic()
            await stream.write((MAX_FRAME_BYTES + 1).to_bytes(4, "big") + b"\x00" * 64)
            with trio.fail_after(FAST), pytest.raises((RemoteProtocolError, P2PError)) as failure:
                await read_frame(stream)
            assert not isinstance(failure.value, PeerTimeout)
            assert time.monotonic() - started < FAST
            await reset_stream(stream)
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 2)})

            # Non-canonical CBOR (the message type as a 2-byte int): refused, stream reset, no reply.
            good = encode_message(GetRecords(raw.rid(), key))
            assert good[1] == 0x18  # [type, body] with the type as a 1-byte int
            bad = good[:1] + bytes([0x19, 0, good[2]]) + good[3:]
            with pytest.raises(RemoteProtocolError, match="shortest"):
                decode_message(bad)
            with trio.fail_after(FAST), pytest.raises((RemoteProtocolError, P2PError)) as failure:
                await rpc(host, boot.peer_id, KAD_PROTOCOL, bad, timeout=FAST)
            assert not isinstance(failure.value, PeerTimeout)
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 2)})

            # Plaintext-only client: the Noise-only node refuses the connection outright.
            key_pair = key_pair_from_identity(Identity(PLAIN_SEED))
            plain = new_host(
                key_pair=key_pair, sec_opt={TProtocol(PLAINTEXT_PROTOCOL_ID): InsecureTransport(key_pair)}
            )
            assert isinstance(plain, BasicHost)
            swarm = plain.get_network()
            assert isinstance(swarm, Swarm)
            swarm.retry_config = RetryConfig(max_retries=0)
            async with plain.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
                started = time.monotonic()
                with pytest.raises(SwarmException), trio.fail_after(FAST):
                    await plain.connect(info_from_p2p_addr(multiaddr.Multiaddr(boot.addr)))
                assert time.monotonic() - started < FAST
                assert not swarm.connections
            await _still_serving(host, boot, key, {(author.pubkey, v1.id, 2)})

    trio.run(main)
    assert boot.proc.alive()


def _swap_author(record: bytes, signer: bytes, claimed: bytes) -> bytes:
    """Replace the envelope's author (and the intent's) with ``claimed``: the signature no longer
    matches, as for any record signed by someone else than the author it names."""
    assert record.count(signer) >= 1
    forged = record.replace(signer, claimed)
    with pytest.raises(RemoteProtocolError):
        open_intent(forged)
    return forged
