"""Things the phrase bank had no words for, heard since ``data/bank_more/later_gaps.txt`` gave its concepts
more phrases in every language: a jigsaw, snowboard bindings, nativity figurines, a Santa Claus hired for a
party, homemade cookies, crates of drinks, a company registered, a laptop cleaned, a piano moved, a bookcase,
a photo frame; later nastar, a camping cooler, a trekking backpack, a randoseru, a frying pan and an impact
driver, with the bank's two new concepts (an interpreter hired for a day, a shipping container) and
``brands.json``'s furniture lines (Kallax, Hemnes); then olive oil (a grocery) and olives (produce), a TV
stand and a wheelchair or a senior's scooter; then a sideboard ("enfilade", "Anrichte", "サイドボード"),
peppers in kana, the makes Milwaukee and Ricoh, and a plastic barrel; then makes and lines named alone.
Real use-m3 model. The texts are probes of my own, none from an evaluation set; the guards are things the new
phrases must not take."""

from __future__ import annotations

import pytest

from matching import understand


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Vendo caladora Bosch con maletín y hojas", "home/tools"),
        ("Stichsäge gesucht, gerne mit Pendelhub", "home/tools"),
        ("Selling a cordless jigsaw, Ryobi, with battery", "home/tools"),
        ("직소 구합니다 중고도 괜찮아요", "home/tools"),
        ("Busco fijaciones de snowboard talla M", "sports/winter"),
        ("Продам крепления для сноуборда, размер M", "sports/winter"),
        ("스노보드 바인딩 팝니다 M사이즈", "sports/winter"),
        ("Vends santons de Provence, petite collection", "home/decor"),
        ("Cerco statuine per il presepe, misura dieci centimetri", "home/decor"),
        ("Hiring a Santa for our shopping centre, three weekends in December", "jobs/gigs"),
        ("Нужен Дед Мороз со Снегурочкой, поздравить детей на Новый год", "jobs/gigs"),
        ("Procuramos Papai Noel para evento de fim de ano", "jobs/gigs"),
        ("Hago galletas caseras decoradas por encargo", "food/meals"),
        ("Biete drei Kästen Bier, Pfandflaschen, abzuholen", "food/groceries"),
        ("Vendo engradado de cerveja com garrafas", "food/groceries"),
        ("Открою ООО под ключ, регистрация за неделю", "services/legal"),
        ("Cần dịch vụ thành lập công ty trọn gói", "services/legal"),
        ("Laptop cleaning at your home: dust out of the fans, quick and cheap", "services/it-help"),
        ("노트북 청소 해주실 분 구해요", "services/it-help"),
        ("Cần chuyển đàn piano lên tầng ba", "services/moving"),
        ("Verkaufe Bücherschrank aus Holz", "home/furniture"),
        ("Vendo estantería para libros de madera", "home/furniture"),
        ("Продам фоторамки", "home/decor"),
        ("フォトフレーム 売ります", "home/decor"),
        ("Busco intérprete de chino para una feria, dos días", "jobs/gigs"),
        ("Нужен устный переводчик с английского на выставку, 2 дня", "jobs/gigs"),
        ("通訳を探しています。商談に同行してほしいです", "jobs/gigs"),
        ("Fuar için İngilizce tercüman aranıyor, 3 gün", "jobs/gigs"),
        ("Selling a used 20ft shipping container, wind and water tight", "other/misc"),
        ("Verkaufe Seecontainer 20 Fuß gebraucht", "other/misc"),
        ("Продам морской контейнер 40 футов", "other/misc"),
        ("Pineapple tarts homemade, order for Chinese New Year", "food/meals"),
        ("للبيع ثلاجة رحلات ٤٠ لتر", "sports/camping"),
        ("Satılık kamp buzdolabı 12V", "sports/camping"),
        ("求购登山背包 50升", "sports/camping"),
        ("Vendo Kallax blanco 2x2, como nuevo", "home/furniture"),
        ("Suche Hemnes Kommode weiß", "home/furniture"),
        ("Selling a red randoseru, used six years, good condition", "kids/school"),
        ("란도셀 팝니다 상태 좋아요", "kids/school"),
        ("Frying pan for sale, non-stick, barely used", "home/kitchen"),
        ("Busco sartén grande para paella", "home/kitchen"),
        ("무쇠팬 팝니다 시즈닝 완료", "home/kitchen"),
        ("WTB impact driver, bare tool is fine", "home/tools"),
        ("Busco atornillador de impacto con batería", "home/tools"),
        ("임팩트 드라이버 구해요", "home/tools"),
        ("Verkaufe TV-Board aus Holz", "home/furniture"),
        ("Vendo mobile porta TV bianco", "home/furniture"),
        ("Vendo rack para TV", "home/furniture"),
        ("Selling a folding wheelchair, like new", "other/misc"),
        ("Vendo silla de ruedas plegable", "other/misc"),
        ("Verkaufe Elektromobil für Senioren", "other/misc"),
        ("Vendo aceite de oliva de mi pueblo, garrafa de 5 litros", "food/groceries"),
        ("Olivenöl aus Kreta zu verkaufen, 5 Liter", "food/groceries"),
        ("Zeytinyağı satılık, köyümüzden", "food/groceries"),
        ("Vendo freidora sin aceite, poco uso", "home/appliances"),
        # guards: a jigsaw puzzle is no saw, an anime figure no ornament, a Santa costume clothing
        ("Selling a jigsaw puzzle, all pieces there", "kids/toys"),
        ("Vendo puzzle de mil piezas completo", "kids/toys"),
        ("Selling anime figurines, boxed", "kids/toys"),
        ("Selling a Santa costume, size L, worn once", "fashion/clothing"),
        # thermal paste sold is a computer part, a piano sold an instrument
        ("Selling thermal paste, unopened tube", "electronics/computer-parts"),
        ("Selling an upright piano, tuned last year", "sports/instruments"),
        # a document translated under oath is legal work, a language taught tutoring; a container rented for
        # storage is storage, a container house a home; pineapples are produce, a fridge an appliance
        ("Sworn translation of my birth certificate needed, English to German", "services/legal"),
        ("Нотариальный перевод паспорта, срочно", "services/legal"),
        ("Looking for a Korean tutor, twice a week", "services/tutoring"),
        ("Storage container to rent, 20ft, secure yard, monthly", "property/parking"),
        ("Container house for sale, 2 bedrooms, off-grid", "property/sale"),
        ("Fresh pineapples from the farm, 10 for $15", "food/produce"),
        ("Продам холодильник Атлант", "home/appliances"),
        # a television is no TV stand, a stroller no wheelchair, a motor scooter no mobility aid; olives and
        # dates stay produce when olive oil leaves it
        ("Vendo aceitunas para aliñar, recién cogidas", "food/produce"),
        ("Cerco olive da olio, anche poche cassette", "food/produce"),
        ("Selling a 55 inch TV, wall mount included", "electronics/tv"),
        ("Vendo carrito de bebé plegable", "kids/strollers"),
        ("Vendo scooter 125cc, pocos kilómetros", "vehicles/motorcycles"),
        ("Fresh dates from the farm for sale", "food/produce"),
        # a driver hired is a job
        ("Hiring a delivery driver, full time", "jobs/full-time"),
        # session 59: a sideboard's other names, shishito and chili in kana, a microwave spelt "micro-onde",
        # the tool and camera makes of brands.json; guards: a microphone stays one, French "micro-" compounds
        # and a flat's "pièces en enfilade" name none, stockings are clothing, Milwaukee the city no tool
        ("Vends enfilade scandinave en teck, 180 cm", "home/furniture"),
        ("Verkaufe Anrichte aus Eiche, 160 cm breit", "home/furniture"),
        ("サイドボード 譲ります 幅180cm", "home/furniture"),
        ("Vends buffet bas scandinave en chêne", "home/furniture"),
        ("ししとう 500g 売ります 朝採れ", "food/produce"),
        ("とうがらし 買いたいです 1kg", "food/produce"),
        ("Vends four micro-onde Samsung, bon état", "home/appliances"),
        ("Milwaukee M18 impact driver, body only", "home/tools"),
        ("밀워키 임팩 드라이버 팝니다", "home/tools"),
        ("リコー GR IIIx 売ります 美品", "electronics/cameras"),
        ("Ricoh GR III for sale, shutter count 3000", "electronics/cameras"),
        ("Vends micro Shure SM58 avec câble", "electronics/audio"),
        ("Commode en chêne, quelques micro-rayures sur le dessus", "home/furniture"),
        ("Carte micro SD 128 Go neuve", "electronics/computer-parts"),
        ("Appartement T3 à louer, pièces en enfilade, parquet", "property/rent"),
        ("Vends bas de contention taille 2", "fashion/clothing"),
        ("Sofa for sale, pickup in Milwaukee", "home/furniture"),
        # a barrel or drum for water or storage is a thing of its own (``other/misc|barrels``), a drum kit
        # stays an instrument and a keg of beer a drink
        ("Selling two blue plastic drums, 200 litres, food grade, rinsed", "other/misc"),
        ("Busco tambo de plástico de 200 litros para agua", "other/misc"),
        ("Cari drum plastik biru 200 liter bekas", "other/misc"),
        ("ドラム缶 譲ってください", "other/misc"),
        ("Куплю пластиковую бочку на 200 литров", "other/misc"),
        ("드럼통 구합니다 200리터", "other/misc"),
        ("Plastik varil arıyorum 200 lt", "other/misc"),
        ("Selling my drum kit, Pearl, with cymbals", "sports/instruments"),
        ("Vendo batería Pearl completa con platillos", "sports/instruments"),
        ("Bierfass 30 Liter zu verkaufen, voll", "food/groceries"),
        # session 60: makes and lines of the wider brands.json that name the thing alone (a brand's
        # category is a hint: "Cari Yadea bekas" is still read as books); guards: a Naples district is no
        # shoe line ("Vomero" left out), a laptop's CPU and GPU lines are no computer part, Indonesian "HP" a
        # phone, Italian "miele" honey
        ("Продам Varta 60 Ач, год отходил", "vehicles/parts"),
        ("Vendo Funko Pop Batman originale", "kids/toys"),
        ("Selling Xgimi Halo+ with stand", "electronics/tv"),
        ("Dijual Axioo MyBook 14 bekas", "electronics/laptops"),
        ("Vends Lamy Safari bleu, jamais servi", "kids/school"),
        ("Vendo Hario V60 nuevo con filtros", "home/kitchen"),
        ("Suche Tohatsu 5 PS, gebraucht", "vehicles/boats"),
        ("バートン 譲ります 154cm", "sports/winter"),
        ("Stanza singola in affitto al Vomero, 400 euro", "property/rooms"),
        ("Laptop Asus core i5, RTX 3050, 16GB RAM, mulus", "electronics/laptops"),
        ("Vendo portátil con Ryzen 5 y Radeon, 8GB", "electronics/laptops"),
        ("Dijual HP Samsung A52 bekas, mulus", "electronics/phones"),
        ("Cerco miele millefiori del contadino", "food/produce"),
    ],
)
def test_a_gap_of_the_bank_is_heard_and_the_rest_left_alone(text: str, category: str) -> None:
    assert understand(text).intent.category == category, text
