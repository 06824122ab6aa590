"""French/English normalisation: folding, numbers, durations, dates, names, language.

Pure standard library; shared by the answer checker and citation attribution.

>>> fold("L’appel a duré «une heure»")
'l\\'appel a dure "une heure"'
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DateMention", "clock_times", "counted", "dates", "durations", "fold", "language", "mentions_name", "name_key",
    "numbers", "same_name", "strip_dates", "undated",
]  # fmt: skip

_TRANS = str.maketrans({
    "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'", "\u2032": "'",
    "\u00ab": '"', "\u00bb": '"', "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u200a": " ",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o", "\u0142": "l", "\u00df": "ss", "\u0111": "d",
})  # fmt: skip


def _split(words: str) -> list[str]:
    return words.split()


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().translate(_TRANS).split())


def fold(text: str) -> str:
    """Lowercase, strip accents, unify quotes, dashes and spaces; idempotent.

    >>> fold("  Sergueï\u00a0LAVROV ’ ")
    "serguei lavrov '"
    """
    previous, current = None, text
    for _ in range(5):  # NFKD/lower can expose new foldable characters
        if current == previous:
            break
        previous, current = current, _fold_once(current)
    return current


# --- numbers -----------------------------------------------------------------
# Digit literals: "5 000", "5,000", "5.000", "5'000" are thousands (a group of exactly
# three digits after the separator); "3,5" and "1.25" are decimals.
_NUM_RE = r"(?<![\d.,'])(?:\d{1,3}(?P<g>[ .,'])\d{3}(?:(?P=g)\d{3})*(?!\d)(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
_TOKEN_RE = re.compile(rf"{_NUM_RE}|[^\W\d_]+|[^\w\s'-]")
_UNIT_WORDS = (
    "zero|one|deux two|trois three|quatre four|cinq five|six|sept seven|huit eight|neuf nine|dix ten|"
    "onze eleven|douze twelve|treize thirteen|quatorze fourteen|quinze fifteen|seize sixteen|seventeen|"
    "eighteen|nineteen"
)
_TENS_WORDS = (
    "vingt vingts twenty|trente thirty|quarante forty|cinquante fifty|soixante sixty|"
    "septante seventy|huitante octante eighty|nonante ninety"
)
_UNITS = {w: float(i) for i, ws in enumerate(_UNIT_WORDS.split("|")) for w in ws.split()}
_UNITS.update({w: 10.0 * i for i, ws in enumerate(_TENS_WORDS.split("|"), 2) for w in ws.split()})
_MULTS: dict[str, float] = {
    "cent": 100, "hundred": 100, "mille": 1e3, "thousand": 1e3, "million": 1e6, "milliard": 1e9,
    "billion": 1e9, "trillion": 1e12, "dizaine": 10, "douzaine": 12, "dozen": 12, "quinzaine": 15,
    "vingtaine": 20, "trentaine": 30, "centaine": 100, "millier": 1e3,
}  # fmt: skip
_WEAK = {"un": 1.0, "une": 1.0, "a": 1.0, "an": 1.0}  # articles: a number only before a multiplier
_ORD = {"premier": 1.0, "premiere": 1.0, "first": 1.0, "second": 2.0, "seconde": 2.0, "third": 3.0,
        "fifth": 5.0, "eighth": 8.0, "ninth": 9.0, "twelfth": 12.0}  # fmt: skip

_Token = str | float


def _mult(word: _Token) -> tuple[float, bool] | None:
    """Multiplier value of ``word`` and whether it is plural ('millions')."""
    if isinstance(word, float):
        return None
    if word in _MULTS:
        return _MULTS[word], False
    single = word.removesuffix("s")
    return (_MULTS[single], True) if single != word and single in _MULTS else None


def _ordinal(word: _Token) -> float | None:
    """'sixième' -> 6, 'twentieth' -> 20, 'neuvième' -> 9."""
    if isinstance(word, float) or word in _ORD:
        return None if isinstance(word, float) else _ORD[word]
    stems: list[str] = []
    if word.endswith(("ieme", "iemes")):
        stem = word[: word.rindex("ieme")]
        stems = [stem, stem + "e", stem[:-1] + "f", stem.removesuffix("u")]
    elif word.endswith("th"):
        stems = [word[:-4] + "y" if word.endswith("ieth") else word[:-2]]
    return next((_UNITS.get(s) or _MULTS[s] for s in stems if s in _UNITS or s in _MULTS), None)


def _additive(last: float, value: float) -> bool:
    """May ``value`` follow a word worth ``last`` additively (vingt-deux, dix-sept)?"""
    return value < last and ((last >= 20 and last % 10 == 0) or (last == 10 and value < 10))


@dataclass
class _Phrase:
    """Accumulates one number phrase, e.g. 'deux millions cinq cent mille'."""

    total: float = 0.0
    cur: float = 0.0
    last: float = math.inf
    seen: bool = False
    done: bool = False

    def feed(self, tok: _Token, nxt: _Token) -> bool:
        """Take ``tok`` if it continues the phrase."""
        mult = _mult(tok)
        if isinstance(tok, float):
            return not self.seen and self._unit(tok, literal=True)
        if mult and (self.seen or not mult[1]):
            return self._scale(mult[0])
        if tok in _UNITS or (self.seen and tok in ("un", "une")):
            return self._unit(_UNITS.get(tok, 1.0))
        if tok in _WEAK and not self.seen:
            follow = _mult(nxt)
            return bool(follow and not follow[1]) and self._unit(1.0)
        if tok in ("et", "and") and self.seen:
            joined = _UNITS.get(nxt, 1.0) if isinstance(nxt, str) and nxt in (*_UNITS, "un", "une") else _ordinal(nxt)
            return joined is not None and (_additive(self.last, joined) or self.last >= 100)
        value = _ordinal(tok)
        self.done = value is not None
        return value is not None and self._unit(value)

    def _unit(self, value: float, *, literal: bool = False) -> bool:
        if self.seen and self.last == 4 and value == 20 and self.cur % 100 == 4:
            self.cur, self.last = self.cur + 76, 20.0  # quatre-vingt
            return True
        if self.seen and not _additive(self.last, value):
            return False
        self.cur, self.last, self.seen = self.cur + value, 0.0 if literal else value, True
        return True

    def _scale(self, factor: float) -> bool:
        if factor == 100:
            self.cur = (self.cur or 1.0) * 100
        else:
            self.total, self.cur = self.total + (self.cur or 1.0) * factor, 0.0
        self.last, self.seen = factor, True
        return True


def _at(ts: list[_Token], i: int) -> _Token:
    return ts[i] if 0 <= i < len(ts) else ""


def _literal(text: str, group: str | None) -> float:
    """Value of a digit literal; ``group`` is its thousands separator, if any."""
    if group is None:
        return float(text.replace(",", "."))
    m = re.fullmatch(rf"(\d{{1,3}}(?:{re.escape(group)}\d{{3}})*)(?:[.,](\d+))?", text)
    whole, frac = (m.group(1).replace(group, ""), m.group(2)) if m else (text, None)
    return float(f"{whole}.{frac}" if frac else whole)


def _tokens(text: str) -> list[_Token]:
    """Folded tokens, every number phrase collapsed to one float."""
    raw: list[_Token] = [
        _literal(m.group(0), m.group("g")) if m.group(0)[0].isdigit() else m.group(0)
        for m in _TOKEN_RE.finditer(fold(text))
    ]
    out: list[_Token] = []
    i = 0
    while i < len(raw):
        phrase, j = _Phrase(), i
        while j < len(raw) and not phrase.done and phrase.feed(raw[j], _at(raw, j + 1)):
            j += 1
        out.append(phrase.total + phrase.cur if phrase.seen else raw[i])
        i = j if phrase.seen else i + 1
    return out


def numbers(text: str) -> list[float]:
    """Every number mentioned, in digits or words, French or English, ordinals included.

    Articles (un/une/a/an) count only before a multiplier ('une douzaine'), plural
    multipliers only after a number ('des centaines' is not a number); 'billion' is 1e9.

    >>> numbers("plus de 5 000 soldats, sept morts, la sixième fois, 60 milliards")
    [5000.0, 7.0, 6.0, 60000000000.0]
    """
    return [t for t in _tokens(text) if isinstance(t, float)]


def counted(text: str) -> list[tuple[float, str]]:
    """Each number directly followed by a word, with that word (folded): what it counts.
    A month or a unit of time after it makes a date or a duration, not a count.

    >>> counted("trois trains, avec un bilan de sept morts et 113 blessés, le 3 juillet, en 2 heures")
    [(3.0, 'trains'), (7.0, 'morts'), (113.0, 'blesses')]
    """
    tokens = _tokens(text)
    return [
        (t, w)
        for t, w in itertools.pairwise(tokens)
        if isinstance(t, float) and isinstance(w, str) and w[:1].isalpha() and w not in _NOT_COUNTS
    ]


# --- durations ---------------------------------------------------------------

_HOUR = {"h", "heure", "heures", "hour", "hours", "hr", "hrs"}
_MINUTE = {"min", "mins", "mn", "minute", "minutes"}
_CALENDAR = _split(
    "seconde secondes jour jours semaine semaines mois an ans annee annees second seconds day days week weeks "
    "month months year years"
)
_HALF, _QUARTER = {"demi", "demie", "half"}, {"quart", "quarts", "quarter", "quarters"}


def _quantity(tok: _Token) -> float | None:
    return tok if isinstance(tok, float) else _WEAK.get(tok)


def _fraction(ts: list[_Token], i: int) -> tuple[float, int] | None:
    """'(trois) quarts d'heure', 'half an hour', 'une demi-heure' starting at ``i``."""
    q = _quantity(_at(ts, i))
    k = i + (q is not None)
    size = 15.0 if _at(ts, k) in _QUARTER else 30.0 if _at(ts, k) in _HALF else 0.0
    k += 1 + (_at(ts, k + 1) in ("d", "de", "of"))
    k += _at(ts, k) in _WEAK
    return ((q or 1.0) * size, k + 1) if size and _at(ts, k) in _HOUR else None


