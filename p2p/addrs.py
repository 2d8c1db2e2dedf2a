"""Multiaddrs: parsing, what we advertise, and which addresses claimed by remote peers we believe.

Rules (issue 9, item 6):

- **We never advertise an unspecified address** (``0.0.0.0``, ``::``): a host listening on one
  advertises the addresses of its network interfaces instead (loopback only when it has nothing
  else), or exactly the operator's ``--announce`` addresses when given.
- **Claimed addresses are scoped.** An address a remote peer claims (in identify, or in a DHT
  message) is kept only if it is reachable from where we stand: public addresses always; private
  ones (RFC 1918, ULA, CGNAT...) only if we run on a private or loopback address ourselves; loopback
  ones only if we run on loopback (the tests); unspecified, link-local and multicast ones never.
  Otherwise a peer could point us (and, through the DHT, everyone) at our own machine or LAN.
"""

from __future__ import annotations

import enum
import ipaddress
import socket
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import multiaddr
import psutil
from libp2p.peer.id import ID

from p2p.errors import DialError, P2PError


class Scope(enum.IntEnum):
    """How far an address reaches. ``UNUSABLE`` addresses are never dialed nor advertised."""

    UNUSABLE = 0
    LOOPBACK = 1
    PRIVATE = 2
    PUBLIC = 3


def parse_peer_id(peer_id: str) -> ID:
    """Parse a peer id text ("12D3KooW...").

    Raises:
        DialError: not a valid peer id.
    """
    try:
        return ID.from_base58(peer_id)
    except Exception as exc:  # base58 / multihash errors come in several types
        raise DialError(f"invalid peer id {peer_id!r}") from exc


#: The relay part of a circuit relay address (``<relay addr>/p2p/<relay>/p2p-circuit/p2p/<peer>``).
CIRCUIT = "/p2p-circuit"


def p2p_component(maddr: multiaddr.Multiaddr) -> str | None:
    """The peer id text of a ``/p2p/`` component, or None if there is none. In a relay address the peer
    is the one after ``/p2p-circuit`` (None if it names only the relay)."""
    text = str(maddr)
    if CIRCUIT in text:  # p2p.relay_client: the first /p2p/ names the relay, not the peer
        tail = text.split(CIRCUIT, 1)[1]
        return tail[len("/p2p/") :] if tail.startswith("/p2p/") else None
    for proto in maddr.protocols():
        if proto.name == "p2p":
            value = maddr.value_for_protocol("p2p")
            return str(value) if value else None
    return None


def strip_p2p(maddr: multiaddr.Multiaddr) -> multiaddr.Multiaddr:
    """``maddr`` without its ``/p2p/<peer id>`` suffix."""
    peer_text = p2p_component(maddr)
    return maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}")) if peer_text else maddr


def split_peer_multiaddr(addr: str) -> tuple[str, str]:
    """Split ``/ip4/1.2.3.4/tcp/5/p2p/<peer id>`` into (peer id text, transport address text).

    Raises:
        DialError: malformed, or without a trailing ``/p2p/<peer id>``.
    """
    try:
        maddr = multiaddr.Multiaddr(addr)
        peer_text = p2p_component(maddr)
    except Exception as exc:
        raise DialError(f"malformed multiaddr {addr!r}") from exc
    if not peer_text:
        raise DialError(f"multiaddr {addr!r} does not end with /p2p/<peer id>")
    peer_id = parse_peer_id(str(peer_text))
    transport = maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}"))
    if not str(transport):
        raise DialError(f"multiaddr {addr!r} has no transport address")
    return str(peer_id), str(transport)


def parse_transport_addrs(addrs: Sequence[str], peer_id: str) -> list[multiaddr.Multiaddr]:
    """Parse transport addresses of ``peer_id``; a ``/p2p/`` suffix, if any, must name that peer.

    Raises:
        DialError: malformed, or naming another peer.
    """
    out: list[multiaddr.Multiaddr] = []
    for text in addrs:
        try:
            maddr = multiaddr.Multiaddr(text)
            peer_text = p2p_component(maddr)
            if peer_text:
                maddr = maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}"))
        except Exception as exc:
            raise DialError(f"malformed multiaddr {text!r}") from exc
        if peer_text and str(parse_peer_id(peer_text)) != peer_id:
            raise DialError(f"multiaddr {text!r} names another peer than {peer_id}")
        if not str(maddr):
            raise DialError(f"multiaddr {text!r} has no transport address")
        out.append(maddr)
    return out


