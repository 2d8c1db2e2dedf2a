"""Plain-text tables and JSON output for the client commands.

Rows are the dicts the control API returns. A table shows the columns it knows that are present in
at least one row (so a newer peer's extra keys don't break it, and missing keys print as ``-``).
Nested values get a short rendering: a price ``{"amount_minor": 8000, "currency": "USD"}`` prints as
``80.00 USD``, attributes as ``k=v, k=v``, timestamps as UTC ISO dates.

Much of what is printed was written by other people's agents (their intents' text and attributes,
explanations, reasons). Nothing of it reaches the terminal as a control: :func:`sanitize` removes
escape sequences (ANSI CSI/OSC/DCS, 7- and 8-bit) and shows every other control, and the Unicode
characters that reorder or hide text (bidi overrides and isolates), as ``\ufffd``; ``--json`` output
escapes them (``\u009b``), so it still parses to the same data.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

#: Longest cell printed in a table; longer values are cut with an ellipsis.
MAX_CELL = 40
TIME_KEYS = frozenset({"created", "expires", "updated", "deadline", "at", "deal_time", "until"})
#: A terminal escape sequence: CSI (ESC [ or the 8-bit 0x9B), OSC/DCS/SOS/PM/APC strings up to their
#: terminator (BEL or ST), or a two-character ESC sequence.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
#: Every other control character (C0 but tab/newline, DEL, C1), and the format characters that reorder
#: or hide text on screen (bidi marks, embeddings, overrides and isolates; BOM).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
#: What ``json.dumps(ensure_ascii=False)`` leaves raw but a terminal may act on.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")

INTENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("action", "ACTION"),
    ("category", "CATEGORY"),
    ("price", "PRICE"),
    ("quantity", "QTY"),
    ("attributes", "ATTRIBUTES"),
    ("cell", "CELL"),
    ("radius_km", "KM"),
    ("distance_km", "DIST"),
    ("score", "SCORE"),
    ("expires", "EXPIRES"),
    ("status", "STATUS"),
    ("withdrawn", "WITHDRAWN"),
)
MATCH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "MATCH"),
    ("intent_id", "MY INTENT"),
    ("other.action", "THEIR ACTION"),
    ("other.category", "CATEGORY"),
    ("other.price", "THEIR PRICE"),
    ("other.quantity", "QTY"),
    ("score", "SCORE"),
    ("distance_km", "DIST"),
    ("peer.handle", "WITH"),
    ("peer.score", "REP"),
    ("state", "STATE"),
)
DEAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "DEAL"),
    ("match_id", "MATCH"),
    ("state", "STATE"),
    ("price", "PRICE"),
    ("quantity", "QTY"),
    ("counterparty", "WITH"),
    ("peer.handle", "HANDLE"),
    ("peer.score", "REP"),
    ("needs_approval", "APPROVAL"),
    ("reason", "REASON"),
)
RATING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deal_id", "DEAL"),
    ("rater", "FROM"),
    ("subject", "ABOUT"),
    ("score", "SCORE"),
    ("as_agreed", "AS AGREED"),
    ("comment", "COMMENT"),
    ("deal_time", "DEAL TIME"),
)
BLOCK_COLUMNS: tuple[tuple[str, str], ...] = (("peer", "PEER"), ("reason", "REASON"), ("until", "UNTIL"))


def sanitize(text: str) -> str:
    """``text`` safe to print: escape sequences removed, other controls and bidi/format characters
    replaced by U+FFFD, tabs and line breaks by spaces."""
    t = _ESCAPE_SEQUENCE.sub("", text)
    t = t.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return _UNSAFE.sub("\ufffd", t)


def format_price(price: object) -> str:
    """``80.00 USD`` (``/unit`` when per unit) from a price dict; ``-`` for None."""
    if not isinstance(price, dict):
        return "-" if price is None else str(price)
    amount, currency = price.get("amount_minor"), price.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return sanitize(json.dumps(price, sort_keys=True, ensure_ascii=False))
    try:
        from wire.currency import format_minor

        text = format_minor(amount, currency)
    except KeyError:
        text = f"{amount} {sanitize(currency)} (minor units)"
    return text + ("/unit" if price.get("per_unit", True) else "")


def format_time(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(value))
    return format_value(value)


def format_value(value: object, key: str = "") -> str:
    """A short one-line rendering of one value."""
    leaf = key.rsplit(".", 1)[-1]
    if value is None:
        return "-"
    if leaf == "price" or (isinstance(value, dict) and "amount_minor" in value):
        return format_price(value)
    if leaf in TIME_KEYS:
        return format_time(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{sanitize(str(k))}={format_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) or "-"
    return sanitize(str(value))


def _get(row: dict[str, Any], path: str) -> object:
    value: object = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _clip(text: str, width: int = MAX_CELL) -> str:
    text = sanitize(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]] | None = None) -> str:
    """Render rows as aligned plain-text columns.

    Args:
        rows: the dicts to show.
        columns: ``(key, header)`` pairs; a key may be a dotted path (``other.price``). Columns no row
            has are dropped. Default: the keys of the first row.

    Returns:
        The table text (header line, rows), or ``(none)`` for no rows.
    """
    if not rows:
        return "(none)"
    if columns is None:
        columns = [(k, sanitize(str(k)).upper()) for k in rows[0]]
    present = [(k, h) for k, h in columns if any(_get(r, k) is not None for r in rows)]
    if not present:
        present = [(k, sanitize(str(k)).upper()) for k in rows[0]]
    cells = [[_clip(format_value(_get(r, k), k)) for k, _ in present] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(present)]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(present, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_mapping(data: dict[str, Any], indent: int = 0) -> str:
    """Render a dict as ``key: value`` lines (nested dicts indented)."""
    if not data:
        return " " * indent + "(empty)"
    width = max(len(sanitize(str(k))) for k in data)
    lines = []
    for k, v in data.items():
        key = sanitize(str(k))
        if isinstance(v, dict) and v and not (k == "price" or "amount_minor" in v):
            lines.append(f"{' ' * indent}{key}:")
            lines.append(render_mapping(v, indent + 2))
        else:
            lines.append(f"{' ' * indent}{key.ljust(width)}  {format_value(v, str(k))}")
    return "\n".join(lines)


def to_json(value: Any) -> str:
    """Stable, readable JSON (sorted keys, 2-space indent, non-ASCII kept but what a terminal would act
    on escaped: the same data once parsed)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit(
    value: Any, *, as_json: bool, columns: Sequence[tuple[str, str]] | None = None, out: TextIO | None = None
) -> None:
    """Print ``value`` as JSON, or as a table (lists) / ``key: value`` lines (dicts).

    Args:
        value: a list of dicts, a dict, or a plain value.
        as_json: ``--json`` was given.
        columns: table columns for a list (see :func:`render_table`).
        out: stream (default stdout).
    """
    stream = out or sys.stdout
    if as_json:
        print(to_json(value), file=stream)
    elif isinstance(value, list):
        print(render_table(value, columns), file=stream)
    elif isinstance(value, dict):
        print(render_mapping(value), file=stream)
    else:
        print(sanitize(str(value)), file=stream)
