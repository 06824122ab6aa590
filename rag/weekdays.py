"""Resolve relative weekdays ("lundi", "ce jeudi", "dimanche") to calendar dates.

News articles say "lundi" and mean the Monday nearest their publication date:
the one before it, or the one after when the verb before it speaks of the
future ("aura lieu lundi", "s'entretiendrait lundi"). Passages shown to the model carry the
resolved date in brackets, so "quand ?" can be answered with a real date.

>>> annotate("Le deuxième cycle s'est tenu lundi à Istanbul.", "2025-06-04")
"Le deuxième cycle s'est tenu lundi (2 juin 2025) à Istanbul."
>>> annotate("La conversation aura lieu lundi.", "2025-05-17")
'La conversation aura lieu lundi (19 mai 2025).'
"""

from __future__ import annotations

import datetime as dt
import re

WEEKDAYS_FR = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS_FR) + r")\b(?!\s+(?:\d|1er|prochain|dernier))", re.I)
_FUTURE = re.compile(
    r"\b(?:\w+(?:era|eront|erait|eraient|iront|irait|ira|dra|dront|drait|ront|rait|raient)|aura|auront|va|vont|"
    r"prévoit|prévu|devrait|doit|prochain|prochaine|will|would|next)\b",
    re.I,
)


def french_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def resolve(weekday: int, published: dt.date, *, future: bool) -> dt.date:
    """The `weekday` (0 = Monday) nearest `published`, after it if `future`, else on or before it."""
    if future:
        return published + dt.timedelta(days=(weekday - published.weekday() - 1) % 7 + 1)
    return published - dt.timedelta(days=(published.weekday() - weekday) % 7)


def annotate(text: str, published: str | None) -> str:
    """Add `(d month yyyy)` after each bare weekday name, given the publication date."""
    if not published:
        return text
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return text

    def replace(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 60) : m.start()]
        before = re.split(r"[.;!?\n]", before)[-1]
        future = bool(_FUTURE.search(before))
        weekday = WEEKDAYS_FR.index(m.group(1).lower())
        return f"{m.group(0)} ({french_date(resolve(weekday, day, future=future))})"

    return _WEEKDAY.sub(replace, text)
