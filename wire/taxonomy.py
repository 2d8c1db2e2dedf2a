"""The versioned category taxonomy (two levels, ``group/leaf``), loaded from ``wire/taxonomy.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Category:
    code: str  # "vehicles/tires"
    label: str  # English label, "Tires and wheels"
    group: str  # English label of the first level, "Vehicles"


@dataclass(frozen=True)
class Taxonomy:
    version: int
    categories: tuple[Category, ...]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.categories)

    def get(self, code: str) -> Category | None:
        for c in self.categories:
            if c.code == code:
                return c
        return None


@cache
def taxonomy() -> Taxonomy:
    """The taxonomy shipped with this version of the protocol."""
    doc = json.loads(resources.files("wire").joinpath("taxonomy.json").read_text(encoding="utf-8"))
    cats = tuple(Category(c["code"], c["label"], c["group"]) for c in doc["categories"])
    return Taxonomy(int(doc["version"]), cats)


@cache
def category_codes() -> frozenset[str]:
    return taxonomy().codes


def group_of(code: str) -> str:
    """The taxonomy's top level of a category code ("vehicles/tires" -> "vehicles"; a group is its own)."""
    return code.split("/", 1)[0]


@cache
def group_names() -> frozenset[str]:
    """The taxonomy's top level ("vehicles" of "vehicles/tires"): what DHT keys and index partitions use."""
    return frozenset(group_of(code) for code in category_codes())
