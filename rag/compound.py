"""Compound questions: a difference, a total, or two questions in one, answered part by part.

A 1.5B model cannot subtract or add figures that sit in two articles, and answers only
one half of "Which official ..., and which minister ...?". Such a question is split by
the model into two simple questions; each is answered as if asked alone (retrieval,
generation, citation checks: `rag.answer`), and the system computes the difference or
the total from the values its own reader finds in the two verified answers. Both
answers stay in the result, with their citations, so the figure can be checked.

>>> kind("De combien de minutes l'appel de juin a-t-il été plus long que celui du 3 juillet ?")
'difference'
>>> kind("In total, how many people died in the derailments and in the Poltava strike?")
'total'
>>> kind("Which official welcomed the deal, and which minister described the exchange?")
'both'
>>> kind("Qui a appelé Lavrov et quand ?") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.citations import MARKER
from rag.glosses import figures
from rag.lexical import analyze
from rag.normalize import dates, durations, fold, numbers
from rag.weekdays import MONTHS_EN, MONTHS_FR

_WH = r"(?:qui|quel(?:le)?s?|quand|où|combien|comment|who|which|what|when|where|how)"
_DIFFERENCE = re.compile(
    r"\bde combien\b.*\b(?:plus|moins)\b|\bhow (?:much|many)\b.*\b(?:more|less|fewer|longer|shorter|later|earlier"
    r"|higher|lower|bigger|larger|smaller)\b.*\bthan\b",
    re.I,
)
_TOTAL = re.compile(r"\b(?:au total|en tout|au cumul|in total|altogether|combined|all told)\b", re.I)
# Two full questions joined: "Which official ..., and which minister described ...?"
_BOTH = re.compile(rf"^\W*{_WH}\b.+(?:,\s*|\s)(?:and|et)\s+{_WH}\s+(?:\S+\s+){{3,}}", re.I)

SYSTEM_SPLIT = (
    "Split the user's question into the two simple questions it is made of, in the language of the question: "
    "one per line, nothing else. Each must make sense alone: repeat the names and dates instead of words such "
    "as 'celui', 'that one' or 'there'. For 'how much more ... than' or 'in total', ask for each quantity.\n"
    "Example: De combien d'euros le loyer à Paris est-il plus cher que celui de Lyon ?\n"
    "Quel est le loyer à Paris ?\nQuel est le loyer à Lyon ?\n"
    "Example: In total, how many goals did Smith and Jones score?\n"
    "How many goals did Smith score?\nHow many goals did Jones score?"
)
LEAD = {
    ("difference", "fr"): "La différence est de {value} :",
    ("difference", "en"): "The difference is {value}:",
    ("total", "fr"): "Au total : {value}.",
    ("total", "en"): "In total: {value}.",
}


def kind(question: str) -> str | None:
    """'difference', 'total' or 'both' when `question` is made of two, else None."""
    if _DIFFERENCE.search(question):
        return "difference"
    if _TOTAL.search(question):
        return "total"
    return "both" if _BOTH.search(question) else None


def parts(question: str, reply: str) -> list[str]:
    """The two questions of the model's `reply` (list markers and labels dropped), or []
    when it did not split `question` into two new questions.

    >>> parts("Au total, combien de morts à Poltava et à Lipetsk ?", "1. Morts à Poltava ?\\n2. Morts à Lipetsk ?")
    ['Morts à Poltava ?', 'Morts à Lipetsk ?']
    >>> parts("Au total, combien de prisonniers ?", "Combien de prisonniers en mai ?\\nCombien en juin ?")
    []
    >>> parts("De combien l'appel de juin a-t-il été plus long que celui du 3 juillet ?",
    ...       "Quelle est la durée du premier appel ?\\nQuelle est la durée du second appel ?")
    []
    """
    lines = [re.sub(r"^\s*(?:\d+[.)]|[-*•]|q\d*\s*:|question\s*\d*\s*:)\s*", "", line, flags=re.I).strip()
             for line in reply.splitlines()]  # fmt: skip
    found = [line for line in lines if len(line.split()) >= 3][:2]
    if len(found) != 2 or found[0] == found[1] or question in found:
        return []
    if any(kind(line) in ("difference", "total") for line in found):  # not split after all
        return []
    said = fold(" ".join(found))
    if any(not re.search(rf"(?<!\w){re.escape(key)}(?!\w)", said) for key in _keys(question)):
        return []  # "Quelle est la durée du premier appel ?" lost "juin" and "3 juillet"
    asked, first, second = set(analyze(question)), set(analyze(found[0])), set(analyze(found[1]))
    if not (first - second) & asked or not (second - first) & asked:
        return []  # each part must ask about something of the question the other does not
    return found


def _keys(question: str) -> set[str]:
    """The names, figures and months of `question` (folded): each must be in one of its parts."""
    words = re.findall(r"[\w'’-]+", question)
    names = {w for w in words[1:] if w[0].isupper()} | {w for w in words if w.isdigit()}
    months = {w for w in words if w.lower() in MONTHS_FR or w.lower() in MONTHS_EN}
    return {fold(w) for w in names | months}


def value(question: str, answer: str) -> tuple[float, bool] | None:
    """The one duration (in minutes) or, failing that, the one number that `answer` gives
    beyond those of `question` (days and years of dates aside), and whether `answer` states
    a duration; None if not exactly one.

    >>> value("Combien de temps a duré l'appel ?", "Il a duré une heure et quart (1 h 15 min) [1].")
    (75.0, True)
    >>> value("Combien de morts le 3 juin ?", "Sept morts le 3 juin [2]."), value("Combien ?", "3 ou 4 [1]")
    ((7.0, False), None)
    """
    text = MARKER.sub("", answer)
    stated = set(durations(text))
    found = stated - set(durations(question))
    if not found:
        dated = {float(x) for d in dates(text) for x in (d.day, d.year) if x is not None}
        found = set(numbers(text)) - set(numbers(question)) - dated
    return (found.pop(), bool(stated)) if len(found) == 1 else None


def lead(how: str, lang: str, values: Sequence[float], in_minutes: bool) -> str:
    """The computed sentence that opens a difference or a total.

    >>> lead("difference", "fr", [75.0, 60.0], True), lead("total", "en", [7.0, 2.0], False)
    ('La différence est de 15 min :', 'In total: 9.')
    """
    result = abs(values[0] - values[1]) if how == "difference" else sum(values)
    shown = figures(result) if in_minutes else f"{result:g}"
    return LEAD[(how, lang)].format(value=shown)


def renumbered(text: str, offset: int) -> str:
    """`text` with each marker [n] moved to [n + offset].

    >>> renumbered("Rubio [1], Umerov [1][2].", 2)
    'Rubio [3], Umerov [3][4].'
    """
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text)
