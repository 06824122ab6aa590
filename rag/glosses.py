"""Durations (and, for English questions, numbers) written in French words, glossed in figures for the model.

A 1.5B model reads "une heure et quart" as 1 h 45 about as often as 1 h 15, above all
when it answers in English. The passages it is shown carry the value the system's own
reader finds (`rag.normalize.durations`), in figures, after the words:

>>> gloss("L'appel aurait duré une heure et quart, selon lui.")
"L'appel aurait duré une heure et quart (1 h 15 min), selon lui."
>>> gloss("Un entretien d'environ une heure, puis trois quarts d'heure de débat ; 40 minutes.")
"Un entretien d'environ une heure (1 h), puis trois quarts d'heure (45 min) de débat ; 40 minutes."

For an English question, counts and ranks in French words are glossed too: the model
otherwise answers "the first call" for "la sixième discussion".

>>> gloss("Cet appel est la sixième discussion : sept morts et un blessé, deux heures.", "en")
'Cet appel est la sixième (6th) discussion : sept (7) morts et un blessé, deux heures (2 h).'

The model sometimes copies a gloss into its answer; `unglossed` takes it out again.
When the words it wrote before a copied figure say another number, the figure wins:
the system read it from the passage, the model only copied the words, sometimes badly.

>>> unglossed("The call lasted 1 hour (1 h) [1].")
'The call lasted 1 hour [1].'
>>> unglossed("The sixteenth (6th) call [1]."), unglossed("The sixth (6th) call [1].")
('The 6th call [1].', 'The sixth call [1].')
"""

from __future__ import annotations

import re

from rag.normalize import durations, numbers

_NUM = (
    r"(?:une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|"
    r"vingt|trente|quarante|cinquante|soixante)"
)
_NUMBER = rf"{_NUM}(?:[- ](?:et[- ])?{_NUM})*"
_COUNT = re.compile(rf"\b{_NUMBER}\b(?![- ]?\(|-|\s+(?:heures?|minutes?|quarts?\b|et\s+(?:quart|demie)))", re.I)
_GLOSS = re.compile(r"\s*\((?:\d+ h(?: \d+ min)?|\d+ min)\)")
_FIGURES = re.compile(r"\b([^\W\d_]+) \((\d+)((?:st|nd|rd|th)?)\)")
_ORDINAL = re.compile(
    r"\b(?:deux|trois|quatr|cinqu|six|sept|huit|neuv|dix|onz|douz|treiz|quatorz|quinz|seiz|vingt|trent|"
    r"quarant|cinquant|soixant)(?:[- ](?:et[- ])?\w+)*?i[èe]mes?\b",
    re.I,
)
_DURATION = re.compile(
    rf"\b(?:{_NUMBER}\s+(?:heures?|minutes?)"
    rf"(?:\s+et\s+(?:quart|demie|{_NUMBER}\s+minutes?)|\s+moins\s+le\s+quart)?"
    r"|(?:une\s+)?demi-heure|(?:trois\s+)?quarts?\s+d['’]heure)\b",
    re.I,
)


def figures(minutes: float) -> str:
    hours, rest = divmod(round(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _suffix(n: int) -> str:
    return "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _count(m: re.Match[str]) -> str:
    found = numbers(m.group())
    if len(found) != 1 or found[0] < 2 or not found[0].is_integer():  # "un", "une": articles as often as counts
        return m.group()
    return f"{m.group()} ({int(found[0])})"


def _rank(m: re.Match[str]) -> str:
    found = numbers(m.group())
    if len(found) != 1 or not found[0].is_integer():
        return m.group()
    return f"{m.group()} ({int(found[0])}{_suffix(int(found[0]))})"


def gloss(text: str, lang: str = "fr") -> str:
    """`text` with each duration in words followed by its value in figures; for `lang="en"`,
    each count and rank in words too."""

    def add(m: re.Match[str]) -> str:
        found = durations(m.group())
        if len(found) != 1 or "moins" in m.group().lower():  # "moins le quart": left as written
            return m.group()
        return f"{m.group()} ({figures(found[0])})"

    text = _DURATION.sub(add, text)
    if lang != "en":
        return text
    text = _ORDINAL.sub(_rank, text)
    return _COUNT.sub(_count, text)


def unglossed(answer: str) -> str:
    """`answer` without the glosses it copied from the passages."""

    def drop(m: re.Match[str]) -> str:  # "sixth (6th)", not "Monday (3)", a passage number
        said = numbers(m.group(1))
        if not said:
            return m.group()
        return m.group(1) if said == [float(m.group(2))] else m.group(2) + m.group(3)

    return _FIGURES.sub(drop, _GLOSS.sub("", answer))
