# ruff: noqa: E501  (regex and word tables: one entry per line reads better than split strings)
"""A small language detector: writing system first, then stopword and diacritic votes (no network, no model).

Han without kana -> ``zh``; kana -> ``ja``; Hangul -> ``ko``; Cyrillic -> ``ru``; Arabic -> ``ar``. Latin text
is scored per language by counting its stopwords and marketplace cue words plus characteristic letters
(ñ for Spanish, ß/ä/ö/ü for German, ã/õ for Portuguese, è/ê/à for French). Returns ``None`` when there is
no evidence (the caller reports it instead of guessing).
"""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("en", "es", "zh", "fr", "de", "pt", "it", "nl", "ja", "ko", "ru", "ar")

_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "a",
            "an",
            "and",
            "or",
            "for",
            "with",
            "my",
            "i",
            "need",
            "want",
            "to",
            "of",
            "in",
            "is",
            "are",
            "am",
            "looking",
            "selling",
            "sell",
            "buy",
            "buying",
            "used",
            "new",
            "each",
            "this",
            "that",
            "some",
            "any",
            "who",
            "someone",
            "can",
            "anyone",
            "near",
            "me",
            "at",
            "you",
            "it",
            "good",
            "condition",
            "pair",
            "set",
            "help",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "unos",
            "unas",
            "y",
            "o",
            "para",
            "con",
            "mi",
            "mis",
            "necesito",
            "busco",
            "quiero",
            "comprar",
            "vendo",
            "vender",
            "de",
            "del",
            "en",
            "es",
            "son",
            "por",
            "cada",
            "que",
            "alguien",
            "usado",
            "usada",
            "usados",
            "usadas",
            "nuevo",
            "nueva",
            "nuevos",
            "nuevas",
            "estado",
            "buen",
            "máximo",
            "hasta",
            "dólares",
            "pesos",
            "se",
            "me",
            "ayuda",
            "casi",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "et",
            "ou",
            "pour",
            "avec",
            "mon",
            "ma",
            "mes",
            "je",
            "cherche",
            "vends",
            "veux",
            "acheter",
            "vendre",
            "de",
            "du",
            "en",
            "est",
            "sont",
            "par",
            "chaque",
            "qui",
            "quelqu'un",
            "occasion",
            "neuf",
            "neuve",
            "bon",
            "état",
            "très",
            "au",
            "aux",
            "maximum",
            "euros",
            "d'occasion",
            "j'ai",
            "besoin",
            "recherche",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "ein",
            "eine",
            "einen",
            "und",
            "oder",
            "für",
            "mit",
            "mein",
            "meine",
            "meinen",
            "ich",
            "suche",
            "brauche",
            "will",
            "kaufen",
            "verkaufe",
            "verkaufen",
            "von",
            "im",
            "in",
            "ist",
            "sind",
            "pro",
            "je",
            "jemand",
            "gebraucht",
            "neu",
            "neue",
            "neuer",
            "guter",
            "zustand",
            "bis",
            "zu",
            "euro",
            "stück",
            "biete",
            "wer",
            "hat",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "um",
            "uma",
            "uns",
            "umas",
            "e",
            "ou",
            "para",
            "com",
            "meu",
            "minha",
            "meus",
            "minhas",
            "preciso",
            "procuro",
            "quero",
            "comprar",
            "vendo",
            "vender",
            "de",
            "do",
            "da",
            "dos",
            "das",
            "em",
            "é",
            "são",
            "por",
            "cada",
            "que",
            "alguém",
            "usado",
            "usada",
            "novo",
            "nova",
            "estado",
            "bom",
            "máximo",
            "até",
            "reais",
            "não",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "un",
            "una",
            "e",
            "o",
            "per",
            "con",
            "mio",
            "mia",
            "cerco",
            "vendo",
            "voglio",
            "comprare",
            "di",
            "del",
            "della",
            "in",
            "è",
            "sono",
            "ogni",
            "usato",
            "usata",
            "nuovo",
            "nuova",
            "stato",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "of",
            "voor",
            "met",
            "mijn",
            "ik",
            "zoek",
            "verkoop",
            "wil",
            "kopen",
            "van",
            "in",
            "is",
            "zijn",
            "per",
            "gebruikt",
            "nieuw",
            "staat",
        ]
    ),
}

