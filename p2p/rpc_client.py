"""Requests to peers: on a peer's multiplexed stream when it serves one, else one stream per request.

Theory of operation
-------------------
Every request goes through :meth:`RpcClient.request` within its own timeout:

* a peer not known to lack the multiplexed protocol gets the request on its shared stream
  (:class:`p2p.mux_client.MuxClient`);
* if that stream could not be *opened* and the peer refused the protocol (an older peer, a js-libp2p
  client), the peer is remembered as single-stream for ``NO_MUX_TTL_S`` and the request is sent on a fresh
  stream of the single-request protocol at once;
* if it could not be opened for another reason (py-libp2p sometimes hands out a connection that the
  remote is closing, e.g. right after both sides dialed each other), the request is tried once more on a
  fresh single-request stream if ``MIN_RETRY_S`` of its time is left;
* a peer remembered as single-stream gets one stream per request (``p2p.framing.rpc``), and a stream that
  could not be opened is tried once more on the same terms.

Once the request was sent, any failure (timeout, broken stream, ``FAIL`` from the peer, a malformed
reply) is final: the caller (the DHT core) decides about retries. Nothing here is DHT-specific.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import trio

from p2p.framing import rpc_reply
from p2p.host import DialError
from p2p.mux_client import MuxClient
from p2p.transport import Reply, Transport, is_protocol_refusal

log = logging.getLogger(__name__)

#: How long a peer that refused the multiplexed protocol gets single-request streams before we ask again
#: (it may have been upgraded; asking costs one failed protocol negotiation).
NO_MUX_TTL_S = 600.0
#: Peers remembered as single-stream; past this the oldest entry is forgotten (and asked again).
MAX_NO_MUX_PEERS = 10_000
#: A request whose stream could not be opened is tried once more (on a fresh stream) only if at least this
#: much of its time is left.
MIN_RETRY_S = 0.5


@dataclass
class RpcClientStatistics:
    mux_requests: int = 0
    single_requests: int = 0
    fallbacks: int = 0
    retries: int = 0


class RpcClient:
    """Send requests to peers over ``mux_protocol``, or ``single_protocol`` for peers that lack it.

    Run it with ``await nursery.start(client.run)``; then ``request`` from any task.

    Args:
        use_mux: False sends every request on its own stream (the pre-multiplexing behaviour).
    """

    def __init__(
        self, transport: Transport, mux_protocol: str, single_protocol: str, *, use_mux: bool = True
    ) -> None:
        self.transport = transport
        self.single_protocol = single_protocol
        self.use_mux = use_mux
        self.mux = MuxClient(transport, mux_protocol)
        self.stats = RpcClientStatistics()
        self._no_mux: OrderedDict[str, float] = OrderedDict()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self.mux.run(task_status=task_status)

    def lacks_mux(self, peer_id: str) -> bool:
        """True while ``peer_id`` is remembered as not serving the multiplexed protocol."""
        until = self._no_mux.get(peer_id)
        if until is None:
            return False
        if trio.current_time() < until:
            return True
        del self._no_mux[peer_id]
        return False

    def _remember_no_mux(self, peer_id: str) -> None:
        self._no_mux.pop(peer_id, None)
        self._no_mux[peer_id] = trio.current_time() + NO_MUX_TTL_S
        while len(self._no_mux) > MAX_NO_MUX_PEERS:
            self._no_mux.popitem(last=False)

    async def request(
        self, peer_id: str, payload: bytes, *, timeout: float, addrs: Sequence[str] | None = None
    ) -> bytes:
        """The payload of :meth:`request_reply` (same arguments and errors)."""
        reply = await self.request_reply(peer_id, payload, timeout=timeout, addrs=addrs)
        return reply.payload

    async def request_reply(
        self, peer_id: str, payload: bytes, *, timeout: float, addrs: Sequence[str] | None = None
    ) -> Reply:
        """One request/reply with ``peer_id`` within ``timeout`` (connecting first if needed).

        Returns:
            The reply payload, and the IP the answering connection was observed at.
        Raises:
            DialError: no stream could be opened.
            PeerTimeout: no reply in time.
            RemoteProtocolError: a malformed reply frame (single-request streams).
            P2PError: the stream broke, or the peer failed the request.
        """
        deadline = trio.current_time() + timeout
        addr_list = list(addrs) if addrs else None
        if self.use_mux and not self.lacks_mux(peer_id):
            self.stats.mux_requests += 1
            try:
                return await self.mux.call_reply(peer_id, payload, timeout=timeout, addrs=addr_list)
            except DialError as exc:
                if is_protocol_refusal(exc):
                    log.debug("%s does not serve %s: one stream per request", peer_id, self.mux.protocol)
                    self._remember_no_mux(peer_id)
                elif deadline - trio.current_time() < MIN_RETRY_S:
                    raise
                else:
                    log.debug("opening a mux stream to %s failed (%s); a fresh stream", peer_id, exc)
                    self.stats.retries += 1
                self.stats.fallbacks += 1
            return await self._single(peer_id, payload, deadline, addr_list, retries=0)
        return await self._single(peer_id, payload, deadline, addr_list, retries=1)

    async def _single(
        self, peer_id: str, payload: bytes, deadline: float, addrs: list[str] | None, retries: int
    ) -> Reply:
        self.stats.single_requests += 1
        for attempt in range(1 + retries):
            left = deadline - trio.current_time()
            try:
                protocol = self.single_protocol
                return await rpc_reply(self.transport, peer_id, protocol, payload, timeout=left, addrs=addrs)
            except DialError as exc:
                if attempt == retries or deadline - trio.current_time() < MIN_RETRY_S:
                    raise
                self.stats.retries += 1
                log.debug("opening a stream to %s failed (%s); retrying", peer_id, exc)
        raise AssertionError("unreachable")

    def statistics(self) -> dict[str, int]:
        out = dict(vars(self.stats))
        out.update({f"mux_{k}": v for k, v in self.mux.statistics().items()})
        out["no_mux_peers"] = len(self._no_mux)
        return out


__all__ = ["MAX_NO_MUX_PEERS", "MIN_RETRY_S", "NO_MUX_TTL_S", "RpcClient", "RpcClientStatistics"]
