"""Real OS processes on 127.0.0.1 for the network integration tests: bootstrap nodes and agent peers.

Everything waits by *bounded polling* of a condition (a file, a line, an HTTP answer) every 50-100 ms up
to a deadline; nothing sleeps hoping something happened. Every process started here is registered in a
:class:`Procs` group whose ``close()`` terminates it (SIGTERM, then ``kill -9`` after a grace period), so a
fixture's ``finally`` leaves nothing running.

Processes write stdout/stderr to files (no pipes that could fill up and block them).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from metaspace.api.control import ControlClient, ControlError
from metaspace.home import Home, resolve_home
from p2p.host import split_peer_multiaddr

REPO = Path(__file__).resolve().parent.parent.parent
#: Python start + py-libp2p import (~2 s CPU) + the agent's embedder warm-up, on a loaded 2-core box.
START_TIMEOUT = float(os.environ.get("METASPACE_NET_TEST_START_TIMEOUT", "240"))
#: SIGTERM -> exit; then kill -9.
STOP_GRACE = 5.0
POLL_S = 0.05

#: The environment of every process: fast key derivation, the test passphrase, one BLAS/OpenMP thread
#: per process (9 processes share 2 cores).
BASE_ENV = {
    "METASPACE_KDF": "fast",
    "METASPACE_PASSPHRASE": "pw",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}

T = TypeVar("T")


class NetTestError(AssertionError):
    """A condition was not reached in time, or a helper process failed (with its log tail)."""


def poll_until(cond: Callable[[], T | None], timeout: float, what: str, interval: float = POLL_S) -> T:
    """Call ``cond()`` every ``interval`` seconds until it returns a truthy value; return that value.

    Raises:
        NetTestError: not reached within ``timeout`` seconds (the message says ``what``).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise NetTestError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)  # the polling period, not a synchronisation


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(os.environ)
    out.update(BASE_ENV)
    out.update(extra or {})
    return out


def metaspace_cmd(*args: str) -> list[str]:
    """``metaspace ARGS`` run with this interpreter from the repository."""
    return [sys.executable, "-m", "metaspace.cli.main", *args]


@dataclass
class Proc:
    """One helper process and its log files."""

    name: str
    popen: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        try:
            return self.out_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, n: int = 3000) -> str:
        try:
            return self.err_path.read_text(errors="replace")[-n:]
        except FileNotFoundError:
            return ""

    def first_line(self, prefix: str = "", timeout: float = START_TIMEOUT) -> str:
        """The first complete stdout line starting with ``prefix`` (waits; fails fast if the process dies)."""

        def ready() -> str | None:
            for line in self.stdout().splitlines(keepends=True):
                if line.endswith("\n") and line.startswith(prefix):
                    return line.strip()
            if not self.alive():
                raise NetTestError(
                    f"{self.name} exited ({self.popen.returncode}) before printing {prefix!r}:\n"
                    + self.stderr_tail()
                )
            return None

        return poll_until(ready, timeout, f"{self.name} to print {prefix!r}")

    def kill9(self) -> None:
        """``kill -9`` and reap."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=STOP_GRACE)


@dataclass
class Procs:
    """A group of helper processes started in one directory; ``close()`` stops all of them."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str]) -> Proc:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        n = sum(1 for p in self.procs if p.name == name)
        out_path, err_path = logs / f"{name}.{n}.out", logs / f"{name}.{n}.err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            popen = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=str(REPO),
                env=env(self.extra_env),
            )  # fmt: skip
        proc = Proc(name, popen, out_path, err_path)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        """SIGTERM every live process, wait up to ``STOP_GRACE`` s for all, then ``kill -9`` the rest."""
        live = [p for p in self.procs if p.alive()]
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for p in live:
            try:
                p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill9()


# ------------------------------------------------------------------------------------------ bootstrap


@dataclass
class Bootstrap:
    proc: Proc
    data_dir: Path
    addr: str

    @property
    def peer_id(self) -> str:
        return split_peer_multiaddr(self.addr)[0]

    @property
    def transport(self) -> str:
        return split_peer_multiaddr(self.addr)[1]

    @property
    def port(self) -> int:
        return int(self.transport.rsplit("/", 1)[1])


def start_bootstrap(procs: Procs, data_dir: Path, listen: str = "/ip4/127.0.0.1/tcp/0") -> Bootstrap:
    """Start ``metaspace bootstrap`` and wait for its multiaddr (its first stdout line)."""
    proc = procs.start(
        "bootstrap", metaspace_cmd("bootstrap", "--listen", listen, "--data-dir", str(data_dir))
    )
    return wait_bootstrap(proc, data_dir)


