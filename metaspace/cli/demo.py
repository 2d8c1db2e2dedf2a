"""``metaspace demo`` (what ``make demo`` runs): two people, two languages, one deal — on this machine.

Real separate processes on 127.0.0.1: a bootstrap node and three agent peers, each with its own home,
identity, libp2p host (Noise), DHT node, FAISS index and control API. The script plays the three humans
through the agents' control APIs, exactly as the CLI or the web page would, and narrates each step:

* A (English, Chicago): "I have some old tires, 225/65R17 ... $80 each"
* B (Spanish, ~25 km south): "Necesito llantas para mi camioneta, 225/65R17, máximo 70 dólares cada una"
* C (Chinese, Chicago): sells a mountain bike — must not match.

It ends with the co-signed agreement, checked byte for byte on both sides, the transaction (the meeting
cell, time window and payment method the two agents agree on, each side's ``.ics`` calendar file), both
sides rating each other (each then sees the other's reputation), prints each user's notifications in
their own language, stops every process and exits 0 (non-zero if any step fails).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaspace.api.control import ControlClient, ControlError
from metaspace.home import resolve_home

#: Every wait in the demo is bounded (seconds).
START_TIMEOUT_S = 90.0
STEP_TIMEOUT_S = 60.0
POLL_S = 0.2


@dataclass
class Person:
    name: str
    lang: str
    place: str
    lat: float
    lon: float
    text: str
    limit: int | None = None  # a private limit the human sets beside the text (minor units, USD)
    home: Path = Path()
    proc: subprocess.Popen[bytes] | None = None
    client: ControlClient | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


PEOPLE = [
    Person("A", "en", "Chicago, IL", 41.8781, -87.6298,
           "I have some old tires, 225/65R17, they're still good. Wish I could get rid of them, $80 each",
           limit=5500),  # A's private floor: the agent never sells below what A set (no silent discount)
    Person("B", "es", "Blue Island, IL (~25 km south)", 41.6600, -87.7000,
           "Necesito llantas para mi camioneta, 225/65R17, máximo 70 dólares cada una"),
    Person("C", "zh", "Chinatown, Chicago", 41.8524, -87.6325, "出售二手山地自行车，九成新，价格500元"),
]  # fmt: skip


class DemoError(Exception):
    pass


class Narrator:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.last = self.t0
        self.timings: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def step(self, title: str) -> None:
        now = time.monotonic()
        with self.lock:
            print(f"\n== {title}  [t={now - self.t0:5.1f}s]", flush=True)
        self.last = now

    def done(self, title: str) -> None:
        now = time.monotonic()
        self.timings.append((title, now - self.last))
        self.last = now

    def say(self, text: str) -> None:
        """Print one line (other agents' words in it can't act on the terminal)."""
        from metaspace.cli.output import sanitize

        with self.lock:
            print(sanitize(text), flush=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "metaspace", *args]


def _wait(what: str, check: Any, timeout: float = STEP_TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(POLL_S)
    raise DemoError(f"timed out waiting for {what}")


def _listen_events(person: Person, url: str, token: str, narrator: Narrator, stop: threading.Event) -> None:
    """Print a person's notifications (SSE) as they arrive, in that person's language."""
    req = urllib.request.Request(f"{url}/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=STEP_TIMEOUT_S * 3) as resp:
            for raw in resp:
                if stop.is_set():
                    return
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                try:
                    event = json.loads(line[5:])
                except json.JSONDecodeError:
                    continue
                person.events.append(event)
                if event.get("text") and event.get("kind") != "offer":
                    narrator.say(f"   [{person.name} · {person.lang}] 🔔 {event['text']}")
    except OSError:
        return


def _money(p: dict[str, Any] | None) -> str:
    if not p:
        return "—"
    from wire.currency import format_minor

    return format_minor(int(p["amount_minor"]), str(p["currency"]))


Procs = list[subprocess.Popen[bytes]]


def run(args: argparse.Namespace) -> int:
    """Entry point of ``metaspace demo``."""
    keep = getattr(args, "keep", False)
    workdir = Path(tempfile.mkdtemp(prefix="metaspace-demo-"))
    env = dict(os.environ)
    # Throwaway identities of a demo: a fast key derivation and a fixed passphrase are fine here.
    env.update(METASPACE_KDF="fast", METASPACE_PASSPHRASE="demo-only-passphrase", PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    narrator = Narrator()
    try:
        _main(workdir, env, procs, stop, narrator)
    except (DemoError, ControlError, OSError) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        for log in sorted(workdir.glob("*.log")):
            print(f"--- {log.name} (last lines)", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-8:]), file=sys.stderr)
        return 1
    finally:
        stop.set()
        _stop_all(procs)
        if keep:
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nStep timings:")
    for title, seconds in narrator.timings:
        print(f"  {seconds:5.1f}s  {title}")
    print(f"  {time.monotonic() - narrator.t0:5.1f}s  total")
    return 0


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _first(p: Person, what: str, pred: Any = None) -> dict[str, Any] | None:
    """The first item of ``GET /api/v1/<what>`` (matches, deals) that satisfies ``pred``."""
    assert p.client is not None
    items = p.client.get(f"/api/v1/{what}")[what]
    return next((i for i in items if pred is None or pred(i)), None)


def _init_flags(p: Person) -> list[str]:
    # A shares basic interests under the handle @alex/agent; B and C share nothing (the default)
    profile = ["--share", "basic", "--owner", "alex"] if p.name == "A" else []
    # how each human accepts to be paid (A proposes both; B's agent picks the one B takes)
    profile += ["--payment", {"A": "cash,zelle", "B": "zelle"}.get(p.name, "cash")]
    return [
        "--yes", "--marketplace", "full", "--autonomy", "full", "--location", "neighborhood",
        "--lat", str(p.lat), "--lon", str(p.lon), "--language", p.lang, "--spend-limit", "500USD", *profile,
    ]  # fmt: skip


def _main(workdir: Path, env: dict[str, str], procs: Procs, stop: threading.Event, n: Narrator) -> None:
    n.step("1. Birth: three agents get an identity and their humans' limits")
    for p in PEOPLE:
        p.home = workdir / p.name.lower()
        cmd = _cli("--home", str(p.home), "init", *_init_flags(p))
        out = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
        if out.returncode != 0:
            raise DemoError(f"init of {p.name} failed: {out.stderr.decode(errors='replace')}")
    n.say("   A (en), B (es), C (zh): autonomy full, spend limit 500 USD, neighbourhood-level location")
    n.done("birth of 3 agents")

    n.step("2. Network: a bootstrap node and three agent peers, each its own process")
    boot_dir = workdir / "bootstrap"
    boot_log = (workdir / "bootstrap.log").open("wb")
    boot_cmd = _cli("bootstrap", "--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir", str(boot_dir))
    procs.append(subprocess.Popen(boot_cmd, env=env, stdout=boot_log, stderr=subprocess.STDOUT))
    addr_file = boot_dir / "multiaddr"
    boot = _wait(
        "the bootstrap node", lambda: addr_file.exists() and addr_file.read_text().strip(), START_TIMEOUT_S
    )
    n.say(f"   bootstrap  {boot}")
    for p in PEOPLE:
        log = (workdir / f"{p.name.lower()}.log").open("wb")
        cmd = _cli("--home", str(p.home), "peer", "--bootstrap", boot, "--watch-interval", "1")
        p.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(p.proc)
    for p in PEOPLE:
        home = resolve_home(p.home)
        _wait(
            f"agent {p.name}", lambda h=home: h.api_file.exists() and h.token_file.exists(), START_TIMEOUT_S
        )
        client = p.client = ControlClient(home)
        status = _wait(
            f"agent {p.name} to join", lambda c=client: (s := c.get("/api/v1/status"))["peers"] and s
        )
        url = json.loads(home.api_file.read_text())["url"]
        token = home.token_file.read_text().strip()
        threading.Thread(target=_listen_events, args=(p, url, token, n, stop), daemon=True).start()
        n.say(f"   agent {p.name}  {status['agent_id']}  ({p.place}; knows {status['peers']} peer(s))")
    n.done("start bootstrap + 3 peers")

    n.step("3. Understanding: each human writes in their own language")
    drafts: dict[str, dict[str, Any]] = {}
    for p in PEOPLE:
        assert p.client is not None
        d = p.client.post("/api/v1/intents/understand", {"text": p.text, "lat": p.lat, "lon": p.lon})
        if p.limit is not None and not d.get("limit"):
            d["limit"] = {"amount_minor": p.limit, "currency": "USD", "per_unit": True}
        drafts[p.name] = d
        attrs = ", ".join(f"{k}={v}" for k, v in (d.get("attributes") or {}).items()) or "—"
        private = f"; private limit {_money(d.get('limit'))} (never published)" if d.get("limit") else ""
        missing = ", ".join(d.get("missing") or []) or "nothing"
        n.say(f'   {p.name} ({p.lang}): "{p.text}"')
        price = _money(d.get("price"))
        n.say(f"      -> {d.get('action')} {d.get('category')} [{attrs}] price {price}{private}")
        n.say(f"         confidence {d.get('confidence')}; not stated: {missing}")
    n.done("understand 3 texts")

    n.step("4. Publish: signed intents stored at the k closest DHT nodes (location: H3 cells only)")
    for p in PEOPLE:
        assert p.client is not None
        d = drafts[p.name]
        keys = ("action", "category", "attributes", "price", "quantity", "limit", "lang")
        body = {k: d[k] for k in keys if d.get(k)}
        body.update(lat=p.lat, lon=p.lon, radius_km=50, text=p.text)
        view = p.client.post("/api/v1/intents", body)
        n.say(f"   {p.name}: intent {view['id'][:12]}… seq {view['seq']}, cell {view['cell']}"
              f" -> stored on {view.get('replicas', 0)} node(s)")  # fmt: skip
        shown = f'"{view["text"]}"' if view.get("text") else "none (category and attributes only)"
        n.say(f"      published text: {shown}")
    n.done("publish 3 intents")

    n.step("5. Match: each agent watches the key cells within its radius for the inverse action")
    a, b, c = PEOPLE
    match = _wait("B's match", lambda: _first(b, "matches"))
    other = match["other"]
    n.say(f"   B found A's intent: {other['action']} {other['category']} {_money(other['price'])},"
          f" {match['distance_km']} km away, score {match['score']}")  # fmt: skip
    n.say(f"   why: {match.get('explanation', '')}")
    a_match = _wait("A to hear of the match", lambda: _first(a, "matches"))
    n.say(
        f"   A was told directly (signed INTENT_MATCH): match {a_match['id'][:12]}…, score {a_match['score']}"
    )
    if _first(c, "matches") is not None:
        raise DemoError("C's bicycle must not match anything")
    n.say("   C (出售山地自行车, a bicycle): no match — another category, as it should be")
    n.done("find the match")

    n.step("6. Negotiation: B's agent opens; signed offers alternate; limits stay private")
    deal_b = _wait(
        "the deal to end", lambda: _first(b, "deals", lambda d: d["state"] in ("agreed", "failed"))
    )
    rounds = deal_b["rounds"]
    cur = (deal_b.get("price") or {}).get("currency", "USD")
    for i in range(max(len(rounds["mine"]), len(rounds["theirs"]))):
        if i < len(rounds["mine"]):
            n.say(
                f"   round {2 * i}: B offers {_money({'amount_minor': rounds['mine'][i], 'currency': cur})}"
            )
        if i < len(rounds["theirs"]):
            ask = _money({"amount_minor": rounds["theirs"][i], "currency": cur})
            n.say(f"   round {2 * i + 1}: A asks {ask}")
    if deal_b["state"] != "agreed":
        raise DemoError(f"no deal: {deal_b.get('reason')}")
    n.done("negotiate")

    n.step("7. Agreement: the same canonical terms, signed by both")
    deal_a = _wait(
        "A's agreement", lambda: _first(a, "deals", lambda d: d["id"] == deal_b["id"] and d["agreement"])
    )
    from negotiation import verify_agreement

    sig = deal_b["signatures"]
    agreement = verify_agreement(
        bytes.fromhex(deal_b["agreement"]), bytes.fromhex(sig["buyer"]), bytes.fromhex(sig["seller"])
    )
    same = deal_a["agreement"] == deal_b["agreement"]
    t = agreement.terms
    unit = _money({"amount_minor": t.price_minor, "currency": t.currency})
    total = _money({"amount_minor": t.price_minor * t.quantity, "currency": t.currency})
    n.say(f"   {t.quantity} x {unit} = {total}; session {deal_b['id'][:12]}…")
    n.say(f"   both signatures verify; A and B hold byte-identical agreements: {same}")
    if not same:
        raise DemoError("the two sides hold different agreements")
    n.done("co-sign the agreement")

    _transaction(a, b, deal_b["id"], n)

    n.step("9. Ratings: each side rates the other once; only a co-signed deal can be rated")
    assert a.client is not None and b.client is not None
    for rater, other, score, comment in ((b, a, 5, "llantas en buen estado"), (a, b, 5, "paid on time")):
        assert rater.client is not None and other.client is not None
        rated = rater.client.post(f"/api/v1/deals/{deal_b['id']}/rate", {"score": score, "comment": comment})
        where = "stored in the DHT" if rated["published"] else "saved (publish retried)"
        told = f"{other.name} told" if rated["delivered"] else f"{other.name} not told directly (in the DHT)"
        n.say(f'   {rater.name} rates {other.name}: {score}/5 "{comment}" -> {where}, {told}')
    for viewer, other in ((b, a), (a, b)):
        assert viewer.client is not None and other.client is not None
        # the key the other side dealt with: its agent's, or (it shares nothing) its intent's persona's
        other_id = _first(viewer, "deals", lambda d: d["id"] == deal_b["id"])["counterparty"]  # type: ignore[index]
        seen = viewer.client.get(f"/api/v1/reputation/{other_id}")
        rep = seen["reputation"]
        n.say(f"   {viewer.name} sees {other.name} ({seen.get('handle') or 'no handle shared'}): "
              f"{rep['score']}/100 from {rep['ratings']} rating(s), {rep['level']}")  # fmt: skip
    n.done("rate each other")

    n.step("10. Notifications, each in its human's language")
    kinds = ("intent_published", "match", "approval_needed", "deal_closed", "deal_failed",
             "handover_confirmed", "rating_received")  # fmt: skip
    for p in PEOPLE:
        n.say(f"   {p.name} ({p.lang}):")
        for e in p.events:
            if e.get("text") and e.get("kind") in kinds:
                n.say(f"      • {e['text']}")
    n.done("notifications")


def _local_time(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts).astimezone().strftime("%a %Y-%m-%d %H:%M %Z")


def _transaction(a: Person, b: Person, deal_id: str, n: Narrator) -> None:
    """Step 8: the meeting after the deal (TRANSACTION_INIT / CONFIRM), arranged by the two agents."""
    from icalendar import Calendar

    n.step("8. Transaction: where, when and how to pay (proposed, confirmed by both sides, 24 h to answer)")
    views: dict[str, dict[str, Any]] = {}
    for p in (a, b):
        client = p.client
        assert client is not None
        path = f"/api/v1/deals/{deal_id}/handover"
        views[p.name] = _wait(
            f"{p.name}'s confirmed meeting",
            lambda c=client, u=path: (v := c.get(u))["state"] == "confirmed" and v,
        )
    plan = views["A"]["plan"]
    if {**views["B"]["plan"], "proposed_by": "me"} != plan:
        raise DemoError("A and B hold different meeting plans")
    centre = plan["center"]
    n.say("   A's agent proposed (the deal was within A's autonomy); B's guardian confirmed it (within B's)")
    n.say(
        f"   meeting cell {plan['cell']} (~{plan['size_km']} km across, centre ≈ {centre['lat']}, "
        f"{centre['lon']}): a public place between A's and B's published cells, no finer than either allows"
    )
    n.say(
        f"   window {_local_time(plan['start'])} – {_local_time(plan['end'])}"
        f" (a proposal is answered within 24 h and before the meeting: by {_local_time(plan['expires'])})"
    )
    n.say(
        f"   payment: {plan['payment']} (A offered {', '.join(plan_methods(views['A']))}; "
        f"B accepts {', '.join(views['B']['payment_methods'])}; no payment rails, the humans pay each other)"
    )
    for p in (a, b):
        ics = views[p.name].get("ics_file")
        if not ics:
            raise DemoError(f"{p.name} has no calendar file")
        event = Calendar.from_ical(Path(ics).read_bytes()).walk("VEVENT")[0]
        start: Any = event.decoded("dtstart")  # a datetime with its time zone
        if int(start.timestamp()) != plan["start"]:
            raise DemoError(f"{p.name}'s calendar file disagrees with the plan")
        n.say(f"   {p.name}'s calendar file ({p.lang}): {ics}")
        n.say(f"      SUMMARY: {event['summary']}")
    n.done("arrange the meeting")


def plan_methods(view: dict[str, Any]) -> list[str]:
    """The payment methods the proposing side offered (its human's list)."""
    return [str(m) for m in view.get("payment_methods") or []]
