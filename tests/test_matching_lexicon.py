"""Numbers, currencies, cues and language detection in the 15 languages of the tables (no model needed)."""

from __future__ import annotations

import pytest

from matching.cues import cue_matches, said, service_hint
from matching.extract import extract
from matching.lang import detect_language, mixed_languages, script_report
from matching.lexicon import scope

OWN_RENT = ("own", "rent")  # a thing bought or sold outright, or rented
HOURS = ("full_time", "part_time")  # a job's hours
SEEDLING = ("seedling",)  # a young plant, not its fruit


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("bán xe máy Honda Wave cũ, 8 triệu đồng", 8_000_000, "VND"),  # vi: triệu = million
        ("cần mua laptop cũ tầm 5tr", 5_000_000, None),
        ("800万ドンで探してます", 8_000_000, "VND"),  # ja: 万 = 10,000
        ("3万円で売ります", 30_000, "JPY"),
        ("¥3,000で譲ります", 3_000, "JPY"),  # a yen sign in Japanese is JPY
        ("出售二手自行车 ¥300", 300, "CNY"),  # in Chinese it is CNY
        ("求购充气船，预算10万卢布以内", 100_000, "RUB"),
        ("₹5,000 में बेचना है", 5_000, "INR"),
        ("5 हज़ार रुपये तक चाहिए", 5_000, "INR"),  # hi: हज़ार = thousand
        ("2 लाख रुपये", 200_000, "INR"),
        ("Продаю велосипед, 1.500 ₽", 1_500, "RUB"),
        ("Куплю до 25 000 рублей", 25_000, "RUB"),
        ("Продаю за 15 тыс. руб.", 15_000, "RUB"),
        ("자전거 팝니다 ₩30만", 300_000, "KRW"),
        ("28만원에 팝니다", 280_000, "KRW"),
        ("للبيع ٥٠٠ ريال", 500, "SAR"),  # Arabic-Indic digits
        ("مطلوب بحد أقصى ٢٠٠٠ درهم", 2_000, "AED"),
        ("Satılık bisiklet 3.000 TL", 3_000, "TRY"),
        ("3 bin TL'ye kadar", 3_000, "TRY"),
        ("Jual sepeda Rp 1,5 jt", 1_500_000, "IDR"),
        ("Vendo bici a 150 euro", 150, "EUR"),
        ("vendo sofá por 2 mil pesos", 2_000, "MXN"),
        ("Verkaufe Fahrrad für 80 €", 80, "EUR"),
        ("vends vélo 120 €", 120, "EUR"),
        ("vendo bicicleta por R$ 1.200", 1_200, "BRL"),
        ("selling my bike for $80", 80, "USD"),
        # Peruvian soles in any language, and Turkish case endings on a currency
        ("Vendo bicicleta estática, S/ 550, recojo en Lince", 550, "PEN"),
        ("Busco bici plegable, hasta 350 soles", 350, "PEN"),
        ("Cherche radiateur pour Toyota Yaris, environ 250 soles", 250, "PEN"),
        ("Cần mua xe đạp gấp, giá khoảng 650 sol", 650, "PEN"),
        ("Butuh kurir motor dalam kota Lima, ongkir sekitar 15 sol", 15, "PEN"),
        ("फोल्डिंग साइकिल चाहिए, 700 सोल तक", 700, "PEN"),
        ("Looking for a folding bike in Lima, 600 soles max", 600, "PEN"),
        ("Napoli'de oda arıyorum, aylık 380 euroya kadar", 380, "EUR"),
        ("Xbox Series X arıyorum, 500 dolara kadar öderim", 500, "USD"),
    ],
)
def test_prices_per_language(text: str, amount: float, currency: str | None) -> None:
    p = extract(text).price
    assert p is not None, text
    assert (p.amount, p.currency) == (amount, currency), text


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("Куплю до 25 000 рублей", "max"),
        ("5 हज़ार रुपये तक चाहिए", "max"),
        ("予算3万円まで", "max"),
        ("10만 루블 이하", "max"),
        ("cần mua tầm 300 euro", "approx"),
        ("مطلوب بحد أقصى ٢٠٠٠ درهم", "max"),
        ("tanesi en fazla 85 dolar", "max"),
        ("cerco bici, massimo 200 euro", "max"),
        ("around $80", "approx"),
        ("at least £40", "min"),
    ],
)
def test_price_bounds(text: str, bound: str) -> None:
    p = extract(text).price
    assert p is not None and p.bound == bound, (text, p)


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        ("bán xe máy Honda Wave cũ, 8 triệu đồng", None),  # 8 is part of the price, not a quantity
        ("Cần mua 4 lốp cũ", 4),
        ("225/65R17のタイヤ4本探してます", 4),
        ("타이어 4짝 구해요", 4),
        ("مطلوب ٤ كفرات", 4),
        ("मुझे चार टायर चाहिए", 4),
        ("4 adet lastik arıyorum", 4),
        ("Cari ban bekas 4 biji", 4),
        ("Куплю 2 шт", 2),
        ("Cerco 2 biglietti per il concerto", 2),
        ("3 ay kullanıldı", None),  # months, not a quantity
        # a time or a weekday, not a quantity: 7 o'clock, Saturday
        ("शनिवार सुबह 7 बजे मैसूर जा रहा हूँ", None),
        ("Thứ Bảy lúc 7 giờ sáng đi Đà Lạt", None),
        ("еду в субботу в 7 утра", None),
        ("berangkat Sabtu jam 7 pagi", None),
        ("cần mua 2 cái quạt", 2),
        ("butuh 3 kursi lipat", 3),
        ("Куплю лодку ПВХ 320-330 с мотором", None),
        # a count after "with" is of what comes with the thing, not of the things sold
        ("Je vends ma PS4 avec deux manettes", None),
        ("Selling PS5 with 2 controllers and 3 games", None),
        ("Selling 4 tires with 2 spare rims", 4),
        ("Vendo bici con 2 cascos", None),
        ("Verkaufe Konsole mit 2 Controllern", None),
        ("Продаю PS4 с 2 джойстиками", None),
    ],
)
def test_quantity_per_language(text: str, qty: int | None) -> None:
    assert extract(text).quantity == qty, text


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("bán xe máy Honda Wave cũ", "supply"),
        ("cần bán xe máy", "supply"),  # longest cue wins over "cần" (need)
        ("cần mua xe máy", "demand"),
        ("ai bán xe máy không", "demand"),
        ("मुझे साइकिल चाहिए", "demand"),
        ("साइकिल बेचना है", "supply"),
        ("مطلوب دراجة", "demand"),
        ("دراجة للبيع", "supply"),
        ("自転車を探しています", "demand"),
        ("自転車売ります", "supply"),
        ("자전거 구해요", "demand"),
        ("자전거 팝니다", "supply"),
        ("파실 분 있나요", "demand"),
        ("Куплю велосипед", "demand"),
        ("Продаю велосипед", "supply"),
        ("Cerco una bici", "demand"),
        ("Vendo bici", "supply"),
        ("Bisiklet arıyorum", "demand"),
        ("Satılık bisiklet", "supply"),
        ("Cari sepeda", "demand"),
        ("Jual sepeda", "supply"),
        ("谁卖自行车", "demand"),
        ("Nhận giữ mèo khi bạn đi du lịch", "supply"),  # "nhận" + a service: someone takes the work
        ("Nhận phiên dịch tiếng Hàn theo ngày", "supply"),
        # "come and fetch it" is a giver's words, not a seeker's
        ("À donner : canapé trois places, à venir chercher", "supply"),
        ("Regalo sofá, hay que pasar a buscarlo", "supply"),
        ("Je cherche un canapé", "demand"),
        ("Busco sofá de 3 plazas", "demand"),
        # parting with a thing, "must pick up": a giver's words (each was read as a request)
        ("Je me sépare de mon canapé", "supply"),
        ("Ich trenne mich von meinem Sofa", "supply"),
        ("Me deshago de mi sofá", "supply"),
        ("Desapego: carrinho de bebê", "supply"),
        ("free couch, must pick up", "supply"),
        # "I give tuition" (Hindi, Egyptian Arabic): a teacher's offer, read as a request for lessons
        ("मैं गणित की ट्यूशन देता हूँ", "supply"),
        ("أدي دروس إنجليزي في البيت", "supply"),
        # "收" opening a text or before a model name buys (it was read as a sale); "收纳" is storage
        ("收iPhone 13 128G，成色好的", "demand"),
        ("收二手婴儿车，北京朝阳自提", "demand"),
        ("上海收Switch OLED", "demand"),
        ("出售收纳柜，白色", "supply"),
        # "anyone who has ...", "I take a giveaway", "may I have ...": requests, read as offers
        ("유모차 있으신 분 연락주세요", "demand"),
        ("관심 있으신 분 연락주세요, 자전거 팝니다", "supply"),
        ("아기 옷 나눔 받아요", "demand"),
        ("Xin vài thùng carton cũ để chuyển nhà", "demand"),
        ("Xin chào, mình bán xe đạp cũ", "supply"),
        ("Klasik gitar alınacaktır, İzmir", "demand"),
        ("Mau sewa mobil untuk 3 hari di Bali", "demand"),
        ("محتاجة مدرسة رياضيات للبيت", "demand"),
        # wanting a thing without a word of buying ("想要", "갖고 싶어요", "хочу", "tenho interesse"), and
        # wanting to sell, which "quiero", "quero", "хочу" alone read as a request
        ("想要一台二手iPad Air 5", "demand"),
        ("蹲一个Switch OLED", "demand"),
        ("아이패드 에어5 하나 갖고 싶어요", "demand"),
        ("Хочу iPad Air 5 за 40000 руб", "demand"),
        ("Tenho interesse em iPad Air 5", "demand"),
        ("Would like an iPad Air 5", "demand"),
        ("Quiero vender mi bici de montaña", "supply"),
        ("Quero vender minha bicicleta", "supply"),
        ("Хочу продать велосипед", "supply"),
        ("Хочу отдать котенка в добрые руки", "supply"),
        ("Would like to sell my bike", "supply"),
        ("자전거 팔고 싶어요", "supply"),
    ],
)
def test_action_cues(text: str, side: str) -> None:
    lang, _ = detect_language(text)
    demand, supply = cue_matches(text.lower(), scope(lang))
    got = "demand" if demand and not supply else "supply" if supply and not demand else "both/none"
    assert got == side, (text, lang, demand, supply)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("笔记本清灰换硅脂", True),  # dust cleaning: work done on a laptop
        ("空调清洗上门", True),
        ("部屋の清掃をお願いしたい", True),
        ("Cần dịch vụ giặt thảm", True),
        ("出售笔记本电脑", False),
        # goods words too: a transaction, a delivery, a gift with the item, "looks new"
        ("Pass lại bộ sách, giao dịch gần ga", False),
        ("Cần mua củi khô, giao tận nơi", False),
        ("出iPhone 13，送充电器和壳", False),
        ("Bán xe đạp, trông còn mới", False),
        ("Cần người trông bé buổi tối", True),
        ("找人帮忙送个文件", True),
    ],
)
def test_service_hints(text: str, hint: bool) -> None:
    lang, _ = detect_language(text)
    assert service_hint(text.lower(), scope(lang)) is hint, (text, lang)


