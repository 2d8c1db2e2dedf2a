"""``metaspace``: the one command of Meta Space.

Subcommands (each takes ``--home DIR``, also ``$METASPACE_HOME``, so several agents live side by side):

* end user: ``init`` (the agent's birth), ``peer`` (run the agent), ``status``, ``publish``, ``search``,
  ``intents``, ``withdraw``, ``matches``, ``negotiate``, ``deals``, ``approve``, ``decline``, ``sell``,
  ``buy``, ``categories``, ``demo``; trust: ``rate``, ``reputation``, ``ratings``, ``block``, ``unblock``,
  ``blocked``;
* bootstrap operator: ``bootstrap``;
* researcher: ``sim ...`` and ``understand``, registered by ``sim.cli`` and ``matching.cli`` when present.

The client commands talk to the running peer over its control API (:mod:`metaspace.api.control`). Heavy
modules are imported inside the handlers, so ``metaspace --help`` stays fast.

Exit codes: 0 ok; 1 failure (peer error, keystore, I/O); 2 bad usage or input; 3 no peer running;
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from metaspace.home import Home, resolve_home

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_RUNNING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
OPTIONAL_COMMAND_MODULES = ("sim.cli", "matching.cli")
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad input found by a handler (exit 2, one line, no traceback)."""