def wait_bootstrap(proc: Proc, data_dir: Path, timeout: float = START_TIMEOUT) -> Bootstrap:
    addr = proc.first_line("/ip4/", timeout)
    return Bootstrap(proc, data_dir, addr)


# ------------------------------------------------------------------------------------------ agent peers


@dataclass
class Peer:
    """A running ``metaspace peer`` and a control API client for it."""

    index: int
    home: Home
    proc: Proc
    peer_id: str
    addr: str
    client: ControlClient

    @property
    def transport(self) -> str:
        return split_peer_multiaddr(self.addr)[1]

    def status(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.client.get("/api/v1/status")
        return doc

    def publish(self, **body: Any) -> dict[str, Any]:
        doc: dict[str, Any] = self.client.post("/api/v1/intents", body)
        return doc

    def search(self, **query: Any) -> list[dict[str, Any]]:
        doc = self.client.get("/api/v1/metaspace/search", **query)
        rows: list[dict[str, Any]] = doc["results"]
        return rows


def init_home(path: Path, lat: float, lon: float, extra: Sequence[str] = ()) -> Home:
    """``metaspace --home PATH init --yes ...`` in this process (same code path as the CLI, no start-up cost).

    Raises:
        NetTestError: init failed.
    """
    from metaspace.cli.main import main

    argv = ["--home", str(path), "init", "--yes", "--marketplace", "full", "--autonomy", "full",
            "--location", "neighborhood", "--lat", str(lat), "--lon", str(lon), "--json", *extra]  # fmt: skip
    saved = {k: os.environ.get(k) for k in BASE_ENV}
    os.environ.update(BASE_ENV)
    try:
        code = main(argv)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if code != 0:
        raise NetTestError(f"metaspace init for {path} exited {code}")
    return resolve_home(path)


def start_peer(procs: Procs, index: int, home: Home, bootstrap: str, watch_interval: float = 3600.0) -> Proc:
    """Start ``metaspace peer`` (returns at once; see :func:`wait_peer`)."""
    argv = metaspace_cmd("--home", str(home.root), "peer", "--bootstrap", bootstrap,
                         "--watch-interval", str(watch_interval))  # fmt: skip
    return procs.start(f"peer{index}", argv)


def wait_peer(index: int, home: Home, proc: Proc, timeout: float = START_TIMEOUT) -> Peer:
    """Wait until the peer printed its "agent ... listening" line and its run files name its pid."""
    line = proc.first_line("agent ", timeout)
    # "agent <id> listening on <multiaddr>; control API <url>"
    words = line.split()
    peer_id, addr = words[1], words[4].rstrip(";")

    def run_files() -> bool:
        try:
            info = json.loads(home.api_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return False
        return bool(info.get("pid") == proc.pid and home.token_file.exists())

    poll_until(run_files, timeout, f"peer{index}'s run files")
    return Peer(index, home, proc, peer_id, addr, ControlClient(home, timeout=60.0))


def wait_joined(peer: Peer, min_contacts: int, timeout: float = START_TIMEOUT) -> None:
    """Wait until the peer's routing table holds at least ``min_contacts`` contacts."""

    last: list[object] = [None]

    def joined() -> bool:
        try:
            status = peer.status()
        except ControlError as exc:
            last[0] = exc
            return False
        last[0] = status
        return int(status["peers"]) >= min_contacts

    try:
        poll_until(joined, timeout, f"peer{peer.index} to know {min_contacts} peers", interval=0.2)
    except NetTestError as exc:
        raise NetTestError(f"{exc}; last status: {last[0]!r}; log:\n{peer.proc.stderr_tail()}") from None


def run_cli(*args: str, timeout: float = 60.0, extra_env: dict[str, str] | None = None) -> str:
    """Run ``metaspace ARGS`` as a real process; return its stdout.

    Raises:
        NetTestError: non-zero exit (with stderr).
    """
    done = subprocess.run(
        metaspace_cmd(*args), cwd=str(REPO), env=env(extra_env), capture_output=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise NetTestError(
            f"metaspace {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
        )
    return done.stdout.decode()


@pytest.fixture()
def procs(tmp_path: Path) -> Iterator[Procs]:
    """A process group for one test; every process is stopped afterwards (import it into a test module)."""
    group = Procs(tmp_path)
    try:
        yield group
    finally:
        group.close()
