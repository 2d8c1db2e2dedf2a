"""End to end, real processes, the README's text flows: ``metaspace sell "..."`` and ``metaspace buy "..."``.

A Spanish "necesito llantas 225/65R17 para mi camioneta" finds the English "selling 4 used tires
225/65R17" ~25 km away, and neither the winter tires 205/55R16 nor the bicycle offered by the same
seller; both sides see the match (the seller is told by a signed INTENT_MATCH).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.net_helpers.procs import (
    Procs,
    init_home,
    metaspace_cmd,
    poll_until,
    procs,  # noqa: F401 - a pytest fixture
    run_cli,
    start_bootstrap,
    wait_peer,
)

CHICAGO = (41.8781, -87.6298)
SUBURB = (41.6600, -87.7000)


def test_spanish_buyer_finds_english_seller_and_nothing_else(procs: Procs, tmp_path: Path) -> None:
    boot = start_bootstrap(procs, tmp_path / "boot")
    homes = {
        "seller": init_home(tmp_path / "seller", *CHICAGO),
        "buyer": init_home(tmp_path / "buyer", *SUBURB, extra=["--language", "es"]),
    }
    peers = {}
    for i, (name, home) in enumerate(homes.items()):
        argv = metaspace_cmd(
            "--home", str(home.root), "peer", "--bootstrap", boot.addr, "--watch-interval", "0.5"
        )
        peers[name] = wait_peer(i, home, procs.start(name, argv))
    seller, buyer = homes["seller"].root, homes["buyer"].root

    def sell(text: str) -> dict[str, str]:
        out = run_cli("--home", str(seller), "sell", text, "--lat", str(CHICAGO[0]), "--lon", str(CHICAGO[1]),
                      "--yes", "--json")  # fmt: skip
        return dict(json.loads(out)["published"])

    tires = sell("Selling 4 used tires 225/65R17, $80 each")
    winter = sell("Selling 4 winter tires 205/55R16, $60 each")
    bike = sell("Selling my mountain bike, great condition, $300")
    assert tires["category"] == winter["category"] == "vehicles/tires"
    assert bike["category"] == "vehicles/bicycles"

    out = run_cli("--home", str(buyer), "buy", "necesito llantas 225/65R17 para mi camioneta",
                  "--lat", str(SUBURB[0]), "--lon", str(SUBURB[1]), "--yes", "--json")  # fmt: skip
    wanted = json.loads(out)["published"]
    assert wanted["action"] == "BUY" and wanted["category"] == "vehicles/tires"
    assert wanted["attributes"]["size"] == "225/65R17"

    def matches(home: Path) -> list[dict[str, object]]:
        return list(json.loads(run_cli("--home", str(home), "matches", "--json")))

    found = poll_until(lambda: matches(buyer) or None, 120.0, "the buyer's match")
    # Give the watcher one more full poll: the other two intents must still not show up.
    peers["buyer"].client.get("/api/v1/status")
    found = matches(buyer)
    assert [m["other"]["id"] for m in found] == [tires["id"]]  # type: ignore[index]
    m = found[0]
    assert 15.0 <= float(m["distance_km"]) <= 35.0  # type: ignore[arg-type]
    assert m["explanation"], "every match says why it matched"
    told = poll_until(lambda: matches(seller) or None, 120.0, "the seller to be told")
    assert [x["other"]["id"] for x in told] == [wanted["id"]]  # type: ignore[index]
