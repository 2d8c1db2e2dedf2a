"""``metaspace peer``: the end user's agent peer daemon (the composition root).

It unlocks the identity, opens the agent's databases under its home, starts a libp2p host (Noise only),
the DHT driver (records persisted in SQLite), the personas' hosts (``share: nothing``: one per private
intent, on the listen address's interface), the agent (publish, watch, match), negotiation, ratings and
profiles (``metaspace.peer.reputations``, with its firewall), the meeting after a deal
(``metaspace.peer.handovers``), and the
local control API + web page on 127.0.0.1 (token in a 0600 file). Ctrl-C or SIGTERM shuts it down
cleanly and removes the run files.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve

from dht.config import DhtConfig
from metaspace.api import control
from metaspace.api.app import create_app
from metaspace.config import AgentConfig, ConfigError, load_config
from metaspace.home import Home, home_from_args
from metaspace.keystore import KeystoreError, unlock
from metaspace.peer.agent import DEFAULT_WATCH_INTERVAL, MATCH_PROTOCOL, Agent
from metaspace.peer.db import AgentDB
from metaspace.peer.deals import SESSION_DURATION_S, DealMaker
from metaspace.peer.events import EventBus
from metaspace.peer.handoverdb import HandoverDB
from metaspace.peer.handovers import HANDOVER_PROTOCOL, Handovers
from metaspace.peer.personas import MAX_PERSONA_RELAY_SLOTS, Personas, persona_listen
from metaspace.peer.reputations import Reputations
from metaspace.peer.trustdb import TrustDB
from p2p.dht_driver import KAD_MUX_PROTOCOL, KAD_PROTOCOL, config_from_env
from p2p.dht_node import DhtNodeOptions, open_dht_node
from p2p.host import P2PError
from p2p.nat import NatService, RelayBudget
from p2p.negotiate_driver import NEGOTIATE_PROTOCOL
from p2p.runner import run_until_signal
from wire.identity import Identity

log = logging.getLogger("metaspace.peer")

DEFAULT_LISTEN = "/ip4/127.0.0.1/tcp/0"


@dataclass
class PeerOptions:
    listen: str = DEFAULT_LISTEN
    announce: tuple[str, ...] = ()
    bootstrap: tuple[str, ...] = ()
    api_port: int = 0
    watch_interval: float = DEFAULT_WATCH_INTERVAL
    deal_timeout: float = SESSION_DURATION_S
    dht: DhtConfig | None = None


def _annotator(language: str) -> Any:
    from metaspace.peer import notify

    return lambda event: notify.annotate(event, language)


async def serve_peer(
    home: Home,
    config: AgentConfig,
    identity: Identity,
    opts: PeerOptions,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the agent peer until cancelled. ``task_status.started`` gets the control API URL."""
    home.ensure()
    db = AgentDB(home.data_dir / "agent.sqlite")
    trust_db = TrustDB(home.data_dir / "trust.sqlite")
    handover_db = HandoverDB(home.data_dir / "handover.sqlite")
    options = DhtNodeOptions(
        db_path=home.data_dir / "dht.sqlite", listen=[opts.listen], announce=list(opts.announce),
        seeds=list(opts.bootstrap), config=opts.dht or DhtConfig(),
    )  # fmt: skip
    try:
        async with open_dht_node(identity, options) as running:
            host, driver = running.host, running.driver
            bus = EventBus(_annotator(config.language))
            personas = Personas(identity, [persona_listen(opts.listen)])
            agent = Agent(
                identity, config, host, driver, db, bus,
                watch_interval=opts.watch_interval, bootstrap=list(opts.bootstrap), trust_db=trust_db,
                personas=personas,
            )  # fmt: skip
            agent.dealer = DealMaker(agent, duration=opts.deal_timeout)
            agent.handovers = Handovers(agent, handover_db, home.data_dir / "calendar")
            protocols = (
                KAD_PROTOCOL,
                KAD_MUX_PROTOCOL,
                MATCH_PROTOCOL,
                NEGOTIATE_PROTOCOL,
                HANDOVER_PROTOCOL,
            )
            agent.reputations = Reputations(agent, trust_db, protocols)
            nat = NatService(host, list(opts.bootstrap))  # reachability, relays, hole punching
            agent.nat = nat
            budget = RelayBudget(MAX_PERSONA_RELAY_SLOTS)  # behind a NAT, personas are reached via relays
            personas.reach = lambda h: NatService(h, [], leader=nat, max_relays=1, budget=budget)
            token = control.new_token()
            app = create_app(agent, token)
            hconfig = HypercornConfig()
            hconfig.bind = [f"127.0.0.1:{opts.api_port}"]
            hconfig.accesslog = None
            hconfig.errorlog = None
            async with trio.open_nursery() as nursery:
                await nursery.start(agent.nat.run)
                await nursery.start(personas.run)
                await nursery.start(agent.run)
                if agent.dealer is not None:
                    await nursery.start(agent.dealer.run)
                await nursery.start(agent.reputations.run)
                await nursery.start(agent.handovers.run)
                binds = await nursery.start(hypercorn_serve, app, hconfig)
                url = str(binds[0])
                control.write_run_files(home, url, token)
                try:
                    print(
                        f"agent {identity.peer_id} listening on {host.addrs()[0]}; control API {url}",
                        flush=True,
                    )
                    task_status.started(url)
                    await trio.sleep_forever()
                finally:
                    control.remove_run_files(home)
    finally:
        db.close()
        trust_db.close()
        handover_db.close()


def run_peer(args: argparse.Namespace) -> int:
    """Entry point of ``metaspace peer``."""
    home = home_from_args(args)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("libp2p", "hypercorn", "multiaddr", "async_service"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config(home.config_file)
    except (ConfigError, OSError) as exc:
        print(
            f"error: {exc}; create the agent first with `metaspace {home.home_flag()}init`", file=sys.stderr
        )
        return 1
    try:
        identity = unlock(home.keystore_file)
    except KeystoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        dht_config = config_from_env(DhtConfig())
    except P2PError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    opts = PeerOptions(
        dht=dht_config,
        listen=getattr(args, "listen", None) or DEFAULT_LISTEN,
        announce=tuple(getattr(args, "announce", None) or ()),
        bootstrap=tuple(getattr(args, "bootstrap", None) or ()),
        api_port=int(getattr(args, "api_port", 0) or 0),
        watch_interval=float(getattr(args, "watch_interval", None) or DEFAULT_WATCH_INTERVAL),
        deal_timeout=float(getattr(args, "deal_timeout", None) or SESSION_DURATION_S),
    )

    failures = run_until_signal(lambda: serve_peer(home, config, identity, opts), (P2PError,))
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0
