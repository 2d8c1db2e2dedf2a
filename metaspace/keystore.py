"""The encrypted keystore of an agent's ed25519 identity.

The 32-byte seed is encrypted with XSalsa20-Poly1305 (``nacl.secret.SecretBox``) under a key derived
from the human's passphrase with argon2id (``nacl.pwhash.argon2id.kdf``). The file is JSON, written
atomically with mode 0600::

    {"format": "metaspace-keystore", "version": 1, "peer_id": "12D3KooW...",
     "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "<base64>"},
     "cipher": "xsalsa20poly1305", "box": "<base64 nonce+ciphertext>", "created": 1763800000}

``peer_id`` is public and stored in clear so ``metaspace status`` can show the agent's id without the
passphrase; it is checked against the decrypted key on every unlock.

KDF cost: the default is libsodium's *moderate* limits (3 passes, 256 MiB; about a second). Setting
the environment variable ``METASPACE_KDF=fast`` selects the minimum limits; it exists **only for the
test suite** (many keystores per second) and must never be used for a real identity. The limits used
are stored in the file, and reading refuses limits above libsodium's *sensitive* ones, so a tampered
file can't make an unlock allocate unbounded memory. A keystore weaker than the moderate limits is
never accepted silently: :func:`unlock` warns, and unless ``METASPACE_KDF=fast`` is set (the test
suite) it re-encrypts the seed with the moderate limits at once (fresh salt and nonce, written
atomically, no copy of the weak file kept).

The passphrase comes from ``$METASPACE_PASSPHRASE`` or, in a terminal, a ``getpass`` prompt (asked
twice when creating).
"""

from __future__ import annotations

import base64
import binascii
import getpass
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils

from metaspace.home import read_small_json, write_private_file
from wire.identity import SEED_LEN, Identity

FORMAT = "metaspace-keystore"
VERSION = 1
PASSPHRASE_ENV = "METASPACE_PASSPHRASE"
KDF_ENV = "METASPACE_KDF"
#: A keystore file is a few hundred bytes; refuse to parse anything much larger.
MAX_KEYSTORE_BYTES = 16 * 1024
#: Longest passphrase accepted (argon2 itself takes any length; this bounds memory and typos).
MAX_PASSPHRASE_LEN = 1024


class KeystoreError(Exception):
    """The keystore is missing, unreadable, or malformed (a message for humans)."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not open the keystore."""


@dataclass(frozen=True)
class KdfLimits:
    """argon2id cost parameters."""

    opslimit: int
    memlimit: int


#: Default: libsodium's moderate limits (3 passes, 256 MiB).
MODERATE = KdfLimits(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
#: Tests only (``METASPACE_KDF=fast``): the minimum limits.
FAST_FOR_TESTS = KdfLimits(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
#: The most a keystore file may ask an unlock to spend.
MAX_LIMITS = KdfLimits(argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE)


def default_limits() -> KdfLimits:
    """Moderate limits, or the minimum ones when ``METASPACE_KDF=fast`` (tests only)."""
    return FAST_FOR_TESTS if os.environ.get(KDF_ENV, "") == "fast" else MODERATE


def new_seed() -> bytes:
    """32 fresh random bytes from the OS CSPRNG, the seed of a new identity."""
    return nacl.utils.random(SEED_LEN)


def _derive(passphrase: str, salt: bytes, limits: KdfLimits) -> bytes:
    return bytes(
        argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=limits.opslimit,
            memlimit=limits.memlimit,
        )
    )


def encrypt_seed(seed: bytes, passphrase: str, limits: KdfLimits | None = None) -> dict[str, Any]:
    """The keystore document (a JSON-able dict) holding ``seed`` encrypted under ``passphrase``.

    Args:
        seed: the 32-byte identity seed.
        passphrase: the human's passphrase (non-empty).
        limits: argon2id cost; default :func:`default_limits`.

    Returns:
        The document to write with :func:`save_keystore`.

    Raises:
        KeystoreError: empty or over-long passphrase, or a seed of the wrong length.
    """
    _check_passphrase(passphrase)
    identity = Identity(seed)  # raises on a bad seed length
    lim = limits or default_limits()
    salt = nacl.utils.random(argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, lim))
    sealed = bytes(box.encrypt(seed))
    return {
        "format": FORMAT,
        "version": VERSION,
        "peer_id": identity.peer_id,
        "kdf": {
            "name": "argon2id",
            "opslimit": lim.opslimit,
            "memlimit": lim.memlimit,
            "salt": base64.b64encode(salt).decode("ascii"),
        },
        "cipher": "xsalsa20poly1305",
        "box": base64.b64encode(sealed).decode("ascii"),
        "created": int(time.time()),
    }


