"""A small Internet on one machine: Linux network namespaces, veth pairs and nftables NATs built by a test.

Layout (every name carries a random per-run prefix, so parallel runs never meet)::

    "public" namespace  <prefix>pub : bridge br0, 203.0.113.10/24 (TEST-NET-3) — the bootstrap/relay node
        |-- veth -- router <prefix>r1 : wan 203.0.113.11 | lan 10.1.0.1/24 -- home <prefix>h1 : 10.1.0.2
        |-- veth -- router <prefix>r2 : wan 203.0.113.12 | lan 10.2.0.1/24 -- home <prefix>h2 : 10.2.0.2
        ...

Each router masquerades its home network behind its WAN address with nftables and drops unsolicited
inbound packets (a home router's firewall: a SYN nobody asked for is dropped, not answered):

- ``eim``: ``masquerade`` — Linux keeps the source port when it can, so an inside (ip, port) keeps one
  outside port whatever the destination: endpoint-independent mapping, address-and-port-dependent
  filtering (a "port-restricted cone"): TCP hole punching works through it;
- ``symmetric``: ``masquerade fully-random`` — every new connection gets a random outside port
  (endpoint-dependent mapping): a peer can't predict the port, hole punching fails.

Only private and documentation ranges are used, and only inside the namespaces; nothing is routed to
the machine's own network. :meth:`TestBed.close` kills every process still in the namespaces and
deletes them (also when the test failed; a leftover from a crashed run is removed by the next one's
``sweep_stale``). :func:`skip_reason` says why a machine can't build it (not root, no ``ip``/``nft``).

Talking to a process inside: processes are started with ``ip netns exec``; the test's own HTTP calls
(the agent's control API on the namespace's 127.0.0.1) run in a worker thread that entered the
namespace with ``setns(2)`` (a network namespace is per thread).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

PUBLIC_NET = "203.0.113"  # TEST-NET-3 (RFC 5737): documentation only, never routed
PUBLIC_HOST_IP = f"{PUBLIC_NET}.10"
NAT_KINDS = ("eim", "symmetric")
CLONE_NEWNET = 0x40000000
#: Every namespace of ours starts with this (the sweep of stale ones looks for it).
NAME_PREFIX = "msnat"
_COMMAND_TIMEOUT = 20.0

_RULES = """
table inet msnat {{
  chain postrouting {{ type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade {mode}
  }}
  chain forward {{ type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
  }}
  chain input {{ type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" drop
  }}
}}
"""


class NetnsError(RuntimeError):
    """Building or tearing down the test bed failed (the message has the command and its output)."""


def _run(*argv: str, input_text: str | None = None) -> str:
    done = subprocess.run(
        list(argv), input=input_text, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT,
        stdin=None if input_text is not None else subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout


def skip_reason() -> str | None:
    """Why this machine can't build the test bed (None: it can)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "building network namespaces needs root (ip netns add)"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (apt-get install {package})"
    probe = f"{NAME_PREFIX}probe{uuid.uuid4().hex[:6]}"
    try:
        _run("ip", "netns", "add", probe)
    except (NetnsError, OSError, subprocess.TimeoutExpired) as exc:
        return f"this machine does not allow network namespaces: {exc}"
    finally:
        with contextlib.suppress(NetnsError, OSError, subprocess.TimeoutExpired):
            _run("ip", "netns", "del", probe)
    return None


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _run("ip", "netns", "list").splitlines() if line.strip()]


def _kill_and_delete(ns: str) -> None:
    with contextlib.suppress(NetnsError, OSError, subprocess.TimeoutExpired):
        for pid in _run("ip", "netns", "pids", ns).split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), 9)
    with contextlib.suppress(NetnsError, OSError, subprocess.TimeoutExpired):
        _run("ip", "netns", "del", ns)


def sweep_stale(max_age_s: float = 3600.0) -> None:
    """Delete namespaces of ours left by a run that was killed (older than ``max_age_s``)."""
    import time

    for ns in _namespaces():
        if not ns.startswith(NAME_PREFIX) or ns.startswith(f"{NAME_PREFIX}probe"):
            continue
        path = Path("/run/netns") / ns
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > max_age_s:
                _kill_and_delete(ns)


@dataclass
class Home:
    """One home network behind its own NAT router."""

    index: int
    nat: str
    router: str
    ns: str

    @property
    def wan_ip(self) -> str:
        return f"{PUBLIC_NET}.{10 + self.index}"

    @property
    def lan_ip(self) -> str:
        return f"10.{self.index}.0.2"