def _hour_tail(ts: list[_Token], k: int) -> tuple[float, int]:
    """Minutes after an hour unit: 'et quart', 'and a half', '15', 'et quinze minutes'."""
    joined = int(_at(ts, k) in ("et", "and"))
    j = k + joined + (_at(ts, k + joined) in _WEAK)
    if _at(ts, j) in _QUARTER or _at(ts, j) in _HALF:
        return (15.0 if _at(ts, j) in _QUARTER else 30.0), j + 1
    extra, unit = _at(ts, k + joined), _at(ts, k + joined + 1) in _MINUTE
    if isinstance(extra, float) and extra < 60 and (unit or not joined):
        return extra, k + joined + 1 + unit
    return 0.0, k


def _hours(ts: list[_Token], i: int) -> tuple[float, int] | None:
    """'une heure et quart', '1 h 15', 'one and a half hours' starting at ``i``."""
    q, k = _quantity(_at(ts, i)), i + 1
    half = k + 1 + (_at(ts, k + 1) in _WEAK)
    if q is not None and _at(ts, k) in ("et", "and") and _at(ts, half) in _HALF:
        q, k = q + 0.5, half + 1
    unit, before = _at(ts, k), _at(ts, i - 1)
    clock = before in ("at", "vers") or (before == "a" and unit in ("h", "heure", "heures"))
    if q is None or unit not in _HOUR or clock:
        return None  # not a duration, or a clock time: 'à 10 heures', 'vers 10 h'
    extra, end = _hour_tail(ts, k + 1)
    return q * 60 + extra, end


