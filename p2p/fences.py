"""Fences around py-libp2p 0.8.1: the few places where we change the library's behaviour, and why.

Each fence is small, named, explained and idempotent. The process-wide ones (patches of library
classes) are applied once when this module is imported (:func:`apply_process_fences`); the
per-host ones take the host's swarm (:func:`fence_swarm`), called by ``P2PHost`` for every host it
builds. Nothing else in the project patches py-libp2p.

Process-wide fences:

- ``no_dial_delay``: the swarm waits 250 ms ("happy eyeballs") before every dial; set to 0.
- ``make_noise_writes_atomic``: a cancelled Noise write desynchronises the cipher and kills the
  whole connection; each write is shielded and bounded (``NOISE_WRITE_TIMEOUT``).
- ``return_inbound_slots``: **the inbound slot leak.** ``Swarm._handle_inbound_connection`` takes a
  slot of a 250-slot ``CapacityLimiter`` and then, once the connection is upgraded, waits in
  ``manager.wait_finished()`` (until the *whole swarm* stops) before giving it back. A closed
  connection therefore keeps its slot and its task forever, and a node refuses every inbound
  connection after 249 in its lifetime. Our version waits for *that connection* to end, then returns
  the slot and ends the task. It also asks the host's admission policy (``p2p.connmgr``) first, so
  refusals (too many inbound, too many from one IP) happen before any handshake work, with a reason.
- ``our_agent_version``: identify says ``metaspace-net/<version>``.
- ``batch_window_updates``: py-libp2p's yamux credits a stream's receive window back after nearly every
  read (a WINDOW_UPDATE frame: one more Noise message and TCP write each time): 11.7 of the 21.7 Noise
  messages of one request/reply on a stream of its own. We credit it as go-yamux does, once half of the
  window was consumed.
- ``buffer_tcp_reads``: py-libp2p reads each Noise message from TCP in two reads of exactly the size it
  needs (the 2-byte length, then the body): two syscalls and four scheduler round trips (the connection's
  read lock, the receive) per message, however many messages arrived together. We read what the kernel
  has (up to ``TCP_READ_CHUNK``) and serve the connection's next reads from the rest: same bytes, same
  order, never more than a read asked for.
- ``lean_frame_writes``: every yamux frame goes through three locks (the stream's writer lock, the
  connection's frame lock, the TCP stream's lock) and a checkpoint after it, each one scheduler round trip
  even when nothing waits, and formats a debug line (flag names, f-string) that is never printed. A free
  lock is now taken at once (a waiter still queues fairly), the trailing checkpoint and the unprinted
  formatting are gone; the socket send still checkpoints. The TCP stream's read lock likewise. The
  other locks every stream read or write passes (the net stream's state lock, the yamux stream's window
  lock, the connection's stream table lock) become :class:`QuickLock`: the same lock, taken at once
  when free.
- ``capture_plaintext`` (tests only, off unless ``METASPACE_CAPTURE_PLAINTEXT`` is set): every Noise
  transport write is copied, before encryption, to a file (:mod:`p2p.capture`), so the byte-level
  privacy test can read everything an agent sends.

Per-swarm fences (``fence_swarm``):

- No auto-connector: the swarm would dial every peer of its peerstore until it holds 100 connections;
  a DHT node chooses whom it talks to. Its bookkeeping is switched off too: the swarm still told it of
  every disconnect (``record_disconnect``), and only its own periodic task (now gone) pruned that map, so
  it grew by one entry per distinct peer forever.
- No library pruning: the swarm's own pruner closes connections above its high watermark (200) with
  its own notion of value; ``p2p.connmgr`` decides instead (it knows the routing table's neighbours).
- No default resource manager: ``new_host`` attaches one with its own connection, stream (a global
  10,000-stream semaphore that *queues* streams: one peer opening thousands of streams would stall
  everyone else's) and memory limits (it reads the machine's memory use). Our limits are explicit,
  named and tested: ``p2p.connmgr`` for connections, ``p2p.host`` for streams.
- No hidden retries or blacklists: ``max_retries=0`` and a zero-TTL negative peer cache (the DHT has
  its own failure policy).
- The library's own connection caps are lifted (``LIBRARY_MAX_CONNECTIONS``): ours are authoritative.

Per-host fences elsewhere (``P2PHost`` builds them):

- ``p2p.peerstore.BoundedPeerStore``: the library's peerstore, past 1,000 peers, evicts our *own* key
  first (identify then fails and takes the host down), and otherwise never forgets a peer. Ours never
  evicts our key nor a connected peer, keeps a bounded, expiring cache of the others, and bounds what one
  peer's identify can make us hold.
- ``p2p.streams.InboundStreamLimiter`` guards every inbound stream, the library's own handlers included
  (identify, ping, protocol negotiation): in py-libp2p an exception escaping a handler ends the whole
  swarm.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any, Protocol

import trio
from libp2p.abc import IMuxedConn
from libp2p.identity.identify import identify as _identify_module
from libp2p.io import trio as _trio_io
from libp2p.io.abc import ReadWriteCloser
from libp2p.io.exceptions import ConnectionClosedError
from libp2p.network import swarm as _swarm_module
from libp2p.network.config import RetryConfig
from libp2p.network.connection.raw_connection import RawConnection
from libp2p.network.stream.net_stream import NetStream
from libp2p.network.swarm import Swarm
from libp2p.security.noise import io as _noise_io
from libp2p.stream_muxer.rw_lock import ReadWriteLock
from libp2p.stream_muxer.yamux.yamux import Yamux, YamuxStream
from multiaddr import Multiaddr

from p2p import capture as _capture

log = logging.getLogger(__name__)

#: Writing one encrypted Noise message to TCP (shielded from cancellation). A write only blocks when the
#: peer stops reading (or its event loop stalls: generous, since on an overloaded box 5 s stalls were
#: seen); past this the connection is closed. Only the one task holding the connection's write lock can
#: be held this long; other writers queue, cancellably.
NOISE_WRITE_TIMEOUT = 20.0
#: Closing a connection that could not write (bounded, shielded).
NOISE_CLOSE_TIMEOUT = 1.0
#: Once a connection is shutting down, how long its close may take before the inbound task ends anyway
#: (ending the task closes the socket: trio's listener closes it when the handler returns).
INBOUND_CLOSE_GRACE = 5.0
#: The most one TCP read asks the kernel for (``buffer_tcp_reads``); what is left over waits in the
#: connection's buffer for its next reads, so a connection buffers at most this much.
TCP_READ_CHUNK = 64 * 1024
#: The library's own connection caps, lifted so that ``p2p.connmgr``'s limits are the ones that apply.
LIBRARY_MAX_CONNECTIONS = 1_000_000


def _package_version() -> str:
    try:
        return metadata.version("metaspace-net")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


#: What identify reports as our agent version.
AGENT_VERSION = f"metaspace-net/{_package_version()}"


class InboundTicket(Protocol):
    """One admitted inbound connection (see :class:`InboundAdmission`)."""

    def established(self, conn: IMuxedConn) -> None:
        """The security and muxer handshakes succeeded: ``conn`` is the upgraded connection."""

    def failed(self, reason: str) -> None:
        """The connection ended before it was established (``reason``: ``handshake_failed``, ...)."""

    def release(self) -> None:
        """The connection is over (called exactly once, last)."""


class InboundAdmission(Protocol):
    """Decides, before any handshake, whether an inbound TCP connection may proceed."""

    def admit(self, remote: tuple[str, int] | None) -> InboundTicket | None:
        """A ticket to proceed, or None to refuse (the policy counts the reason itself)."""


#: The swarm attribute where ``P2PHost`` puts its admission policy.
ADMISSION_ATTR = "metaspace_admission"
#: Tests only: where the plaintext of Noise writes is copied (None: nowhere, the default).
CAPTURE: _capture.PlaintextCapture | None = _capture.from_env()


# ------------------------------------------------------------------------------ process-wide fences


def no_dial_delay() -> None:
    """The 250 ms "happy eyeballs" head start would be paid on every single dial. Idempotent."""
    _swarm_module._HAPPY_EYEBALLS_DELAY = 0.0


def make_noise_writes_atomic() -> None:
    """Make each Noise transport write atomic with respect to cancellation.

    ``NoiseTransportReadWriter.write_msg`` encrypts (advancing the cipher's nonce) and *then* awaits
    the socket write. A cancellation landing between the two (a caller's timeout, a lookup cancelling
    its straggling RPCs, a handler deadline) drops a ciphertext the peer's nonce counter expects: every
    later message on that connection fails to decrypt and the peer kills it, breaking all the other
    streams it carried. Yamux frames are written from the caller's task (and reads may write window
    updates), so any cancelled stream operation can do this. We shield the write, bounded by
    ``NOISE_WRITE_TIMEOUT``; if that expires the connection can't be trusted and is closed.
    Idempotent.
    """
    cls = _noise_io.NoiseTransportReadWriter
    if getattr(cls, "_metaspace_atomic_writes", False):
        return
    original = cls.write_msg

    async def write_msg(
        self: _noise_io.NoiseTransportReadWriter, msg: bytes, prefix_encoded: bool = False
    ) -> None:
        if CAPTURE is not None:  # tests only (capture_plaintext): the bytes as they are encrypted
            CAPTURE.record(self, msg)
        with trio.CancelScope(shield=True):
            with trio.move_on_after(NOISE_WRITE_TIMEOUT):
                await original(self, msg, prefix_encoded)
                return
            with trio.move_on_after(NOISE_CLOSE_TIMEOUT):
                try:
                    await self.close()
                except Exception as exc:
                    log.debug("closing a stuck connection failed: %r", exc)
        raise ConnectionClosedError(
            f"a Noise write took longer than {NOISE_WRITE_TIMEOUT} s; connection closed"
        )

    setattr(cls, "write_msg", write_msg)  # noqa: B010 - patching a library class on purpose
    setattr(cls, "_metaspace_atomic_writes", True)  # noqa: B010


class _LimiterTicket:
    """The library's own inbound cap (its ``CapacityLimiter``), for swarms without our admission policy
    (e.g. a bare ``new_host`` in a test); the slot now really comes back when the connection ends."""

    def __init__(self, limiter: trio.CapacityLimiter) -> None:
        self._limiter = limiter

    def established(self, conn: IMuxedConn) -> None:
        return None

    def failed(self, reason: str) -> None:
        return None

    def release(self) -> None:
        self._limiter.release()


async def _close_quietly(close: Callable[[], Awaitable[None]]) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(NOISE_CLOSE_TIMEOUT):
        try:
            await close()
        except Exception as exc:  # the socket may already be gone
            log.debug("closing an inbound connection failed: %r", exc)


async def _until_closed(conn: IMuxedConn) -> None:
    """Wait until an upgraded connection ends (remote close, reset, error, or our own close).

    Every end of a yamux connection sets ``event_shutting_down``; its ``close`` then finishes within
    ``INBOUND_CLOSE_GRACE`` (else we return anyway and the listener closes the socket).
    """
    ending: trio.Event | None = getattr(conn, "event_shutting_down", None)
    if ending is None:
        ending = getattr(conn, "event_closed", None)
    if ending is None:  # pragma: no cover - a muxer without either event: poll
        while not conn.is_closed:
            await trio.sleep(1.0)
        return
    await ending.wait()
    closed: trio.Event | None = getattr(conn, "event_closed", None)
    if closed is not None:
        with trio.move_on_after(INBOUND_CLOSE_GRACE):
            await closed.wait()


def return_inbound_slots() -> None:
    """Replace ``Swarm._handle_inbound_connection``: admit, upgrade, serve until *this* connection ends,
    then give its slot back (see the module docstring for the leak this fixes). Idempotent.

    The replacement keeps the library's steps (connection gate, ``upgrade_inbound_raw_conn``, which
    bounds the handshakes by ``inbound_upgrade_timeout`` and registers the connection) and changes two
    things: admission is asked of the swarm's ``metaspace_admission`` policy (if any) before anything
    else, and the task waits for the connection's end instead of the swarm's.
    """
    if getattr(Swarm, "_metaspace_inbound_fence", False):
        return

    async def _handle_inbound_connection(
        self: Swarm, read_write_closer: ReadWriteCloser, maddr: Multiaddr
    ) -> None:
        admission: InboundAdmission | None = getattr(self, ADMISSION_ATTR, None)
        ticket: InboundTicket | None
        if admission is not None:
            try:
                remote = read_write_closer.get_remote_address()
            except Exception:  # the socket is already gone
                remote = None
            ticket = admission.admit(remote)
        else:
            try:
                self._inbound_limiter.acquire_nowait()
                ticket = _LimiterTicket(self._inbound_limiter)
            except trio.WouldBlock:
                ticket = None
        if ticket is None:
            await _close_quietly(read_write_closer.close)
            return
        try:
            remote_maddr = self._build_remote_multiaddr(read_write_closer)
            if remote_maddr is not None and not await self.connection_gate.is_allowed(remote_maddr):
                ticket.failed("gate")
                await _close_quietly(read_write_closer.close)
                return
            try:
                if isinstance(read_write_closer, IMuxedConn):  # QUIC-like transports: already muxed
                    muxed: IMuxedConn = read_write_closer
                    await self.add_conn(muxed, direction="inbound")
                else:
                    muxed = await self.upgrade_inbound_raw_conn(
                        RawConnection(read_write_closer, False), maddr
                    )
            except Exception as exc:  # handshake failed or timed out, refused by the swarm
                ticket.failed("handshake_timeout" if "timeout" in str(exc).lower() else "handshake_failed")
                log.debug("inbound connection on %s failed: %r", maddr, exc)
                await _close_quietly(read_write_closer.close)
                return
            ticket.established(muxed)
            try:
                await _until_closed(muxed)
            except Exception:  # a bug here would otherwise vanish into the listener's DEBUG log
                log.warning("waiting for an inbound connection to end failed", exc_info=True)
        finally:
            ticket.release()

    setattr(Swarm, "_handle_inbound_connection", _handle_inbound_connection)  # noqa: B010
    setattr(Swarm, "_metaspace_inbound_fence", True)  # noqa: B010


def our_agent_version() -> None:
    """Identify reports ``metaspace-net/<version>`` (read at send time from this module global)."""
    _identify_module.AGENT_VERSION = AGENT_VERSION


def batch_window_updates() -> None:
    """Send a yamux WINDOW_UPDATE only once half of the stream's receive window was consumed (go-yamux's
    rule). Idempotent.

    py-libp2p 0.8.1's ``YamuxStream._auto_tune_and_send_window_update`` runs after every read; besides
    go-yamux's rule it also sends the credit of any partial read ("partial slack", and "release on read"
    unless ``PY_YAMUX_RELEASE_ON_READ=0``). A request/reply on a stream of its own then costs 21.7 Noise
    messages on the two sides instead of 10 (about 40% of its CPU). Flow control is unchanged: the sender
    may still have a whole window in flight, and is credited before it can run out (a window is 256 KiB
    and grows with the library's auto-tuning, which we keep).
    """
    if getattr(YamuxStream, "_metaspace_batched_updates", False):
        return

    async def _auto_tune_and_send_window_update(self: YamuxStream, *, bytes_read: int = 0) -> None:
        async with self.window_lock:
            buffered = len(self.conn.stream_buffers.get(self.stream_id, b""))
            withheld = self.target_recv_window - (self.recv_window + buffered)
            if withheld <= 0 or withheld < self._grow_threshold():
                return
            credit = self._grow_to_delta(buffered) + self._apply_autotune_epoch(buffered)
            self._pending_recv_release = 0
        if credit > 0:
            await self.send_window_update(credit, skip_lock=True)

    setattr(YamuxStream, "_auto_tune_and_send_window_update", _auto_tune_and_send_window_update)  # noqa: B010
    setattr(YamuxStream, "_metaspace_batched_updates", True)  # noqa: B010


async def _take(lock: trio.Lock | trio.Semaphore) -> None:
    """Acquire ``lock``: at once if it is free and nobody waits (trio's ``acquire`` always adds a scheduler
    round trip), else by queueing as usual."""
    try:
        lock.acquire_nowait()
    except trio.WouldBlock:
        await lock.acquire()


async def _tcp_receive(stream: _trio_io.TrioTCPStream, n: int) -> bytes:
    """``TrioTCPStream.read``'s receive (its errors mapped the same way), taking a free read lock at once."""
    await _take(stream.read_lock)
    try:
        return await stream.stream.receive_some(n)
    except trio.BrokenResourceError as error:  # the remote reset the connection
        raise ConnectionClosedError(
            f"TCP connection reset by remote peer: {error}", transport="tcp"
        ) from error
    except trio.ClosedResourceError:  # closed locally: EOF for the layers above
        return b""
    finally:
        stream.read_lock.release()


def buffer_tcp_reads() -> None:
    """Serve a TCP connection's small reads from one larger read (see the module docstring). Idempotent.

    ``TrioTCPStream.read(n)`` returns at most ``n`` bytes, as before; it asks the socket for up to
    ``TCP_READ_CHUNK`` and keeps the surplus for the next calls, which return it without a syscall. The
    one reader of a connection (the upgrade, then the muxer's read loop) sees the same byte stream. Should
    two reads ever wait at once, bytes left over by the first come before those the second received.
    """
    cls = _trio_io.TrioTCPStream
    if getattr(cls, "_metaspace_buffered_reads", False):
        return

    async def read(self: _trio_io.TrioTCPStream, n: int | None = None) -> bytes:
        if n == 0:
            return b""
        buf: bytearray | None = self.__dict__.get("_metaspace_rbuf")
        if not buf:
            data = await _tcp_receive(self, TCP_READ_CHUNK if n is None else max(n, TCP_READ_CHUNK))
            buf = self.__dict__.get("_metaspace_rbuf")
            if not buf:  # the usual case: nothing was left over while we waited
                if n is None or len(data) <= n:
                    return data
                self.__dict__["_metaspace_rbuf"] = bytearray(data[n:])
                return data[:n]
            buf += data  # another read left bytes while we waited: they come first
        if n is None or n >= len(buf):
            out = bytes(buf)
            buf.clear()
        else:
            out = bytes(buf[:n])
            del buf[:n]
        return out

    setattr(cls, "read", read)  # noqa: B010 - patching a library class on purpose
    setattr(cls, "_metaspace_buffered_reads", True)  # noqa: B010


class _WriterLock:
    """``ReadWriteLock.write_lock()`` as a plain async context manager over its semaphore."""

    __slots__ = ("_sem",)

    def __init__(self, sem: trio.Semaphore) -> None:
        self._sem = sem

    async def __aenter__(self) -> None:
        await _take(self._sem)

    async def __aexit__(self, *exc: object) -> None:
        self._sem.release()


class QuickLock:
    """A ``trio.Lock`` whose ``async with`` takes it at once when it is free (see ``_take``); held, it is
    waited for as before. Only what the library does with these locks: ``async with``, and the rest of
    the lock's interface for safety."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = trio.Lock()

    async def __aenter__(self) -> None:
        await _take(self._lock)

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()

    async def acquire(self) -> None:
        await _take(self._lock)

    def acquire_nowait(self) -> None:
        self._lock.acquire_nowait()

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def statistics(self) -> Any:
        return self._lock.statistics()


def _quick_lock_after_init(cls: type, attr: str) -> None:
    init = cls.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        setattr(self, attr, QuickLock())

    setattr(cls, "__init__", __init__)  # noqa: B010 - patching library classes on purpose


def lean_frame_writes() -> None:
    """Take a frame write's free locks at once, without the unprinted debug formatting (see the module
    docstring). Idempotent."""
    if getattr(Yamux, "_metaspace_lean_writes", False):
        return

    async def _write_frame(self: Yamux, data: bytes) -> None:
        await _take(self._write_lock)
        try:
            await self.secured_conn.write(data)
        finally:
            self._write_lock.release()

    async def write(self: _trio_io.TrioTCPStream, data: bytes) -> None:
        await _take(self.write_lock)
        try:
            await self.stream.send_all(data)
        except trio.BrokenResourceError as error:  # the remote reset the connection
            raise ConnectionClosedError(
                f"TCP connection reset by remote peer: {error}", transport="tcp"
            ) from error
        except trio.ClosedResourceError:  # closed locally: the library ignores the write
            return
        finally:
            self.write_lock.release()

    def write_lock(self: ReadWriteLock) -> _WriterLock:
        return _WriterLock(self._writer_lock)

    _quick_lock_after_init(NetStream, "_state_lock")
    _quick_lock_after_init(YamuxStream, "window_lock")
    _quick_lock_after_init(Yamux, "streams_lock")
    setattr(Yamux, "_write_frame", _write_frame)  # noqa: B010 - patching library classes on purpose
    setattr(_trio_io.TrioTCPStream, "write", write)  # noqa: B010
    setattr(ReadWriteLock, "write_lock", write_lock)  # noqa: B010
    setattr(Yamux, "_metaspace_lean_writes", True)  # noqa: B010


def apply_process_fences() -> None:
    """Apply every process-wide fence (idempotent; done when this module is imported)."""
    no_dial_delay()
    make_noise_writes_atomic()
    return_inbound_slots()
    our_agent_version()
    batch_window_updates()
    buffer_tcp_reads()
    lean_frame_writes()


# ------------------------------------------------------------------------------ per-swarm fences


async def _no_auto_connect() -> None:
    return None


async def _no_library_pruning() -> None:
    return None


def _no_record(peer_id: object) -> None:
    return None


def fence_swarm(swarm: Swarm) -> None:
    """Apply the per-swarm fences (see the module docstring) to a freshly built swarm."""
    swarm.retry_config = RetryConfig(max_retries=0)
    if hasattr(swarm, "_negative_peer_cache"):
        swarm._negative_peer_cache = _swarm_module._NegativePeerCache(ttl=0.0)
    # Instance attributes shadow the methods the swarm's background tasks call.
    swarm.auto_connector.maybe_connect = _no_auto_connect  # type: ignore[method-assign]
    swarm.auto_connector.record_disconnect = _no_record  # type: ignore[method-assign]
    swarm.auto_connector.record_failed_connection = _no_record  # type: ignore[method-assign]
    swarm.connection_pruner.maybe_prune_connections = _no_library_pruning  # type: ignore[method-assign]
    swarm.set_resource_manager(None)
    config: Any = swarm.connection_config
    config.max_connections = LIBRARY_MAX_CONNECTIONS
    config.high_watermark = LIBRARY_MAX_CONNECTIONS
    config.low_watermark = 0
    config.min_connections = 0
    swarm._inbound_limiter = trio.CapacityLimiter(LIBRARY_MAX_CONNECTIONS)


apply_process_fences()

__all__ = [
    "ADMISSION_ATTR",
    "AGENT_VERSION",
    "INBOUND_CLOSE_GRACE",
    "NOISE_WRITE_TIMEOUT",
    "TCP_READ_CHUNK",
    "InboundAdmission",
    "InboundTicket",
    "apply_process_fences",
    "fence_swarm",
]
