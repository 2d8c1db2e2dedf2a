"""The short soak: ``bench/soak_bootstrap.py`` with 1,200 connections against one real bootstrap process.

Python clients (fresh identity per connection: PUT a signed record, GET it back) and a js-libp2p client
(fresh identity per connection, listening like a full peer: PING and FIND_NODE, or PUT and GET) churn
through 1,200 connections, past the 1,000 distinct peers at which py-libp2p's peerstore starts evicting.
Every honest dial must be accepted, every RPC answered, every record read back; the node must give its
file descriptors back (no growth past a small bound) and still serve a fresh client at the end. The
figures (latency, RSS, CPU) are the benchmark's business: printed, not asserted. Without ``node``
(locally only) the js share goes to the Python clients.

On py-libp2p 0.8.1 unfenced, the node refuses every connection after its 249th (issue 9).
"""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

from bench.soak_bootstrap import parse_args, run_soak
from tests.net_helpers.jspeer import in_ci, require_node

pytestmark = pytest.mark.slow

#: Past py-libp2p's peerstore cap (1,000 peers; when it is exceeded it evicts address-less entries
#: first, our own key included, and identify then fails): every client announces a listen address.
CONNECTIONS = 1200
#: PUT then GET of a freshly signed record (the Python clients), PING/FIND_NODE and PUT/GET in turn (js):
#: a connection costs the node several times an RPC, so more RPCs would buy little but time.
RPCS_PER_CONNECTION = 2
#: Concurrent connections: one Python client with 4 sessions, one js client.
PYTHON_SESSIONS = 4
#: Open fds the node may hold at the end beyond those it had before the first client (a lingering
#: close or two, the SQLite WAL); a leak of one fd per connection would show as hundreds.
FD_SLACK_END = 8
#: Open fds at any sample beyond the start: concurrent connections plus closes in flight.
FD_SLACK_PEAK = 64
#: The clients' time limit. The connection budget ends the run (2-4 minutes on 2 cores, mostly the js
#: client's share); this only bounds a stalled run, so a loaded box never cuts an honest run short (that
#: would show as fewer accepted connections than ``CONNECTIONS``, a false failure).
SECONDS_LIMIT = 900


def test_short_soak_1200_connections_none_refused_all_answered() -> None:
    js = shutil.which("node") is not None or in_ci()
    if js:
        require_node()  # fails (packages missing, CI without node) rather than silently dropping js
    args = parse_args(
        ["--connections", str(CONNECTIONS), "--seconds", str(SECONDS_LIMIT), "--clients", "1",
         "--parallel", str(PYTHON_SESSIONS), "--js-clients", "1" if js else "0", "--js-weight", "6",
         "--js-listen", "--require-js", "--rpcs-per-connection", str(RPCS_PER_CONNECTION),
         "--sample-interval", "0.5"]
    )  # fmt: skip
    report = run_soak(args)
    print(json.dumps(report))
    summary = {k: report[k] for k in ("connections", "rpcs", "by_kind", "errors", "bootstrap")}
    assert report["crashed_clients"] == 0, summary
    assert report["connections"] == {"accepted": CONNECTIONS, "refused": 0}, summary
    assert report["rpcs"] == {"answered": CONNECTIONS * RPCS_PER_CONNECTION, "failed": 0, "get_misses": 0}, (
        summary
    )
    if js:
        assert report["by_kind"]["js"]["connections"] > 0, summary
    boot = report["bootstrap"]
    assert boot["alive_at_end"] and boot["get_after_soak"] == "ok", boot
    # Reported, not hidden. Seen in 2 of 6 runs before p2p.peerstore: past 1,000 peers the node lost its own
    # key and the next identify took its connections down ("stream ended before a frame").
    if boot["get_after_soak_failures"]:
        warnings.warn(
            f"a fresh client's PUT/GET after the soak failed first: {boot['get_after_soak_failures']}",
            stacklevel=1,
        )
    assert boot["end"]["fds"] <= boot["start"]["fds"] + FD_SLACK_END, boot
    assert boot["max_fds"] <= boot["start"]["fds"] + FD_SLACK_PEAK, boot
