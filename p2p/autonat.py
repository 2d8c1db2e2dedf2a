"""AutoNAT v1 (libp2p/specs autonat/autonat-v1.md): "am I reachable from the Internet?".

A client asks a server to dial it back; the server answers whether that worked. Messages are
py-libp2p's protobuf (``host.autonat.pb.autonat_pb2``, the spec's schema) on
``/libp2p/autonat/1.0.0``.

Why not py-libp2p's ``AutoNATService``: its dial-back is ``host.connect(peer)``, which returns at once
when a connection to the peer already exists — and the requester is always connected (it is asking on
that very connection). So every client, NATed or not, is told it is reachable. Its dials also have no
timeout, it keeps no limits on requests, and it writes every requester's claimed addresses into the
peerstore. So both sides are implemented here, from the spec:

Server (:class:`AutoNatServer`, on bootstrap nodes): a ``DIAL`` request must name the stream's own peer
and arrive over a direct connection. Only the requester's *observed* IP is dialed (never an address it
claims: no amplification), with each TCP port it claims (at most ``MAX_DIALBACK_ADDRS``). The dial-back
is a **fresh** TCP connection plus a Noise handshake that must authenticate the requester's key; it is
never registered in the swarm and is closed at once. At most ``MAX_CONCURRENT_DIALBACKS`` run at once
and one peer may ask once per ``PEER_MIN_INTERVAL``; other requests are refused (``E_DIAL_REFUSED``).
Answer: ``OK`` with the address reached, ``E_DIAL_ERROR`` (nothing answered), ``E_DIAL_REFUSED`` or
``E_BAD_REQUEST``, with a status text.

Client (:func:`probe`): one request to one server, bounded; returns a :class:`Verdict`. Deciding from
several verdicts is :mod:`p2p.nat`'s job.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

import multiaddr
import trio
from libp2p.abc import INetStream
from libp2p.host.autonat.pb.autonat_pb2 import Message
from libp2p.peer.id import ID

from p2p.errors import P2PError
from p2p.host import P2PHost, close_stream, reset_stream, stream_peer_id, stream_remote_ip
from p2p.pbstream import read_pb, write_pb
from p2p.relay import stream_is_relayed
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)

AUTONAT_PROTOCOL = "/libp2p/autonat/1.0.0"
#: Largest AutoNAT message (a peer id, a few addresses, a status text).
MAX_AUTONAT_MESSAGE_BYTES = 4096
#: Addresses (observed IP x claimed TCP port) one request may have us dial.
MAX_DIALBACK_ADDRS = 4
#: One dial-back: TCP connect + Noise handshake.
DIALBACK_TIMEOUT = 5.0
#: Dial-backs in progress at once on one server.
MAX_CONCURRENT_DIALBACKS = 8
#: One peer may ask this often (seconds).
PEER_MIN_INTERVAL = 5.0
#: Peers whose last request time we remember (older ones are forgotten first).
MAX_REMEMBERED_PEERS = 4096
#: A whole probe, client side (the server may dial MAX_DIALBACK_ADDRS addresses one after the other).
PROBE_TIMEOUT = DIALBACK_TIMEOUT * MAX_DIALBACK_ADDRS + 5.0

STATUS_TEXT = {0: "ok", 100: "dial_error", 101: "dial_refused", 200: "bad_request", 300: "internal_error"}


@dataclass(frozen=True)
class Verdict:
    """One server's answer about us.

    Attributes:
        server: the server's peer id.
        reachable: True (it dialed us back), False (it tried and failed), None (no verdict: refused,
            bad answer, unreachable server).
        addr: the address it reached us at (when reachable).
        detail: the status name and text, or why there is no verdict.
    """

    server: str
    reachable: bool | None
    addr: str | None = None
    detail: str = ""


def dialback_addrs(claimed: list[bytes], observed_ip: str | None) -> list[multiaddr.Multiaddr]:
    """The addresses a server dials: the observed IP with each distinct TCP port the requester claims.

    Claimed IPs are ignored (only the connection's real source address is ever dialed); relay and
    malformed addresses are skipped; at most ``MAX_DIALBACK_ADDRS``.
    """
    if observed_ip is None:
        return []
    try:
        ip = ipaddress.ip_address(observed_ip)
    except ValueError:
        return []
    proto = "ip4" if ip.version == 4 else "ip6"
    out: list[multiaddr.Multiaddr] = []
    for raw in claimed[: 4 * MAX_DIALBACK_ADDRS]:
        try:
            maddr = multiaddr.Multiaddr(bytes(raw))
            if "p2p-circuit" in [p.name for p in maddr.protocols()]:
                continue
            port = int(maddr.value_for_protocol("tcp"))
        except Exception:  # garbage, or no /tcp/ component
            continue
        if not 0 < port < 65536:
            continue
        candidate = multiaddr.Multiaddr(f"/{proto}/{ip}/tcp/{port}")
        if candidate not in out:
            out.append(candidate)
        if len(out) >= MAX_DIALBACK_ADDRS:
            break
    return out


class AutoNatServer:
    """Answer AutoNAT dial-back requests (see the module docstring).

    Args:
        host: the running host whose transport and key are used for dial-backs.
    """

    def __init__(self, host: P2PHost) -> None:
        self.host = host
        self._slots = trio.Semaphore(MAX_CONCURRENT_DIALBACKS)
        self._last: dict[str, float] = {}
        self.answers: dict[str, int] = {}

    def start(self) -> None:
        timeout = PROBE_TIMEOUT + 5.0
        self.host.set_handler(AUTONAT_PROTOCOL, self._serve, timeout=timeout)

    def stop(self) -> None:
        self.host.remove_handler(AUTONAT_PROTOCOL)

    def _allow(self, peer: str) -> bool:
        now = trio.current_time()
        last = self._last.get(peer)
        if last is not None and now - last < PEER_MIN_INTERVAL:
            return False
        self._last.pop(peer, None)
        if len(self._last) >= MAX_REMEMBERED_PEERS:
            self._last.pop(next(iter(self._last)))
        self._last[peer] = now
        return True

    async def _serve(self, stream: INetStream) -> None:
        peer = stream_peer_id(stream)
        try:
            with trio.fail_after(DIALBACK_TIMEOUT):
                request = await read_pb(stream, Message, MAX_AUTONAT_MESSAGE_BYTES)
        except (RemoteProtocolError, P2PError, trio.TooSlowError) as exc:
            log.debug("bad AutoNAT request from %s: %s", peer, exc)
            return
        status, text, addr = await self._decide(stream, peer, request)
        self.answers[STATUS_TEXT.get(status, str(status))] = (
            self.answers.get(STATUS_TEXT.get(status, ""), 0) + 1
        )
        response = Message(type=Message.DIAL_RESPONSE)
        response.dialResponse.status = status  # type: ignore[assignment]
        response.dialResponse.statusText = text
        if addr is not None:
            response.dialResponse.addr = addr.to_bytes()
        with trio.move_on_after(DIALBACK_TIMEOUT):
            try:
                await write_pb(stream, response)
            except P2PError as exc:
                log.debug("could not answer AutoNAT request of %s: %s", peer, exc)

    async def _decide(self, stream: INetStream, peer: str, request: Any) -> tuple[int, str, Any]:
        if request.type != Message.DIAL or not request.HasField("dial"):
            return Message.E_BAD_REQUEST, "expected a DIAL request", None
        try:
            named = str(ID(bytes(request.dial.peer.id)))
        except Exception:
            named = ""
        if named != peer:
            return Message.E_BAD_REQUEST, "the request must name the requesting peer", None
        if stream_is_relayed(stream):
            return Message.E_DIAL_REFUSED, "requests over a relayed connection are refused", None
        addrs = dialback_addrs(list(request.dial.peer.addrs), stream_remote_ip(stream))
        if not addrs:
            return Message.E_DIAL_REFUSED, "no TCP port to dial at the observed address", None
        if not self._allow(peer):
            return Message.E_DIAL_REFUSED, f"one request per {PEER_MIN_INTERVAL:g} s", None
        try:
            self._slots.acquire_nowait()
        except trio.WouldBlock:
            return Message.E_DIAL_REFUSED, "too many dial-backs in progress", None
        try:
            for addr in addrs:
                if await self._dial_back(addr, peer):
                    return Message.OK, "dialed back", addr
        finally:
            self._slots.release()
        return Message.E_DIAL_ERROR, f"no answer at {', '.join(str(a) for a in addrs)}", None

    async def _dial_back(self, addr: multiaddr.Multiaddr, peer: str) -> bool:
        """A fresh TCP connection to ``addr`` and a Noise handshake that must authenticate ``peer``;
        closed at once, never registered in the swarm."""
        swarm: Any = self.host.libp2p_host.get_network()
        transport = swarm.transport_manager.transport_for_dialing(addr)
        if transport is None:
            return False
        raw: Any = None
        secured: Any = None
        ok = False
        with trio.move_on_after(DIALBACK_TIMEOUT):
            try:
                raw = await transport.dial(addr)
                secured = await swarm.upgrader.upgrade_security(raw, True, ID.from_base58(peer))
                ok = str(secured.get_remote_peer()) == peer
            except Exception as exc:  # refused, reset, handshake failure, wrong key
                log.debug("AutoNAT dial-back to %s at %s failed: %r", peer, addr, exc)
        with trio.CancelScope(shield=True), trio.move_on_after(1.0):
            for conn in (secured, raw):
                if conn is not None:
                    try:
                        await conn.close()
                        break
                    except Exception as exc:
                        log.debug("closing a dial-back failed: %r", exc)
        return ok


async def probe(host: P2PHost, server: str, ports_from: list[str], timeout: float = PROBE_TIMEOUT) -> Verdict:
    """Ask ``server`` to dial us back at our observed address, on the TCP ports of ``ports_from``.

    Never raises for network failures: they are a verdict of ``None`` with the reason.
    """
    request = Message(type=Message.DIAL)
    request.dial.peer.id = ID.from_base58(host.peer_id).to_bytes()
    for text in ports_from[:MAX_DIALBACK_ADDRS]:
        try:
            request.dial.peer.addrs.append(multiaddr.Multiaddr(text).to_bytes())
        except Exception:
            continue
    stream: INetStream | None = None
    try:
        with trio.fail_after(timeout):
            stream = await host.open_stream(server, AUTONAT_PROTOCOL, timeout=timeout)
            await write_pb(stream, request)
            answer = await read_pb(stream, Message, MAX_AUTONAT_MESSAGE_BYTES)
    except (P2PError, RemoteProtocolError, trio.TooSlowError) as exc:
        if stream is not None:
            await reset_stream(stream)
        return Verdict(server, None, detail=f"no answer: {exc}")
    await close_stream(stream)
    response = answer.dialResponse
    name = STATUS_TEXT.get(int(response.status), f"status_{int(response.status)}")
    detail = f"{name}: {response.statusText}"[:200]
    if answer.type != Message.DIAL_RESPONSE:
        return Verdict(server, None, detail="not a DIAL_RESPONSE")
    if response.status == Message.OK:
        try:
            addr = str(multiaddr.Multiaddr(bytes(response.addr))) if response.addr else None
        except Exception:
            addr = None
        return Verdict(server, True, addr, detail)
    if response.status == Message.E_DIAL_ERROR:
        return Verdict(server, False, detail=detail)
    return Verdict(server, None, detail=detail)


__all__ = [
    "AUTONAT_PROTOCOL",
    "DIALBACK_TIMEOUT",
    "MAX_DIALBACK_ADDRS",
    "PROBE_TIMEOUT",
    "AutoNatServer",
    "Verdict",
    "dialback_addrs",
    "probe",
]