def decrypt_seed(doc: dict[str, Any], passphrase: str) -> bytes:
    """The seed inside a keystore document.

    Raises:
        WrongPassphrase: the passphrase does not open it.
        KeystoreError: the document is malformed or its limits are out of bounds.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeystoreError("not a metaspace keystore")
    if doc.get("version") != VERSION:
        raise KeystoreError(f"unsupported keystore version {doc.get('version')!r}")
    kdf = doc.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id" or doc.get("cipher") != "xsalsa20poly1305":
        raise KeystoreError("unsupported keystore algorithms")
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    if not (isinstance(ops, int) and isinstance(mem, int)):
        raise KeystoreError("keystore KDF limits are not integers")
    if not (FAST_FOR_TESTS.opslimit <= ops <= MAX_LIMITS.opslimit):
        raise KeystoreError("keystore KDF opslimit out of range")
    if not (FAST_FOR_TESTS.memlimit <= mem <= MAX_LIMITS.memlimit):
        raise KeystoreError("keystore KDF memlimit out of range")
    try:
        salt = base64.b64decode(str(kdf.get("salt", "")), validate=True)
        sealed = base64.b64decode(str(doc.get("box", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeystoreError("keystore is corrupted (bad base64)") from exc
    if len(salt) != argon2id.SALTBYTES:
        raise KeystoreError("keystore is corrupted (bad salt)")
    if len(sealed) != nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES + SEED_LEN:
        raise KeystoreError("keystore is corrupted (bad ciphertext length)")
    _check_passphrase(passphrase)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, KdfLimits(ops, mem)))
    try:
        seed = bytes(box.decrypt(sealed))
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase("wrong passphrase (the keystore did not open)") from exc
    if doc.get("peer_id") is not None and Identity(seed).peer_id != doc.get("peer_id"):
        raise KeystoreError("keystore is corrupted (its peer id does not match its key)")
    return seed


def _check_passphrase(passphrase: str) -> None:
    if not passphrase:
        raise KeystoreError("the passphrase must not be empty")
    if len(passphrase) > MAX_PASSPHRASE_LEN:
        raise KeystoreError(f"the passphrase is longer than {MAX_PASSPHRASE_LEN} characters")


def read_keystore(path: Path) -> dict[str, Any]:
    """Read and parse a keystore file (no decryption).

    Raises:
        KeystoreError: missing, too large, or not JSON.
    """
    doc = read_small_json(
        path, MAX_KEYSTORE_BYTES, KeystoreError, missing="no identity at {path}",
        too_large="{path} is too large to be a keystore", not_json="{path} is not a keystore (not JSON)",
    )  # fmt: skip
    if not isinstance(doc, dict):
        raise KeystoreError(f"{path} is not a keystore")
    return doc


def stored_peer_id(path: Path) -> str | None:
    """The public agent id recorded in a keystore, without decrypting it (None if unreadable)."""
    try:
        value = read_keystore(path).get("peer_id")
    except KeystoreError:
        return None
    return value if isinstance(value, str) else None


def backup_path(path: Path, now: float | None = None) -> Path:
    """A fresh name beside ``path`` for a backup (``identity.key.bak-20261122T133700Z``)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    candidate = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1
    return candidate