_EXTRA: dict[str, str] = {
    "en": "giving away selling sale wanted from will looking vaccinated weekends too inch",
    "es": "piso cerca alquilo dos habitaciones ruedas mes regalo también ayuda mudanza tienda esquís zapatillas "
    "talla dueño juego cada hijo limpieza casa",
    "fr": "vends pièce chaque pour très également avec cherche besoin pneus",
    "de": "auch beim an am hilfe mit für nur fürs meinen einen gut",
    "pt": "dou aulas pessoas duas dois três bem cinza tamanho ingressos mês perto roupa não você também mil dono "
    "jogo inverno caixa faxina semanal ofereço alugo filhotes tênis carro meu minha quartos trilha barraca show "
    "noite local lugares retirar ensino médio pneus polegadas",
}
_LETTERS: dict[str, str] = {"es": "ñ¿¡", "de": "ßäöü", "pt": "ãõ", "fr": "èêàùûœëî"}
_NGRAMS: dict[str, tuple[str, ...]] = {
    "pt": ("ção", "ções", "ões", "ão", "nh", "lh", "ç"),
    "es": ("ción", "ll", "ñ"),
    "de": ("sch", "ung", "ich", "ei"),
    "fr": ("eau", "ç", "oi", "qu'"),
    "en": ("th", "ing"),
}
_VOCAB: dict[str, frozenset[str]] = {
    lang: words | frozenset(_EXTRA.get(lang, "").split()) for lang, words in _WORDS.items()
}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _script_counts(text: str) -> dict[str, int]:
    counts = {"han": 0, "kana": 0, "hangul": 0, "cyrillic": 0, "arabic": 0, "latin": 0}
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["han"] += 1
        elif 0x3040 <= o <= 0x30FF:
            counts["kana"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["hangul"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["cyrillic"] += 1
        elif 0x0600 <= o <= 0x06FF:
            counts["arabic"] += 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            counts["latin"] += 1
    return counts


def detect_language(text: str) -> tuple[str | None, float]:
    """Guess the language of ``text``.

    Args:
        text: any string.

    Returns:
        ``(code, confidence)``; code is one of ``SUPPORTED`` or ``None`` when nothing points to a language.
    """
    counts = _script_counts(text)
    if counts["kana"] > 0:
        return "ja", 0.95
    if counts["han"] > 0 and counts["han"] >= counts["latin"] / 4:
        return "zh", 0.95
    if counts["hangul"] > 0:
        return "ko", 0.95
    if counts["cyrillic"] > counts["latin"]:
        return "ru", 0.9
    if counts["arabic"] > counts["latin"]:
        return "ar", 0.9
    if counts["latin"] == 0:
        return None, 0.0
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    scores: dict[str, float] = dict.fromkeys(_WORDS, 0.0)
    for t in tokens:
        langs = [lang for lang, words in _VOCAB.items() if t in words]
        for lang in langs:
            scores[lang] += 1.0 / len(langs)
    for lang in scores:
        scores[lang] += 1.5 * sum(lowered.count(c) for c in _LETTERS.get(lang, ""))
    if max(scores.values()) <= 0:
        return None, 0.0
    for lang in scores:
        scores[lang] += 0.3 * sum(1 for t in tokens for g in _NGRAMS.get(lang, ()) if g in t)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], SUPPORTED.index(kv[0])))
    best, best_score = ranked[0]
    second = ranked[1][1]
    if best_score <= 0:
        return None, 0.0
    margin = (best_score - second) / best_score
    confidence = round(min(0.95, 0.5 + 0.45 * margin + 0.05 * min(best_score, 4)), 3)
    return best, confidence
