"""A question asks for what it names: "Anyone giving away boxes?" is a request, not a giveaway (real use-m3
model)."""

from __future__ import annotations

import pytest

from matching import understand
from matching.cues import asked_of_anyone, cue_spans
from wire.intent import Action

DEMAND = (Action.BUY, Action.SEEK_SERVICE)


def _assert_request(text: str) -> None:
    """``text`` is read as a request, and its side is not asked."""
    u = understand(text)
    assert u.intent.action in DEMAND, (text, u.intent.action)
    assert "action" not in u.missing, text


# a supply word that a question asks of anyone was the asker's own offer: "Alguém vendendo ...?" was a sale
@pytest.mark.parametrize(
    "text",
    [
        "Alguém vendendo uma PS5 em Lisboa? Pago até 300 euros",
        "Anyone giving away moving boxes? Collecting this weekend",
        "有人转让二手婴儿床吗？",
        "कोई पुरानी साइकिल बेच रहा है क्या?",
        "Ada yang mau lepas kulkas 2 pintu? Budget 2 juta",
        "Quelqu'un loue une remorque ce week-end ?",
        "Hat jemand ein Kinderfahrrad zu verschenken?",
        "حد عنده ايفون 13 للبيع؟",
    ],
)
def test_a_question_to_anyone_who_sells_is_a_request(text: str) -> None:
    _assert_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "Vendo bici de montaña, ¿alguien interesado?",
        "Selling my bike, anyone interested?",
        "Verkaufe Kinderfahrrad. Wer Interesse hat, bitte melden.",
        "Brauchst du ein Fahrrad? Kinderfahrrad wie neu, 60 €",  # the owner's description comes first
    ],
)
def test_a_sellers_question_to_buyers_keeps_the_sale(text: str) -> None:
    assert understand(text).intent.action == Action.SELL, text


def test_only_the_question_turns_a_supply_word() -> None:
    text = "vendo bici. alguien tiene un casco? lo cambio"
    spans = cue_spans(text, ("es",))
    kinds = [c[2] for c in asked_of_anyone(text, spans, ("es",))]
    assert kinds == [c[2] for c in spans]  # "vendo" is in a sentence that asks nothing


# a question with no word of either side was read by the wording alone, often as an offer or asked
@pytest.mark.parametrize(
    "text",
    [
        "Carona para Campinas amanhã cedo? Divido a gasolina",
        "Vé xem bóng đá chung kết tối thứ 7 còn không ạ?",
        "Fahrradreparatur in Kreuzberg heute noch möglich?",
        "Кресло-качалка недорого, есть у кого?",
        # asked at 9b6d618
        "Nhà mình có 2 con mèo, đi du lịch 5 ngày cuối tháng, ai giữ giúp được không?",
        "Wir ziehen nächsten Monat von Leipzig nach Dresden, 2-Zimmer-Wohnung, "
        "Transporter mit Fahrer am 15. frei?",
        "A 3-seater sofa and a bed frame from Camden to Hackney this Saturday morning, how much?",
    ],
)
def test_a_question_without_a_side_word_is_a_request(text: str) -> None:
    _assert_request(text)
