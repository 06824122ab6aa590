"""Typed answer checker for the eval suite (pure standard library).

A gold object (one line of ``evals/questions.jsonl``) is parsed with
``Gold.from_dict`` and an answer is judged with ``check``:

>>> check("L'appel a duré une heure et quart.", Gold.from_dict(
...     {"kind": "duration", "minutes": 75}), abstained=False).correct
True

Matching is lenient by design: a numeric, date or name gold is met when *any*
mention in the answer matches it; contradicting mentions elsewhere are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rag.normalize import DateMention, dates, durations, fold, mentions_name, numbers

__all__ = ["DateGold", "DurationGold", "Gold", "NameGold", "NoneGold", "NumberGold", "SetGold", "TextGold", "Verdict",
           "YesNoGold", "check", "mentions", "polarity"]  # fmt: skip

_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check.

    >>> Verdict(False, "expected 75 min, found 60 min").correct
    False
    """

    correct: bool
    why: str


class Gold(ABC):
    """Base of every gold kind; ``Gold.from_dict`` picks the subclass by ``kind``."""

    kind: ClassVar[str]

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Gold:
        """Parse a JSON gold object; raises ``ValueError`` when malformed.

        >>> Gold.from_dict({"kind": "number", "value": 7})
        NumberGold(value=7.0, tolerance=0.0)
        """
        kinds = {k.kind: k for k in _KINDS}
        kind = data.get("kind")
        if kind not in kinds:
            raise ValueError(f"unknown gold kind: {kind!r}")
        try:
            return kinds[kind].parse(data)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"bad {kind} gold {dict(data)!r}: {err}") from err

    @classmethod
    @abstractmethod
    def parse(cls, data: Mapping[str, Any]) -> Gold:
        """Build this kind from its JSON object."""

    @abstractmethod
    def judge(self, answer: str) -> Verdict:
        """Judge a non-abstaining answer."""