def _home_option(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument(
        "--home",
        type=Path,
        default=None if top else argparse.SUPPRESS,
        metavar="DIR",
        help="keep this agent's identity, config, data and control files under DIR (env METASPACE_HOME)",
    )


def _lazy(module: str, func: str, what: str) -> Handler:
    """A handler that imports ``module.func`` only when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                print(f"error: {what} is not available in this build ({module} is missing)", file=sys.stderr)
                return EXIT_FAIL
            raise
        result = getattr(mod, func)(args)
        return int(result or 0)

    return handler


def _add_init(sub: Any, parent: argparse.ArgumentParser) -> None:
    from metaspace import config as c

    p = sub.add_parser(
        "init",
        parents=[parent],
        help="the birth of your agent: identity, questions, limits",
        description="Create this agent's identity (an encrypted ed25519 key) and answer the birth questions. "
        "Answers come from flags, else from prompts in a terminal; --yes takes the safe defaults.",
    )
    p.add_argument("--autonomy", choices=c.AUTONOMY, help="how much the agent does without asking")
    p.add_argument("--spend", choices=c.SPEND, help="spending comfort: 10, 100, 500 USD or no limit")
    p.add_argument("--spend-limit", metavar="AMOUNT", help="explicit spend limit, e.g. 100USD (or none)")
    p.add_argument("--currency", metavar="CODE", help="currency of the spend limit (default USD)")
    p.add_argument("--share", choices=c.SHARE, help="what other agents may know about you")
    p.add_argument("--location", choices=c.LOCATION, help="location precision (never finer than ~5 km²)")
    p.add_argument("--marketplace", choices=c.MARKETPLACE, help="what the agent may buy or sell")
    p.add_argument("--style", dest="comm_style", choices=c.COMM_STYLE, help="how the agent talks to you")
    p.add_argument("--language", metavar="CODE", help="your language (default from $LANG)")
    p.add_argument("--categories", metavar="LIST", help="comma-separated categories allowed (default *: all)")
    p.add_argument(
        "--owner", metavar="NAME", help="your name in the agent's handle @NAME/agent (not verified)"
    )
    p.add_argument("--agent-name", metavar="NAME", help="the agent's name in its handle (default: agent)")
    p.add_argument(
        "--auto-block", metavar="DURATION", help="block a peer that floods this agent for this long (1h; off)"
    )
    p.add_argument(
        "--payment", metavar="LIST", help="how you accept to pay or be paid, e.g. cash,venmo (default cash)"
    )
    p.add_argument("--lat", type=float, help="home location latitude (stored only as a coarse cell)")
    p.add_argument("--lon", type=float, help="home location longitude")
    p.add_argument(
        "-y", "--yes", action="store_true", help="take the safe default for every unanswered question"
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing identity (the old one is backed up)"
    )
    p.add_argument("--reconfigure", action="store_true", help="answer the questions again, keep the identity")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_lazy("metaspace.cli.birth", "run_init", "init"))


def _add_operator_commands(sub: Any, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("peer", parents=[parent], help="run this agent's peer (network + local API)")
    p.add_argument(
        "--listen", metavar="MULTIADDR", default=None, help="listen address, e.g. /ip4/0.0.0.0/tcp/4001"
    )
    p.add_argument(
        "--bootstrap", metavar="MULTIADDR", action="append", default=[], help="bootstrap peer (repeat)"
    )
    p.add_argument(
        "--announce", metavar="MULTIADDR", action="append", default=[],
        help="address to advertise instead of the listen address, e.g. behind a NAT (repeat)",
    )  # fmt: skip
    p.add_argument("--api-port", type=int, default=0, help="control API port on 127.0.0.1 (0: any free port)")
    p.add_argument(
        "--watch-interval", type=float, default=None, metavar="S", help="seconds between match polls (30)"
    )
    p.add_argument(
        "--deal-timeout", type=float, default=None, metavar="S", help="seconds a negotiation may take (120)"
    )
    p.set_defaults(func=_lazy("metaspace.peer.daemon", "run_peer", "the agent peer"))

    b = sub.add_parser("bootstrap", parents=[parent], help="run a bootstrap DHT node (operators)")
    b.add_argument("--listen", metavar="MULTIADDR", default="/ip4/127.0.0.1/tcp/4001", help="listen address")
    b.add_argument("--data-dir", type=Path, required=True, metavar="DIR", help="identity and records")
    b.add_argument(
        "--metrics", metavar="HOST:PORT", default=None, help="serve Prometheus metrics, e.g. 127.0.0.1:9464"
    )
    b.add_argument(
        "--announce", metavar="MULTIADDR", action="append", default=[],
        help="address to advertise instead of the listen address, e.g. /ip4/203.0.113.7/tcp/4001 (repeat)",
    )  # fmt: skip
    b.add_argument(
        "--max-connections", type=int, default=None, metavar="N", help="inbound connections at once (512)"
    )
    b.add_argument(
        "--max-per-ip",
        type=int,
        default=None,
        metavar="N",
        help="inbound connections from one IP at once (16)",
    )
    b.add_argument(
        "--per-ip-exempt", metavar="CIDR", action="append", default=None,
        help="network exempt from --max-per-ip (repeat; default: loopback; 'none': no exemption)",
    )  # fmt: skip
    b.add_argument(
        "--handshake-timeout", type=float, default=None, metavar="S",
        help="seconds an inbound connection may take to finish its Noise and yamux handshakes (10)",
    )  # fmt: skip
    b.add_argument(
        "--bootstrap", metavar="MULTIADDR", action="append", default=[],
        help="another bootstrap node to join through (repeat)",
    )  # fmt: skip
    b.add_argument("--rate", type=float, default=None, metavar="PER_S", help="requests per second per peer")
    b.add_argument(
        "--max-records-per-peer", type=int, default=None, metavar="N",
        help="records one sending peer may hold here (a tenth of --max-records, at least 1,000)",
    )  # fmt: skip
    b.add_argument("--max-records", type=int, default=None, metavar="N")
    b.add_argument("--max-bytes", type=int, default=None, metavar="N")
    from bootstrap.relay import add_relay_arguments

    add_relay_arguments(b)
    b.set_defaults(func=_lazy("bootstrap.service", "run", "the bootstrap service"))

    d = sub.add_parser(
        "demo", parents=[parent], help="a local demonstration: agents find each other and deal"
    )
    d.add_argument("--keep", action="store_true", help="keep the demo's directory (homes, logs) afterwards")
    d.set_defaults(func=_lazy("metaspace.cli.demo", "run", "the demo"))


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``metaspace`` argument parser with every subcommand (optional packages when installed).

    Args:
        argv: the command line about to be parsed, if known: when it names one of the built-in commands,
            the optional packages are not registered (importing them, for their option lists, took about
            0.9 s of every ``metaspace deals`` or ``metaspace rate``); ``--help``, no command or another
            command register everything.
    """
    from metaspace.cli import client as client_cmds
    from metaspace.cli import listing as listing_cmds
    from metaspace.cli import trust as trust_cmds

    parser = argparse.ArgumentParser(
        prog="metaspace",
        description="Meta Space: your agent publishes what you want, finds its counterparts and negotiates "
        "within your limits, peer to peer.",
    )
    _home_option(parser, top=True)
    parser.add_argument("-V", "--version", action="version", version=f"metaspace {_version()}")
    parent = argparse.ArgumentParser(add_help=False)
    _home_option(parent, top=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_init(sub, parent)
    client_cmds.register(sub, parent)
    trust_cmds.register(sub, parent)
    listing_cmds.register(sub, parent)
    _add_operator_commands(sub, parent)
    if argv is None or _command_word(argv) not in sub.choices:
        for module in OPTIONAL_COMMAND_MODULES:
            _register_optional(sub, module)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is neither an option nor ``--home``'s value."""
    value_next = False
    for word in argv:
        if value_next:
            value_next = False
        elif word == "--home":
            value_next = True
        elif not word.startswith("-"):
            return word
    return None


def _register_optional(sub: Any, module: str) -> None:
    """Let ``module`` add its subcommands; skip it if that module (only) does not exist yet."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return
        raise
    before = set(sub.choices)
    mod.register(sub)
    for name in set(sub.choices) - before:  # give the new commands --home too, unless they define it
        # A package that defines its own --home keeps it; args.home is still set by the top-level option.
        with contextlib.suppress(argparse.ArgumentError):
            _home_option(sub.choices[name], top=False)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metaspace-net")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0"


def resolve_args_home(args: argparse.Namespace) -> Home:
    """Resolve ``--home``/``$METASPACE_HOME``/XDG; set ``args.home_paths`` and ``args.home`` (a Path)."""
    paths = resolve_home(getattr(args, "home", None))
    args.home_paths = paths
    args.home = paths.root
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``metaspace`` with ``argv`` (default ``sys.argv[1:]``).

    Returns:
        The exit code (see the module docstring).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed by argparse)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    resolve_args_home(args)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_FAIL
    except Exception as exc:
        code = expected_error_code(exc)
        if code is None:
            raise  # a bug: keep the traceback
        print(f"error: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return code


def expected_error_code(exc: BaseException) -> int | None:
    """The exit code for an expected failure (printed as one line), or None for a bug.

    The error classes are imported here, not at the top, so ``metaspace --help`` stays fast.
    """
    from metaspace.api.contract import ServiceError
    from metaspace.api.control import ControlError, PeerNotRunning
    from metaspace.cli.birth import BirthError
    from metaspace.config import ConfigError
    from metaspace.keystore import KeystoreError

    if isinstance(exc, PeerNotRunning):
        return EXIT_NOT_RUNNING
    if isinstance(exc, ControlError):
        return EXIT_USAGE if exc.status == 400 else EXIT_FAIL
    if isinstance(exc, UsageError | ServiceError | BirthError):
        return EXIT_USAGE
    if isinstance(exc, ConfigError | KeystoreError | OSError):
        return EXIT_FAIL
    return None


if __name__ == "__main__":
    sys.exit(main())
