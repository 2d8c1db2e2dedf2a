"""The encrypted identity keystore (metaspace.keystore). Uses METASPACE_KDF=fast (tests only)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaspace import keystore
from metaspace.keystore import FAST_FOR_TESTS, MODERATE, KeystoreError, WrongPassphrase
from wire.identity import Identity


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METASPACE_KDF", "fast")
    monkeypatch.delenv("METASPACE_PASSPHRASE", raising=False)


def test_default_limits_are_moderate_unless_fast(monkeypatch: pytest.MonkeyPatch):
    assert keystore.default_limits() == FAST_FOR_TESTS
    monkeypatch.delenv("METASPACE_KDF")
    assert keystore.default_limits() == MODERATE
    assert MODERATE.memlimit >= 256 * 1024 * 1024 and MODERATE.opslimit >= 3
    monkeypatch.setenv("METASPACE_KDF", "anything-else")
    assert keystore.default_limits() == MODERATE


def test_round_trip(tmp_path: Path):
    seed = bytes(range(32))
    path = tmp_path / "identity.key"
    assert keystore.save_keystore(path, keystore.encrypt_seed(seed, "correct horse")) is None
    ident = keystore.load_identity(path, "correct horse")
    assert ident.seed == seed
    assert ident.peer_id == Identity(seed).peer_id == keystore.stored_peer_id(path)
    assert seed.hex() not in path.read_text()


def test_file_mode_is_0600_even_with_a_wide_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        path = tmp_path / "identity.key"
        keystore.save_keystore(path, keystore.encrypt_seed(keystore.new_seed(), "pw"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no leftovers


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "identity.key"
    keystore.save_keystore(path, keystore.encrypt_seed(keystore.new_seed(), "right"))
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        keystore.load_identity(path, "wrong")


def test_refuses_to_overwrite_and_backs_up_with_force(tmp_path: Path):
    path = tmp_path / "identity.key"
    first = keystore.encrypt_seed(keystore.new_seed(), "pw")
    keystore.save_keystore(path, first)
    second = keystore.encrypt_seed(keystore.new_seed(), "pw")
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        keystore.save_keystore(path, second)
    assert keystore.stored_peer_id(path) == first["peer_id"]
    backup = keystore.save_keystore(path, second, force=True)
    assert backup is not None and backup.exists()
    assert keystore.stored_peer_id(path) == second["peer_id"]
    assert keystore.stored_peer_id(backup) == first["peer_id"]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    third = keystore.save_keystore(path, keystore.encrypt_seed(keystore.new_seed(), "pw"), force=True)
    assert third is not None and third != backup and backup.exists()  # never overwrites a backup


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "not a metaspace keystore"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["kdf"].update(memlimit=2**40), "memlimit"),
        (lambda d: d["kdf"].update(opslimit=0), "opslimit"),
        (lambda d: d["kdf"].update(salt="!!!"), "base64"),
        (lambda d: d["kdf"].update(salt="AAAA"), "salt"),
        (lambda d: d.update(box="AAAA"), "ciphertext"),
        (lambda d: d.update(cipher="rot13"), "algorithms"),
    ],
)
def test_malformed_keystores(tmp_path: Path, mutate, message: str):
    doc = keystore.encrypt_seed(keystore.new_seed(), "pw")
    mutate(doc)
    path = tmp_path / "identity.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match=message):
        keystore.load_identity(path, "pw")


def test_tampered_peer_id_is_detected(tmp_path: Path):
    doc = keystore.encrypt_seed(keystore.new_seed(), "pw")
    doc["peer_id"] = Identity(bytes(32)).peer_id
    path = tmp_path / "identity.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match="does not match"):
        keystore.load_identity(path, "pw")


def test_missing_and_garbage_files(tmp_path: Path):
    with pytest.raises(KeystoreError, match="no identity"):
        keystore.load_identity(tmp_path / "nope", "pw")
    (tmp_path / "junk").write_bytes(b"\xff\x00junk")
    with pytest.raises(KeystoreError, match="not JSON"):
        keystore.load_identity(tmp_path / "junk", "pw")
    (tmp_path / "big").write_bytes(b" " * (keystore.MAX_KEYSTORE_BYTES + 1))
    with pytest.raises(KeystoreError, match="too large"):
        keystore.load_identity(tmp_path / "big", "pw")
    assert keystore.stored_peer_id(tmp_path / "junk") is None


def test_empty_passphrase_refused():
    with pytest.raises(KeystoreError, match="empty"):
        keystore.encrypt_seed(keystore.new_seed(), "")


def test_passphrase_from_env_or_prompt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("METASPACE_PASSPHRASE", "from-env")
    assert keystore.ask_passphrase(confirm=True) == "from-env"
    monkeypatch.delenv("METASPACE_PASSPHRASE")

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty())
    answers = iter(["one", "two"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(KeystoreError, match="differ"):
        keystore.ask_passphrase(confirm=True)
    answers = iter(["same", "same"])
    assert keystore.ask_passphrase(confirm=True) == "same"
    monkeypatch.setattr("sys.stdin", object.__new__(type("NoTty", (), {"isatty": lambda self: False})))
    with pytest.raises(KeystoreError, match="METASPACE_PASSPHRASE"):
        keystore.ask_passphrase(confirm=False)


@settings(max_examples=15, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), passphrase=st.text(min_size=1, max_size=40))
def test_round_trip_property(seed: bytes, passphrase: str):
    doc = keystore.encrypt_seed(seed, passphrase, keystore.FAST_FOR_TESTS)
    assert keystore.decrypt_seed(json.loads(json.dumps(doc)), passphrase) == seed
    with pytest.raises(WrongPassphrase):
        keystore.decrypt_seed(doc, passphrase + "x")


def test_a_weak_kdf_keystore_warns_and_is_rehashed_at_the_next_unlock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10: a METASPACE_KDF=fast keystore used to be accepted forever, silently."""
    path = tmp_path / "identity.key"
    seed = keystore.new_seed()
    keystore.save_keystore(path, keystore.encrypt_seed(seed, "pw", keystore.FAST_FOR_TESTS))
    created = json.loads(path.read_text())["created"]
    monkeypatch.setenv("METASPACE_PASSPHRASE", "pw")
    monkeypatch.delenv("METASPACE_KDF")  # a real user's environment
    assert keystore.unlock(path).seed == seed
    err = capsys.readouterr().err
    assert "weak key derivation" in err and "re-encrypting" in err
    doc = json.loads(path.read_text())
    assert (doc["kdf"]["opslimit"], doc["kdf"]["memlimit"]) == (
        keystore.MODERATE.opslimit,
        keystore.MODERATE.memlimit,
    )
    assert doc["created"] == created and not keystore.is_weak(doc)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob("identity.key.bak*")), "no copy of the weak file is kept"
    assert keystore.unlock(path).seed == seed
    assert "weak" not in capsys.readouterr().err, "warned once: it is strong now"


def test_the_test_only_fast_kdf_is_kept_but_never_silent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "identity.key"
    keystore.save_keystore(path, keystore.encrypt_seed(keystore.new_seed(), "pw"))
    before = path.read_bytes()
    monkeypatch.setenv("METASPACE_PASSPHRASE", "pw")
    keystore.unlock(path)
    assert "METASPACE_KDF=fast" in capsys.readouterr().err
    assert path.read_bytes() == before