def _show(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def _numeric(expected: float, tolerance: float, found: list[float], unit: str) -> Verdict:
    want = f"expected {_show(expected)}{unit}"
    hits = [f for f in found if abs(f - expected) <= tolerance]
    if hits:
        return Verdict(True, f"{want}, found {_show(hits[0])}{unit}")
    seen = ", ".join(_show(f) + unit for f in found) or "nothing"
    return Verdict(False, f"{want}, found {seen}")


@dataclass(frozen=True)
class DurationGold(Gold):
    """Expected duration in minutes, e.g. ``{"kind": "duration", "minutes": 75}``."""

    minutes: float
    tolerance: float = 0.0
    kind: ClassVar[str] = "duration"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DurationGold:
        return cls(float(data["minutes"]), float(data.get("tolerance", 0)))

    def judge(self, answer: str) -> Verdict:
        return _numeric(self.minutes, self.tolerance, durations(answer), " min")


@dataclass(frozen=True)
class NumberGold(Gold):
    """Expected number, e.g. ``{"kind": "number", "value": 5000, "tolerance": 0}``."""

    value: float
    tolerance: float = 0.0
    kind: ClassVar[str] = "number"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> NumberGold:
        return cls(float(data["value"]), float(data.get("tolerance", 0)))

    def judge(self, answer: str) -> Verdict:
        return _numeric(self.value, self.tolerance, numbers(answer), "")


def _iso(year: int | None, month: int | None, day: int | None) -> str:
    """'2025-05-19', '????-05-19', '2022-03', '2014'."""
    parts = [f"{year:04d}" if year else "????", f"{month:02d}" if month else "", f"{day:02d}" if day else ""]
    return "-".join(p for p in parts if p)


def _describe(m: DateMention) -> str:
    date = _iso(m.year, m.month, m.day) if m.month or m.year else ""
    return " ".join(p for p in (date, _WEEKDAYS[m.weekday] if m.weekday is not None else "") if p)


@dataclass(frozen=True)
class DateGold(Gold):
    """Expected date ("2025-05-19", "2022-03" or "2014"); a year in the answer must agree.

    With ``accept_weekday`` a bare weekday name ("lundi", "Monday") also counts.
    """

    year: int
    month: int | None = None
    day: int | None = None
    accept_weekday: bool = False
    kind: ClassVar[str] = "date"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DateGold:
        parts = [int(p) for p in str(data["date"]).split("-")]
        if not 1 <= len(parts) <= 3:
            raise ValueError("date must be YYYY, YYYY-MM or YYYY-MM-DD")
        dt.date(*[*parts, 1, 1][:3])  # validates the ranges
        month, day = [*parts[1:], None, None][:2]
        gold = cls(parts[0], month, day, bool(data.get("accept_weekday", False)))
        if gold.accept_weekday and gold.day is None:
            raise ValueError("accept_weekday needs a full date")
        return gold

    @property
    def weekday(self) -> int | None:
        """Weekday of a full gold date, 0 = Monday."""
        if self.month is None or self.day is None:
            return None
        return dt.date(self.year, self.month, self.day).weekday()

    def _matches(self, m: DateMention) -> bool:
        year_ok = m.year is None or m.year == self.year
        if self.month is None:
            return m.year == self.year
        if self.day is None:
            return year_ok and m.month == self.month
        if m.day is None and m.month is None and m.year is None:
            return self.accept_weekday and m.weekday == self.weekday
        weekday_ok = m.weekday is None or m.weekday == self.weekday
        return year_ok and weekday_ok and (m.month, m.day) == (self.month, self.day)

    def judge(self, answer: str) -> Verdict:
        want = _iso(self.year, self.month, self.day)
        if self.weekday is not None:
            want += f" ({_WEEKDAYS[self.weekday]})"
        found = dates(answer)
        hits = [m for m in found if self._matches(m)]
        seen = ", ".join(_describe(m) for m in (hits or found)) or "no date"
        return Verdict(bool(hits), f"expected {want}, found {seen}")


_FILLER = {"m", "mr", "mme", "president", "general", "pape", "pope", "saint", "st"}


def _surname(name: str) -> str | None:
    """The distinctive last word of a name, skipping roman numerals ('Léon XIV')."""
    words = [w for w in re.findall(r"[^\W_]+", fold(name)) if w not in _FILLER]
    words = [w for w in words if not re.fullmatch(r"[ivxlcdm]+", w)] or words
    return words[-1] if len(words) > 1 else None


def mentions(answer: str, phrase: str) -> bool:
    """Whether the answer contains ``phrase``, folded or as a name in any spelling.

    >>> mentions("Des pourparlers à İstanbul", "Istanbul")
    True
    """
    target = fold(phrase)
    if target and re.search(rf"(?<!\w){re.escape(target)}(?!\w)", fold(answer)):
        return True
    return mentions_name(answer, phrase)


def _alternatives(value: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(f"expected non-empty strings, got {value!r}")
    return items


@dataclass(frozen=True)
class NameGold(Gold):
    """A person or place; the full name, an alias, or the surname alone counts."""

    value: str
    aliases: tuple[str, ...] = ()
    kind: ClassVar[str] = "name"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> NameGold:
        return cls(_alternatives(data["value"])[0], tuple(data.get("aliases", ())))

    def candidates(self) -> list[str]:
        """Phrases any of which satisfies this gold."""
        names = [self.value, *self.aliases]
        return names + [s for s in map(_surname, names) if s]

    def judge(self, answer: str) -> Verdict:
        hit = next((c for c in self.candidates() if mentions(answer, c)), None)
        want = " / ".join([self.value, *self.aliases])
        return Verdict(hit is not None, f"expected {want}, " + (
            f"found {hit!r}" if hit else "not found"))  # fmt: skip


@dataclass(frozen=True)
class TextGold(Gold):
    """Any of several phrases, e.g. ``{"kind": "text", "any": ["Istanbul", "Turquie"]}``."""

    any: tuple[str, ...]
    kind: ClassVar[str] = "text"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TextGold:
        return cls(_alternatives(data["any"]))

    def judge(self, answer: str) -> Verdict:
        hit = next((a for a in self.any if mentions(answer, a)), None)
        want = " | ".join(self.any)
        return Verdict(hit is not None, f"expected one of {want}, " + (
            f"found {hit!r}" if hit else "none found"))  # fmt: skip


@dataclass(frozen=True)
class SetGold(Gold):
    """Several items (each a name or a list of alternatives); ``min`` defaults to all."""

    items: tuple[tuple[str, ...], ...]
    min: int | None = None
    kind: ClassVar[str] = "set"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> SetGold:
        items = tuple(_alternatives(i) for i in data["items"])
        least = data.get("min")
        if not items or (least is not None and not 1 <= int(least) <= len(items)):
            raise ValueError("set needs items and 1 <= min <= len(items)")
        return cls(items, None if least is None else int(least))

    def judge(self, answer: str) -> Verdict:
        found = [i for i in self.items if any(mentions(answer, a) for a in i)]
        missing = [i[0] for i in self.items if i not in found]
        need = len(self.items) if self.min is None else self.min
        why = f"found {len(found)}/{len(self.items)} items (need {need})"
        return Verdict(len(found) >= need, why + (f"; missing {', '.join(missing)}" * bool(missing)))


_YES = {"oui", "yes", "yeah", "yep", "si", "affirmative"}
_NO = {"non", "no", "nope", "nan", "negative"}
_ATTRIBUTION = {"selon", "d'apres", "according", "as", "comme", "per", "in", "en", "dans"}
_NEGATION = re.compile(
    r"\bn'|\b(?:ne|pas|jamais|aucune?s?|ni|sans|rien|non|nullement|not|never|no|none"
    r"|neither|nor|nothing|without|cannot)\b|n't\b"
)
_CLAUSE = re.compile(r"(?<!\b\w)[.!?;:,]+(?=\s|$)|\n")


def _clauses(answer: str) -> Iterable[list[str]]:
    for clause in _CLAUSE.split(fold(answer)):
        words = [w.strip("\"'()*[]-") for w in clause.split()]
        if any(words):
            yield [w for w in words if w]


def polarity(answer: str) -> bool | None:
    """Yes/no reading of an answer: True for yes, None when there are no words.

    Rule: clauses are cut at punctuation. The first clause that opens with a
    yes-word (oui/yes/si...) or a no-word (non/no/nope) decides. Otherwise the
    first clause of three or more words that is not an attribution ("selon X",
    "according to X") decides: it reads no iff it has a negation (ne/n'/pas/
    jamais/aucun/ni/sans/rien/non, not/n't/never/no/none/neither/nor/nothing/
    without/cannot). With no such clause, the whole answer decides.

    >>> polarity("Non."), polarity("Selon Ouchakov, Trump n'a pas été informé.")
    (False, False)
    """
    for words in _clauses(answer):
        if words[0] in _YES | _NO:
            return words[0] in _YES
        if len(words) >= 3 and words[0] not in _ATTRIBUTION:
            return not _NEGATION.search(" ".join(words))
    text = fold(answer)
    return not _NEGATION.search(text) if re.search(r"\w", text) else None


@dataclass(frozen=True)
class YesNoGold(Gold):
    """Expected polarity, e.g. ``{"kind": "yesno", "value": false}``; see ``polarity``."""

    value: bool
    kind: ClassVar[str] = "yesno"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> YesNoGold:
        if not isinstance(data["value"], bool):
            raise ValueError("yesno value must be true or false")
        return cls(data["value"])

    def judge(self, answer: str) -> Verdict:
        read = polarity(answer)
        word = {True: "yes", False: "no", None: "nothing"}
        return Verdict(read == self.value, f"expected {word[self.value]}, answer reads {word[read]}")


@dataclass(frozen=True)
class NoneGold(Gold):
    """Unanswerable from the corpus: only an abstention is correct."""

    kind: ClassVar[str] = "none"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> NoneGold:
        return cls()

    def judge(self, answer: str) -> Verdict:
        return Verdict(False, "answered an unanswerable question")


_KINDS: tuple[type[Gold], ...] = (
    DurationGold, NumberGold, DateGold, NameGold, TextGold, SetGold, YesNoGold, NoneGold,
)  # fmt: skip


def check(answer: str, gold: Gold, *, abstained: bool) -> Verdict:
    """Judge ``answer`` against ``gold``; abstaining is right only for ``none`` golds.

    >>> check("", Gold.from_dict({"kind": "none"}), abstained=True)
    Verdict(correct=True, why='abstained on an unanswerable question')
    """
    if isinstance(gold, NoneGold):
        if abstained:
            return Verdict(True, "abstained on an unanswerable question")
        return gold.judge(answer)
    if abstained:
        return Verdict(False, "abstained on an answerable question")
    return gold.judge(answer)
