"""The rules of a meeting proposal (pure functions, sans-IO): where, when, how to pay.

* **Where**: a public, neutral cell between the two parties. Each side only knows the other's published
  intent cell, so the meeting cell is the cell of the midpoint of the two cells' centres, at the
  coarsest of: our own location setting, the resolution of our intent's cell and of theirs (what each
  side chose to disclose). A received proposal is refused when its cell is finer than *our* setting
  allows, or when it is not between us (farther from either party than the parties are from each other,
  plus the cell's own size): nobody can pull the other to their doorstep.
* **When**: a window that starts in the future (never in the past), lasts at most
  ``MAX_MEETING_WINDOW_S``, starts within ``MAX_MEETING_AHEAD_S`` and while the agreement is valid.
* **How to pay**: no payment rails; a method from the humans' own list (``cash`` by default). The
  confirming side picks the first method of the proposal's list that its human accepts.
"""

from __future__ import annotations

import math

from wire.geo import MAX_INTENT_RES, cell_at, cell_distance_km, cell_radius_km, center, is_cell, resolution
from wire.handover import MAX_MEETING_AHEAD_S, MAX_MEETING_WINDOW_S, HandoverPropose, payment_method_ok
from wire.limits import MAX_CLOCK_SKEW_S

#: Extra distance (km) a neutral cell may lie beyond the parties' own distance (cells are coarse).
NEUTRAL_SLACK_KM = 5.0


def midpoint(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """The great-circle midpoint of two (lat, lon) points, in degrees."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    bx = math.cos(lat2) * math.cos(lon2 - lon1)
    by = math.cos(lat2) * math.sin(lon2 - lon1)
    lat = math.atan2(math.sin(lat1) + math.sin(lat2), math.hypot(math.cos(lat1) + bx, by))
    lon = lon1 + math.atan2(by, math.cos(lat1) + bx)
    return math.degrees(lat), (math.degrees(lon) + 540.0) % 360.0 - 180.0


def meeting_res(my_cell: str, their_cell: str, my_max_res: int | None) -> int:
    """The resolution of a meeting cell: never finer than our setting or either published cell.

    Raises:
        ValueError: our human never shares a location (``my_max_res`` None): no meeting cell can be named.
    """
    if my_max_res is None:
        raise ValueError("your settings never share a location, so no meeting place can be proposed")
    return min(my_max_res, resolution(my_cell), resolution(their_cell), MAX_INTENT_RES)


def meeting_cell(my_cell: str, their_cell: str, my_max_res: int | None) -> str:
    """The neutral cell between two parties' published cells (see the module docstring).

    Raises:
        ValueError: as :func:`meeting_res`.
    """
    res = meeting_res(my_cell, their_cell, my_max_res)
    lat, lon = midpoint(center(my_cell), center(their_cell))
    return cell_at(lat, lon, res)


def cell_problem(cell: str, my_cell: str, their_cell: str, my_max_res: int | None) -> str | None:
    """Why ``cell`` can't be our meeting cell, or None if it can.

    Args:
        cell: the proposed cell.
        my_cell: our published intent's cell.
        their_cell: the counterpart's published intent's cell.
        my_max_res: our finest allowed resolution (None: we never share a location).
    """
    if not is_cell(cell):
        return "the meeting place is not an H3 cell"
    if my_max_res is None:
        return "your settings never share a location"
    if resolution(cell) > my_max_res:
        return (
            f"the meeting cell (H3 res {resolution(cell)}) is more precise than your location setting "
            f"allows (res {my_max_res})"
        )
    apart = cell_distance_km(my_cell, their_cell)
    reach = apart + cell_radius_km(cell) + cell_radius_km(my_cell) + cell_radius_km(their_cell)
    reach += NEUTRAL_SLACK_KM
    for party in (my_cell, their_cell):
        if cell_distance_km(cell, party) > reach:
            return "the meeting cell is not between the two parties"
    return None


def window_problem(start: int, end: int, now: float, agreement_expires: int) -> str | None:
    """Why ``[start, end]`` can't be the meeting window, or None if it can."""
    if start <= now:
        return "the meeting time is in the past"
    if end <= start:
        return "the meeting window must end after it starts"
    if end - start > MAX_MEETING_WINDOW_S:
        return f"the meeting window is longer than {MAX_MEETING_WINDOW_S // 3600} h"
    if start > now + MAX_MEETING_AHEAD_S:
        return f"the meeting is more than {MAX_MEETING_AHEAD_S // 86400} days ahead"
    if start >= agreement_expires:
        return "the meeting would start after the agreement expires"
    return None


def proposal_problem(
    p: HandoverPropose,
    now: float,
    *,
    my_cell: str,
    their_cell: str,
    my_max_res: int | None,
    agreement_expires: int,
) -> str | None:
    """Everything a proposal must satisfy, from our side's point of view; None if it does.

    The message's own invariants (a valid cell of res <= 7, a bounded window, 1-4 payment methods, a
    lifetime of at most 24 h) are checked when it is built or decoded (``wire.handover``).
    """
    problem = window_problem(p.start, p.end, now, agreement_expires)
    if problem is not None:
        return problem
    if p.created > now + MAX_CLOCK_SKEW_S:
        return "the proposal is dated in the future"
    if p.expires <= now:
        return "the proposal has expired"
    if p.expires > p.start:
        return "a proposal must lapse before the meeting starts"
    return cell_problem(p.cell, my_cell, their_cell, my_max_res)


def choose_payment(offered: list[str] | tuple[str, ...], accepted: list[str] | tuple[str, ...]) -> str | None:
    """The first method of ``offered`` (the proposer's order) that our human ``accepted``, or None."""
    ok = {m for m in accepted if payment_method_ok(m)}
    return next((m for m in offered if m in ok), None)
