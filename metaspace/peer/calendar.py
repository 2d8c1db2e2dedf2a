"""The calendar file of an arranged meeting (RFC 5545 ``.ics``, written with the ``icalendar`` library).

One VEVENT in UTC: the meeting window, a localized summary (what changes hands, at what price), the
meeting cell as LOCATION text and GEO (the cell's centre: the cell itself is what both agents agreed
to disclose, never a finer point), the payment method, the safety tips, and a reminder an hour before.
Its UID is stable per deal and proposal, so importing an updated file replaces the old event.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Alarm, Calendar, Event

from metaspace.peer import notify
from negotiation.handover import Plan
from wire.currency import format_minor
from wire.geo import cell_radius_km, center
from wire.messages import Agreement

PRODID = "-//Meta Space//metaspace-net//EN"
#: The reminder before the meeting.
REMINDER = dt.timedelta(hours=1)


def _utc(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def plan_ics(
    plan: Plan, agreement: Agreement, *, role: str, category: str | None, lang: str, now: float
) -> bytes:
    """The ``.ics`` bytes of a confirmed plan, in the human's language.

    Args:
        plan: the confirmed plan.
        agreement: the co-signed agreement it arranges.
        role: ``seller`` or ``buyer`` (our side).
        category: the deal's category code, for the summary.
        lang: the human's language tag.
        now: the DTSTAMP.

    Returns:
        A VCALENDAR with one VEVENT (and its VALARM).
    """
    p = plan.proposal
    t = agreement.terms
    lat, lon = center(p.cell)
    size_km = round(2 * cell_radius_km(p.cell), 1)
    event_fields = {
        "kind": "handover_confirmed", "category": category, "role": role, "start": p.start, "end": p.end,
        "center": {"lat": lat, "lon": lon}, "size_km": size_km, "payment": plan.payment,
        "price": {"amount_minor": t.price_minor, "currency": t.currency, "per_unit": True},
        "quantity": t.quantity,
    }  # fmt: skip
    total = format_minor(t.price_minor * t.quantity, t.currency)
    summary = notify.fragment("meeting", lang)
    what = notify.category_label(category, lang) if category else ""
    summary = f"{summary}: {what} ({total})" if what else f"{summary} ({total})"
    tips = notify.safety_tips(lang)
    description = "\n".join([notify.render(event_fields, lang), "", *(f"• {tip}" for tip in tips)])
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    ev = Event()
    ev.add("uid", f"{p.deal.hex()}-{p.number}@metaspace")
    ev.add("dtstamp", _utc(int(now)))
    ev.add("dtstart", _utc(p.start))
    ev.add("dtend", _utc(p.end))
    ev.add("summary", summary)
    ev.add("location", f"H3 {p.cell} (≈ {lat:.3f}, {lon:.3f}, ~{size_km} km)")
    ev.add("geo", (round(lat, 6), round(lon, 6)))
    ev.add("description", description)
    ev.add("status", "CONFIRMED")
    ev.add("categories", ["Meta Space"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -REMINDER)
    ev.add_component(alarm)
    cal.add_component(ev)
    return bytes(cal.to_ical())
