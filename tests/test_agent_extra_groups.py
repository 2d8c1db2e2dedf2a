"""An agent unsure of its intent's group files it under the runner-up group too (issue 11, item 1): the
preview shows it, the signed record carries it, the DHT serves it under both keys, and another agent's
fetch of the runner-up group finds it (in-process agents on a memory network, the real embedder)."""

from __future__ import annotations

from pathlib import Path

import trio

from metaspace.api.contract import validate_publish
from metaspace.cli.client import render_preview
from tests.agent_helpers import CHICAGO, SUBURB, agents, sell_tires
from wire.envelope import open_intent
from wire.geo import cell_at
from wire.intent import Action

# The classifier reads this as transport/courier with ~.09 of its mass on services (moving): unsure.
COURIER = "I deliver groceries with my van"


def test_an_unsure_intent_is_filed_and_found_under_its_runner_up_group(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 3) as peers:
            courier = peers[0].agent
            params = validate_publish({
                "action": "OFFER_SERVICE", "category": "transport/courier", "lat": CHICAGO[0],
                "lon": CHICAGO[1], "radius_km": 50, "text": COURIER,
            })  # fmt: skip
            preview = await courier.preview(params)
            assert preview["published"]["extra_groups"] == ["services"]
            shown = render_preview(preview)  # what `metaspace sell` shows before asking
            assert "extra_groups" in shown and "services" in shown
            view = await courier.publish(params)
            assert view["extra_groups"] == ["services"]
            record = courier.db.intent_record(view["id"])
            assert record is not None
            _env, intent = open_intent(record)
            assert intent.groups == ("transport", "services")
            # a confident intent is filed under its own group only
            tires = await peers[1].agent.publish(sell_tires())
            assert tires["extra_groups"] is None
            assert "extra_groups" not in render_preview(await peers[1].agent.preview(sell_tires()))
            # someone searching the services group (its text read as services/moving) finds the courier,
            # and a group it was not filed under does not
            seeker = peers[2].agent.matcher
            where = cell_at(*SUBURB, 7)
            held, _drop = await seeker.fetch(["services"], where, 50, Action.OFFER_SERVICE)
            assert [h.intent.id.hex() for h in held] == [view["id"]]
            held, _drop = await seeker.fetch(["food"], where, 50, Action.OFFER_SERVICE)
            assert held == []
            # its withdrawal reaches both keys
            await courier.withdraw(view["id"])
            held, _drop = await seeker.fetch(["services"], where, 50, Action.OFFER_SERVICE)
            assert held == []

    trio.run(main)
