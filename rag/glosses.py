"""Durations written in French words, glossed in figures for the model.

A 1.5B model reads "une heure et quart" as 1 h 45 about as often as 1 h 15, above all
when it answers in English. The passages it is shown carry the value the system's own
reader finds (`rag.normalize.durations`), in figures, after the words:

>>> gloss("L'appel aurait duré une heure et quart, selon lui.")
"L'appel aurait duré une heure et quart (1 h 15 min), selon lui."
>>> gloss("Un entretien d'environ une heure, puis trois quarts d'heure de débat ; 40 minutes.")
"Un entretien d'environ une heure (1 h), puis trois quarts d'heure (45 min) de débat ; 40 minutes."

The model sometimes copies a gloss into its answer; `unglossed` takes it out again:

>>> unglossed("The call lasted 1 hour (1 h) [1].")
'The call lasted 1 hour [1].'
"""

from __future__ import annotations

import re

from rag.normalize import durations

_NUM = (
    r"(?:une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|"
    r"vingt|trente|quarante|cinquante|soixante)"
)
_NUMBER = rf"{_NUM}(?:[- ](?:et[- ])?{_NUM})*"
_GLOSS = re.compile(r"\s*\((?:\d+ h(?: \d+ min)?|\d+ min)\)")
_DURATION = re.compile(
    rf"\b(?:{_NUMBER}\s+(?:heures?|minutes?)"
    rf"(?:\s+et\s+(?:quart|demie|{_NUMBER}\s+minutes?)|\s+moins\s+le\s+quart)?"
    r"|(?:une\s+)?demi-heure|(?:trois\s+)?quarts?\s+d['’]heure)\b",
    re.I,
)


def _figures(minutes: float) -> str:
    hours, rest = divmod(round(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def gloss(text: str) -> str:
    """`text` with each duration in words followed by its value in figures."""

    def add(m: re.Match[str]) -> str:
        found = durations(m.group())
        if len(found) != 1 or "moins" in m.group().lower():  # "moins le quart": left as written
            return m.group()
        return f"{m.group()} ({_figures(found[0])})"

    return _DURATION.sub(add, text)


def unglossed(answer: str) -> str:
    """`answer` without the glosses it copied from the passages."""
    return _GLOSS.sub("", answer)
