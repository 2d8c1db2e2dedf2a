"""What a text asks of a service: a technician called for an appliance, a thing to be moved, work offered
with a verb of doing it (real use-m3 model)."""

from __future__ import annotations

import pytest

from matching import understand
from wire.intent import Action


# a technician called for an appliance was the appliance wanted: "Нужен мастер по кондиционерам" was an air
# conditioner to buy
@pytest.mark.parametrize(
    "text",
    [
        "Klimaanlage kühlt nicht mehr, suche Techniker",
        "Нужен мастер по кондиционерам, не охлаждает",
        "Cerco tecnico per il condizionatore, perde acqua e non raffredda",
        "butuh teknisi AC, AC di rumah tidak dingin",
        "Busco técnico de lavadoras en Madrid, no centrifuga",
        "Need a technician to look at my fridge, not cooling",
        "Buzdolabı soğutmuyor, teknisyen arıyorum",
    ],
)
def test_a_technician_for_an_appliance_is_a_repair_service(text: str) -> None:
    u = understand(text)
    assert u.intent.category == "services/repairs", (text, u.intent.category, u.candidates)
    assert u.intent.action == Action.SEEK_SERVICE, text


@pytest.mark.parametrize(
    "text",
    [
        "Vendo lavadora Bosch, revisada por técnico, 150 €",
        "Продам холодильник, проверен мастером, 10000 руб",
        "Selling a fridge, checked by a technician last month, $200",
    ],
)
def test_an_appliance_sold_after_a_technician_saw_it_stays_an_appliance(text: str) -> None:
    assert understand(text).intent.category == "home/appliances", text
