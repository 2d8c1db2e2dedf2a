"""Identity: the peer-id text form is libp2p's, round-trips, and refuses anything else."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libp2p.crypto.ed25519 import Ed25519PublicKey
from libp2p.peer.id import ID

from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity, node_id, pubkey_from_text, pubkey_to_text, verify

seeds = st.binary(min_size=32, max_size=32)


@settings(max_examples=50, deadline=None)
@given(seeds)
def test_peer_id_text_round_trip_and_equals_libp2p(seed):
    ident = Identity(seed)
    text = ident.peer_id
    assert text.startswith("12D3KooW")
    assert pubkey_from_text(text) == ident.pubkey
    assert pubkey_to_text(ident.pubkey) == text
    assert ID.from_pubkey(Ed25519PublicKey.from_bytes(ident.pubkey)).to_base58() == text
    assert ident.node_id == node_id(ident.pubkey) == hashlib.sha256(ident.pubkey).digest()


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_any_32_bytes_round_trip(pubkey):
    assert pubkey_from_text(pubkey_to_text(pubkey)) == pubkey


def test_sign_and_verify():
    alice, bob = Identity(b"a" * 32), Identity(b"b" * 32)
    sig = alice.sign(b"hello")
    assert len(sig) == 64
    assert verify(alice.pubkey, b"hello", sig)
    assert not verify(bob.pubkey, b"hello", sig)
    assert not verify(alice.pubkey, b"hellO", sig)
    assert not verify(alice.pubkey, b"hello", sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not verify(alice.pubkey[:31], b"hello", sig)
    assert not verify(alice.pubkey, b"hello", sig[:63])
    assert not verify(b"\x00" * 32, b"hello", sig)  # small-order key


def test_identity_is_deterministic_and_never_prints_the_seed():
    seed = bytes(range(32))
    assert Identity(seed).pubkey == Identity(seed).pubkey
    assert Identity(seed) == Identity(seed)
    assert seed.hex() not in repr(Identity(seed))
    with pytest.raises(LocalProtocolError):
        Identity(b"short")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "12D3KooW",
        "1" * 65,
        "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5x",  # one char too many
        "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH",  # one char short
        "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPHl",  # 'l' is not base58
        "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",  # a sha256 (RSA-style) peer id
        "112D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5",  # extra leading zero byte
    ],
)
def test_bad_peer_ids_are_refused(text):
    with pytest.raises(RemoteProtocolError):
        pubkey_from_text(text)


def test_peer_id_text_must_be_text():
    with pytest.raises(RemoteProtocolError):
        pubkey_from_text(b"12D3KooW")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        pubkey_to_text(b"x" * 33)