@pytest.mark.parametrize(
    ("kinds", "text", "heard"),
    [
        (OWN_RENT, "Cần mua nhà phố 3 phòng ngủ", "own"),
        (OWN_RENT, "Cho thuê phòng trọ gần chợ", "rent"),
        (OWN_RENT, "Suche Eigentumswohnung in Köln", "own"),
        (OWN_RENT, "Suche 2-Zimmer-Mietwohnung", "rent"),
        (OWN_RENT, "Busco piso en alquiler", "rent"),
        (OWN_RENT, "Compro casa con jardín", "own"),
        (OWN_RENT, "Cherche appartement à louer", "rent"),
        (OWN_RENT, "Achète maison de village", "own"),
        (OWN_RENT, "Cerco casa in affitto", "rent"),
        (OWN_RENT, "Procuro apartamento para comprar", "own"),
        (OWN_RENT, "Сниму однокомнатную квартиру", "rent"),
        (OWN_RENT, "Куплю дом в пригороде", "own"),
        (OWN_RENT, "Kiralık daire arıyorum", "rent"),
        (OWN_RENT, "Satılık arsa", "own"),
        (OWN_RENT, "Mau beli rumah tipe 36", "own"),
        (OWN_RENT, "Disewakan rumah 2 lantai", "rent"),
        (OWN_RENT, "شقة للإيجار قرب الجامعة", "rent"),
        (OWN_RENT, "أبحث عن شقة للبيع", "own"),
        (OWN_RENT, "किराये पर कमरा चाहिए", "rent"),
        (OWN_RENT, "मुझे फ्लैट खरीदना है", "own"),
        (OWN_RENT, "求租两室一厅", "rent"),
        (OWN_RENT, "想买一套二手房", "own"),
        (OWN_RENT, "マンション購入希望", "own"),
        (OWN_RENT, "賃貸アパートを探しています", "rent"),
        (OWN_RENT, "아파트 매매 구해요", "own"),
        (OWN_RENT, "원룸 월세 구합니다", "rent"),
        (OWN_RENT, "Flat to let near the station", "rent"),
        (OWN_RENT, "Looking for a flat", None),  # neither: the classifier decides
        (OWN_RENT, "Rent or buy, a flat near the station", None),  # both
        (HOURS, "Tuyển nhân viên bán thời gian ca tối", "part_time"),
        (HOURS, "Suche Vollzeitstelle als Koch", "full_time"),
        (HOURS, "Busco trabajo de medio tiempo", "part_time"),
        (HOURS, "招聘全职前台", "full_time"),
        (HOURS, "週3日のアルバイト募集", "part_time"),
        (HOURS, "카페 알바 구해요", "part_time"),
        (HOURS, "Ищу работу на полный день", "full_time"),
        (HOURS, "Yarı zamanlı garson aranıyor", "part_time"),
        (HOURS, "पार्ट-टाइम नौकरी चाहिए", "part_time"),
        (HOURS, "مطلوب محاسب بدوام كامل", "full_time"),
        (HOURS, "Full-time or part-time barista", None),  # both: the classifier decides
        (SEEDLING, "Se venden plantones de tomate, muy sanos", "seedling"),
        (SEEDLING, "Vendo mudas de limão siciliano", "seedling"),
        (SEEDLING, "Verkaufe Tomatensetzlinge aus eigener Anzucht", "seedling"),
        (SEEDLING, "Vends plants de tomates anciennes", "seedling"),
        (SEEDLING, "Vendo piantine di basilico", "seedling"),
        (SEEDLING, "Продаю рассаду перца", "seedling"),
        (SEEDLING, "Куплю саженцы яблони", "seedling"),
        (SEEDLING, "للبيع شتلات ليمون", "seedling"),
        (SEEDLING, "आम के पौधे बिकाऊ हैं", "seedling"),
        (SEEDLING, "Jual bibit durian musang king", "seedling"),
        (SEEDLING, "Bán cây giống mít Thái", "seedling"),
        (SEEDLING, "出售柠檬树苗", "seedling"),
        (SEEDLING, "ミニトマトの苗を譲ります", "seedling"),
        (SEEDLING, "블루베리 묘목 팝니다", "seedling"),
        (SEEDLING, "Satılık zeytin fidanı", "seedling"),
        (SEEDLING, "Selling lemon tree saplings", "seedling"),
        (SEEDLING, "Vendo limones de mi árbol", None),  # the fruit: the classifier decides
        (SEEDLING, "Продаю яблоки со своего сада", None),
        (SEEDLING, "出售新鲜柠檬", None),
    ],
)
def test_words_that_tell_a_pair_apart(kinds: tuple[str, ...], text: str, heard: str | None) -> None:
    lang, _ = detect_language(text)
    assert said(text.lower(), kinds, scope(lang)) == heard, (text, lang)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("cần bán xe máy cũ giá rẻ", "vi"),
        ("cerco una bicicletta usata", "it"),
        ("ikinci el bisiklet arıyorum", "tr"),
        ("cari sepeda bekas yang murah", "id"),
        ("मुझे पुरानी साइकिल चाहिए", "hi"),
        ("أبحث عن دراجة مستعملة", "ar"),
        ("중고 자전거 구해요", "ko"),
        ("中古の自転車を探しています", "ja"),
        ("ищу подержанный велосипед", "ru"),
    ],
)
def test_detect_new_languages(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_mixed_and_unsupported_scripts() -> None:
    mixed = "Vendo mi sofá, está muy bien y es muy cómodo. It is in great condition and the cushions are new"
    assert set(mixed_languages(mixed)) == {"en", "es"}
    assert mixed_languages("Vendo mi sofá, está muy bien y es muy cómodo") == []
    # another script with Latin-script words of a language; a brand or model in Latin letters is not one
    assert mixed_languages("Verkaufe mein Fahrrad для ребёнка 80 EUR") == ["ru", "de"]
    assert mixed_languages("продаю велосипед, good condition, pickup only") == ["ru", "en"]
    assert mixed_languages("iPhone 13 Pro Max продаю срочно") == []
    assert mixed_languages("AirPods Pro 2 चाहिए, ओरिजिनल") == []
    assert mixed_languages("出售二手自行车九成新 продаю велосипед") == ["ru", "zh"]  # two scripts, as before
    rep = script_report("ขายจักรยานมือสอง")
    assert rep.unsupported and "Thai" in rep.unsupported


def test_a_literal_trie_matches_what_the_longest_first_alternation_matches() -> None:
    import re

    from matching.lexicon import literal_trie

    words = ["sam", "samsung", "samsonite", "sams", "a.b", "a+", "x", "xy", "xyz"]
    trie = re.compile(literal_trie(words))
    plain = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    for text in ["samsung tv", "sams club", "samsonite", "sa", "a.b a+b axb", "xyzzy", "x y", ""]:
        assert [m.group(0) for m in trie.finditer(text)] == [m.group(0) for m in plain.finditer(text)]
    # backtracks to a shorter word when the context after a longer one fails
    framed = re.compile(f"(?:{literal_trie(words)})(?![a-z])")
    assert framed.match("samsun") is None and framed.match("sams!").group(0) == "sams"
