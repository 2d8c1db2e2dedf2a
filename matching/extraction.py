"""What the extractors (``matching.extract``, ``matching.measures``) find in a text: the ``Extraction``
record they fill, and ``blank``, which hides a span one of them has read from those that come after it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PriceInfo:
    """A price found in text: major-unit amount, ISO currency (or None if only a number), basis and bound."""

    amount: float
    currency: str | None
    per_unit: bool | None  # None: the text didn't say
    bound: str | None  # "max", "min", "approx", "range" (the amount is a range's upper end) or None
    text: str
    #: The text names the currency; False: a bare number given the place's currency ("8万" in Medellín).
    written: bool = True


@dataclass
class Extraction:
    """What the extractors found, plus the text with every consumed span blanked."""

    attributes: dict[str, str] = field(default_factory=dict)
    price: PriceInfo | None = None
    quantity: int | None = None
    warnings: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    rest: str = ""
    langs: tuple[str, ...] = ()
    #: A currency word ending a bound written without digits ("fifty dollars max"), None: no such limit.
    limit_in_words: str | None = None
    #: The product lines named (``brands.product_lines``): start and end in ``rest``, spelling.
    names: list[tuple[int, int, str]] = field(default_factory=list)
    #: Where a count written as a bare number before a word ("12 cordas", "4 tires", "3-4 chairs") is in
    #: ``rest``: the number's start, the counted word's start and end; None for a count of another form ("4
    #: шт", "set of 4").
    counted: tuple[int, int, int] | None = None
    #: Where a home's rooms are counted in ``rest`` ("3 habitaciones", "3-Zimmer", "2-комнатную", "1+1": start
    #: and end, ``rooms.read_bedrooms``): a room word there counts the rooms of a home and names no room.
    room_counts: list[tuple[int, int]] = field(default_factory=list)

    def put(self, key: str, value: str) -> None:
        """Set an attribute; a second, different value of it is a contradiction: warned, marked uncertain,
        the first one kept."""
        old = self.attributes.get(key)
        if old is not None and old != value:
            self.warnings.append(f"contradictory {key}: {old} and {value}; kept {old}")
            if key not in self.uncertain:
                self.uncertain.append(key)
            return
        self.attributes[key] = value


def blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` replaced by spaces (positions kept)."""
    return text[:start] + " " * (end - start) + text[end:]