def save_keystore(path: Path, doc: dict[str, Any], *, force: bool = False) -> Path | None:
    """Write a keystore document atomically with mode 0600.

    Args:
        path: the keystore file.
        doc: from :func:`encrypt_seed`.
        force: replace an existing keystore (it is first copied to a backup, never lost).

    Returns:
        The backup path when an existing keystore was replaced, else None.

    Raises:
        KeystoreError: a keystore exists and ``force`` is False.
        OSError: the file could not be written.
    """
    backup: Path | None = None
    if path.exists():
        if not force:
            raise KeystoreError(f"an identity already exists at {path}; refusing to overwrite it")
        backup = backup_path(path)
        write_private_file(backup, path.read_bytes())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private_file(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return backup


def load_identity(path: Path, passphrase: str) -> Identity:
    """Open the keystore at ``path``.

    Raises:
        WrongPassphrase: the passphrase does not open it.
        KeystoreError: missing or malformed keystore.
    """
    return Identity(decrypt_seed(read_keystore(path), passphrase))


def ask_passphrase(*, confirm: bool, purpose: str = "the agent's keystore") -> str:
    """The passphrase from ``$METASPACE_PASSPHRASE``, or asked in the terminal.

    Args:
        confirm: ask twice and require both to match (creating a keystore).
        purpose: what the passphrase protects, shown in the prompt.

    Raises:
        KeystoreError: no terminal and no environment variable, mismatch, or empty passphrase.
    """
    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        _check_passphrase(env)
        return env
    if not sys.stdin.isatty():
        raise KeystoreError(f"no passphrase: set {PASSPHRASE_ENV} or run this command in a terminal")
    try:
        first = getpass.getpass(f"Passphrase for {purpose}: ")
        if confirm:
            second = getpass.getpass("Repeat the passphrase: ")
            if first != second:
                raise KeystoreError("the two passphrases differ")
    except EOFError as exc:
        raise KeystoreError("no passphrase given") from exc
    _check_passphrase(first)
    return first


def is_weak(doc: dict[str, Any]) -> bool:
    """True if a keystore document's key derivation is cheaper than the moderate limits."""
    kdf = doc.get("kdf") if isinstance(doc, dict) else None
    if not isinstance(kdf, dict):
        return False
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    if not (isinstance(ops, int) and isinstance(mem, int)):
        return False
    return ops < MODERATE.opslimit or mem < MODERATE.memlimit


def strengthen(path: Path, doc: dict[str, Any], seed: bytes, passphrase: str) -> None:
    """Re-encrypt ``seed`` in the keystore at ``path`` with the moderate limits (atomic replace; the
    weak file is not kept). ``created`` is kept.

    Raises:
        OSError: the file could not be written.
    """
    new = encrypt_seed(seed, passphrase, MODERATE)
    if isinstance(doc.get("created"), int):
        new["created"] = doc["created"]
    write_private_file(path, (json.dumps(new, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def unlock(path: Path) -> Identity:
    """Open the keystore at ``path`` with the passphrase from the environment or a prompt.

    This is what the agent peer calls at start. A keystore with a weak key derivation is reported on
    stderr and, unless ``METASPACE_KDF=fast`` (tests), re-encrypted with the strong one right away.

    Raises:
        WrongPassphrase, KeystoreError: as :func:`load_identity` and :func:`ask_passphrase`.
    """
    doc = read_keystore(path)  # fail on a missing keystore before prompting
    passphrase = ask_passphrase(confirm=False)
    seed = decrypt_seed(doc, passphrase)
    if is_weak(doc):
        if os.environ.get(KDF_ENV, "") == "fast":
            print(
                f"warning: {path} uses the weak test-only key derivation ({KDF_ENV}=fast); "
                "never use it for a real identity",
                file=sys.stderr,
            )
        else:
            print(
                f"warning: {path} was encrypted with a weak key derivation; re-encrypting it with the "
                "strong one (argon2id moderate)",
                file=sys.stderr,
            )
            try:
                strengthen(path, doc, seed, passphrase)
            except OSError as exc:
                print(f"warning: could not re-encrypt {path}: {exc}", file=sys.stderr)
    return Identity(seed)
