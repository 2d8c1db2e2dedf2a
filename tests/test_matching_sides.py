"""The side a text is read on where its words pull both ways: a thing for sale or rent that someone looks for,
a landlord looking for a tenant, an employer's job offer (real use-m3 model)."""

from __future__ import annotations

import pytest

from matching import understand
from matching.cues import cue_matches, strip_cues
from matching.lexicon import languages, table
from wire.intent import Action


def test_every_status_entry_is_a_supply_entry() -> None:
    # a status is read as supply first (cue_matches), then as the status of a thing wanted
    for lang in languages():
        assert set(table(lang).get("status", [])) <= set(table(lang)["supply"]), lang


def test_a_lookaround_makes_no_cue_longer() -> None:
    # "(?<!nhân viên )bán" was sorted as 18 characters, before "bán lại" (7), and matched only its first word
    assert cue_matches("bán lại xe máy", ("vi",)) == ([], ["bán lại"])
    assert cue_matches("tuyển nhân viên bán hàng", ("vi",)) == (["tuyển"], [])


@pytest.mark.parametrize(
    "text",
    [
        "Cherche appartement à louer, 700 € max",
        "Cerco monolocale in affitto max 600 euro al mese",
        "Busco piso de 3 habitaciones en venta",
        "Amman'da eşyalı 2+1 kiralık daire arıyorum",
        "مطلوب شقة للإيجار بحدود 3000 درهم شهريا",
        "Looking for a room for rent near campus",
        # asking anyone to pass one on
        "Cần mua máy ảnh Canon cũ, ai pass lại cho mình với",
        "Ai có xe đạp cũ để lại cho em nhé",
        "Cari sepeda lipat bekas, ada yg jual?",
    ],
)
def test_a_thing_someone_looks_for_is_a_request_though_sale_words_name_it(text: str) -> None:
    u = understand(text)
    assert u.intent.action is Action.BUY, text
    assert "action" not in u.missing
    assert not any(w.startswith("both buying") for w in u.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "Appartement à louer, je cherche un locataire sérieux",
        "Wohnung zu vermieten, suche Nachmieter",
        "Room for rent, seeking tenant",
        "For sale: sofa, looking for a buyer this week",
        "Satılık daire, alıcı arıyorum",
        "Dijual rumah, cari pembeli serius",
        "Affitto monolocale, 600 euro al mese",
    ],
)
def test_an_owner_looking_for_a_buyer_or_tenant_offers(text: str) -> None:
    assert understand(text).intent.action is Action.SELL, text


@pytest.mark.parametrize(
    "text",
    [
        "Recrute vendeur à temps partiel",
        "Offre d'emploi : serveur, 1800 € net",
        "Offerta di lavoro: cameriere",
        "Oferta de empleo: camarero",
        "Vaga de emprego: vendedor",
        "Contratamos garçom",
        "Вакансия: продавец-консультант",
        "İş ilanı: kasiyer",
        "Lowongan kerja admin, gaji 4 juta",
        "Tuyển nhân viên bán hàng, lương 7 triệu",
        "Job opening: barista at our cafe",
    ],
)
def test_an_employers_job_offer_seeks_a_worker(text: str) -> None:
    u = understand(text)
    assert u.intent.category.startswith("jobs/"), (text, u.intent.category)
    assert u.intent.action is Action.SEEK_SERVICE, text
    assert "action" not in u.missing


@pytest.mark.parametrize(
    "text",
    [
        "Dijual krayon 55 warna, salah beli waktu daftar ulang",  # "wrongly bought": a seller's reason
        "Cho thuê xe tự lái 5 chỗ, cần căn cước",  # a car for rent; the renter needs an ID card
        "For sale: my old bike, need the money",
    ],
)
def test_a_status_that_opens_the_text_is_a_sellers_headline(text: str) -> None:
    u = understand(text)
    assert u.intent.action is Action.SELL or "action" in u.missing, text


@pytest.mark.parametrize(
    "text",
    [
        "Cleaning lady looking for work, 12 €/hour",
        "Experienced nanny looking for work, weekdays",
        "Cherche travail de ménage, disponible le matin",
        "Suche Arbeit als Reinigungskraft",
        "Ищу работу няней",
    ],
)
def test_someone_looking_for_work_offers_the_service(text: str) -> None:
    # the job-seeker's words were heard in jobs/* only: a nanny looking for work sought a nanny
    assert understand(text).intent.action is Action.OFFER_SERVICE


def test_someone_looking_for_a_worker_still_seeks_the_service() -> None:
    assert understand("Looking for a cleaning lady, 12 €/hour").intent.action is Action.SEEK_SERVICE


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Щенки хаски в добрые руки", Action.SELL),  # to good hands: given away
        ("Cama de casal para doação", Action.SELL),
        ("Возьму котенка в добрые руки", Action.BUY),  # a demand verb governs it
        ("Procuro móveis para doação", Action.BUY),
    ],
)
def test_a_giveaway_phrase_is_the_givers_side(text: str, action: Action) -> None:
    u = understand(text)
    assert u.intent.action is action and "action" not in u.missing


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Cuido niños por las tardes", "services/childcare"),
        ("Paseo perros en el barrio", "services/pet-care"),
        ("Limpio casas y oficinas", "services/cleaning"),
        ("Arreglo ordenadores y portátiles", "services/it-help"),  # was a laptop for sale
        ("Pulisco case e uffici", "services/cleaning"),
        ("Insegno chitarra a principianti", "services/tutoring"),  # was a guitar wanted
        ("Conserto máquinas de lavar", "services/repairs"),
        ("Je garde des enfants le mercredi", "services/childcare"),
        ("Je répare les ordinateurs à domicile", "services/it-help"),
        ("Выгуливаю собак", "services/pet-care"),
        ("Çocuk bakarım, hafta içi", "services/childcare"),
        ("I babysit on weekends, CPR certified", "services/childcare"),
        ("집 청소 해드려요", "services/cleaning"),
        ("घर की सफाई करती हूँ", "services/cleaning"),
        ("أقوم بتنظيف المنازل", "services/cleaning"),
        ("نقوم بنقل الأثاث", "services/moving"),
        ("أدرّس اللغة الإنجليزية", "services/tutoring"),
    ],
)
def test_a_first_person_verb_of_work_offers_that_work(text: str, category: str) -> None:
    # "Cuido niños", "Je garde des enfants", "I babysit" were read as someone looking for a childminder
    u = understand(text)
    assert (u.intent.action, u.intent.category) == (Action.OFFER_SERVICE, category)


@pytest.mark.parametrize(
    "text",
    [
        "Busco a alguien que cuide a mis niños por las tardes",
        "Cerco qualcuno che pulisca casa il sabato",
        "Preciso de conserto de geladeira",  # the noun, not "I repair"
    ],
)
def test_asking_for_that_work_still_seeks_it(text: str) -> None:
    assert understand(text).intent.action is Action.SEEK_SERVICE


def test_a_verb_of_work_stays_in_the_items_words() -> None:
    assert "putze" in strip_cues("ich putze wohnungen", ("de",))
    assert "verkaufe" not in strip_cues("verkaufe wohnung", ("de",))
