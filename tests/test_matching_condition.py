"""The condition a text gives its thing, and the side of a text no cue word decides: a thing described as
only its owner does, a ride with its free seats counted (real use-m3 model for the side)."""

from __future__ import annotations

import pytest

from matching import understand
from matching.extract import extract
from wire.intent import Action


# "never used" was "used": the table's "used" was read before its "new", and "mai usata" (Italian, in the
# table's "new") never matched
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Tent for 4, never used", "en"),
        ("Barraca iglu 4 pessoas, nunca usada", "pt"),
        ("Carpa 4 personas, nunca usada", "es"),
        ("Tenda 4 posti, mai usata", "it"),
        ("Tente 4 places, jamais utilisée", "fr"),
        ("Zelt 4 Personen, unbenutzt", "de"),
        ("Палатка 4 места, ни разу не использовалась", "ru"),
        ("Çadır 4 kişilik, hiç kullanılmamış", "tr"),
        ("Tenda 4 orang, belum pernah dipakai", "id"),
        ("Lều 4 người, chưa qua sử dụng", "vi"),
        ("帐篷 4人 没用过", "zh"),
        ("텐트 4인용 한번도 사용 안함", "ko"),
        ("خيمة 4 أشخاص لم تستخدم", "ar"),
        ("टेंट 4 लोगों के लिए, कभी इस्तेमाल नहीं किया", "hi"),
    ],
)
def test_never_used_is_new(text: str, lang: str) -> None:
    assert extract(text, None, lang).attributes.get("condition") == "new", text


@pytest.mark.parametrize(
    ("text", "lang", "condition"),
    [
        ("Tent for 4, used twice", "en", "used"),
        ("Tenda 4 posti, usata poco", "it", "used"),
        ("帐篷 4人 用过两次", "zh", "used"),
        ("Barraca iglu, pouco uso", "pt", "like_new"),
    ],
)
def test_a_used_thing_stays_used(text: str, lang: str, condition: str) -> None:
    assert extract(text, None, lang).attributes.get("condition") == condition, text


# with no word of selling or seeking, "like new" or a price open to offers is the owner describing the thing:
# "아이폰 12 ... 풀박스" was a phone wanted, "美品" and "az kullanılmış" were asked
@pytest.mark.parametrize(
    "text",
    [
        "아이폰 12 128기가 상태 좋음 풀박스",
        "iPhone 12 128GB 美品 箱付き",
        "Kayak botu 42 numara, az kullanılmış",
        "Kinderwagen Bugaboo Fox, 250 VB",
        "갤럭시 탭 S8 네고 가능",
        "Xe đạp thể thao như mới",
        # a price with its currency and no bound: an asking price, not a budget
        "子供用自転車 16インチ 補助輪付き 2000円",
        "キャノン 一眼レフ EOS Kiss X9 レンズキット 35000円",
        "液晶テレビ 43インチ 東芝 レグザ 15000円",
        "腕時計 セイコー プレサージュ 自動巻き 25000円",
        "子猫の里親募集 生後2ヶ月 オス ワクチン済み",  # looking for a kitten's new owner gives it away
    ],
)
def test_an_owners_description_is_an_offer(text: str) -> None:
    u = understand(text)
    assert u.intent.action == Action.SELL, (text, u.intent.action)
    assert "action" not in u.missing, text


# what a buyer will pay is the most they pay, not an asking price
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I'll pay $200 for a PS5 in good condition", "en"),
        ("Pago 200 € por una PS5 en buen estado", "es"),
        ("Zahle 150 € für ein gutes Kinderfahrrad", "de"),
        ("Je paie 150 € pour un vélo enfant", "fr"),
        ("Заплачу 5000 руб за детский велосипед", "ru"),
        ("Çocuk bisikleti için 2000 TL öderim", "tr"),
        ("बच्चों की साइकिल के लिए 2000 रुपये दे दूंगा", "hi"),
        ("أدفع 500 ريال على دراجة أطفال", "ar"),
        ("子供用自転車に5000円払います", "ja"),
        ("아이 자전거 3만원 드릴게요", "ko"),
    ],
)
def test_a_price_someone_will_pay_is_a_maximum(text: str, lang: str) -> None:
    price = extract(text, None, lang).price
    assert price is not None and price.bound == "max", (text, price)


@pytest.mark.parametrize(
    "text",
    [
        "Suche Kinderwagen Bugaboo Fox, wie neu, bis 250 VB",
        "Cần mua xe đạp thể thao như mới",
        "아이폰 12 풀박스 구합니다",
    ],
)
def test_a_request_for_a_thing_like_new_stays_a_request(text: str) -> None:
    u = understand(text)
    assert u.intent.action == Action.BUY, (text, u.intent.action)


# a driver counting the free seats was read as someone seeking a ride: "Voy a la costa el viernes, 3 plazas"
@pytest.mark.parametrize(
    "text",
    [
        "Voy a la costa el viernes, 3 plazas",
        "कल सुबह जयपुर जा रहा हूँ, 2 सीट खाली",
        "Xe ghép Hà Nội đi Hải Phòng, còn 2 ghế",
        "Cuma İstanbul'a gidiyorum, 2 kişilik yer var",
        "Еду в Тверь в субботу, 3 места",
        "Fahre Samstag nach Köln, 3 Plätze frei",
        "周六去杭州，还有2个空位",
    ],
)
def test_a_ride_with_free_seats_is_offered(text: str) -> None:
    u = understand(text)
    assert u.intent.category == "transport/rideshare", (text, u.intent.category)
    assert u.intent.action == Action.OFFER_SERVICE, (text, u.intent.action)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Sofá de 3 plazas, 200 €", Action.SELL),  # a sofa's seats say nothing of a side
        ("Busco 2 plazas para ir a la costa el viernes", Action.SEEK_SERVICE),
        ("Cần tìm xe ghép Hà Nội đi Hải Phòng, 2 chỗ", Action.SEEK_SERVICE),
    ],
)
def test_seats_sought_or_of_a_sofa_keep_their_side(text: str, action: Action) -> None:
    assert understand(text).intent.action == action, text


# a price with a word of wanting stays a request: these were read right by the wording alone, and the asking
# price rule made them sales until the words joined the tables
@pytest.mark.parametrize(
    "text",
    [
        "想要一台二手iPad Air 5，3000元",
        "iPad Air 5 하나 갖고 싶어요, 50만원",
        "Хочу iPad Air 5 за 40000 руб",
        "Tenho interesse em iPad Air 5, R$ 2500",
        "Would like an iPad Air 5, $400",
        "ودي ايباد اير 5، 1500 ريال",
    ],
)
def test_a_price_beside_a_word_of_wanting_stays_a_request(text: str) -> None:
    assert understand(text).intent.action == Action.BUY, text
