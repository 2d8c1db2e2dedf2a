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


# Korean and Japanese service ads offer the work with a verb of doing it: "에어컨 설치 및 수리 합니다" and
# "パソコン修理します 出張可能" sought a repairer
@pytest.mark.parametrize(
    "text",
    [
        "컴퓨터 수리 출장 가능합니다 윈도우 설치 2만원",
        "에어컨 설치 및 수리 합니다 전지역 출장",
        "피아노 레슨 합니다 성인 초보 환영",
        "パソコン修理します 出張可能",
        "एसी रिपेयरिंग और सर्विसिंग, घर पर सेवा",
    ],
)
def test_a_service_offered_with_a_verb_of_doing_it_is_offered(text: str) -> None:
    assert understand(text).intent.action == Action.OFFER_SERVICE, text


@pytest.mark.parametrize(
    "text",
    [
        "에어컨 수리 기사님 구합니다",
        "차 문콕 복원해 주시는 분 찾아요. 출장 가능하시면 더 좋고요",  # if you can come: still sought
        "エアコン修理できる方を探しています",
        "عايز فني تكييف شاطر يشحن فريون",  # Egyptian "I want"
    ],
)
def test_a_service_sought_stays_sought(text: str) -> None:
    u = understand(text)
    assert u.intent.action == Action.SEEK_SERVICE and "action" not in u.missing, (text, u.missing)
