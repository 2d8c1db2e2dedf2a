"""The agent's ``understand`` endpoint reads a price in its human's own currency (``AgentConfig.currency``).

A seller in Buenos Aires writes "$3.300.000": to them "$" is pesos. Before, the agent called ``understand``
without the configured currency, so every bare "$" became US dollars (and an amount without a unit was
dropped), whatever the human had set up. Real agents in one process (``tests.agent_helpers``).
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
            assert usd["price"]["currency"] == "USD"  # the default configuration: US dollars, as before

    trio.run(main)
