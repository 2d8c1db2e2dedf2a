"""The agent's ``understand`` endpoint reads a price in its human's own currency (``AgentConfig.currency``).

A seller in Buenos Aires writes "$3.300.000": to them "$" is pesos. Before, the agent called ``understand``
without the configured currency, so every bare "$" became US dollars (and an amount without a unit was
dropped), whatever the human had set up. Now the place comes first (``gazetteer.local_currency``): an agent
left at the default USD reads pesos in Buenos Aires too, and tells its human. Real agents in one process
(``tests.agent_helpers``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from tests.agent_helpers import agents

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BUENOS_AIRES = (-34.6037, -58.3816)


def test_dollar_sign_reads_as_the_configured_currency(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 2, configs={0: {"currency": "ARS"}}) as peers:
            text = "Vendo Yamaha FZ-S modelo 2021, 14.000 km, $3.300.000 contado"
            ars = await peers[0].agent.understand(text, *BUENOS_AIRES)
            usd = await peers[1].agent.understand(text, *BUENOS_AIRES)
            assert ars["price"]["currency"] == "ARS" and ars["price"]["amount_minor"] == 330_000_000
            # the place decides what "$" means where it names a currency, and the agent says so...
            assert usd["price"]["currency"] == "ARS" and usd["price"]["amount_minor"] == 330_000_000
            assert any("currency where you are" in w for w in usd["warnings"])
            # ...and the configured currency elsewhere (mid-Pacific: no place within reach)
            at_sea = await peers[1].agent.understand(text, 0.0, -150.0)
            assert at_sea["price"]["currency"] == "USD"

    trio.run(main)
