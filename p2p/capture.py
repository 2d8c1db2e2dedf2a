"""Test-only: a copy of every plaintext byte this process sends over Noise, for the privacy tests.

Off unless ``METASPACE_CAPTURE_PLAINTEXT=DIR`` is set in the environment when :mod:`p2p.fences` is
imported; then each Noise transport write (everything after the handshake: yamux frames carrying
multistream-select, identify, ping, DHT RPCs, INTENT_MATCH, negotiation) is appended, *before it is
encrypted*, to ``DIR/<pid>.cap`` as records ``u32 connection serial || u32 length || bytes`` (big
endian). The serial numbers this process's connections in the order they first write. Writes are
flushed at once, so a process killed mid-run leaves every record it wrote before.

Nothing in the product sets the variable; it is read once, at import.
"""

from __future__ import annotations

import itertools
import os
import struct
from pathlib import Path
from typing import BinaryIO

CAPTURE_ENV = "METASPACE_CAPTURE_PLAINTEXT"
_HEADER = struct.Struct(">II")
_SERIAL_ATTR = "_metaspace_capture_serial"


class PlaintextCapture:
    """Appends ``(connection, plaintext)`` records to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - kept open for the process's life
        self._serials = itertools.count(1)

    def record(self, conn: object, data: bytes) -> None:
        """Append one write of ``conn`` (any object standing for one connection)."""
        serial = getattr(conn, _SERIAL_ATTR, None)
        if serial is None:
            serial = next(self._serials)
            setattr(conn, _SERIAL_ATTR, serial)
        self._file.write(_HEADER.pack(serial, len(data)) + bytes(data))
        self._file.flush()


def from_env() -> PlaintextCapture | None:
    """The capture ``METASPACE_CAPTURE_PLAINTEXT`` asks for, or None (the default)."""
    directory = os.environ.get(CAPTURE_ENV)
    if not directory:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    return PlaintextCapture(Path(directory) / f"{os.getpid()}.cap")


def read_capture(path: Path) -> list[tuple[int, bytes]]:
    """The ``(connection serial, plaintext)`` records of one capture file, in order (a truncated last
    record, from a killed process, is dropped)."""
    data = path.read_bytes()
    out = []
    at = 0
    while at + _HEADER.size <= len(data):
        serial, length = _HEADER.unpack_from(data, at)
        at += _HEADER.size
        if at + length > len(data):
            break
        out.append((serial, data[at : at + length]))
        at += length
    return out
