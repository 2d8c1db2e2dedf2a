"""Soak benchmark: one real ``metaspace bootstrap`` process under churn from client processes.

The coordinator starts the bootstrap node (its own data dir, metrics on a free port), then client
processes that all talk to it from outside, each until its share of ``--connections`` is used or
``--seconds`` have passed:

* **Python clients** (``--clients``, each running ``--parallel`` sessions; ``bench/soak_client.py``):
  fresh identity per connection, then PUT_RECORDS of the next version of a signed intent (a bounded
  pool of authors: the store stops growing after warm-up), GET_RECORDS of it (it must come back),
  PING, FIND_NODE, ..., then hang up. As our own agents send them (``--python-protocol mux``, the
  default: one multiplexed stream per connection) or one stream per request (``single``).
* **js-libp2p clients** (``--js-clients``; ``tests/interop_js/peer.mjs churn``): the same churn from a
  second implementation (fresh identity per connection; PING, FIND_NODE, and PUT/GET of records the
  coordinator signed beforehand), one ``/metaspace/kad/1.0.0`` stream per request.

Meanwhile the coordinator samples the bootstrap process's RSS and open file descriptors every
``--sample-interval`` seconds and reports them at start (before any client), after warm-up
(``--warmup`` of the run), in the middle and at the end, with the RSS growth after warm-up. At the end
one more fresh client PUTs and GETs a record (up to ``FINAL_ATTEMPTS`` fresh clients, each failure
reported): the node must still serve.

A connection is *accepted* when the client's dial completed its handshakes, *refused* otherwise (every
client is honest: the target is 0). An RPC is *answered* when the expected reply came back (an ERROR
reply, a reset or a timeout is a failed RPC). Latencies are per request/reply, stream open included.

Prints ONE JSON line (progress on stderr). The long run (issue 9's target: >= 10,000 connections and
>= 200,000 RPCs over >= 20 minutes, 0 refused, RSS growth < 10% after warm-up)::

    setsid sh -c 'echo -5 > /proc/self/autogroup; exec nice -n -5 .venv/bin/python \\
        bench/soak_bootstrap.py --seconds 1230 --target-connections 10000 --target-rpcs 200000 \\
        --max-seconds 2100 --clients 3 --parallel 8 --js-clients 2 --js-weight 3 --rpcs-per-connection 22'

(2026-12-01, 2 cores at load 13: 17,007 connections, 374,154 RPCs in 1,236 s.) On a shared box the rate
is set by the CPU the node gets: with the kernel's autogroup scheduling on (Debian's default) CPU is shared
between *sessions* first, and ``nice`` alone only ranks processes inside one session: ``setsid`` plus the
autogroup's nice give the run its priority (13.8 connections/s vs ~5/s with ``nice`` alone, load 13-16 both).

The short run of ``tests/test_soak_bootstrap.py``::

    .venv/bin/python bench/soak_bootstrap.py --connections 1200 --seconds 900 --clients 1 --parallel 4 \\
        --js-weight 6 --js-listen --require-js --rpcs-per-connection 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, bench/ comes first on the path, and bench/wire.py would shadow the wire package.
    _here = (ROOT, ROOT / "bench")
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() not in _here)]

from bench.soak_client import DIAL_TIMEOUT_S, MAX_ERRORS, RPC_TIMEOUT_S, signed_record  # noqa: E402

CLIENT_SCRIPT = ROOT / "bench" / "soak_client.py"
JS_DIR = ROOT / "tests" / "interop_js"
JS_PEER = JS_DIR / "peer.mjs"
#: Signed records handed to the js clients (they PUT and GET them in turn).
JS_RECORDS = 64
#: Bootstrap start-up (Python + py-libp2p import on a loaded box) and each process's stop.
START_TIMEOUT_S = 120.0
STOP_GRACE_S = 20.0
#: Clients get this long past ``--seconds`` to finish their last connection before they are killed.
CLIENT_GRACE_S = 60.0
#: Fresh clients that try, one after the other, to PUT and GET a record after the soak.
FINAL_ATTEMPTS = 3
#: Progress line on stderr.
LOG_EVERY_S = 30.0
#: The counts of a client's progress line.
COUNTS = ("connections", "refused", "rpcs")
#: The environment of every process: one BLAS/OpenMP thread each, the repository first on the path.
CHILD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHILD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Sample:
    """RSS (kB), open fds and CPU seconds used of the bootstrap process ``t`` s after the clients started."""

    t: float
    rss_kb: int
    fds: int
    cpu_s: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "t_s": round(self.t, 1),
            "rss_kb": self.rss_kb,
            "fds": self.fds,
            "cpu_s": round(self.cpu_s, 1),
        }


def proc_sample(pid: int, t: float) -> Sample | None:
    """RSS, open fds and CPU time of ``pid`` from /proc (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3, utime/stime 14/15
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return Sample(t, rss, fds, cpu)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def scrape_metrics(port: int) -> dict[str, float]:
    """The bootstrap's ``metaspace_*`` samples (no histogram buckets), or {} if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("metaspace_") or "_bucket{" in line or "_created" in line:
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            continue
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def js_unavailable() -> str | None:
    """Why the js clients can't run here, or None if they can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules" / "libp2p").is_dir():
        return f"the npm packages are not installed (run: make interop-js, or npm ci in {JS_DIR})"
    return None


def has_targets(args: argparse.Namespace) -> bool:
    return bool(args.target_connections or args.target_rpcs)


def run_limit(args: argparse.Namespace) -> float:
    """How long the clients may run: ``--seconds``, or ``--max-seconds`` when there are targets to meet."""
    return float(args.max_seconds if has_targets(args) else args.seconds)


def split_budget(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` connections by integer weights (the remainder to the first parts)."""
    shares = [total * w // sum(weights) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % len(shares)] += 1
    return shares


async def final_check(addr: str) -> str | None:
    """A fresh client PUTs and GETs one record; None if that worked, else what failed."""
    from p2p.dht_driver import KAD_PROTOCOL
    from p2p.framing import rpc
    from p2p.host import P2PError, open_host, split_peer_multiaddr
    from wire.errors import RemoteProtocolError
    from wire.identity import Identity
    from wire.messages import GetRecords, PutRecords, Records, decode_message, encode_message

    rng = random.Random()
    peer_id = split_peer_multiaddr(addr)[0]
    key, record = signed_record(rng, time.time())
    async with open_host(Identity(rng.randbytes(32))) as host:
        try:
            await host.connect(addr, timeout=DIAL_TIMEOUT_S)
            put = PutRecords(rng.getrandbits(64), key, [record])
            await rpc(host, peer_id, KAD_PROTOCOL, encode_message(put), timeout=RPC_TIMEOUT_S)
            get = GetRecords(rng.getrandbits(64), key)
            reply = decode_message(
                await rpc(host, peer_id, KAD_PROTOCOL, encode_message(get), timeout=RPC_TIMEOUT_S)
            )
        except (P2PError, RemoteProtocolError) as exc:
            return f"{type(exc).__name__}: {exc}"
    if not isinstance(reply, Records) or record not in reply.records:
        return f"GET after the soak answered {reply!r}"[:300]
    return None


class Soak:
    """One run: the bootstrap process, the client processes, the samples. Use :meth:`run`."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.samples: list[Sample] = []
        self.metrics_port = free_port()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.work / f"{name}.out", "wb") as out, open(self.work / f"{name}.err", "wb") as err:
            popen = subprocess.Popen(
                argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=child_env(), cwd=ROOT
            )
        self.procs.append(popen)
        return popen

    def start_bootstrap(self) -> tuple[subprocess.Popen[bytes], str]:
        """Start ``metaspace bootstrap``; the process and its multiaddr (its first stdout line)."""
        argv = [sys.executable, "-m", "metaspace.cli.main", "bootstrap", "--listen", "/ip4/127.0.0.1/tcp/0",
                "--data-dir", str(self.work / "bootstrap"), "--metrics", f"127.0.0.1:{self.metrics_port}",
                *self.args.bootstrap_arg]  # fmt: skip
        boot = self._spawn("bootstrap", argv)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            lines = (self.work / "bootstrap.out").read_text().splitlines(keepends=True)
            addr = next((ln.strip() for ln in lines if ln.startswith("/ip4/") and ln.endswith("\n")), "")
            if addr:
                return boot, addr
            if boot.poll() is not None or time.monotonic() > deadline:
                err = (self.work / "bootstrap.err").read_text()[-3000:]
                raise SystemExit(f"soak_bootstrap: the bootstrap node did not start:\n{err}")
            time.sleep(0.1)

    def start_clients(self, addr: str, js_clients: int) -> list[tuple[str, subprocess.Popen[bytes]]]:
        args = self.args
        budget = args.connections if args.connections > 0 else 10**9
        shares = split_budget(budget, [args.parallel] * args.clients + [args.js_weight] * js_clients)
        records = self.work / "records.jsonl"
        rng = random.Random(os.urandom(16))
        with open(records, "w") as f:
            for _ in range(JS_RECORDS if js_clients else 0):
                key, record = signed_record(rng, time.time())
                f.write(json.dumps({"key": key.hex(), "record": record.hex()}) + "\n")
        common = ["--seconds", str(run_limit(args)), "--rpcs-per-connection", str(args.rpcs_per_connection)]
        clients = []
        for n, share in enumerate(shares):
            if n < args.clients:
                argv = [sys.executable, str(CLIENT_SCRIPT), addr, *common, "--max-connections", str(share),
                        "--parallel", str(args.parallel), "--protocol", args.python_protocol]  # fmt: skip
                kind = "python"
            else:
                argv = ["node", str(JS_PEER), "churn", addr, *common, "--max-connections", str(share),
                        "--records", str(records), "--timeout", str(RPC_TIMEOUT_S),
                        *(["--listen"] if args.js_listen else [])]  # fmt: skip
                kind = "js"
            clients.append((kind, self._spawn(f"client{n}", argv)))
        _log(f"{args.clients} Python client(s) x {args.parallel} sessions, {js_clients} js; shares {shares}")
        return clients

    def last_lines(self, count: int) -> list[dict[str, Any]]:
        """The last JSON line (progress or final) of each of ``count`` clients so far ({} if none)."""
        out = []
        for n in range(count):
            try:
                lines = (self.work / f"client{n}.out").read_text().strip().splitlines()
                doc = json.loads(lines[-1]) if lines else {}
            except (OSError, json.JSONDecodeError):  # a line being written
                doc = {}
            out.append(doc.get("progress", doc) if isinstance(doc, dict) else {})
        return out

    def watch(
        self, boot: subprocess.Popen[bytes], clients: list[tuple[str, subprocess.Popen[bytes]]]
    ) -> float:
        """Sample the bootstrap until every client exited; the elapsed seconds.

        With ``--target-connections`` / ``--target-rpcs``, the clients are stopped (SIGTERM: they
        finish their connection and report) once ``--seconds`` have passed and the targets are met.
        """
        args = self.args
        t0 = time.monotonic()
        first = proc_sample(boot.pid, 0.0)
        self.samples = [first] if first else []
        hard_stop = t0 + run_limit(args) + CLIENT_GRACE_S
        next_log, stopping = t0 + LOG_EVERY_S, False
        while any(p.poll() is None for _kind, p in clients):
            if boot.poll() is not None:
                _log("the bootstrap process died")
                break
            now = time.monotonic()
            if now > hard_stop:
                _log("clients overran their time; killing them")
                break
            sample = proc_sample(boot.pid, now - t0)
            if sample:
                self.samples.append(sample)
            targets_due = has_targets(args) and not stopping and now - t0 >= args.seconds
            if now >= next_log or targets_due:
                lines = self.last_lines(len(clients))
                conns, refused, rpcs = (sum(int(d.get(k, 0)) for d in lines) for k in COUNTS)
                if now >= next_log:
                    next_log += LOG_EVERY_S
                    node = f"rss={sample.rss_kb} kB fds={sample.fds}" if sample else "gone"
                    _log(f"t={now - t0:.0f}s conns={conns} refused={refused} rpcs={rpcs}; bootstrap {node}")
                if targets_due and conns >= args.target_connections and rpcs >= args.target_rpcs:
                    _log(f"targets met at t={now - t0:.0f}s ({conns} connections, {rpcs} RPCs): stopping")
                    stopping = True
                    for _kind, p in clients:
                        p.send_signal(signal.SIGTERM)
            time.sleep(args.sample_interval)
        stop_processes([p for _kind, p in clients])
        elapsed = time.monotonic() - t0
        end = proc_sample(boot.pid, elapsed)
        if end:
            self.samples.append(end)
        return elapsed

    def client_results(self, clients: list[tuple[str, subprocess.Popen[bytes]]]) -> list[dict[str, Any]]:
        results = []
        for n, (kind, popen) in enumerate(clients):
            lines = (self.work / f"client{n}.out").read_text().strip().splitlines()
            try:
                doc = json.loads(lines[-1]) if lines else None
            except json.JSONDecodeError:
                doc = None
            if not isinstance(doc, dict) or "progress" in doc:
                # No final line: keep its last progress counts (no latencies) and the end of its log.
                tail = (self.work / f"client{n}.err").read_text(errors="replace")[-1500:]
                counts = doc["progress"] if isinstance(doc, dict) else {}
                doc = {**counts, "crashed": True, "exit": popen.returncode, "errors": {tail: 1}}
            doc["kind"] = kind
            results.append(doc)
        return results

    def stop(self) -> None:
        stop_processes(self.procs)

    def bootstrap_death(self, boot: subprocess.Popen[bytes]) -> dict[str, Any]:
        """Exit status and the end of the log of a bootstrap process that died during the run."""
        tail = (self.work / "bootstrap.err").read_text(errors="replace")[-4000:]
        return {"exit_code": boot.returncode, "stderr_tail": tail}


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (clients then finish their connection and report), then ``kill -9`` after a grace."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run one soak; the report (see the module docstring).

    Raises:
        SystemExit: the bootstrap node did not start, or ``--require-js`` without node/packages.
    """
    import trio

    load_before = load_average()
    js_reason = js_unavailable() if args.js_clients else None
    if js_reason is not None and args.require_js:
        raise SystemExit(f"soak_bootstrap: js clients required but {js_reason}")
    js_clients = args.js_clients if js_reason is None else 0
    if args.clients + js_clients == 0:
        raise SystemExit(f"soak_bootstrap: no clients to run (js: {js_reason})")
    work = Path(tempfile.mkdtemp(prefix="soak-bootstrap-"))
    soak = Soak(args, work)
    try:
        boot, addr = soak.start_bootstrap()
        _log(f"bootstrap {addr} (pid {boot.pid})")
        clients = soak.start_clients(addr, js_clients)
        elapsed = soak.watch(boot, clients)
        alive = boot.poll() is None
        # A real client whose first try failed tries again: up to FINAL_ATTEMPTS fresh connections.
        # Every failed try is reported (get_after_soak_failures), not hidden.
        failures: list[str] = []
        final_error: str | None = "the bootstrap process died"
        for _attempt in range(FINAL_ATTEMPTS if alive else 0):
            final_error = trio.run(final_check, addr)
            if final_error is None:
                break
            failures.append(final_error)
        doc = report(args, soak.client_results(clients), soak.samples, elapsed)
        doc["bootstrap"].update(
            alive_at_end=alive, get_after_soak=final_error or "ok", get_after_soak_failures=failures
        )
        if not alive:
            doc["bootstrap"]["death"] = soak.bootstrap_death(boot)
        doc["server_metrics"] = {
            k: v for k, v in scrape_metrics(soak.metrics_port).items() if "connection" in k or "rpc" in k
        }
        doc["js_skipped"] = js_reason
        doc["load"] = {"before": load_before, "after": load_average()}
        return doc
    finally:
        soak.stop()
        if args.keep:
            _log(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _at(samples: list[Sample], t: float) -> Sample | None:
    """The first sample taken at or after ``t`` (else the last one)."""
    return next((s for s in samples if s.t >= t), samples[-1] if samples else None)


def _distinct_errors(results: list[dict[str, Any]]) -> dict[str, int]:
    """Each distinct error text of all clients (peer ids and ports masked) and how often it happened."""
    out: dict[str, int] = {}
    for r in results:
        for text, count in dict(r.get("errors", {})).items():
            masked = re.sub(r"12D3Koo\w+", "<peer>", re.sub(r"/tcp/\d+", "/tcp/<port>", str(text)))
            if masked in out or len(out) < MAX_ERRORS:
                out[masked] = out.get(masked, 0) + int(count)
    return out


def report(
    args: argparse.Namespace, results: list[dict[str, Any]], samples: list[Sample], elapsed: float
) -> dict[str, Any]:
    """The figures of one run from the clients' JSON lines and the bootstrap samples."""
    latencies = [float(ms) for r in results for ms in r.get("latencies_ms", [])]

    def total(name: str) -> int:
        return sum(int(r.get(name, 0)) for r in results)

    by_kind: dict[str, dict[str, int]] = {}
    for r in results:
        k = by_kind.setdefault(
            r["kind"], {"clients": 0, "connections": 0, "refused": 0, "rpcs": 0, "rpc_failures": 0}
        )
        k["clients"] += 1
        for name in ("connections", "refused", "rpcs", "rpc_failures"):
            k[name] += int(r.get(name, 0))
    start, warm = (samples[0] if samples else None), _at(samples, elapsed * args.warmup)
    middle, end = _at(samples, elapsed / 2), (samples[-1] if samples else None)
    growth = (end.rss_kb - warm.rss_kb) / warm.rss_kb if warm and end and warm.rss_kb else None
    answered = total("rpcs")
    accepted = total("connections")
    cpu = end.cpu_s - start.cpu_s if start and end else None
    return {
        "bench": "soak_bootstrap",
        "seconds": round(elapsed, 1),
        "rpcs_per_connection": args.rpcs_per_connection,
        "python_protocol": args.python_protocol,
        "targets": {"connections": args.target_connections, "rpcs": args.target_rpcs}
        if has_targets(args)
        else None,
        "connections": {"accepted": accepted, "refused": total("refused")},
        "rpcs": {"answered": answered, "failed": total("rpc_failures"), "get_misses": total("get_misses")},
        "rpcs_per_s": round(answered / elapsed, 1) if elapsed else None,
        "connections_per_s": round(accepted / elapsed, 2) if elapsed else None,
        "rpc_ms": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=None),
        },
        "by_kind": by_kind,
        "crashed_clients": sum(1 for r in results if r.get("crashed")),
        "bootstrap": {
            "start": start.as_dict() if start else None,
            "warm": warm.as_dict() if warm else None,
            "middle": middle.as_dict() if middle else None,
            "end": end.as_dict() if end else None,
            "max_rss_kb": max((s.rss_kb for s in samples), default=None),
            "max_fds": max((s.fds for s in samples), default=None),
            "rss_growth_after_warmup": round(growth, 4) if growth is not None else None,
            "cpu_s": round(cpu, 1) if cpu is not None else None,
            "cpu_ms_per_connection": round(1000 * cpu / accepted, 1)
            if cpu is not None and accepted
            else None,
        },
        "errors": _distinct_errors(results),
        "js_versions": next((r["versions"] for r in results if "versions" in r), None),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="clients start no connection after this")
    p.add_argument("--target-connections", type=int, default=0, help="with --target-rpcs: run past --seconds")
    p.add_argument("--target-rpcs", type=int, default=0, help="until these are reached (or --max-seconds)")
    p.add_argument("--max-seconds", type=float, default=0.0, help="cap with targets (default 3 x --seconds)")
    p.add_argument("--connections", type=int, default=0, help="total connection budget (0: until --seconds)")
    p.add_argument("--clients", type=int, default=2, help="Python client processes")
    p.add_argument("--parallel", type=int, default=2, help="concurrent sessions per Python client")
    p.add_argument("--js-clients", type=int, default=1, help="js-libp2p client processes (0: none)")
    p.add_argument("--js-weight", type=int, default=2, help="budget share of a js client, vs --parallel")
    p.add_argument("--require-js", action="store_true", help="fail rather than run without js clients")
    p.add_argument("--js-listen", action="store_true", help="js identities listen (announce an address)")
    p.add_argument("--rpcs-per-connection", type=int, default=8)
    p.add_argument("--python-protocol", choices=("mux", "single"), default="mux", help="Python clients' RPCs")
    p.add_argument("--sample-interval", type=float, default=1.0, help="seconds between RSS/fd samples")
    p.add_argument("--warmup", type=float, default=0.25, help="fraction of the run counted as warm-up")
    p.add_argument("--bootstrap-arg", action="append", default=[], help="extra `metaspace bootstrap` arg")
    p.add_argument("--keep", action="store_true", help="keep the logs (their folder goes to stderr)")
    args = p.parse_args(argv)
    if args.max_seconds <= 0:
        args.max_seconds = 3 * args.seconds
    if args.target_connections < 0 or args.target_rpcs < 0 or args.max_seconds < args.seconds:
        p.error("--target-* must not be negative, --max-seconds not below --seconds")
    if args.seconds <= 0 or args.connections < 0 or args.parallel < 1 or args.js_weight < 1:
        p.error("--seconds > 0, --connections >= 0, --parallel >= 1, --js-weight >= 1")
    if args.clients < 0 or args.js_clients < 0 or args.clients + args.js_clients == 0:
        p.error("at least one client, and no negative counts")
    if args.rpcs_per_connection < 1 or not 0 < args.warmup < 1 or args.sample_interval <= 0:
        p.error("--rpcs-per-connection >= 1, 0 < --warmup < 1, --sample-interval > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(run_soak(parse_args(argv))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
