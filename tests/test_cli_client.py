"""The client commands against a tiny canned-JSON HTTP server on 127.0.0.1 (no real agent peer)."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from metaspace.api.control import ControlClient, ControlError, PeerNotRunning, write_run_files
from metaspace.cli.main import main
from metaspace.home import resolve_home
from wire.geo import resolution

TOKEN = "canned-token"
INTENT = {
    "id": "ab" * 16,
    "action": "SELL",
    "category": "vehicles/tires",
    "price": {"amount_minor": 8000, "currency": "USD", "per_unit": True},
    "quantity": 4,
    "attributes": {"size": "225/65R17"},
    "cell": "85499507fffffff",
    "expires": 1795355014,
}
CANNED: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/api/v1/status"): (200, {"peer_id": "12D3KooWcanned", "connected_peers": 7}),
    ("GET", "/api/v1/intents"): (200, {"intents": [INTENT]}),
    ("POST", "/api/v1/intents"): (200, INTENT),
    ("GET", "/api/v1/metaspace/search"): (200, {"results": [{**INTENT, "distance_km": 12.5, "score": 0.93}]}),
    ("GET", "/api/v1/matches"): (
        200,
        {"matches": [{"id": "m1", "intent_id": "ab" * 16, "other": INTENT, "score": 0.9}]},
    ),
    ("GET", "/api/v1/deals"): (
        200,
        {"deals": [{"id": "d1", "state": "waiting_approval", "needs_approval": True}]},
    ),
    ("POST", "/api/v1/deals/d1/approve"): (200, {"id": "d1", "state": "approved"}),
    ("POST", "/api/v1/deals/d1/decline"): (200, {"id": "d1", "state": "declined"}),
    ("POST", "/api/v1/deals/d9/approve"): (404, {"error": "not_found", "message": "no deal d9"}),
    ("DELETE", "/api/v1/intents/" + "ab" * 16): (200, {**INTENT, "withdrawn": True}),
    ("POST", "/api/v1/negotiate/start"): (200, {"id": "d2", "match_id": "m1", "state": "negotiating"}),
    ("POST", "/api/v1/intents/preview"): (
        200,
        {
            "published": {**INTENT, "text": "vendo 4 llantas 225/65R17", "lang": "es"},
            "private": {"limit": {"amount_minor": 4000, "currency": "USD"}, "limit_text": "40.00 USD"},
            "warnings": ["\x1b]0;pwned\x07a note\x1b[2J"],
        },
    ),
    ("POST", "/api/v1/intents/understand"): (
        200,
        {
            "action": "SELL",
            "category": "vehicles/tires",
            "attributes": {"size": "225/65R17"},
            "quantity": 4,
            "price": {"amount_minor": 5000, "currency": "USD", "per_unit": True},
            "lang": "es",
            "confidence": 0.87,
        },
    ),
}


class Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": path,
                        "query": query,
                        "body": body,
                        "auth": self.headers.get("Authorization"),
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, doc = 401, {"error": "unauthorized", "message": "missing or wrong bearer token"}
                else:
                    status, doc = CANNED.get(
                        (self.command, path), (404, {"error": "not_found", "message": "nope"})
                    )
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def last(self, method: str, path: str) -> dict[str, Any]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path][-1]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METASPACE_KDF", "fast")
    monkeypatch.setenv("METASPACE_PASSPHRASE", "pw")
    monkeypatch.delenv("METASPACE_HOME", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def home(tmp_path: Path, server: Server, capsys) -> Path:
    """An agent (location city = res 5, full marketplace) whose 'peer' is the canned server."""
    h = tmp_path / "agent"
    assert (
        main(
            ["--home", str(h), "init", "--yes", "--marketplace", "full", "--lat", "19.43", "--lon", "-99.13"]
        )
        == 0
    )
    write_run_files(resolve_home(h), server.url, TOKEN)
    capsys.readouterr()
    return h


def run(capsys, home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_lists_as_tables_and_json(home: Path, server: Server, capsys):
    code, out, err = run(capsys, home, "intents")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["ID", "ACTION", "CATEGORY"]
    assert "80.00 USD/unit" in row and "size=225/65R17" in row and "vehicles/tires" in row
    code, out, _ = run(capsys, home, "intents", "--json")
    assert code == 0 and json.loads(out) == [INTENT]
    assert server.last("GET", "/api/v1/intents")["auth"] == f"Bearer {TOKEN}"
    code, out, _ = run(capsys, home, "matches")
    assert code == 0 and "MATCH" in out and "m1" in out and "0.90" in out
    code, out, _ = run(capsys, home, "deals")
    assert code == 0 and "waiting_approval" in out and "yes" in out


def test_publish_sends_a_coarse_cell_never_coordinates(home: Path, server: Server, capsys):
    code, out, err = run(
        capsys,
        home,
        "publish",
        "--action",
        "sell",
        "--category",
        "vehicles/tires",
        "--lat",
        "19.4326",
        "--lon",
        "-99.1332",
        "--radius-km",
        "50",
        "--price",
        "80",
        "USD",
        "--quantity",
        "4",
        "--attr",
        "size=225/65R17",
        "--text",
        "four tires",
        "--expires-in",
        "3d",
    )
    assert code == 0, err
    body = server.last("POST", "/api/v1/intents")["body"]
    assert "lat" not in body and "lon" not in body
    assert resolution(body["cell"]) == 5  # the city level this agent allows
    assert body["price"] == {"amount_minor": 8000, "currency": "USD", "per_unit": True}
    assert body["attributes"] == {"size": "225/65R17"} and body["expires_in_s"] == 3 * 86400
    assert body["action"] == "SELL" and body["quantity"] == 4 and body["lang"] == "en"
    assert "id" in out
    # no location given: the home cell from init is used
    assert (
        run(capsys, home, "publish", "--action", "buy", "--category", "vehicles/tires", "--price", "50USD")[0]
        == 0
    )
    assert resolution(server.last("POST", "/api/v1/intents")["body"]["cell"]) == 5


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--category", "vehicles/tyres"], "did you mean vehicles/tires"),
        (["--category", "tires"], "vehicles/tires"),
        (["--price", "80", "USX"], "unknown currency"),
        (["--price", "eighty"], "bad price"),
        (["--lat", "95", "--lon", "0"], "--lat must be between -90 and 90"),
        (["--lat", "45", "--lon", "200"], "--lon must be between"),
        (["--lat", "45"], "both --lat and --lon"),
        (["--cell", "8f2830828052d25"], "finer than your agent may disclose"),
        (["--cell", "nonsense"], "not an H3 cell"),
        (["--attr", "size"], "NAME=VALUE"),
        (["--expires-in", "8d"], "expires_in_s"),
        (["--expires-in", "soon"], "bad duration"),
        (["--quantity", "0"], "quantity"),
    ],
)
def test_publish_validation_is_client_side(home: Path, server: Server, capsys, extra: list[str], needle: str):
    argv = ["publish", "--action", "sell", "--category", "vehicles/tires", *extra]
    if "--category" in extra:
        argv = ["publish", "--action", "sell", *extra]
    code, out, err = run(capsys, home, *argv)
    assert code == 2, (out, err)
    assert needle in err and "Traceback" not in err
    assert not [r for r in server.requests if r["method"] == "POST"]


def test_publish_prechecks_the_humans_limits(tmp_path: Path, server: Server, capsys):
    h = tmp_path / "browser"
    assert main(["--home", str(h), "init", "--yes"]) == 0  # marketplace: browse only
    write_run_files(resolve_home(h), server.url, TOKEN)
    capsys.readouterr()
    code, _, err = run(
        capsys, h, "publish", "--action", "sell", "--category", "vehicles/tires", "--lat", "1", "--lon", "1"
    )
    assert code == 2 and "may not publish SELL" in err and "browse" in err
    h2 = tmp_path / "hermit"
    assert main(["--home", str(h2), "init", "--yes", "--location", "never", "--marketplace", "full"]) == 0
    write_run_files(resolve_home(h2), server.url, TOKEN)
    capsys.readouterr()
    code, _out, err = run(
        capsys, h2, "publish", "--action", "buy", "--category", "vehicles/tires", "--lat", "1", "--lon", "1"
    )
    assert code == 2 and "never shares a location" in err
    assert not server.requests


def test_search(home: Path, server: Server, capsys):
    code, out, err = run(
        capsys,
        home,
        "search",
        "--action",
        "sell",
        "--category",
        "vehicles/tires",
        "--lat",
        "19.4",
        "--lon",
        "-99.1",
        "--radius-km",
        "30",
    )
    assert code == 0, err
    assert "12.50" in out and "0.93" in out
    query = server.last("GET", "/api/v1/metaspace/search")["query"]
    assert "action=SELL" in query and "radius_km=30" in query and "cell=85" in query and "lat=" not in query


def test_ids_and_errors_from_the_peer(home: Path, server: Server, capsys):
    assert run(capsys, home, "approve", "d1")[0] == 0
    assert run(capsys, home, "decline", "d1", "--json")[0] == 0
    code, out, err = run(capsys, home, "approve", "d9")
    assert code == 1 and err.strip() == "error: no deal d9"
    code, out, err = run(capsys, home, "withdraw", "ab" * 16)
    assert code == 0 and "withdrawn" in out and server.last("DELETE", "/api/v1/intents/" + "ab" * 16)
    code, out, err = run(capsys, home, "negotiate", "m1")
    assert code == 0 and server.last("POST", "/api/v1/negotiate/start")["body"] == {"match_id": "m1"}
    code, out, err = run(capsys, home, "withdraw", "../../etc")
    assert code == 2 and "bad intent id" in err


def test_sell_understands_confirms_and_publishes(home: Path, server: Server, capsys):
    code, out, err = run(capsys, home, "sell", "vendo", "4 llantas 225/65R17", "$50 c/u", "--yes")
    assert code == 0, err
    assert (
        server.last("POST", "/api/v1/intents/understand")["body"]["text"]
        == "vendo 4 llantas 225/65R17 $50 c/u"
    )
    body = server.last("POST", "/api/v1/intents")["body"]
    assert body["action"] == "SELL" and body["category"] == "vehicles/tires" and body["quantity"] == 4
    assert body["text"] == "vendo 4 llantas 225/65R17 $50 c/u" and "confidence" not in body
    assert resolution(body["cell"]) == 5 and body["radius_km"] == 50
    # what is shown before publishing is the peer's preview of those very parameters
    assert server.last("POST", "/api/v1/intents/preview")["body"] == body
    assert "Will be published" in out and "text        vendo 4 llantas 225/65R17\n" in out
    assert "Kept private (never published or sent): your limit 40.00 USD" in out
    assert "note: a note" in out and "\x1b" not in out, "remote text can't drive the terminal"
    assert "80.00 USD" in out and "published: " + "ab" * 16 in out
    # `buy` flips the side whatever was understood; without --yes and without a terminal it refuses.
    code, out, err = run(capsys, home, "buy", "llantas 225/65R17", "--yes", "--price", "45", "USD")
    assert code == 0, err
    body = server.last("POST", "/api/v1/intents")["body"]
    assert body["action"] == "BUY" and body["price"]["amount_minor"] == 4500
    n = len(server.requests)
    code, out, err = run(capsys, home, "sell", "old bike")
    assert code == 2 and "--yes" in err
    assert [r["path"] for r in server.requests[n:]] == [
        "/api/v1/intents/understand",
        "/api/v1/intents/preview",
    ], "shown, then refused: nothing published"


def test_status_with_and_without_a_peer(home: Path, server: Server, capsys, tmp_path: Path):
    code, out, err = run(capsys, home, "status", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["running"] is True and doc["peer"]["connected_peers"] == 7
    assert doc["limits"]["marketplace"] == "full"
    (home / "run" / "api.json").unlink()
    code, out, err = run(capsys, home, "status")
    assert code == 3 and "no agent peer is running" in out
    code, out, err = run(capsys, tmp_path / "nobody", "status")
    assert code == 1 and "create one with `metaspace --home" in err


def test_not_running_messages(home: Path, server: Server, capsys):
    paths = resolve_home(home)
    paths.api_file.unlink()
    code, _, err = run(capsys, home, "intents")
    assert code == 3
    assert (
        err.strip()
        == f"error: no agent peer is running for {home}; start it with `metaspace --home {home} peer`"
    )
    # a stale api.json whose process is gone
    paths.api_file.write_text(json.dumps({"url": server.url, "pid": _dead_pid()}))
    code, _, err = run(capsys, home, "deals")
    assert code == 3 and "stale" in err
    # a live pid but nothing listening
    paths.api_file.write_text(json.dumps({"url": f"http://127.0.0.1:{_free_port()}", "pid": os.getpid()}))
    code, _out, err = run(capsys, home, "matches")
    assert code == 3 and "no agent peer is running" in err


def test_client_refuses_non_loopback_and_bad_tokens(home: Path, server: Server):
    paths = resolve_home(home)
    paths.api_file.write_text(json.dumps({"url": "http://192.0.2.1:8080", "pid": os.getpid()}))
    with pytest.raises(ControlError, match="not on this machine"):
        ControlClient(paths).get("/api/v1/status")
    write_run_files(paths, server.url, "wrong-token")
    with pytest.raises(ControlError) as info:
        ControlClient(paths).get("/api/v1/status")
    assert info.value.status == 401 and "bearer token" in info.value.message
    paths.token_file.unlink()
    with pytest.raises(PeerNotRunning):
        ControlClient(paths).get("/api/v1/status")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dead_pid() -> int:
    pid = 2**22 - 7
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_web_prints_the_page_address_with_the_token(home: Path, server: Server, capsys):
    code, out, err = run(capsys, home, "web")
    assert code == 0, err
    assert out.strip() == f"{server.url}/#token={TOKEN}"


HOSTILE = "tires\x1b]0;owned\x07 \x1b[2J\x1b[31mred\x9b1m\r\nfake line\u202egnp.exe\x00"


def test_remote_text_cannot_drive_the_terminal() -> None:
    """Issue 10: CLI tables printed other agents' text with its escape sequences."""
    from metaspace.cli.output import INTENT_COLUMNS, emit, render_mapping, render_table, to_json

    row = {"id": "x", "category": HOSTILE, "attributes": {HOSTILE: HOSTILE}, "price": {"currency": HOSTILE}}
    for out in (
        render_table([row], INTENT_COLUMNS),
        render_table([row]),
        render_mapping(row),
        render_mapping({"nested": row}),
    ):
        assert not any(ch in out for ch in "\x1b\x9b\x07\x00\r\u202e"), repr(out)
        assert not any(line.startswith("fake line") for line in out.splitlines()), "no forged lines"
        assert "tires" in out
    assert json.loads(to_json(row)) == row, "--json keeps the data exactly"
    assert not any(ch in to_json(row) for ch in "\x1b\x9b\x07\x00\r\u202e")
    buf = io.StringIO()
    emit(HOSTILE, as_json=False, out=buf)
    assert "\x1b" not in buf.getvalue() and "fake line" in buf.getvalue()