def durations(text: str) -> list[float]:
    """Every duration mentioned, in minutes; clock times ('à 10 heures') are skipped.

    >>> durations("l'appel a duré une heure et quart, puis 45 minutes, à 10 heures")
    [75.0, 45.0]
    """
    ts, out, i = _tokens(text), [], 0
    while i < len(ts):
        q = _quantity(ts[i])
        found = _fraction(ts, i) or _hours(ts, i)
        if found is None and q is not None and _at(ts, i + 1) in _MINUTE:
            found = (q, i + 2)
        if found:
            out.append(found[0])
        i = found[1] if found else i + 1
    return out


# --- dates -------------------------------------------------------------------


@dataclass(frozen=True)
class DateMention:
    """A possibly partial date; ``weekday`` 0 is Monday.

    >>> DateMention(2025, 5, 19, 0).month
    5
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None


_MONTHS_FR = _split("janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre")
_MONTHS_EN = _split("january february march april may june july august september october november december")
_NOT_COUNTS = {*_HOUR, *_MINUTE, *_CALENDAR, *_MONTHS_FR, *_MONTHS_EN}  # what `counted` leaves to dates and durations
_ABBR_FR = _split("janv fevr mars avr mai juin juil aout sep oct nov dec")
_ABBR_EN = _split("jan feb mar apr may jun jul aug sep oct nov dec")
_MONTH = {n: k % 12 + 1 for k, n in enumerate(_MONTHS_FR + _MONTHS_EN + _ABBR_FR + _ABBR_EN)} | {"sept": 9}
_DAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche monday tuesday wednesday thursday friday saturday sunday"
_WEEKDAY = {n: k % 7 for k, n in enumerate(_DAYS.split())}


def _alt(names: Iterable[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_M, _ME = rf"(?P<m>{_alt(_MONTH)})\.?", rf"(?P<m>{_alt([*_MONTHS_EN, *_ABBR_EN, 'sept'])})\.?"
_W = rf"(?:(?P<w>{_alt(_WEEKDAY)}),?\s+(?:the\s+|le\s+)?)?"
_D, _Y = r"(?P<d>[0-3]?\d|premier)(?:er|re|e|eme|st|nd|rd|th)?", r"(?:,?\s+(?P<y>\d{4}))?"
_FULL = _alt(m for m in _MONTHS_FR + _MONTHS_EN if m not in ("may", "march"))  # English 'may'/'march' need context
_DATE_RES = [re.compile(p) for p in (
    r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b",
    r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})\b",
    rf"\b{_W}{_D}\s+(?:of\s+|de\s+)?{_M}{_Y}\b",
    rf"\b{_W}{_ME}\s+{_D}{_Y}\b",
    rf"\b{_M}\s+(?P<y>\d{{4}})\b",
    r"\b(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])\b",
    rf"\b(?P<m>{_FULL})\b",
    r"\b(?:mi|mid|early|late|in|of|since|until)[-\s]+(?P<m>may|march)\b",
    rf"\b(?P<w>{_alt(_WEEKDAY)})s?\b",
    r"(?<![\d/.-])\b(?P<y>1[89]\d\d|20\d\d)\b(?![/.-]\d)",
)]  # fmt: skip


def _mention(m: re.Match[str], default_year: int | None) -> DateMention | None:
    g = {k: v for k, v in m.groupdict().items() if v}
    month = _MONTH.get(g.get("m", "")) or (int(g["m"]) if g.get("m", "").isdigit() else None)
    day = 1 if g.get("d") == "premier" else int(g["d"]) if "d" in g else None
    year = int(g["y"]) if "y" in g else default_year if month else None
    try:
        dt.date(year or 2024, month or 1, day or 1)  # validates month and day (2024: leap year)
    except ValueError:
        return None
    return DateMention(year, month, day, _WEEKDAY.get(g.get("w", "")))


def dates(text: str, *, default_year: int | None = None) -> list[DateMention]:
    """Every date, month, weekday or year mentioned, in text order.

    Numeric dates are read day first (19/05/2025). ``default_year`` fills the year of
    mentions that have a month but no year.

    >>> dates("le lundi 19 mai, puis May 20th, 2025")[0]
    DateMention(year=None, month=5, day=19, weekday=0)
    """
    return [mention for _, _, mention in _date_spans(fold(text), default_year)]


_CLOCK = re.compile(
    r"\b(\d{1,2})(?:\s*(?:h|heures?)(?![a-z])\s*(\d{2})?|:(\d{2})|\s*(a\.?m\b|p\.?m\b|o'clock))|\b(midi|minuit|noon|midnight)\b"
)


def clock_times(text: str) -> set[tuple[int, int]]:
    """Times of day written with figures ("10 heures", "10h30", "10:30", "3 p.m.", "midi"),
    as (hour, minute); "une heure" alone is a length as often as a time, and is not one.

    >>> sorted(clock_times("à 10 heures, puis à 15h30 ; at 3 p.m. or 9:45, et midi"))
    [(9, 45), (10, 0), (12, 0), (15, 0), (15, 30)]
    >>> clock_times("un entretien d'environ une heure")
    set()
    """
    found = set()
    for m in _CLOCK.finditer(fold(text)):
        if m.group(5):
            found.add((0 if m.group(5) in ("minuit", "midnight") else 12, 0))
            continue
        hour, minute = int(m.group(1)), int(m.group(2) or m.group(3) or 0)
        if m.group(4) and m.group(4).startswith("p") and hour < 12:
            hour += 12
        if hour < 24 and minute < 60:
            found.add((hour, minute))
    return found


def undated(text: str) -> str:
    """`text` folded, without the dates that name a day or a weekday (a month or a year
    alone stays).

    >>> undated("Il a cessé le jeudi 3 juillet 2025, en mars 2022.")
    'il a cesse le  , en mars 2022.'
    """
    folded = fold(text)
    for start, end, mention in reversed(_date_spans(folded, None)):
        if mention.day is not None or mention.weekday is not None:
            folded = f"{folded[:start]} {folded[end:]}"
    return folded


_DATE_LEAD = re.compile(
    r"(?:\s*,)?(?:(?:^|\s+)(?:depuis|since|from|until))?(?:(?:^|\s+)(?:le|ce|du|au|on|the))?$",
    re.I,
)


def strip_dates(text: str) -> str:
    """`text` as written, without its dates that name a day or a weekday, nor the words that
    lead to them.

    >>> strip_dates("Il fut tué à Korenevo le 3 juillet."), strip_dates("They spoke on Thursday, July 3, for an hour.")
    ('Il fut tué à Korenevo.', 'They spoke, for an hour.')
    >>> strip_dates("Leur premier contact depuis le 19 mai, ce jeudi."), strip_dates("Le 19 mai, il a appelé.")
    ('Leur premier contact.', 'Il a appelé.')
    """
    folded, offsets, capital = "", [], text[:1].isupper()
    for i, char in enumerate(text):  # folded one character at a time, to find each span in `text`
        part = " " if char.isspace() else fold(char)
        folded += part
        offsets += [i] * len(part)
    offsets.append(len(text))
    for start, end, mention in reversed(_date_spans(folded, None)):
        if mention.day is not None or mention.weekday is not None:
            head = text[: offsets[start]].rstrip()
            lead = _DATE_LEAD.search(head)
            text = (head[: lead.start()] if lead else head).rstrip() + text[offsets[end] :]
    text = re.sub(r"\s+([.,;!?])", r"\1", text).strip().lstrip(",; ")
    return text[:1].upper() + text[1:] if capital else text


def _date_spans(folded: str, default_year: int | None) -> list[tuple[int, int, DateMention]]:
    """Each date mention of `folded` text with its span, in text order."""
    found = []
    taken = [False] * len(folded)
    for regex in _DATE_RES:
        for m in regex.finditer(folded):
            mention = None if any(taken[m.start() : m.end()]) else _mention(m, default_year)
            if mention is not None:
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                found.append((m.start(), m.end(), mention))
    return sorted(found, key=lambda span: span[0])


# --- names -------------------------------------------------------------------

_ALIASES = {
    "etats unis": "united states", "usa": "united states", "u s a": "united states", "u s": "united states",
    "otan": "nato", "maison blanche": "white house", "moscou": "moscow", "danemark": "denmark", "leon": "leo",
    "pape": "pope", "royaume uni": "united kingdom", "uk": "united kingdom", "ue": "european union",
    "union europeenne": "european union", "moyen orient": "middle east", "mer noire": "black sea",
    "pays bas": "netherlands", "allemagne": "germany", "londres": "london", "varsovie": "warsaw",
    "bruxelles": "brussels", "geneve": "geneva", "pekin": "beijing", "amerique": "america",
}  # fmt: skip
# Transliteration folding, applied in order: French/English/German spellings of Cyrillic
# sounds collapse (ch/sh/sch/zh/j/z -> s, kh/h -> g, y -> i, w -> v); then every vowel run becomes 'a'
# (ou/u, ie/i/y, ue/e), mute final e drops and doubled letters merge.
_RULES = [("shch", "s"), ("chtch", "s"), ("tsch", "s"), ("tch", "s"), ("sch", "s"), ("sh", "s"), ("ch", "s"),
          ("zh", "s"), ("kh", "g"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("ck", "k"), ("qu", "k"),
          ("x", "ks"), ("w", "v"), ("j", "s"), ("z", "s"),
          ("h", "g"), ("y", "i")]  # fmt: skip


def _word_key(word: str) -> str:
    """Phonetic key of one folded word: 'ouchakov', 'ushakov', 'uschakow' -> 'asakav'."""
    if not word.isalpha():
        return word
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # French mute e: Poutine/Putin, Crimée/Crimea
    for old, new in _RULES:
        word = word.replace(old, new)
    word = re.sub(r"c(?=[eiy])", "s", word).replace("c", "k")
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou]+", "a", word))


def _words(text: str) -> list[str]:
    """Folded words, with aliases (up to three words) replaced by their canonical form."""
    words, out, i = re.findall(r"[^\W_]+", fold(text)), list[str](), 0
    while i < len(words):
        n = next((n for n in (3, 2, 1) if i + n <= len(words) and " ".join(words[i : i + n]) in _ALIASES), 0)
        out.extend(_ALIASES[" ".join(words[i : i + n])].split() if n else words[i : i + 1])
        i += n or 1
    return out


def name_key(name: str) -> str:
    """Transliteration- and language-insensitive key of a name (or any text).

    >>> name_key("Iouri Ouchakov") == name_key("Yuri Ushakov")
    True
    """
    return " ".join(_word_key(w) for w in _words(name))


def _close(a: str, b: str) -> bool:
    """Equal keys, or keys of six letters or more at edit distance one."""
    if a == b or min(len(a), len(b)) < 6 or abs(len(a) - len(b)) > 1:
        return a == b
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a[i + 1 :] == b[i + 1 :] or a[i + 1 :] == b[i:] or a[i:] == b[i + 1 :]


def _same_word(a: str, b: str) -> bool:
    """Folded words alike; keys shorter than three letters must match exactly."""
    ka, kb = _word_key(a), _word_key(b)
    return a == b or (min(len(ka), len(kb)) > 2 and _close(ka, kb))


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same across languages and transliterations.

    >>> same_name("Zaporijia", "Zaporizhzhia"), same_name("Kyiv", "Moscou")
    (True, False)
    """
    wa, wb = _words(a), _words(b)
    return bool(wa) and len(wa) == len(wb) and all(map(_same_word, wa, wb))


