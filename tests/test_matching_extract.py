"""Extractors and language detection (no model needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import brands
from matching.bank import read_examples
from matching.brands import BRAND_CATEGORIES
from matching.canonical import find_glosses
from matching.classify import attribute_boosts
from matching.extract import extract, normalise, parking_cover, parse_number
from matching.lang import detect_language
from wire.limits import MAX_ATTR_VALUE_LEN


@pytest.mark.parametrize(
    ("text", "amount", "currency", "per_unit", "bound"),
    [
        ("selling 4 used tires 225/65R17, $80 each", 80.0, "USD", True, None),
        ("necesito llantas, máximo 70 dólares cada una", 70.0, "USD", True, "max"),
        ("出售 iPhone 80欧元", 80.0, "EUR", None, None),
        ("vends pneus €80", 80.0, "EUR", None, None),
        ("verkaufe Reifen 80 euros", 80.0, "EUR", None, None),
        ("vendo por R$ 1.200", 1200.0, "BRL", None, None),
        ("sofa 1,250.50 USD for all", 1250.5, "USD", False, None),
        ("vendo 2 entradas, 50 euros por todas", 50.0, "EUR", False, None),
        ("selling at least £40", 40.0, "GBP", None, "min"),
        ("求购轮胎 每条80美元", 80.0, "USD", True, None),
        # a lot's price: "for the set", "both together" (the unit ask is the lot's over its count)
        ("Coleção completa, 7 livros. 60€ o conjunto", 60.0, "EUR", False, None),
        ("Vendo 2 ingressos, 120 reais pelos dois", 120.0, "BRL", False, None),
        ("2 adet 10 kg dambıl. İkisi birden 1.500 TL", 1500.0, "TRY", False, None),
    ],
)
def test_prices(text: str, amount: float, currency: str, per_unit: bool | None, bound: str | None) -> None:
    p = extract(text).price
    assert p is not None
    assert (p.amount, p.currency, p.per_unit, p.bound) == (amount, currency, per_unit, bound)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        # digit-written numeral chains are one number, not "1万" then "5千" (main read 5,000 here)
        ("男の子用のランドセル探してます。予算1万5千円くらい", 15000.0, "JPY"),
        ("ランドセル 7万5千円で売ります", 75000.0, "JPY"),
        ("제주 귤 한 박스 3만 5천원", 35000.0, "KRW"),
        ("제주 귤 한 박스 ₩30만", 300000.0, "KRW"),
        ("ランドセル 3万円", 30000.0, "JPY"),
        # Indian grouping (lakhs, crores), in any currency an Indian writer quotes; the other groupings
        # are unchanged
        ("Bike for sale ₹1,15,000 negotiable", 115000.0, "INR"),
        ("flat ₹1,20,00,000", 12000000.0, "INR"),
        ("सेइको घड़ी चाहिए, लगभग ₩3,50,000", 350000.0, "KRW"),
        ("Vendo a 1.500 €", 1500.0, "EUR"),
        ("3,50 € le kilo", 3.5, "EUR"),
        # a full-width comma ends a clause (NFKC reads it as ","): the amount after it is one (main read none)
        ("ThinkPad E14 锐龙版 16G/512G，正常使用痕迹，2800元", 2800.0, "CNY"),
        ("华为Mate 60 Pro 12+256G 白色，国行在保，3800元，可小刀。", 3800.0, "CNY"),
        ("中古のカメラ，3万円", 30000.0, "JPY"),
    ],
)
def test_numeral_chains_and_groupings(text: str, amount: float, currency: str) -> None:
    p = extract(text).price
    assert p is not None and (p.amount, p.currency) == (amount, currency)


def test_dollar_sign_follows_default_currency() -> None:
    p = extract("vendo llantas $1500 cada una", default_currency="MXN").price
    assert p is not None and p.currency == "MXN"
    p2 = extract("vendo llantas $1500 cada una", default_currency="EUR").price
    assert p2 is not None and p2.currency == "USD"


@pytest.mark.parametrize(
    "text",
    [
        "pijamas de niña talla 12-18 meses",  # an age range
        "坐3号线到10号线",  # metro lines
        "12月24号到",  # a date
        "Motion XT M, 0,5 L",  # a capital letter alone is a size only when it cannot be another word
        "여아 내복 100사이즈",  # three digits outside a shoe's millimetres
    ],
)
def test_what_is_not_a_size(text: str) -> None:
    assert "size" not in extract(text).attributes


@pytest.mark.parametrize("text", ["meet on 12/12 at 5", "1/64 of the lot", "5/128 sold", "8/256.5 units"])
def test_a_pair_without_a_unit_is_memory_and_storage_only_when_it_can_be(text: str) -> None:
    assert "storage" not in extract(text).attributes


@pytest.mark.parametrize(
    ("text", "ram", "storage"),
    [
        # the memory word before the size, in several languages: "RAM 16GB" was read as 16 GB of storage, a
        # hard key, so the laptop's 512 GB ad was never shown to that buyer
        ("Laptop RAM 16GB SSD 512GB", "16GB", "512GB"),
        ("Cần mua laptop RAM 8GB, ổ cứng 256GB", "8GB", "256GB"),
        ("ノートPC メモリ16GB SSD512GB", "16GB", "512GB"),
        ("노트북 램 16기가 SSD 512기가", "16GB", "512GB"),
        ("Ноутбук ОЗУ 16 ГБ, SSD 512 ГБ", "16GB", "512GB"),
        # after it
        ("Ноутбук 16 ГБ ОЗУ, SSD 512 ГБ", "16GB", "512GB"),
        ("ThinkPad X1 Carbon Gen 9 चाहिए, 16GB रैम", "16GB", None),
        ("Vendo Xiaomi Pad 6 de 128 GB y 6 GB de RAM", "6GB", "128GB"),
        # "内存" is memory at a laptop's sizes and a phone's storage at a phone's ("256G内存")
        ("笔记本 16G内存 512G固态", "16GB", "512GB"),
        ("出iPhone 13 256G内存 国行", None, "256GB"),
        # a processor's number is not a memory size: "i7/16G/512G" is an i7 with 16 GB and 512 GB
        ("ThinkPad X1 Carbon（第9代），i7/16G/512G", "16GB", "512GB"),
        # two sizes and no word: the smaller one, a size RAM comes in, is the memory
        ("MacBook Air M2 8GB 256GB", "8GB", "256GB"),
        ("맥북 에어 M2 8기가 256기가", "8GB", "256GB"),
        ("micro SD 64GB 128GB", None, "64GB"),  # 64 GB alone is no phone's or laptop's memory: the first kept
        # giga and tera in more scripts
        ("iPhone 13 256ギガ", None, "256GB"),
        ("ايفون 13 256 جيجا", None, "256GB"),
        ("आईफोन 13 256 जीबी", None, "256GB"),
        ("iPhone 15 Pro 1 테라", None, "1TB"),
        ("айфон 13 256 гиг", None, "256GB"),
    ],
)
def test_memory_and_storage(text: str, ram: str | None, storage: str | None) -> None:
    attrs = extract(text).attributes
    assert (attrs.get("ram"), attrs.get("storage")) == (ram, storage)


def test_parse_number_reads_indian_grouping() -> None:
    assert parse_number("12,50,000") == 1_250_000.0 and parse_number("3,50") == 3.5


def test_a_brand_is_not_a_condition() -> None:
    assert "condition" not in extract("Procuro sapatilhas New Balance 550, até 80 euros").attributes
    assert extract("brand new New Balance 550").attributes["condition"] == "new"


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("بوش غسالة مستعملة", "bosch"),  # Arabic, a word of its own
        ("للبيع ايفون ابل ١٣", "apple"),
        ("كتاب مقابل ٢٠ ريال", None),  # "ابل" (Apple) inside "مقابل" (for)
        ("куплю шкаф бош", "bosch"),
        ("продаю самсунгом", "samsung"),  # a Russian case ending
        ("이케아 책상 팝니다", "ikea"),
        ("이케아에서 산 책상", "ikea"),  # a Korean particle after the name
        ("索尼耳机", "sony"),  # Chinese: no spaces between words
        ("सोनी हेडफोन", "sony"),
        ("सोनीपत में किताबें", None),  # "सोनी" (Sony) starts "सोनीपत" (Sonipat)
        ("kärcher k5", "karcher"),
        ("продам тойоту камри", "toyota"),  # a brand in "-а" in another case
        ("ищу макиту", "makita"),
        ("шкаф из икеи", "ikea"),
        ("мой прадед", None),  # "прада" (Prada) in no case of it
        ("マキタのドリル", "makita"),
        ("ミニコンポ探しています", None),  # "ニコン" (Nikon) inside a katakana word
        ("테팔 프라이팬 세트", "tefal"),
        ("고프로 히어로", "gopro"),
    ],
)
def test_a_brand_spelled_in_another_script_is_a_whole_word(text: str, brand: str | None) -> None:
    assert extract(text).attributes.get("brand") == brand


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Vends Samsung Galaxy Tab S9 FE 128 Go", "galaxy tab"),  # digits may follow a line's name
        ("Vendo Yamaha FZ-S 2021", "yamaha fz"),
        ("want an fzs v3 or an mt15", "fz-s,mt-15"),  # "-" written, a space or nothing; every line named
        ("갤럭시탭 S9 팝니다", "갤럭시탭"),
        ("TVS 아파치 RTR 160 구해요", "tvs 아파치"),
        ("Selling 2 TVs and an activator", None),  # a line's name inside another word is not the line
    ],
)
def test_a_product_line_is_found_whole(text: str, line: str | None) -> None:
    assert extract(text).attributes.get("line") == line


@pytest.mark.parametrize(
    "text",
    [
        "want an fzs v3 or an mt15",  # a Latin first part inside a longer word ("fz" of "fzs")
        "갤럭시탭 s9 팝니다, 갤럭시 버즈도 있어요",  # Hangul first parts
        "biti's hunter size 40 and a yamaha fz",  # a first part with an apostrophe
        "求马丁靴1460，黑色",  # Chinese anywhere
        "cerco xbox series x usata",  # two groups over one span: the tie kept in the file's order
        "selling 2 tvs and an activator",
    ],
)
def test_product_lines_tries_the_groups_every_first_part_would(text: str) -> None:
    # the groups tried (``brands._line_keys``) are those a scan of every group's first part finds
    brute = [k for k in brands._LINE_GROUPS if k in text and brands._group_rx(k).search(text)]
    assert [k for k in brands._line_keys(text) if brands._group_rx(k).search(text)] == brute


#: The only brand or line spellings the labelled ads name (they were written without brands): Indonesian
#: "HP" (a phone; also horsepower), apple trees, Italian "miele" (honey), a trek, Italian "vivo" (I live).
AD_WORDS = {"hp", "apple", "miele", "trek", "vivo"}


def test_the_labelled_ads_name_no_brand_or_line_but_the_known_words() -> None:
    named = set()
    for e in read_examples("data/examples"):
        t = normalise(e.text)
        named |= {m.group(0) for m in brands.find_brands(t)} | {s for s, _, _ in brands.product_lines(t)}
    assert named <= AD_WORDS, sorted(named - AD_WORDS)


def test_a_product_line_is_glossed_as_its_goods_and_its_words_are_not() -> None:
    ex = extract("Busco una TVS Apache RTR 160 4V del 2022")
    assert [(g.english, g.category) for g in find_glosses(ex)] == [("motorcycle", "vehicles/motorcycles")]
    ex = extract("Steam Deck OLED 512GB and a dog bed")  # "deck" is no garden deck; the bed is still a bed
    got = [g.category for g in find_glosses(ex)]
    assert got[0] == "electronics/consoles" and len(got) == 2 and "home/garden" not in got
    # the line's category, not the brand's, is the boost (Samsung's goods are mostly phones)
    boosts = attribute_boosts(extract("Samsung Galaxy Tab S9").attributes)
    assert max(boosts, key=lambda c: boosts[c]) == "electronics/tablets"
    assert "electronics/phones" not in boosts


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("Ragdoll Kitten, Kater, seal point, mit Stammbaum", "gender", "male"),
        ("Suche Ragdoll Katerchen", "gender", "male"),
        ("Coiffeuse à domicile pour femmes", "gender", "female"),  # a plural
        ("ラグドールの子猫(オス)を探しています", "gender", "male"),
        ("メスティン 売ります", "gender", None),  # "メス" inside a longer katakana word (a mess tin)
        ("Cần mua mèo Ragdoll đực", "gender", "male"),
        ("Việt Nam, giày thể thao", "gender", None),  # "Nam" is no man in "Việt Nam"
        ("집으로 와주는 남성 이발사 찾아요", "gender", "male"),
        ("man with a van, moves in Leeds", "gender", None),
        ("male and female puppies", "gender", None),  # both: neither
        ("Our café is hiring a part-time barista for weekends", "schedule", "weekend"),
        ("Quán cà phê cần tuyển barista part-time cuối tuần", "schedule", "weekend"),
        ("Suche Babysitterin für nachmittags unter der Woche", "schedule", "weekdays"),
        ("ヒューストン西部で平日午後のベビーシッターを探しています", "schedule", "weekdays"),
        ("Tutor wanted, weekdays or weekends", "schedule", None),  # both: neither
        # Saturday and Sunday named is the weekend
        ("Wir suchen eine Aushilfe als Barista für Samstag und Sonntag", "schedule", "weekend"),
        ("lowongan barista part time sabtu-minggu di kafe kami", "schedule", "weekend"),
        ("服务员，周六周日上班", "schedule", "weekend"),
        ("토요일, 일요일 근무 가능한 알바", "schedule", "weekend"),
        ("работа в субботу и воскресенье", "schedule", "weekend"),
        ("cumartesi pazartesi", "schedule", None),  # Saturday, Monday
        ("Selling a sofa, pick up any time", "schedule", None),
    ],
)
def test_gender_and_schedule_are_read_once_and_only_as_words(text: str, key: str, value: str | None) -> None:
    assert extract(text).attributes.get(key) == value


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("Nhận giữ chó mọi size, sân rộng cho chạy nhảy", "animal", "dog"),
        ("岘港有没有寄养猫的地方？春节回国两周", "animal", "cat"),
        ("Dog and cat sitting in your home", "animal", "cat,dog"),  # every animal named
        ("Hot dog stand for sale, barely used", "animal", None),
        ("熊猫玩偶，全新", "animal", None),  # no cat inside "panda"
        ("Cerco cameriera part-time nel weekend per bistrot a Parigi", "role", "waiter"),
        ("Étudiante cherche job à temps partiel d'hôtesse de caisse le week-end", "role", "cashier"),
        ("Overnight newborn nanny, nights only, $25/hour", "role", "childcare"),
        ("Dyson V11 vacuum cleaner, works perfectly", "role", None),
        ("Screwdriver set, 32 bits", "role", None),
        ("Harry Potter box set in English, 7 paperbacks", "language", "english"),
        ("dicari penerjemah bahasa Korea harian buat meeting", "language", "korean"),
        ("원어민 영어 과외 구해요", "language", "english"),
        ("Overnight newborn nanny, nights only", "hours", "night"),
        ("Bedside table (nightstand), oak", "hours", None),
        # words that are no animal, role or time here: paint in Indonesian, a dog breed, bedside tables
        ("Jual cat tembok Avian 5 kg, sisa renovasi", "animal", None),
        ("Bak cat bekas, masih bagus", "animal", None),
        ("Vendo cachorro de bodeguero andaluz", "role", None),
        ("Vendo dos mesitas de noche de madera", "hours", None),
    ],
)
def test_animals_roles_languages_and_hours_are_read_as_sets(text: str, key: str, value: str | None) -> None:
    assert extract(text).attributes.get(key) == value


def test_a_set_is_tried_only_where_its_anchors_are_and_finds_what_its_patterns_find() -> None:
    from matching.bank import examples
    from matching.extract import normalise
    from matching.lexicon import languages
    from matching.patterns import _anchors, compiled

    assert _anchors("(?<!hot )dogs?") == {"dog"}  # a lookbehind is no anchor, an optional letter neither
    assert _anchors("(?:cats?|kitten)s?") == {"cat", "kitten"}  # one of the branches
    assert _anchors(r"\w+") is None  # no literal: always tried
    readers = compiled(languages()).sets
    texts = [normalise(e.text) for e in examples()[::25]]
    for reader in readers.values():
        for t in texts:
            assert reader.read(t) == [v for v, vrx in reader.named if vrx.search(t)], t


def test_a_labelled_size_in_river_plate_spanish_and_never_of_inches() -> None:
    assert extract("Bici MTB Venzo rodado 29, talle M, 21 cambios", lang="es").attributes["size"] == "M"
    wheel = extract("مطلوب دراجة جبلية مقاس 29 إنش، إطار M", lang="ar").attributes  # a size is a hard key
    assert "size" not in wheel and wheel["screen"] == "29in"


def test_a_long_set_is_cut_to_what_an_attribute_value_holds() -> None:
    text = "Tutor: English, Spanish, French, German, Italian, Portuguese, Russian, Chinese, Japanese, Korean"
    value = extract(text).attributes["language"]
    assert len(value) <= MAX_ATTR_VALUE_LEN and value.startswith("chinese,english,")


@pytest.mark.parametrize(
    ("text", "cover"),
    [
        ("موقف سيارة مغطى للإيجار الشهري في قبو عمارة", "covered"),
        ("Cidde'de aylık kiralık kapalı otopark yeri arıyorum", "covered"),
        ("ジッダのアル・ラウダ地区で屋根付き駐車場を月極で探しています", "covered"),
        ("موقف سيارة مكشوف للإيجار الشهري داخل حوش فيلا", "open"),
        ("Außenstellplatz, nicht überdacht, 40 € im Monat", "open"),  # the denial is not a roof
        ("Covered parking bay, open to offers", "covered"),  # "open" alone is not a kind of space
        ("Parking space, covered or open-air, either is fine", None),  # both: neither
    ],
)
def test_a_parking_space_is_covered_or_open(text: str, cover: str | None) -> None:
    assert parking_cover(text) == cover


def test_price_without_currency_is_kept_without_currency() -> None:
    p = extract("need a TV, up to 400").price
    assert p is not None and p.currency is None and p.bound == "max"
    assert extract("tires 80 each").price is not None
    assert extract("tires 225/65R17").price is None


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("llantas 225/65R17", "size", "225/65R17"),
        ("pneus 205/55 R16", "size", "205/55R16"),
        ("шины 205/55 р16", "size", "205/55R16"),  # a Cyrillic "р"
        ("Procuro jaqueta puffer North Face tam M preta", "size", "M"),  # "tam", short for tamanho
        # a string instrument's size
        ("Busco violín 3/4 para mi hijo que empieza en el conservatorio", "size", "3/4"),
        ("مطلوب كمان مقاس ٣/٤ مستعمل لطفل مبتدئ", "size", "3/4"),
        ("小提琴 1/2 初学者", "size", "1/2"),
        ("Vendo guitarra, disponible 1/2 de mes", "size", None),  # a date, past its clause
        ("violin lessons 2 times a week, 1/2 hour", "size", None),
        ("Reifen 205 / 55 ZR 16", "size", "205/55ZR16"),
        ("zapatillas talla 42", "size", "42"),
        ("跑步鞋 42码", "size", "42"),
        # a size before its label, a Korean shoe size in millimetres, a capital letter size alone
        ("北面羽绒服,M码,黑色", "size", "M"),
        ("ノースフェイスのヌプシ、Mサイズの黒", "size", "M"),
        ("에어버기 돔2 L사이즈 개모차", "size", "L"),
        ("뉴발란스 550 265 사이즈 구해요", "size", "42"),
        ("Burton Cartel bağlama, M beden", "size", "M"),
        ("New Balance 550 42 numara arıyorum", "size", "42"),
        ("кроссовки New Balance, 42 размер", "size", "42"),
        ("puffer jacket in XL, black", "size", "XL"),
        ("iPhone 12 128GB", "storage", "128GB"),
        ("iPhone 12 128 Go", "storage", "128GB"),
        ("laptop 1TB", "storage", "1TB"),
        ("MacBook 8GB RAM", "ram", "8GB"),
        ("OnePlus 12R 16GB/256GB, Iron Gray", "storage", "256GB"),  # memory/storage: the second is storage
        ("OnePlus 12R 16GB/256GB, Iron Gray", "ram", "16GB"),
        ("小米14 12+256G 黑色", "storage", "256GB"),
        ("갤럭시 S24 8/256기가 팝니다", "storage", "256GB"),  # every storage unit _STORAGE reads
        ("갤럭시 S24 8/256기가 팝니다", "ram", "8GB"),
        ("Redmi Note 13 Pro 5G 8/256, under 15k", "storage", "256GB"),  # a pair without a unit
        ("Huawei Mate 60 Pro bản 12/512, máy đẹp", "ram", "12GB"),
        ("laptop 16GB/1TB SSD", "storage", "1TB"),
        ("Galaxy S23 8/128 GB", "storage", "128GB"),
        ("tires 225/65R17 2/16 GB", "size", "225/65R17"),
        ("Samsung 55 inch TV", "screen", "55in"),
        ("televisor de 55 pulgadas", "screen", "55in"),
        ("三星55英寸电视", "screen", "55in"),
        ("Samsung 55 in TV", "screen", "55in"),
        ("LG monitor 27 in, like new", "screen", "27in"),
        ("iPhone 12 Pro Max", "model", "iphone 12 promax"),
        ("Galaxy S21 Ultra", "model", "galaxy s21 ultra"),
        ("出售PS5游戏机", "model", "ps 5"),
        ("PlayStation 5", "model", "ps 5"),
        ("Michelin tires", "brand", "michelin"),
        ("博世电钻", "brand", "bosch"),
        ("used tires", "condition", "used"),
        ("llantas usadas", "condition", "used"),
        ("gebrauchte Reifen", "condition", "used"),
        ("pneus d'occasion", "condition", "used"),
        ("二手轮胎", "condition", "used"),
        ("como nuevo", "condition", "like_new"),
        ("brand new", "condition", "new"),
        ("neue Reifen", "condition", "new"),
        ("Winterreifen", "season", "winter"),
        ("neumáticos de invierno", "season", "winter"),
    ],
)
def test_attributes(text: str, key: str, value: str) -> None:
    assert extract(text).attributes.get(key) == value


@pytest.mark.parametrize("text", ["Office chairs, 10 in stock, $50 each", "Plates, 12 in good condition"])
def test_in_before_a_word_is_no_inch(text: str) -> None:
    # "10 in stock" was a 10-inch screen
    assert "screen" not in extract(text).attributes, text


@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("springbed 160x200 lengkap divan", "160x200"),
        ("cama 160 x 200 cm", "160x200"),
        ("кровать 160х200см", "160x200"),
        ("160×200のスプリングベッド", "160x200"),
        (
            "alfombra 2,5x3m",
            "250x300",
        ),  # metres and millimetres as centimetres: one rug, one bed, however written
        ("床垫 1.8x2米", "180x200"),
        ("Tisch 600x400 mm", "40x60"),
        ("кровать 160 на 200 см", "160x200"),
        ("отдам 2 на 3 дня", None),  # "на" without a unit is a preposition
        ("mesa 120x60x75 cm", "60x120"),  # the first two of three
        ("IKEA MALM dresser, 160x78 cm", "78x160"),
        ("AMD Ryzen 7 7800X3D tray", None),  # a model name, not 3 x 7800
        ("monitor 1920x1080p", None),
        ("2 crates (20 x 0.5L each)", None),  # a count times a volume
    ],
)
def test_dimensions(text: str, dims: str | None) -> None:
    assert extract(text).attributes.get("dimensions") == dims


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("Looking for a 12L stainless steel couscoussier", "12l"),
        ("Couscoussier alu 8 litres, bon état", "8l"),
        ("للبيع كسكاس ستانلس ١٢ لتر", "12l"),
        ("Kiste Club-Mate 24 x 0,33 l, ungeöffnet", "0.33l"),
        ("2 crates (20 x 0.5L each)", "0.5l"),
        ("канистра 20 л, мотор 150 л.с.", "20l"),  # horsepower (л.с.) is no litre
        ("5升的花生油", "5l"),
        ("bidon d'huile 5 L et une bouteille de 500 ml", "5l,0.5l"),
        ("bình 3 lít", "3l"),
        ("तेल 5 लीटर", "5l"),
        ("Olivenöl, 1.500 ml Flasche", "1.5l"),  # a thousands separator, not 1.5 ml
        ("botella de 1,25 l", "1.25l"),
        ("5 lbs, 5 lei", None),  # a unit word must end where the litre sign ends
        ("مل 5 ملابس", None),
    ],
)
def test_volume(text: str, volume: str | None) -> None:
    assert extract(text).attributes.get("volume") == volume


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Lot de 12 santons de Provence 7 cm", "7cm"),
        ("Santons 12 cm, lot de 8", "12cm"),
        ("ブーツ 27cm", "27cm"),
        ("игрушка 30 см", "30cm"),
        ("雕像 15厘米", "15cm"),
        ("kayak 3,2 m", "320cm"),
        ("cama 160 x 200 cm", None),  # dimensions, not a length
        ("mesa 120 cm de largo y 60 cm de ancho", "120cm"),  # the first; the other side is no contradiction
    ],
)
def test_length(text: str, length: str | None) -> None:
    ex = extract(text)
    assert ex.attributes.get("length") == length
    assert "length" not in ex.uncertain


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        ("selling 4 used tires", 4),
        ("vendo cuatro llantas", 4),
        ("verkaufe vier Reifen", 4),
        ("求购4条轮胎", 4),
        ("出售两张门票", 2),
        ("jeu de 4 pneus", 4),
        ("a pair of skis", 1),  # sold by the pair: one pair is one thing, its price the pair's
        ("a pair of tickets", 2),
        ("Selling a pair of Nike running shoes", 1),
        ("Vendo un par de zapatillas Nike talla 42", 1),
        ("Продам пару кроссовок Nike", 1),
        ("Cari sepasang sepatu futsal", 1),
        ("bán một đôi giày Nike", 1),
        ("bir çift ayakkabı satılık", 1),
        ("一双耐克鞋", 1),
        ("चाँदी की पायल, जोड़ी, नई", None),
        ("tent for 4 people", None),
        ("iPhone 12", None),
        ("Corolla 2015, 120,000 km", None),
        ("Vendo Yamaha FZ-S modelo 2021, 14.000 km, 08 firmado", None),
        ("vendo 08 bicis", None),
        # a number after a name is its model, not a count
        ("GoPro Hero 11 Black, pago hasta 230 dólares", None),
        ("Dell XPS 13 with 16GB RAM", None),
        ("JBL PartyBox 110 स्पीकर बेचना है", None),
        ("Hi! Selling 4 tires", 4),  # a capital after a sentence's end is not a name
        ("Ich suche 4 Winterreifen", 4),
        ("Would take 2 bags", 2),
        # a number before a month is a date
        ("Anyone driving to Mysore on Saturday 12 Dec?", None),
        ("12 दिसंबर शनिवार को मैसूर जाना है", None),
        ("Ищу попутку в субботу, 12 декабря", None),
        ("12 Aralık Cumartesi Mysore'a giden var mı?", None),
        # a number before a unit of the text's language is a measure
        ("Deuter 65 lt sırt çantası alınır", None),
        ("Suche Trekkingrucksack mit 65 Litern", None),
        ("12 litrelik çelik tencere arıyorum", None),
        ("20 jant katlanır bisiklet arıyorum", None),
        ("Куплю бруснику, ведро 10 литров", None),
        ("80 सेमी का गोल आईना चाहिए", None),
        ("أبحث عن جهاز Steam Deck OLED سعة 512 جيجا", None),
        ("2 kasa Club-Mate arıyorum", 2),
        # "a couple of" months, scratches; "ein paar" (a few); a double bed, a tandem kayak: no pair
        ("Продаю ноутбук, пользовался пару месяцев", None),
        ("Продам велосипед, есть пара царапин на раме", None),
        ("Продам пару колёс R16", 2),
        ("used it a couple of months", None),
        ("a couple of minor scratches", None),
        ("selling a couple of chairs", 2),
        ("Verkaufe Seesack, ein paar Gebrauchsspuren", None),
        ("Satılık çift kişilik baza", None),
        ("bir çift kayak takımı", 1),
        ("Cần mua thuyền kayak đôi", None),
        # "old" after a number is an age only at a clause's end ("5 years old", "2 old" chairs were no count)
        ("selling 2 old chairs", 2),
        ("two old bikes", 2),
        ("kid bike for a 5 year old", None),
        # a count of flaws is none of the things ("2 small scratches")
        ("Selling my bike, 2 small scratches on the frame", None),
        ("Verkaufe Fahrrad, 2 Kratzer", None),
        ("Продам велосипед, 2 царапины на раме", None),
        ("Vendo móvil, tiene 2 rayones pequeños", None),
        ("selling 4 tires, 2 with small dents", 4),
        # a counter: "개월" is months ("18개월" is no 18 of anything); bags and volumes
        ("여아 내복 80사이즈(12~18개월) 6벌 일괄 판매해요", 6),
        ("아기 옷 18개월용", None),
        ("물만두요, 3봉지 살게요", 3),
        ("冷凍水餃子を探しています。2袋ほしいです。", 2),
        ("ハリー・ポッター全7巻を探しています", 7),
        ("求手工冻饺子，想买两袋", 2),
    ],
)
def test_quantity(text: str, qty: int | None) -> None:
    assert extract(text).quantity == qty


def test_contradictions_are_warned() -> None:
    ex = extract("tires 225/65R17 or 205/55R16, new and used")
    assert ex.attributes["size"] == "225/65R17"
    assert "size" in ex.uncertain and "condition" in ex.uncertain
    assert any("contradictory size" in w for w in ex.warnings)
    assert any("contradictory condition" in w for w in ex.warnings)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("80", 80.0),
        ("80.50", 80.5),
        ("80,50", 80.5),
        ("1.200", 1200.0),
        ("1,200.50", 1200.5),
        ("1 200", 1200.0),
        ("x", None),
    ],
)
def test_parse_number(text: str, value: float | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("selling four used tires for my truck", "en"),
        ("necesito llantas para mi camioneta", "es"),
        ("求购轮胎", "zh"),
        ("je cherche des pneus pour ma voiture", "fr"),
        ("ich suche Reifen für meinen Wagen", "de"),
        ("preciso de pneus para minha caminhonete", "pt"),
        ("中古のタイヤを売ります", "ja"),
        ("продаю шины", "ru"),
        # no word of any detection table: the labelled texts' words decide
        ("IKEA MALM 6-drawer dresser", "en"),
        ("Honda scooter, single owner, low mileage", "en"),
        ("Cerco cuffie originali, pochi mesi di vita", "it"),
        ("Compro scrivania in legno massello", "it"),
        ("Kinderfahrrad 20 Zoll mit Stützrädern", "de"),
        ("tủ lạnh Samsung 300 lít còn mới", "vi"),
        ("sepatu futsal anak ukuran 33", "id"),
        ("bisiklet kaskı çocuk için", "tr"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_detect_language_without_evidence() -> None:
    assert detect_language("225/65R17 $80") == (None, 0.0)
    assert detect_language("xyzzy qwrt")[0] is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_crashes(text: str) -> None:
    ex = extract(text)
    assert isinstance(ex.attributes, dict)
    for k, v in ex.attributes.items():
        assert k.isascii() and v
    if ex.quantity is not None:
        assert ex.quantity >= 1
    _, conf = detect_language(text)
    assert 0.0 <= conf <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=99))
def test_parse_number_roundtrip(whole: int, cents: int) -> None:
    assert parse_number(f"{whole}.{cents:02d}") == pytest.approx(whole + cents / 100)
    assert parse_number(f"{whole:,}") == whole


@pytest.mark.parametrize(
    ("text", "default", "amount", "currency"),
    [
        # "rupees" name the rupee of the place (Indonesia's, Sri Lanka's...), else India's
        ("Procuro Galaxy S23, até 8 milhões de rupias", "IDR", 8_000_000.0, "IDR"),
        ("Procuro Galaxy S23, até 8 milhões de rupias", None, 8_000_000.0, "INR"),
        ("Ищу телевизор до 30 тысяч рупий", "LKR", 30_000.0, "LKR"),
        ("need a bike under 5000 rupees", "EUR", 5000.0, "INR"),
        ("Rp 150.000 saja", "INR", 150_000.0, "IDR"),  # rupiah is Indonesia's wherever it is read
        # a link word between multiplier and currency, and after a multiplier it is no unit
        ("vendo casa 2 millones de pesos", "ARS", 2_000_000.0, "ARS"),
        ("Appartement 2 millions d'euros", None, 2_000_000.0, "EUR"),
        ("busco depto hasta 3 millones de", "ARS", 3_000_000.0, "ARS"),
        # the number words of the currency's own language ("150rb" in an English-looking text in Jakarta)
        ("Cari bibit alpukat, budget 150rb", "IDR", 150_000.0, "IDR"),
        ("budget 4k for a TV", "USD", 4000.0, "USD"),
    ],
)
def test_rupees_links_and_local_number_words(
    text: str, default: str | None, amount: float, currency: str
) -> None:
    p = extract(text, default).price
    assert p is not None and (p.amount, p.currency) == (amount, currency)


@pytest.mark.parametrize("text", ["Busco tele Sony Bravia de 43 pulgadas, 4K", "Samsung 55 inch 8K QLED"])
def test_a_resolution_is_no_price(text: str) -> None:
    assert extract(text, "USD").price is None


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("Busco llantas de nieve 215 60 16, las 4", "215/60R16"),
        ("llantas 215/60 16 usadas", "215/60R16"),
        ("4 pneus 205 55 r16", "205/55R16"),
        ("call me 215 60 16 45", None),  # a phone number
        ("+7 915 60 16", None),
        ("215 60 16,5", None),
    ],
)
def test_a_tire_size_written_without_its_marks(text: str, size: str | None) -> None:
    assert extract(text).attributes.get("size") == size


@pytest.mark.parametrize(
    ("text", "brand", "category"),
    [
        ("Ravensburger Puzzle 1000 Teile, vollständig", "ravensburger", "kids/toys"),
        ("Cherche poussette Uppababy Vista d'occasion", "uppababy", "kids/strollers"),
        ("スノーピークのテントを探しています", "snow peak", "sports/camping"),
        ("스노우피크 텐트 구해요", "snow peak", "sports/camping"),
    ],
)
def test_a_brand_of_one_kind_of_goods_hints_its_category(text: str, brand: str, category: str) -> None:
    assert extract(text).attributes.get("brand") == brand
    assert BRAND_CATEGORIES[brand][0] == category


@pytest.mark.parametrize(
    ("text", "model"),
    [
        # punctuation after the number ends the model; a number going on does not ("1,200" is a price)
        ("selling iphone 13, 200", "iphone 13"),
        ("Vendo iPhone 11. Precio 250 euros", "iphone 11"),
        ("Verkaufe iPhone XR, 150€ VB", "iphone xr"),
        ("出售iPhone 13，价格3000元", "iphone 13"),
        ("iPhone 14 Pro, 128GB, 700€", "iphone 14 pro"),
        ("iphone 1,200 eur", None),
        ("iphone 12.5", None),
        # the family and its variant in other scripts, read as the Latin model (a hard attribute)
        ("아이폰 13 미니 팝니다 40만원", "iphone 13 mini"),
        ("아이폰13프로를 팝니다", "iphone 13 pro"),
        ("アイフォン13ミニ 売ります", "iphone 13 mini"),
        ("продам айфон 12 про макс 256гб", "iphone 12 promax"),
        ("आईफोन 14 प्लस चाहिए", "iphone 14 plus"),
        ("مطلوب ايفون 13 برو", "iphone 13 pro"),
        ("갤럭시 S23 울트라 팝니다", "galaxy s23 ultra"),
        ("रेडमी नोट 13 प्रो 5G चाहिए", "redmi note13 pro"),
        ("Redmi Note 12 Pro, 150 USD", "redmi note12 pro"),
        ("苹果15 Pro Max 出售", "iphone 15 promax"),
        ("苹果12个 红富士", None),  # twelve apples
        ("원플러스 12 팝니다", "oneplus 12"),
        ("一加12 出售", "oneplus 12"),
        ("小米14 256G", "xiaomi 14"),
        ("小米5斤 新米", None),  # five jin of millet
        ("맥북 에어 M2 팝니다", "macbook air m2"),
        ("MacBook Air M2 13", "macbook air m2"),
        ("아이패드 에어 5세대", "ipad air"),
        ("갤럭시 탭 S9 팝니다", "galaxy tab s9"),
        ("플스5 디스크 에디션", "ps 5"),
        ("プレステ5 本体", "ps 5"),
        ("ПС5 продам", "ps 5"),
        ("닌텐도 스위치 OLED", "switch oled"),
        ("ニンテンドースイッチ 有機ELモデル", "switch oled"),
        ("スイッチ 有機ELモデル", None),  # a switch alone, in Japanese, is any switch
        ("selling my switch, barely used, $180", "switch"),
        ("TP-Link 8 port gigabit switch, $20", None),  # a network switch
        ("Cisco 24-port switch for sale", None),
        ("selling light switch covers, 10 pcs", None),
        ("XPS 15 for sale", "xps 15"),
        ("联想 X1 Carbon 第9代", "thinkpad x1 carbon 9"),
        ("ThinkPad X1 Carbon Gen 9, 16GB", "thinkpad x1 carbon 9"),
        ("Suche ThinkPad X1 Carbon 9. Generation", "thinkpad x1 carbon 9"),
        ("Ищу ThinkPad X1 Carbon 9 поколения", "thinkpad x1 carbon 9"),
        ("联想 X1 Carbon 笔记本", None),  # no generation: none of them
        # earbuds with their generation; without one, no model (not a conflict with every generation)
        ("런던에서 에어팟 프로 2세대 구해요", "airpods pro 2"),
        ("AirPods 3rd gen with Lightning case, £70", "airpods 3"),
        ("AirPods Pro (2. Generation), 180 €", "airpods pro 2"),
        ("AirPods Pro 第2世代 新品", "airpods pro 2"),
        ("AirPods Pro, like new", None),
        ("AirPods Pro 200€", None),
    ],
)
def test_a_phone_model_in_any_script(text: str, model: str | None) -> None:
    ex = extract(text)
    assert ex.attributes.get("model") == model, ex.attributes
    if model is not None:  # the model's number is neither a count nor a price
        assert ex.quantity is None and not any(model.split()[1] in w for w in ex.warnings)


@pytest.mark.parametrize(
    ("text", "amount", "currency", "per_unit", "bound"),
    [
        # millions with their fraction after the word: 1.8 million, not 1
        ("Bán sơn chống thấm, 1tr8/thùng", 1_800_000.0, None, None, None),
        ("Bán tủ lạnh Toshiba 3tr5", 3_500_000.0, None, None, None),
        ("giá 1tr25", 1_250_000.0, None, None, None),
        ("Dijual kulkas 1jt5 nego", 1_500_000.0, None, None, None),
        # "lucas" (thousands of pesos) is Spanish: the text was Italian and 300 a count
        ("vendo bici 300 lucas", 300_000.0, None, None, None),
        # thousands the same way: "1k2" was 1,000
        ("bán áo khoác 1k2 $", 1_200.0, "USD", None, None),
        ("selling boots, 2k5 USD", 2_500.0, "USD", None, None),
        ("mua xe 1k25 USD max", 1_250.0, "USD", None, "max"),
        ("selling boots 1k250 USD", 1_250.0, "USD", None, None),  # not 1.250k (1,250,000)
        ("selling boots 1k125 USD", 1_125.0, "USD", None, None),
        # 円 is the yen whatever the language detected (kanji alone read as Chinese; Latin as English)
        ("冷蔵庫 15,000円", 15_000.0, "JPY", None, None),
        ("sofa 1,500円", 1_500.0, "JPY", None, None),
        # dinars: a country's when named, else assumed (and warned); never a quantity
        ("بسعر 50 دينار أردني", 50.0, "JOD", None, None),
        ("مطلوب ٣ كراسي بسعر ٥٠ دينار للواحد", 50.0, "JOD", True, None),
        ("للبيع ب ١٠ دينار كويتي", 10.0, "KWD", None, None),
        # Turkish case endings on the lira, and "each" before the price in Vietnamese, Hindi, Indonesian
        ("2 adet bilet lazım, tanesi 500 liradan fazla olmasın", 500.0, "TRY", True, "max"),
        ("Cần mua 2 vé máy bay, mỗi vé dưới 2 triệu", 2_000_000.0, None, True, "max"),
        ("2 टिकट चाहिए, हर टिकट 500 रुपये तक", 500.0, "INR", True, "max"),
        ("Dijual 3 kursi plastik @25rb", 25_000.0, None, True, None),
    ],
)
def test_prices_in_more_forms(
    text: str, amount: float, currency: str | None, per_unit: bool | None, bound: str | None
) -> None:
    p = extract(text).price
    assert p is not None, text
    assert (p.amount, p.currency, p.per_unit, p.bound) == (amount, currency, per_unit, bound)


def test_dinars_follow_the_default_currency_and_warn_without_one() -> None:
    kw = extract("50 دينار", default_currency="KWD")
    assert kw.price is not None and kw.price.currency == "KWD" and not kw.warnings
    bare = extract("50 دينار")
    assert bare.price is not None and bare.price.currency == "JOD" and bare.quantity is None
    assert any("dinars" in w for w in bare.warnings)


@pytest.mark.parametrize(
    ("text", "amount", "currency", "per_unit"),
    [
        # a rate after the amount: "/hour" ends the number ("/55" after a tire's width would not)
        ("Overnight newborn nanny, nights only, $25/hour", 25.0, "USD", None),
        ("T1 for rent in Arroios. €1,150/month, 2 months deposit", 1150.0, "EUR", None),
        # a number after a price's label is the price, in the place's currency
        ("整租两室一厅，7楼，月租3500，押一付三。", 3500.0, None, None),
        ("Jual motor tahun 2018, harga 14.500.000 bisa nego.", 14_500_000.0, None, None),
        # a full-width comma between numbers ends the first; "Lサイズ 16,000円" is size L and 16,000 yen
        ("出拯救者Y7000P 2023 16+512，4200元", 4200.0, "CNY", None),
        ("バートン ビンディング Lサイズ 16,000円", 16_000.0, "JPY", None),
        ("1，200元", 1200.0, "CNY", None),
        # currency words: 만원 alone, AUD in Chinese and 每人, JD, COP, т.р. (thousand roubles), DH
        ("남아 내복 4벌, 만원에 드려요", 10_000.0, "KRW", None),
        ("还剩3个座位，每人40澳币", 40.0, "AUD", True),
        ("450 JD per month", 450.0, "JOD", None),
        ("70.000 COP per hour", 70_000.0, "COP", None),
        ("Продам авто 2012 г.в., 650 т.р., торг.", 650_000.0, "RUB", None),
        ("Репетитор по английскому, 1500 р/час", 1500.0, "RUB", True),
    ],
)
def test_rates_labels_and_currency_words(
    text: str, amount: float, currency: str | None, per_unit: bool | None
) -> None:
    p = extract(text).price
    assert p is not None, text
    assert (p.amount, p.currency, p.per_unit) == (amount, currency, per_unit)


@pytest.mark.parametrize(
    ("text", "default", "currency", "warned"),
    [
        ("Forfait 4 000 DH.", "MAD", "MAD", False),
        ("حلاق رجالي ب 100 درهم", "MAD", "MAD", False),
        ("حلاق رجالي ب 100 درهم", None, "AED", True),
        ("100 د.إ", None, "AED", False),
    ],
)
def test_dirhams_follow_the_place(text: str, default: str | None, currency: str, warned: bool) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None and ex.price.currency == currency
    assert any("dirhams" in w for w in ex.warnings) is warned


@pytest.mark.parametrize(
    ("text", "amount", "currency", "bound"),
    [
        # a range is its upper end (bound "range" unless a bound word says otherwise); its lower end no count
        ("Math tutor wanted, between $30 and $40 an hour.", 40.0, "USD", "range"),
        ("pago entre 500 y 800 pesos", 800.0, "MXN", "range"),
        ("Achète console, budget entre 150 et 200 euros", 200.0, "EUR", "range"),
        ("庭の草むしり、5千円から8千円くらい。", 8000.0, "JPY", "approx"),
        ("Ev temizliği, günlük 1.200-1.500 TL arası", 1500.0, "TRY", "range"),
        ("lương từ 6 đến 7 triệu/tháng", 7_000_000.0, None, "range"),
        ("оплата от 50 до 70 тыс.", 70_000.0, None, "max"),
        ("sofa 200-250 €", 250.0, "EUR", "range"),
        # not a range: a lower end under a quarter of the upper
        ("Size 42 - 300 €", 300.0, "EUR", None),
        # fractions of the large units, spaced: 3.2 billion dong, 1.5 million, 7.5 억 won
        ("Bán đất 5x20m mặt tiền đường, giá 3 tỷ 2.", 3_200_000_000.0, None, None),
        ("Bán bộ loa cũ, 1 triệu rưỡi, ai cần ib.", 1_500_000.0, None, None),
        ("아파트 매매 32평 12층, 7억 5천.", 750_000_000.0, None, None),
        ("1억 2천만원에 팝니다", 120_000_000.0, "KRW", None),
    ],
)
def test_ranges_and_spaced_fractions(
    text: str, amount: float, currency: str | None, bound: str | None
) -> None:
    ex = extract(text)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency, ex.price.bound) == (amount, currency, bound)
    assert ex.quantity is None and not any("several prices" in w for w in ex.warnings)


@pytest.mark.parametrize("text", ["tickets 2 to 3, $40 each", "laptop 1 to 2 years old"])
def test_to_before_a_number_is_no_terabyte(text: str) -> None:
    assert "storage" not in extract(text).attributes


@pytest.mark.parametrize(
    ("text", "default", "amount", "currency"),
    [
        # a dollar word is the place's dollar, as "$" is; an explicit one is its own
        ("Busco una Xbox Series X. Pago hasta 480 dólares.", "CAD", 480.0, "CAD"),
        ("مطلوب كاياك صيد، الميزانية حوالي ٨٥٠ دولار", "AUD", 850.0, "AUD"),
        ("Cerco cuffie, pago massimo 210 dollari", None, 210.0, "USD"),
        # where "$" is the peso's sign, a dollar *word* is US dollars ("95 mil dólares" in Buenos Aires)
        ("Vendo depto 2 ambientes en Caballito, 95 mil dólares", "ARS", 95_000.0, "USD"),
        ("need a plumber tomorrow, pay up to 80 dollars", "MXN", 80.0, "USD"),
        ("Vendo bici de montaña, $4,500", "MXN", 4500.0, "MXN"),
        ("Cần mua kayak, tầm 800 đô Úc.", None, 800.0, "AUD"),
        ("予算は900豪ドル以内です。", None, 900.0, "AUD"),
        ("호주 달러 500", None, 500.0, "AUD"),
        # "¥" is the place's yen or yuan; pounds are the place's (Egyptian in Alexandria)
        ("WTB roof box, up to ¥70,000.", "JPY", 70_000.0, "JPY"),
        ("出售相机 ¥2800", "CNY", 2800.0, "CNY"),
        ("butuh teknisi AC, budget maks 500 pound", "EGP", 500.0, "EGP"),
        ("Procuro queratina em casa, até 1500 libras", None, 1500.0, "GBP"),
        ("收卡西欧计算器，15镑以内", "GBP", 15.0, "GBP"),
        # dirhams in any language follow the place
        ("找上门理发师，100迪拉姆左右", "MAD", 100.0, "MAD"),
        ("Ищу барбера, до 150 дирхамов", "MAD", 150.0, "MAD"),
        # Turkish case endings, a lakh in Russian, a vạn and "man" (10,000) in Vietnamese
        ("Ryzen 7 işlemci arıyorum, 1900 yuana kadar", None, 1900.0, "CNY"),
        ("Bornova'da satılık 2+1 arıyorum, 4,5 milyona kadar", "TRY", 4_500_000.0, "TRY"),
        ("Куплю мотоцикл, до 1 лакха рупий.", None, 100_000.0, "INR"),
        # Indian English writes lakhs and crores in words too
        ("Selling my Royal Enfield, 1.2 lakh", "INR", 120_000.0, "INR"),
        ("3BHK flat for sale, 2 crores", "INR", 20_000_000.0, "INR"),
        ("need a used Activa under 45k", "INR", 45_000.0, "INR"),
        ("Cần mua cốp nóc cũ, tầm 6 vạn yên.", None, 60_000.0, "JPY"),
        ("Cần mua xe đạp điện cũ, tầm 5 man", "JPY", 50_000.0, "JPY"),
        # three digits or more right before a bound word are a price
        ("收7800X3D，散片盒装都行，2000以内", "CNY", 2000.0, "CNY"),
        ("UPSC के लिए पुरानी किताबें चाहिए, 3000 तक", "INR", 3000.0, "INR"),
    ],
)
def test_currency_words_follow_the_place(
    text: str, default: str | None, amount: float, currency: str
) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency) == (amount, currency)


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        ("收7800X3D，散片盒装都行", None),  # not 800 ("# ?x" inside a processor's name)
        ("Ryzen 7 7800X3D tray", None),
        ("sell tires 4x", 4),
        ("12 पीस हों तो बढ़िया", 12),  # a count of pieces, not a price per piece
    ],
)
def test_counts_inside_names_and_pieces(text: str, qty: int | None) -> None:
    ex = extract(text)
    assert ex.quantity == qty and (qty is None or ex.price is None)


@pytest.mark.parametrize(
    "text",
    [
        # thousands of kilometres, floors, rooms, gears, areas, the last group of a phone number count nothing
        "Vendo carro 2016, 80 mil km, 45 mil",
        "سيارة موديل 2017 ممشى 120 ألف كم، السعر 45 ألف ريال",
        "2015 model araç, 150 bin km'de, 650 bin TL",
        "Продам авто, пробег 140 тыс. км, 650 т.р.",
        "Vendo depto 2 ambientes, piso 7, Caballito, alrededor de 95 mil dólares",
        "Vendo bici de montaña rodado 29, 18 velocidades, $4,500 pesos",
        "Apartamento à venda, 2 vagas, 98m², R$ 520 mil.",
        "Сдам однушку у метро, 35 тыс./мес + свет, 5 этаж.",
        "Квартира 2-комн., 54 м², 6,2 млн руб.",
        "Vendo appartamento 90 mq, 180 mila euro.",
        "प्लॉट बिकाऊ, 200 गज, कीमत 45 लाख रुपये",
        "Satılık 3+1 daire, 120 m², 5 milyon TL.",
        "Cần ship gấp, liên hệ 0912 345 678 trước 17h.",
        "للبيع موبايل 256 كيكا نظيف، السعر 900 ألف دينار",
    ],
)
def test_numbers_that_count_nothing(text: str) -> None:
    assert extract(text).quantity is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Продам диван 5000р", 5000.0),
        ("Продам авто, 650 т.р., торг.", 650_000.0),
        ("куплю 2 шины р16", None),  # a rim size written in Cyrillic, no roubles
        ("Продам велосипед, Ленинский р-н, 5 скоростей", None),  # р-н: a district
        ("2015'e kadar model araba arıyorum", None),  # a year with a case ending, no bare price
    ],
)
def test_bare_r_and_bare_numbers_money_or_not(text: str, amount: float | None) -> None:
    ex = extract(text)
    assert (ex.price.amount if ex.price else None) == amount
    assert not any("currency" in w for w in ex.warnings)


@pytest.mark.parametrize(
    ("text", "amount", "per_unit", "qty"),
    [
        # a number before a word for the whole lot is a price, not a count (it was read as quantity 180)
        ("tires 225/65R17, 4 of them, 50 each or 180 for all", 50.0, True, None),
        ("tires, 180 for all", 180.0, False, None),
        ("3 shirts, 20 for the lot", 20.0, False, 3),
        # under ``MIN_BARE_TOTAL`` it stays a count
        ("tickets, 3 total", None, None, 3),
    ],
)
def test_a_number_for_the_whole_lot_is_a_price(
    text: str, amount: float | None, per_unit: bool | None, qty: int | None
) -> None:
    ex = extract(text, default_currency="EUR")
    got = (ex.price and ex.price.amount, ex.price and ex.price.per_unit, ex.quantity)
    assert got == (amount, per_unit, qty)


def test_arabic_not_exceeding_is_a_maximum() -> None:
    ex = extract("مطلوب دراجة هوائية بسعر لا يتجاوز ٢٠٠ درهم", default_currency="MAD")
    assert ex.price is not None
    assert (ex.price.amount, ex.price.currency, ex.price.bound) == (200.0, "MAD", "max")


@pytest.mark.parametrize(
    ("text", "default", "amount", "currency"),
    [
        # whole units with a dash for the cents (German and Swiss ads): the amount was lost
        ("Verkaufe Fahrrad 300,- €", "EUR", 300.0, "EUR"),
        ("Kinderwagen, Preis: 85,-", "EUR", 85.0, "EUR"),
        ("Velo 250.– CHF", "CHF", 250.0, "CHF"),  # not "Fr." for francs: in German it is Friday too
        # a number beside a word for "negotiable" is the asking price ("150 obo", "VB 150")
        ("bike 150 obo", "USD", 150.0, "USD"),
        ("Sofa VB 150", "EUR", 150.0, "EUR"),
        # millions after an amount written currency first
        ("3 bed house for sale, $1.2M", "USD", 1_200_000.0, "USD"),
        ("flat in Zone 2, £2.5m", "GBP", 2_500_000.0, "GBP"),
    ],
)
def test_more_written_forms_of_a_price(text: str, default: str, amount: float, currency: str) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency) == (amount, currency)


def test_a_number_beside_negotiable_keeps_the_negotiable_attribute() -> None:
    assert extract("bike 150 obo", default_currency="USD").attributes.get("negotiable") == "yes"


@pytest.mark.parametrize("text", ["rope 1.5m long", "desk 1.5m wide, $80", "Tel. 0171-1234567"])
def test_lengths_and_phone_numbers_are_no_millions(text: str) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.price is None or ex.price.amount == 80.0, text


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        # a bound cue before a count: at most so many things, not a price of 3 (the agent would have bid 3)
        ("need up to 3 chairs", 3),
        ("looking for max 2 bikes", 2),
        ("busco hasta 3 sillas", 3),
        ("suche bis zu 4 Reifen", 4),
        ("cherche jusqu'à 3 chaises", 3),
        ("нужно до 4 шин", 4),
        ("最多3把椅子", 3),  # a counter after the number
        ("ghế tối đa 3 cái", 3),
        ("최대 3개", 3),
        ("need a van for max 3 hours", None),  # a unit: no price, no count of vans
    ],
)
def test_a_count_after_a_bound_word_is_no_price(text: str, qty: int | None) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.price is None, text
    assert ex.quantity == qty, text
    assert ex.limit_in_words is None, text


@pytest.mark.parametrize(
    ("text", "amount", "per_unit"),
    [
        ("need at most 4 tires under 300", 300.0, None),  # the count and the limit, each read
        ("up to 300 cash", 300.0, None),  # from ten up, a word after the number does not make it a count
        ("up to 5 each", 5.0, True),
        ("max 5 obo", 5.0, None),
        ("max 9", 9.0, None),
        ("tối đa 3 triệu", 3_000_000.0, None),
    ],
)
def test_money_after_a_bound_word_stays_a_limit(text: str, amount: float, per_unit: bool | None) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.bound, ex.price.per_unit) == (amount, "max", per_unit)


@pytest.mark.parametrize(
    ("text", "amount", "qty"),
    [
        # "củ": a million dong in speech, where it ends the amount
        ("bán xe 1 củ", 1_000_000.0, None),
        ("bán xe máy 3 củ thương lượng", 3_000_000.0, None),
        ("mua xe đạp tối đa 2 củ", 2_000_000.0, None),
        ("giá 2 củ, có bớt", 2_000_000.0, None),
        # and a bulb, a tuber or a charger brick where a noun follows it
        ("bán 2 củ sạc iphone", None, 2),
        ("bán 5 củ khoai", None, 5),
    ],
)
def test_cu_is_a_million_dong_only_where_it_ends_the_amount(
    text: str, amount: float | None, qty: int | None
) -> None:
    ex = extract(text, default_currency="VND")
    assert (ex.price and ex.price.amount, ex.quantity) == (amount, qty), text


@pytest.mark.parametrize(
    ("text", "default", "amount", "bound", "per_unit", "qty"),
    [
        # hundreds in words: a number word before "hundred" was read as a count of two, and no price
        ("selling my couch for two hundred bucks", "USD", 200.0, None, None, None),
        # a range's upper end is the price ("budget 4" was read as the bound)
        ("need a used laptop, budget 4-5 hundred", "USD", 500.0, "range", None, None),
        ("预算3800-4000", "CNY", 4000.0, "max", None, None),
        # a price after "each" written before it, without a currency ("每个300": 300 each)
        ("卖4个轮胎，每个300", "CNY", 300.0, None, True, 4),
        ("продаю шины по 3000", "RUB", 3000.0, None, True, None),
        ("タイヤ4本、1本5000", "JPY", 5000.0, None, True, 4),
        # slang: "косарь" is a thousand roubles; "conto" is a real in Brazil (it was read as a thousand)
        ("Продам айфон 13, 40 косарей", "RUB", 40_000.0, None, None, None),
        ("Procuro bicicleta até 800 conto", "BRL", 800.0, "max", None, None),
    ],
)
def test_hundreds_ranges_each_and_slang(
    text: str, default: str, amount: float, bound: str | None, per_unit: bool | None, qty: int | None
) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.bound, ex.price.per_unit, ex.quantity) == (amount, bound, per_unit, qty)


@pytest.mark.parametrize(
    "text", ["по 2 штуки", "по 15 человек", "over two hundred books", "5 hundred books for sale", "每个月300"]
)
def test_counts_of_each_and_hundreds_of_things_are_no_price(text: str) -> None:
    assert extract(text, default_currency="USD").price is None, text


@pytest.mark.parametrize(
    ("text", "default", "amount", "bound", "per_unit"),
    [
        # a bound word after a rate ("/mo max"): the buyer's maximum was read as an exact price
        ("Looking for 3 bedroom house to rent, $2,500/mo max", "USD", 2500.0, "max", None),
        ("Need a babysitter, $20/hr tops", "USD", 20.0, "max", None),
        # a word for both after the price: for the two ("assumed per unit" was the reading)
        ("Vendo 2 entradas, 60 € las dos", "EUR", 60.0, None, False),
        ("2 Karten, 80 € für beide", "EUR", 80.0, None, False),
        ("Продам 2 билета, 3000 за оба", "RUB", 3000.0, None, False),
        ("vendo 2 biglietti, 90 euro per entrambi", "EUR", 90.0, None, False),
        # a word for all before the price ("一共1500": 1,500 in all; the price was lost)
        ("转让演唱会门票两张，两张一共1500", "CNY", 1500.0, None, False),
        ("Verkaufe Set, insgesamt 150", "EUR", 150.0, None, False),
        # "VHB" (Verhandlungsbasis) like "VB"
        ("Verkaufe Kinderwagen, VHB 120", "EUR", 120.0, None, None),
    ],
)
def test_rates_with_bounds_and_prices_for_both(
    text: str, default: str, amount: float, bound: str | None, per_unit: bool | None
) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.bound, ex.price.per_unit) == (amount, bound, per_unit)


@pytest.mark.parametrize(
    "text", ["insgesamt 3 Teile", "Fahrrad komplett 2019.", "全部5个", "Reifen komplett 2020 gekauft"]
)
def test_a_count_or_a_year_after_a_word_for_all_is_no_price(text: str) -> None:
    assert extract(text, default_currency="EUR").price is None, text


@pytest.mark.parametrize(
    ("text", "purity", "amount", "qty"),
    [
        # a precious metal's karats or fineness: no price of 14,000, no count of 925
        ("gold chain 14k", "14k", None, None),
        ("anello oro 18k, 300 euro", "18k", 300.0, None),
        ("bague en or 18 carats 200€", "18k", 200.0, None),
        ("22 ayar altın bilezik 15.000 TL", "22k", 15000.0, None),
        ("Cordão de prata 925 legítima, R$ 250", "925", 250.0, None),
        ("silver 925 ring", "925", None, None),
        # without a metal word "14k" is money and 750 a number
        ("need 14k", None, 14000.0, None),
        ("apartment 750 sqft", None, None, None),
    ],
)
def test_karats_and_fineness_are_no_amounts(
    text: str, purity: str | None, amount: float | None, qty: int | None
) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.attributes.get("purity") == purity, text
    assert (ex.price and ex.price.amount, ex.quantity) == (amount, qty), text


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        ("Maine Coon Kitten, 2x geimpft, gechippt, 900 €", None),  # twice vaccinated, one kitten
        ("Lederhose, nur 2x getragen, 180 €", None),
        ("Cordão, 60 cm x 4 mm, R$ 250", None),  # a size, not four chains
        ("2x Tickets für Samstag, 80 € pro Stück", 2),
        ("2x gebrauchte Reifen", 2),
        ("tickets x2, $150 each", 2),
    ],
)
def test_times_and_sizes_are_no_sets(text: str, qty: int | None) -> None:
    assert extract(text, default_currency="EUR").quantity == qty, text


@pytest.mark.parametrize(
    ("text", "default", "amount"),
    [
        # "/-" after an amount (South Asian and East African ads): the amount is money; it was lost
        ("bike for sale 45,000/- negotiable", "INR", 45000.0),
        ("साइकिल 3500/- में", "INR", 3500.0),
        ("Selling sofa 15,000/-", "KES", 15000.0),
    ],
)
def test_an_amount_before_slash_dash_is_a_price(text: str, default: str, amount: float) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency) == (amount, default)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("원룸 월세 50 보증금 500", 500_000),  # Korean rent is said in 만원: 50 is 500,000 won
        ("월세 50에 구해요", 500_000),
        ("보증금 1000 월세 60 원룸 구합니다", 600_000),  # "60 원룸" was 60 won: "원룸" is a studio flat
        ("월세 450000", 450_000),  # written in won
        ("월세 50만원", 500_000),
        ("원피스 2만원", 20_000),
        ("5000원에 팝니다", 5000),
    ],
)
def test_korean_rent_is_in_ten_thousands_and_a_studio_is_no_won(text: str, amount: float) -> None:
    p = extract(text, default_currency="KRW").price
    assert p is not None
    assert (p.amount, p.currency) == (amount, "KRW")


@pytest.mark.parametrize(
    ("text", "amount", "quantity"),
    [
        ("vendo 4 llantas 4 por 2500", 2500, 4),  # no price at all, and no warning
        ("las 4 por 2500 negociables", 2500, 4),
        ("4 for $100", 100, 4),  # was a price for each
        ("2 por 100 pesos", 100, 2),
        ("verkaufe 2 Stühle, 2 für 50", 50, 2),
        ("продаю 2 колеса, 2 за 3000", 3000, 2),
    ],
)
def test_a_count_for_an_amount_is_the_price_of_the_lot(text: str, amount: float, quantity: int) -> None:
    ex = extract(text, default_currency="MXN")
    assert ex.price is not None and (ex.price.amount, ex.price.per_unit) == (amount, False)
    assert ex.quantity == quantity


@pytest.mark.parametrize(
    "text",
    ["need 2 for 10 minutes", "need 4 for 2019 Honda", "4 for 225/65R17", "2 por 3 metros", "1 for 50"],
)
def test_what_is_no_lot_price(text: str) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.price is None or ex.price.per_unit is not False


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("looking for a room, $1,500 a month max", "USD", 1500),  # was an exact price
        ("nanny needed, $20 an hour max", "USD", 20),
        ("room wanted 1500 per month max", "USD", 1500),  # was no price
        ("room wanted 1500 max", "USD", 1500),  # "max" was taken for a unit ("Pro Max")
        ("need a bike, 2k max", "USD", 2000),  # the same after a multiplier: published with the limit in it
        ("cần mua xe 5tr max", "VND", 5_000_000),
        ("busco piso, 800 al mes como máximo", "EUR", 800),  # was a count of 800
        ("cherche studio 700 par mois maximum", "EUR", 700),
        ("Suche Wohnung, 900 im Monat maximal", "EUR", 900),
        ("сниму квартиру, 30000 в месяц максимум", "RUB", 30000),
        ("2BHK फ्लैट किराये पर चाहिए, 15000 महीना तक", "INR", 15000),
    ],
)
def test_a_bound_after_a_period_is_read(text: str, currency: str, amount: float) -> None:
    ex = extract(text, default_currency=currency)
    assert ex.price is not None and (ex.price.amount, ex.price.bound) == (amount, "max")
    assert ex.quantity is None


@pytest.mark.parametrize(
    "text", ["Selling iPhone 128 Max", "iphone 13 pro max", "selling bike $300, bought a month ago"]
)
def test_a_model_or_a_past_month_is_no_bound(text: str) -> None:
    ex = extract(text, default_currency="USD")
    assert ex.price is None or ex.price.bound is None
