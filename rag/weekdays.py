"""Resolve relative weekdays ("lundi", "ce jeudi", "dimanche") to calendar dates.

News articles say "lundi" and mean the Monday nearest their publication date:
the one before it, or the one after when the verb before it speaks of the
future ("aura lieu lundi", "s'entretiendrait lundi"). Passages shown to the model carry the
resolved date in brackets, so "quand ?" can be answered with a real date.

>>> annotate("Le deuxième cycle s'est tenu lundi à Istanbul.", "2025-06-04")
"Le deuxième cycle s'est tenu lundi (2 juin 2025) à Istanbul."
>>> annotate("La conversation aura lieu lundi.", "2025-05-17")
'La conversation aura lieu lundi (19 mai 2025).'

For an English question the brackets are in English, and weekdays already followed by
their date are named too: a small model reading French passages otherwise answers
"Tuesday" for "lundi" about as often as "Monday".

>>> annotate("Il a appelé lundi, puis ce jeudi 3 juillet.", "2025-07-03", lang="en")
'Il a appelé lundi (Monday 30 June 2025), puis ce jeudi (Thursday) 3 juillet.'

The model sometimes copies the brackets after its own weekday; `undoubled` joins them:

>>> undoubled("Sunday (Sunday 1 June 2025) [1]")
'Sunday 1 June 2025 [1]'
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
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS_EN = "January February March April May June July August September October November December".split()
_DOUBLED = re.compile(r"\b(" + "|".join(WEEKDAYS_EN) + r") \(\1 (\d{1,2} [A-Z][a-z]+ \d{4})\)")
# group 2 is set when the weekday is already dated ("jeudi 3 juillet")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS_FR) + r")\b(?!\s+(?:prochain|dernier))(?=(\s+(?:\d|1er))?)", re.I)
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


def english_date(day: dt.date) -> str:
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def annotate(text: str, published: str | None, *, lang: str = "fr") -> str:
    """Add `(d month yyyy)` after each bare weekday name, given the publication date;
    with `lang="en"`, `(Weekday d Month yyyy)`, and `(Weekday)` after a dated weekday."""
    try:
        day: dt.date | None = dt.date.fromisoformat(published or "")
    except ValueError:
        day = None

    def replace(m: re.Match[str]) -> str:
        weekday = WEEKDAYS_FR.index(m.group(1).lower())
        if m.group(2):
            return f"{m.group(0)} ({WEEKDAYS_EN[weekday]})" if lang == "en" else m.group(0)
        if day is None:
            return m.group(0)
        before = re.split(r"[.;!?\n]", text[max(0, m.start() - 60) : m.start()])[-1]
        resolved = resolve(weekday, day, future=bool(_FUTURE.search(before)))
        return f"{m.group(0)} ({english_date(resolved) if lang == 'en' else french_date(resolved)})"

    return _WEEKDAY.sub(replace, text)


def undoubled(answer: str) -> str:
    """`answer` with "Sunday (Sunday 1 June 2025)" written once: "Sunday 1 June 2025"."""
    return _DOUBLED.sub(r"\1 \2", answer)


_ENGLISH_NAMES = dict(zip(WEEKDAYS_EN + MONTHS_EN, WEEKDAYS_FR + MONTHS_FR, strict=True))
_ENGLISH = re.compile(r"\b(" + "|".join(_ENGLISH_NAMES) + r")\b")


# English weekday and month names typed in lowercase; "may", "march" and "august" only next to a day.
_LOWER_CALENDAR = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|april|june|july|september"
    r"|october|november|december|(?:may|march|august)(?=\s+\d)|(?<=\d\s)(?:may|march|august))\b"
)


def capitalised(text: str) -> str:
    """English weekday and month names capitalised, as `in_french` and the date reader expect them.

    >>> capitalised("did the friday talks on may 16 end? it may. 3 june, march 18, the march")
    'did the Friday talks on May 16 end? it may. 3 June, March 18, the march'
    """
    return _LOWER_CALENDAR.sub(lambda m: m.group().capitalize(), text)


def in_french(text: str) -> str:
    """English weekday and month names (capitalised, as English writes them) in French, so
    that an English question shares them with French passages.

    >>> in_french("Did the Friday talks in May end with a truce? It may.")
    'Did the vendredi talks in mai end with a truce? It may.'
    """
    return _ENGLISH.sub(lambda m: _ENGLISH_NAMES[m.group(1)], text)