def mentions_name(text: str, name: str) -> bool:
    """Whether ``text`` contains ``name`` (all its words, in order, any spelling).

    >>> mentions_name("Selon Yuri Ushakov, conseiller", "Ouchakov")
    True
    """
    hay, needle = _words(text), _words(name)
    spans = (hay[i : i + len(needle)] for i in range(len(hay) - len(needle) + 1))
    return bool(needle) and any(all(map(_same_word, span, needle)) for span in spans)


# --- language ----------------------------------------------------------------

_FR_WORDS = frozenset(_split(
    "le la les des du de un une et est sont qui que quoi quel quelle quels quelles combien quand ou pourquoi "
    "comment au aux il elle ils elles ont avec pour dans sur pas ne ce cette ces son sa ses leur leurs par en "
    "l d qu n s c j je tu nous vous mais donc etait ete avait selon lors entre apres avant depuis contre y"
))  # fmt: skip
_EN_WORDS = frozenset(_split(
    "the an of and is are was were who whom whose what which when where why how many much did does do has have "
    "had in at to for with by from it its he she they his her their that this these those not be been will "
    "would can could should about after before since between against according didn doesn wasn isn long"
))  # fmt: skip


def written_in(text: str) -> str | None:
    """`language(text)` when `text` says which: None for fewer than three words or only names
    ("2022", "Istanbul", "Marco Rubio. Sergei Lavrov."), which read alike in both.

    >>> written_in("Marco Rubio [1]."), written_in("Il a duré une heure."), written_in("It lasted an hour.")
    (None, 'fr', 'en')
    """
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    if len(words) < 3 or all(w[0].isupper() for w in words):
        return None
    return language(text)


def language(text: str) -> str:
    """'fr' or 'en' for a question or answer.

    One point per French or English stop word; French also scores one per accented
    word (names aside: "Sergueï") and one for a space before '?', '!', ':' or ';'. More
    French points give 'fr'; anything else, including no signal at all ('Lavrov?'), gives 'en'.

    >>> language("Qui est Iouri Ouchakov ?"), language("Who is Ushakov?"), language("Rubio called Sergueï Lavrov next.")
    ('fr', 'en', 'en')
    """
    cased = re.findall(r"[^\W\d_]+", text)
    words = [w.lower() for w in cased]
    named = [i > 0 and w[0].isupper() for i, w in enumerate(cased)]  # "Sergueï"; not a first "À"
    accented = sum(w != fold(w) for w, name in zip(words, named, strict=True) if not name)
    fr = sum(fold(w) in _FR_WORDS for w in words) + accented
    en = sum(fold(w) in _EN_WORDS for w in words)
    return "fr" if fr + bool(re.search(r"\w\s+[?!:;]", text)) > en else "en"
