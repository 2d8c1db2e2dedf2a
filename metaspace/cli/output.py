"""Plain-text tables and JSON output for the client commands.

Rows are the dicts the control API returns. A table shows the columns it knows that are present in
at least one row (so a newer peer's extra keys don't break it, and missing keys print as ``-``).
Nested values get a short rendering: a price ``{"amount_minor": 8000, "currency": "USD"}`` prints as
``80.00 USD``, attributes as ``k=v, k=v``, timestamps as UTC ISO dates.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

#: Longest cell printed in a table; longer values are cut with an ellipsis.
MAX_CELL = 40
TIME_KEYS = frozenset({"created", "expires", "updated", "deadline", "at"})

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
    ("state", "STATE"),
)
DEAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "DEAL"),
    ("match_id", "MATCH"),
    ("state", "STATE"),
    ("price", "PRICE"),
    ("quantity", "QTY"),
    ("counterparty", "WITH"),
    ("needs_approval", "APPROVAL"),
    ("reason", "REASON"),
)


def format_price(price: object) -> str:
    """``80.00 USD`` (``/unit`` when per unit) from a price dict; ``-`` for None."""
    if not isinstance(price, dict):
        return "-" if price is None else str(price)
    amount, currency = price.get("amount_minor"), price.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return json.dumps(price, sort_keys=True)
    try:
        from wire.currency import format_minor

        text = format_minor(amount, currency)
    except KeyError:
        text = f"{amount} {currency} (minor units)"
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
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) or "-"
    return str(value)


def _get(row: dict[str, Any], path: str) -> object:
    value: object = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _clip(text: str, width: int = MAX_CELL) -> str:
    text = text.replace("\n", " ")
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
        columns = [(k, k.upper()) for k in rows[0]]
    present = [(k, h) for k, h in columns if any(_get(r, k) is not None for r in rows)]
    if not present:
        present = [(k, k.upper()) for k in rows[0]]
    cells = [[_clip(format_value(_get(r, k), k)) for k, _ in present] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(present)]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(present, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_mapping(data: dict[str, Any], indent: int = 0) -> str:
    """Render a dict as ``key: value`` lines (nested dicts indented)."""
    if not data:
        return " " * indent + "(empty)"
    width = max(len(str(k)) for k in data)
    lines = []
    for k, v in data.items():
        if isinstance(v, dict) and v and not (k == "price" or "amount_minor" in v):
            lines.append(f"{' ' * indent}{k}:")
            lines.append(render_mapping(v, indent + 2))
        else:
            lines.append(f"{' ' * indent}{str(k).ljust(width)}  {format_value(v, str(k))}")
    return "\n".join(lines)


def to_json(value: Any) -> str:
    """Stable, readable JSON (sorted keys, 2-space indent, non-ASCII kept)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


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
        print(value, file=stream)