# ------------------------------------------------------------------------------------------ scopes


def ip_of(maddr: multiaddr.Multiaddr) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of an ``/ip4/`` or ``/ip6/`` multiaddr, or None (DNS names, malformed)."""
    for proto in maddr.protocols():
        if proto.name in ("ip4", "ip6"):
            try:
                return ipaddress.ip_address(str(maddr.value_for_protocol(proto.name)))
            except ValueError:
                return None
    return None


def ip_scope(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Scope:
    """Where an IP address reaches (IPv4-mapped IPv6 addresses are judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return Scope.UNUSABLE
    if ip.is_loopback:
        return Scope.LOOPBACK
    if ip.is_multicast or ip.is_link_local:
        return Scope.UNUSABLE
    if ip.is_global:
        return Scope.PUBLIC
    if isinstance(ip, ipaddress.IPv4Address) and ip.is_reserved:  # 240.0.0.0/4
        return Scope.UNUSABLE
    return Scope.PRIVATE


def scope_of(maddr: multiaddr.Multiaddr) -> Scope:
    """The scope of a transport multiaddr; DNS names count as public (their owner vouches for them)."""
    names = {p.name for p in maddr.protocols()}
    if names & {"dns", "dns4", "dns6", "dnsaddr"}:
        return Scope.PUBLIC
    ip = ip_of(maddr)
    return Scope.UNUSABLE if ip is None else ip_scope(ip)


#: Verdicts an ``AddrPolicy`` remembers, by address text (least recently used forgotten first). Parsing a
#: multiaddr costs ~0.1 ms of pure Python and every FIND_NODE reply lists up to 20 peers' addresses, mostly
#: the same few hundred a node keeps seeing; the cache bounds what a peer sending fresh addresses can make
#: us hold (texts longer than ``MAX_CACHED_ADDR_LEN`` are judged but never kept).
ADDR_VERDICT_CACHE = 4096
MAX_CACHED_ADDR_LEN = 256


class AddrPolicy:
    """Which claimed addresses we keep, given the scopes we run on ourselves (see the module docstring).

    Args:
        own: our own advertised transport addresses.
    """

    def __init__(self, own: Iterable[multiaddr.Multiaddr]) -> None:
        scopes = {scope_of(m) for m in own}
        self.widest_local = min((s for s in scopes if s != Scope.UNUSABLE), default=Scope.PUBLIC)
        self._verdicts: OrderedDict[str, bool] = OrderedDict()

    def allows(self, maddr: multiaddr.Multiaddr) -> bool:
        """True if a peer's claim of ``maddr`` is believable from here."""
        scope = scope_of(maddr)
        return scope != Scope.UNUSABLE and scope >= self.widest_local

    def allows_text(self, text: str) -> bool:
        """True if a peer's claim of the address ``text`` (with or without ``/p2p/``) is believable from
        here; False for a malformed one. Verdicts are cached (``ADDR_VERDICT_CACHE``)."""
        verdicts = self._verdicts
        keep = verdicts.get(text)
        if keep is not None:
            verdicts.move_to_end(text)
            return keep
        try:
            keep = self.allows(strip_p2p(multiaddr.Multiaddr(text)))
        except Exception:  # malformed multiaddr text from a peer
            keep = False
        if len(text) <= MAX_CACHED_ADDR_LEN:
            verdicts[text] = keep
            if len(verdicts) > ADDR_VERDICT_CACHE:
                verdicts.popitem(last=False)
        return keep

    def filter(self, addrs: Iterable[str]) -> list[str]:
        """The believable ones of ``addrs`` (malformed ones dropped), in order, without duplicates."""
        out: list[str] = []
        for text in addrs:
            if text not in out and self.allows_text(text):
                out.append(text)
        return out


# ------------------------------------------------------------------------------------------ advertising


def interface_ips(family: int) -> list[str]:
    """The usable IP addresses of this machine's interfaces of one family (``socket.AF_INET[6]``),
    non-loopback first; link-local and other unusable addresses left out."""
    found: list[tuple[Scope, str]] = []
    for addrs in psutil.net_if_addrs().values():
        for snic in addrs:
            if snic.family != family:
                continue
            text = snic.address.split("%", 1)[0]  # drop an IPv6 zone index
            try:
                scope = ip_scope(ipaddress.ip_address(text))
            except ValueError:
                continue
            if scope != Scope.UNUSABLE:
                found.append((scope, text))
    found.sort(key=lambda t: -t[0])
    return [text for _, text in found]


def advertised_addrs(
    bound: Sequence[multiaddr.Multiaddr], announce: Sequence[multiaddr.Multiaddr] = ()
) -> list[multiaddr.Multiaddr]:
    """What we tell peers to dial: ``announce`` if given, else ``bound`` with unspecified addresses
    expanded to our interfaces' addresses (loopback only when there is nothing else). Never an
    unspecified address."""
    if announce:
        return list(announce)
    out: list[multiaddr.Multiaddr] = []
    for maddr in bound:
        ip = ip_of(maddr)
        if ip is None or not ip.is_unspecified:
            if (ip is None or ip_scope(ip) != Scope.UNUSABLE) and maddr not in out:
                out.append(maddr)
            continue
        proto = "ip4" if ip.version == 4 else "ip6"
        rest = str(maddr)[len(f"/{proto}/{ip}") :]  # e.g. "/tcp/4001"
        ips = interface_ips(socket.AF_INET if ip.version == 4 else socket.AF_INET6)
        wide = [a for a in ips if ip_scope(ipaddress.ip_address(a)) != Scope.LOOPBACK]
        for text in wide or ips:
            expanded = multiaddr.Multiaddr(f"/{proto}/{text}{rest}")
            if expanded not in out:
                out.append(expanded)
    return out


def parse_announce(addrs: Sequence[str]) -> list[multiaddr.Multiaddr]:
    """Validate operator ``--announce`` addresses: transport multiaddrs (``/ip4|ip6|dns*/.../tcp/N``),
    no ``/p2p/`` suffix needed (ours is added), never unspecified.

    Raises:
        P2PError: a malformed or unusable address (the message says which and why).
    """
    out: list[multiaddr.Multiaddr] = []
    for text in addrs:
        try:
            maddr = strip_p2p(multiaddr.Multiaddr(text))
            names = [p.name for p in maddr.protocols()]
        except Exception as exc:
            raise P2PError(f"--announce {text!r} is not a multiaddr") from exc
        if "tcp" not in names:
            raise P2PError(f"--announce {text!r} has no /tcp/ port")
        if scope_of(maddr) == Scope.UNUSABLE:
            raise P2PError(
                f"--announce {text!r}: unspecified, link-local or multicast addresses can't be dialed"
            )
        out.append(maddr)
    return out


def check_ports_free(maddrs: Sequence[multiaddr.Multiaddr]) -> None:
    """Refuse fixed TCP ports that are already bound.

    py-libp2p binds its listeners with SO_REUSEPORT, so a second host on a busy port would *succeed*
    and the kernel would split incoming connections between the two processes. A probe socket without
    SO_REUSEPORT can't bind a port any live socket holds, so it detects that (small race: the port
    could be taken between the probe and libp2p's bind).

    Raises:
        P2PError: a port is in use.
    """
    for maddr in maddrs:
        names = [p.name for p in maddr.protocols()]
        if "tcp" not in names:
            continue
        port = int(maddr.value_for_protocol("tcp"))
        if port == 0:
            continue
        family, ip = (
            (socket.AF_INET6, maddr.value_for_protocol("ip6"))
            if "ip6" in names
            else (socket.AF_INET, maddr.value_for_protocol("ip4") if "ip4" in names else "0.0.0.0")
        )
        probe = socket.socket(family, socket.SOCK_STREAM)
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((str(ip), port))
        except OSError as exc:
            raise P2PError(f"could not listen on {maddr}: {exc}") from exc
        finally:
            probe.close()


__all__ = [
    "ADDR_VERDICT_CACHE",
    "MAX_CACHED_ADDR_LEN",
    "AddrPolicy",
    "Scope",
    "advertised_addrs",
    "check_ports_free",
    "interface_ips",
    "ip_of",
    "ip_scope",
    "p2p_component",
    "parse_announce",
    "parse_peer_id",
    "parse_transport_addrs",
    "scope_of",
    "split_peer_multiaddr",
    "strip_p2p",
]
