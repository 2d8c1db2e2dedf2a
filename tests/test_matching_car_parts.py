"""A car part named first, for a car of a named model, is the part; a car sold with a part named after "with"
is the car (``word_pairs``: the list ``car_part``, heard in the first clause before a word of ``with``); a car
sold with its service record is the car (``serviced``, heard after a first clause that sells); a mechanic
sought is car repair (``repair``). Real use-m3 model. The texts are probes of my own, none from an evaluation
set."""

from __future__ import annotations

import pytest

from matching import understand
from matching.lexicon import fold
from matching.word_pairs import HEARD_IN, WORD_UNLESS, after_a_sale, before_with, heard_part


def _category(text: str) -> str:
    return understand(text).intent.category


# a part for a named car was the car: the model, its years and a wrecked car pulled the text to cars
@pytest.mark.parametrize(
    "text",
    [
        "Radiator for Honda Civic 2016-2020, pulled from a wrecked car, no leaks, $80",
        "Kühler für VW Golf 6 2008-2012, aus einem Unfallwagen ausgebaut, dicht, 60 €",
        "丰田卡罗拉 2014-2018 水箱，事故车拆下，不漏水，300元",
        "رديتر تويوتا كامري 2012-2017 مفكوك من سيارة مصدومة، بدون تسريب، 40 دينار",
        "मारुति स्विफ्ट 2012-2017 का रेडिएटर, एक्सीडेंट वाली गाड़ी से निकाला, कोई लीकेज नहीं, ₹2500",
        "Két nước Toyota Vios 2014-2018, tháo từ xe tai nạn, không rò rỉ, 1,2 triệu",
        "Capô do Fiat Palio 2008, sem amassados, R$ 200",
        "Куплю радиатор на Тойоту Камри",
        "Cần mua két nước cho Toyota Vios",
        # a motorbike's part was the motorbike
        "Yamaha R15 radiator, pulled from a crashed bike, no leaks",
        "Продам фару на Yamaha R1 2012",
        "Radiator Yamaha NMAX 2018 copotan, mulus",
    ],
)
def test_a_part_for_a_named_car_is_the_part(text: str) -> None:
    assert _category(text) == "vehicles/parts", text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a car sold with a part: the part comes after "with", or after the first clause
        ("Vendo Corolla 2012 con parachoques nuevo, papeles al día", "vehicles/cars"),
        ("Verkaufe VW Golf 6 mit neuem Kühler und TÜV bis 2026", "vehicles/cars"),
        ("Vendo Fiat Panda con paraurti nuovo, 2013, 90.000 km", "vehicles/cars"),
        ("Продаю Камри с новым радиатором, 2014 год", "vehicles/cars"),
        ("Bán Toyota Vios 2018 kèm đèn pha LED, xe gia đình", "vehicles/cars"),
        ("Jual Avanza 2015 dengan bumper baru, pajak hidup", "vehicles/cars"),
        ("Selling Toyota Yaris 2010 with new radiator and new tyres", "vehicles/cars"),
        ("Продаю Тойоту Камри, новый радиатор", "vehicles/cars"),
        ("Bán Toyota Vios 2018, mới thay két nước", "vehicles/cars"),
        ("出售本田思域2016款，新换水箱", "vehicles/cars"),
        ("Looking for a Honda Civic 2016, bumper damage is fine", "vehicles/cars"),
        # a motorbike with its headlight, a radiator that heats a home
        ("Bán xe Honda Wave 2015 kèm đèn pha mới", "vehicles/motorcycles"),
        ("Vendo moto Honda CG 160 2019 com farol novo", "vehicles/motorcycles"),
        ("Radiateur électrique 2000W, comme neuf, 40 €", "home/appliances"),
        ("Радиатор отопления чугунный, 7 секций", "home/appliances"),
        # a part's repair is the repair service's
        ("Ремонт радиаторов любых авто", "services/auto-repair"),
        ("Radiator repair and recoring, any car", "services/auto-repair"),
        # a garage names itself first and its service after: no sale in the first clause
        (
            "Taller mecánico en Lima, mantenimiento al día para tu auto, precios justos",
            "services/auto-repair",
        ),
        ("Bengkel mobil panggilan, servis rutin dan ganti oli", "services/auto-repair"),
        ("مركز صيانة سيارات، صيانة دورية وتغيير زيت", "services/auto-repair"),
        ("汽车保养，定期保养，上门取车", "services/auto-repair"),
        ("자동차 정비, 정기 점검 해드립니다", "services/auto-repair"),
        # a mechanical thing is no mechanic
        ("Teclado mecánico Logitech G Pro, switches rojos", "electronics/computer-parts"),
        ("Reloj mecánico Seiko 5, automático", "fashion/watches"),
        ("Tastiera meccanica Corsair K70 usata", "electronics/computer-parts"),
        ("Cerco orologio meccanico da uomo", "fashion/watches"),
        ("Mechaniker-Werkzeugkoffer 215-teilig, neu", "home/tools"),
        ("Продам Ладу Гранту, механика, 2018", "vehicles/cars"),
        ("Куплю машину на механике до 500 тысяч", "vehicles/cars"),
    ],
)
def test_the_thing_or_the_service_stays_what_it_is(text: str, category: str) -> None:
    assert _category(text) == category, text