@dataclass
class TestBed:
    """The namespaces of one test (see the module docstring). Use as a context manager."""

    nats: Sequence[str]
    prefix: str = field(default_factory=lambda: f"{NAME_PREFIX}{uuid.uuid4().hex[:5]}")
    homes: list[Home] = field(default_factory=list)
    _created: list[str] = field(default_factory=list)
    _threads: dict[str, ThreadPoolExecutor] = field(default_factory=dict)

    __test__ = False  # not a pytest test class

    @property
    def public(self) -> str:
        return f"{self.prefix}pub"

    def __enter__(self) -> TestBed:
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _add_ns(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self._created.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def build(self) -> None:
        for kind in self.nats:
            if kind not in NAT_KINDS:
                raise ValueError(f"unknown NAT kind {kind!r} (one of {NAT_KINDS})")
        sweep_stale()
        p, pub = self.prefix, self.public
        self._add_ns(pub)
        _run("ip", "-n", pub, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", pub, "link", "set", "br0", "up")
        _run("ip", "-n", pub, "addr", "add", f"{PUBLIC_HOST_IP}/24", "dev", "br0")
        for i, kind in enumerate(self.nats, start=1):
            home = Home(i, kind, f"{p}r{i}", f"{p}h{i}")
            self._add_ns(home.router)
            self._add_ns(home.ns)
            # veth names are created in the root namespace first: keep them unique and short.
            wan, wan_peer, lan, lan_peer = f"{p}w{i}", f"{p}b{i}", f"{p}l{i}", f"{p}c{i}"
            _run("ip", "link", "add", wan, "type", "veth", "peer", "name", wan_peer)
            _run("ip", "link", "set", wan, "netns", home.router)
            _run("ip", "link", "set", wan_peer, "netns", pub)
            _run("ip", "-n", pub, "link", "set", wan_peer, "master", "br0", "up")
            _run("ip", "-n", home.router, "link", "set", wan, "name", "wan", "up")
            _run("ip", "-n", home.router, "addr", "add", f"{home.wan_ip}/24", "dev", "wan")
            _run("ip", "link", "add", lan, "type", "veth", "peer", "name", lan_peer)
            _run("ip", "link", "set", lan, "netns", home.router)
            _run("ip", "link", "set", lan_peer, "netns", home.ns)
            _run("ip", "-n", home.router, "link", "set", lan, "name", "lan", "up")
            _run("ip", "-n", home.ns, "link", "set", lan_peer, "name", "eth0", "up")
            _run("ip", "-n", home.router, "addr", "add", f"10.{i}.0.1/24", "dev", "lan")
            _run("ip", "-n", home.ns, "addr", "add", f"{home.lan_ip}/24", "dev", "eth0")
            _run("ip", "-n", home.ns, "route", "add", "default", "via", f"10.{i}.0.1")
            _run("ip", "netns", "exec", home.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            mode = "fully-random" if kind == "symmetric" else ""
            _run("ip", "netns", "exec", home.router, "nft", "-f", "-", input_text=_RULES.format(mode=mode))
            self.homes.append(home)

    def close(self) -> None:
        """Kill what runs inside, delete every namespace (and so every veth). Idempotent."""
        for pool in self._threads.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._threads.clear()
        for ns in reversed(self._created):
            _kill_and_delete(ns)
        self._created.clear()

    def exec_argv(self, ns: str, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside namespace ``ns``."""
        return ["ip", "netns", "exec", ns, *argv]

    def call(self, ns: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a thread that lives in namespace ``ns`` (sockets it opens are
        in that namespace)."""
        pool = self._threads.get(ns)
        if pool is None:
            pool = ThreadPoolExecutor(1, thread_name_prefix=ns, initializer=_enter_netns, initargs=(ns,))
            self._threads[ns] = pool
        return pool.submit(fn, *args, **kwargs).result()

    def nat_state(self, home: Home) -> str:
        """The router's connection tracking table (for a failure's message)."""
        try:
            return _run("ip", "netns", "exec", home.router, "nft", "list", "ruleset")
        except NetnsError as exc:
            return str(exc)


def _enter_netns(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {ns}: {os.strerror(err)}")
    finally:
        os.close(fd)


class NsClient:
    """A ``ControlClient`` whose requests run inside a namespace (same ``get``/``post`` interface)."""

    def __init__(self, bed: TestBed, ns: str, client: Any) -> None:
        self.bed, self.ns, self.client = bed, ns, client

    def get(self, path: str, **query: Any) -> Any:
        return self.bed.call(self.ns, self.client.get, path, **query)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.bed.call(self.ns, self.client.post, path, body)


__all__ = [
    "NAT_KINDS",
    "PUBLIC_HOST_IP",
    "Home",
    "NetnsError",
    "NsClient",
    "TestBed",
    "skip_reason",
    "sweep_stale",
]