def test_a_part_is_heard_in_the_first_clause_before_with() -> None:
    assert HEARD_IN[("car_part",)] is before_with and "car_state" in WORD_UNLESS[("car_part",)]

    def heard(text: str) -> str:
        return heard_part(fold(text), ("car_part",))

    assert heard("Kühler für VW Golf 6, dicht") == "kühler für vw golf 6"
    assert heard("Vendo Corolla 2012 con parachoques nuevo") == "vendo corolla 2012 "
    assert heard("Продаю Камри с новым радиатором") == "продаю камри "
    assert heard("Selling Toyota Yaris 2010, new radiator") == "selling toyota yaris 2010"


# a car sold with its service record was car repair: "revisado por un mecánico", "scheckheftgepflegt"
@pytest.mark.parametrize(
    "text",
    [
        "Vendo Corolla 2012, revisado por un mecánico, papeles al día",
        "Selling Honda Civic 2012, checked by a mechanic, new brakes",
        "Verkaufe Golf 7, scheckheftgepflegt, Inspektion neu",
        "Vendo Fiat Punto 2011, tagliando appena fatto",
        "Vendo Gol 2014, revisado, manutenção em dia",
        "Dijual Avanza 2015, servis rutin di bengkel resmi",
        "出售卡罗拉2014款，4S店保养",
        "Dijual Honda Jazz 2012, servis rutin, pajak panjang",
        "出售本田飞度2015款，定期保养，一手车",
    ],
)
def test_a_car_sold_with_its_service_record_is_the_car(text: str) -> None:
    assert _category(text) == "vehicles/cars", text


# a mechanic sought for a motorbike was the motorbike
@pytest.mark.parametrize(
    "text",
    [
        "Need a mechanic to service my scooter at home, Honda Vario",
        "Busco mecánico de motos a domicilio, mi moto no arranca",
        "Cherche mécanicien pour l'entretien de mon scooter",
        "Procuro mecânico de moto, minha moto não pega",
        "Нужен мотомеханик на выезд, ТО мотоцикла",
    ],
)
def test_a_mechanic_sought_is_a_repair(text: str) -> None:
    assert _category(text) == "services/auto-repair", text


def test_a_service_record_is_heard_after_a_first_clause_that_sells() -> None:
    assert HEARD_IN[("serviced",)] is after_a_sale

    def heard(text: str) -> str:
        return heard_part(fold(text), ("serviced",))

    assert heard("Vendo Corolla 2012, revisado por un mecánico") == ", revisado por un mecánico"
    assert heard("Taller mecánico, mantenimiento al día") == ""
