"""French/English normalisation: folding, numbers, durations, dates, names, language.

Pure standard library. Shared by the answer checker and citation attribution.

>>> fold("L’appel a duré «une heure»")
'l\\'appel a dure "une heure"'
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DateMention",
    "dates",
    "durations",
    "fold",
    "language",
    "mentions_name",
    "name_key",
    "numbers",
    "same_name",
]

_TRANS = str.maketrans({
    "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'", "\u2032": "'",
    "\u00ab": '"', "\u00bb": '"', "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u200a": " ",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o", "\u0142": "l", "\u00df": "ss", "\u0111": "d",
})  # fmt: skip


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().translate(_TRANS).split())


def fold(text: str) -> str:
    """Lowercase, strip accents, unify quotes and spaces (idempotent).

    >>> fold("  Sergueï\u00a0LAVROV ’ ")
    "serguei lavrov '"
    """
    previous, current = None, text
    for _ in range(5):
        if current == previous:
            break
        previous, current = current, _fold_once(current)
    return current


# --- numbers -----------------------------------------------------------------

_NUM_RE = (
    r"(?<![\d.,'])(?:\d{1,3}(?P<g>[ .,'])\d{3}(?:(?P=g)\d{3})*(?!\d)(?:[.,]\d+)?"
    r"|\d+(?:[.,]\d+)?)"
)
_TOKEN_RE = re.compile(rf"{_NUM_RE}|[^\W\d_]+|[^\w\s'-]")
_UNITS: dict[str, float] = {
    w: float(i)
    for i, group in enumerate([
        "zero", "one", "deux two", "trois three", "quatre four", "cinq five",
        "six", "sept seven", "huit eight", "neuf nine", "dix ten", "onze eleven",
        "douze twelve", "treize thirteen", "quatorze fourteen", "quinze fifteen",
        "seize sixteen", "seventeen", "eighteen", "nineteen",
    ])
    for w in group.split()
}  # fmt: skip
_UNITS.update({w: float(v) for w, v in [
    ("vingt", 20), ("vingts", 20), ("twenty", 20), ("trente", 30), ("thirty", 30),
    ("quarante", 40), ("forty", 40), ("cinquante", 50), ("fifty", 50),
    ("soixante", 60), ("sixty", 60), ("septante", 70), ("seventy", 70),
    ("huitante", 80), ("octante", 80), ("eighty", 80), ("nonante", 90), ("ninety", 90),
]})  # fmt: skip
_MULTS: dict[str, float] = {
    "cent": 100, "hundred": 100, "mille": 1e3, "thousand": 1e3, "million": 1e6,
    "milliard": 1e9, "billion": 1e9, "trillion": 1e12, "dizaine": 10, "douzaine": 12,
    "dozen": 12, "quinzaine": 15, "vingtaine": 20, "trentaine": 30, "centaine": 100,
    "millier": 1e3,
}  # fmt: skip
_WEAK = {"un": 1.0, "une": 1.0, "a": 1.0, "an": 1.0}  # articles: numbers only before a multiplier
_ORD = {"premier": 1, "premiere": 1, "first": 1, "second": 2, "seconde": 2,
        "third": 3, "fifth": 5, "eighth": 8, "ninth": 9, "twelfth": 12}  # fmt: skip

Token = str | float


def _mult(word: str) -> tuple[float, bool] | None:
    """Multiplier value of ``word`` and whether it is plural."""
    if word in _MULTS:
        return _MULTS[word], False
    if word.endswith("s") and word[:-1] in _MULTS:
        return _MULTS[word[:-1]], True
    return None


def _ordinal(word: str) -> float | None:
    if word in _ORD:
        return float(_ORD[word])
    stems: list[str] = []
    if word.endswith(("ieme", "iemes")):
        stem = word[: word.rindex("ieme")]
        stems = [stem, stem + "e", stem[:-1] + "f", stem.removesuffix("u")]
    elif word.endswith("ieth"):
        stems = [word[:-4] + "y"]
    elif word.endswith("th"):
        stems = [word[:-2]]
    for stem in stems:
        if stem in _UNITS:
            return _UNITS[stem]
        if stem in _MULTS:
            return _MULTS[stem]
    return None


def _additive(last: float, value: float) -> bool:
    """May ``value`` be added after a word worth ``last`` (vingt-deux, dix-sept)?"""
    tens = last >= 20 and last % 10 == 0
    return value < last and (tens or (last == 10 and value < 10))


def _read_number(ts: list[Token], i: int) -> tuple[float | None, int]:
    total, cur, last, seen, j = 0.0, 0.0, float("inf"), False, i
    while j < len(ts):
        tok, nxt = ts[j], ts[j + 1] if j + 1 < len(ts) else ""
        mult = _mult(nxt) if isinstance(nxt, str) else None
        if isinstance(tok, float):
            if seen:
                break
            cur, last, seen = tok, 0.0, True
        elif tok in _MULTS or (seen and _mult(tok)):
            m = _mult(tok) or (1.0, False)
            if m[0] == 100:
                cur, last = (cur or 1.0) * 100, 100.0
            else:
                total, cur, last = total + (cur or 1.0) * m[0], 0.0, m[0]
            seen = True
        elif tok in _UNITS or (seen and tok in ("un", "une")):
            value = _UNITS.get(tok, 1.0)
            if seen and last == 4 and value == 20 and cur % 100 == 4:
                cur, last = cur + 76, 20.0
            elif seen and not _additive(last, value):
                break
            else:
                cur, last, seen = cur + value, value, True
        elif not seen and tok in _WEAK and mult and not mult[1]:
            cur, last, seen = 1.0, 1.0, True
        elif seen and tok in ("et", "and") and isinstance(nxt, str):
            follow = _UNITS.get(nxt, 1.0 if nxt in ("un", "une") else None) or _ordinal(nxt)
            if follow is None or not (_additive(last, follow) or last >= 100):
                break
        elif isinstance(tok, str) and (value := _ordinal(tok)) is not None:
            if seen and not _additive(last, value):
                break
            return total + cur + value, j + 1
        else:
            break
        j += 1
    return (total + cur if seen else None), j


def _literal(text: str, group: str | None) -> float:
    """Value of a digit literal; ``group`` is its thousands separator, if any."""
    if group is None:
        return float(text.replace(",", "."))
    m = re.fullmatch(rf"(\d{{1,3}}(?:{re.escape(group)}\d{{3}})*)(?:[.,](\d+))?", text)
    whole, frac = (m.group(1).replace(group, ""), m.group(2)) if m else (text, None)
    return float(f"{whole}.{frac}" if frac else whole)


def _tokens(text: str) -> list[Token]:
    """Folded tokens, with every number phrase collapsed to a float."""
    raw: list[Token] = [
        _literal(m.group(0), m.group("g")) if m.group(0)[0].isdigit() else m.group(0)
        for m in _TOKEN_RE.finditer(fold(text))
    ]
    out: list[Token] = []
    i = 0
    while i < len(raw):
        value, j = _read_number(raw, i)
        out.append(raw[i] if value is None else value)
        i = i + 1 if value is None else j
    return out


def numbers(text: str) -> list[float]:
    """Every number mentioned, digits or words, French or English.

    >>> numbers("plus de 5 000 soldats, sept morts, la sixième fois, 60 milliards")
    [5000.0, 7.0, 6.0, 60000000000.0]
    """
    return [t for t in _tokens(text) if isinstance(t, float)]


# --- durations ---------------------------------------------------------------

_HOUR = {"h", "heure", "heures", "hour", "hours", "hr", "hrs"}
_FR_HOUR = {"h", "heure", "heures"}
_MINUTE = {"min", "mins", "mn", "minute", "minutes"}
_AND = {"et", "and"}
_HALF = {"demi", "demie", "half"}
_QUARTER = {"quart", "quarts", "quarter", "quarters"}


def _at(ts: list[Token], i: int) -> Token:
    return ts[i] if 0 <= i < len(ts) else ""


def _quantity(ts: list[Token], i: int) -> float | None:
    tok = _at(ts, i)
    return tok if isinstance(tok, float) else _WEAK.get(tok) if tok else None


def _fraction(ts: list[Token], i: int) -> tuple[float, int] | None:
    """'(trois) quarts d'heure', 'half an hour', 'une demi-heure' at ``i``."""
    q, k = _quantity(ts, i), i
    if q is not None:
        k += 1
    tok = _at(ts, k)
    size = 15.0 if tok in _QUARTER else 30.0 if tok in _HALF else 0.0
    k += 1
    k += _at(ts, k) in ("d", "de", "of")
    k += _at(ts, k) in _WEAK
    if not size or _at(ts, k) not in _HOUR:
        return None
    return (q or 1.0) * size, k + 1


def _hours(ts: list[Token], i: int) -> tuple[float, int] | None:
    """'une heure et quart', '1 h 15', 'an hour and fifteen minutes' at ``i``."""
    q = _quantity(ts, i)
    k = i + 1
    half = k + 1 + (_at(ts, k + 1) in _WEAK)
    if q is not None and _at(ts, k) in _AND and _at(ts, half) in _HALF:
        q, k = q + 0.5, half + 1  # 'one and a half hours'
    unit = _at(ts, k)
    if q is None or unit not in _HOUR:
        return None
    if _at(ts, i - 1) in ("at", "vers") or (_at(ts, i - 1) == "a" and unit in _FR_HOUR):
        return None  # clock time: 'à 10 heures', 'at 10 hours'
    minutes, k = q * 60, k + 1
    joined = _at(ts, k) in _AND
    j = k + joined
    j += _at(ts, j) in _WEAK
    extra = _at(ts, j)
    if extra in _QUARTER or extra in _HALF:
        return minutes + (15.0 if extra in _QUARTER else 30.0), j + 1
    extra = _at(ts, k + joined)
    if isinstance(extra, float) and extra < 60:
        with_unit = _at(ts, k + joined + 1) in _MINUTE
        if with_unit or not joined:
            return minutes + extra, k + joined + 1 + with_unit
    return minutes, k


def durations(text: str) -> list[float]:
    """Every duration mentioned, in minutes (clock times are skipped).

    >>> durations("l'appel a duré une heure et quart, puis 45 minutes, à 10 heures")
    [75.0, 45.0]
    """
    ts, out, i = _tokens(text), [], 0
    while i < len(ts):
        found = _fraction(ts, i) or _hours(ts, i)
        q = _quantity(ts, i)
        if found is None and q is not None and _at(ts, i + 1) in _MINUTE:
            found = (q, i + 2)
        if found is None:
            i += 1
            continue
        out.append(found[0])
        i = found[1]
    return out


# --- dates -------------------------------------------------------------------


@dataclass(frozen=True)
class DateMention:
    """A (possibly partial) date; weekday 0 is Monday.

    >>> DateMention(2025, 5, 19, 0).month
    5
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None


_MONTHS_FR = "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre"
_MONTHS_EN = "january february march april may june july august september october november december"
_MONTH: dict[str, int] = {}
for _names in (_MONTHS_FR, _MONTHS_EN, "janv fevr mars avr mai juin juil aout sep oct nov dec",
               "jan feb mar apr may jun jul aug sep oct nov dec"):  # fmt: skip
    _MONTH.update({n: k + 1 for k, n in enumerate(_names.split())})
_MONTH["sept"] = 9
_WEEKDAY = {n: k % 7 for k, n in enumerate(
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "monday tuesday wednesday thursday friday saturday sunday".split())}  # fmt: skip


def _alt(names: Iterable[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_ABBR_EN = "jan feb mar apr jun jul aug sep sept oct nov dec"
_M = rf"(?P<m>{_alt(_MONTH)})\.?"
_ME = rf"(?P<m>{_alt(_MONTHS_EN.split() + _ABBR_EN.split())})\.?"
_W = rf"(?:(?P<w>{_alt(_WEEKDAY)}),?\s+(?:the\s+|le\s+)?)?"
_D = r"(?P<d>[0-3]?\d|premier)(?:er|re|e|eme|st|nd|rd|th)?"
_Y = r"(?:,?\s+(?P<y>\d{4}))?"
_AMBIGUOUS = ("may", "march")  # English verbs: months only with context
_FULL = _alt(m for m in (_MONTHS_FR + " " + _MONTHS_EN).split() if m not in _AMBIGUOUS)
_DATE_RES = [re.compile(p) for p in (
    r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b",
    r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})\b",
    rf"\b{_W}{_D}\s+(?:of\s+|de\s+)?{_M}{_Y}\b",
    rf"\b{_W}{_ME}\s+{_D}{_Y}\b",
    rf"\b(?:(?:mi|mid|early|late|debut|fin)-?\s*|(?:in|of|since|until|en|de|depuis)\s+)?{_M}\s+(?P<y>\d{{4}})\b",
    r"\b(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])\b",
    rf"\b(?P<m>{_FULL})\b",
    rf"\b(?:mi|mid|early|late|in|of|since|until)[-\s]+(?P<m>may|march)\b",
    rf"\b(?P<w>{_alt(_WEEKDAY)})s?\b",
    r"(?<![\d/.-])\b(?P<y>1[89]\d\d|20\d\d)\b(?![/.-]\d)",
)]  # fmt: skip


def _mention(m: re.Match[str], default_year: int | None) -> DateMention | None:
    g = {k: v for k, v in m.groupdict().items() if v}
    month = _MONTH.get(g.get("m", "")) or (int(g["m"]) if g.get("m", "").isdigit() else None)
    day = 1 if g.get("d") == "premier" else int(g["d"]) if "d" in g else None
    year = int(g["y"]) if "y" in g else default_year if month else None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= calendar.monthrange(year or 2024, month or 1)[1]:
        return None
    return DateMention(year, month, day, _WEEKDAY.get(g.get("w", "")))


def dates(text: str, *, default_year: int | None = None) -> list[DateMention]:
    """Every date, month, weekday or year mentioned, in text order.

    >>> dates("le lundi 19 mai, puis May 20th, 2025")
    [DateMention(year=None, month=5, day=19, weekday=0), DateMention(year=2025, month=5, day=20, weekday=None)]
    """  # noqa: E501
    folded, taken, found = fold(text), [False] * (len(fold(text)) + 1), []
    for regex in _DATE_RES:
        for m in regex.finditer(folded):
            if any(taken[m.start() : m.end()]):
                continue
            mention = _mention(m, default_year)
            if mention is not None:
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                found.append((m.start(), mention))
    return [mention for _, mention in sorted(found, key=lambda pair: pair[0])]


# --- names -------------------------------------------------------------------

_ALIASES: dict[str, str] = {
    "etats unis": "united states", "usa": "united states", "u s a": "united states",
    "u s": "united states", "otan": "nato", "maison blanche": "white house",
    "moscou": "moscow", "danemark": "denmark", "leon": "leo", "pape": "pope",
    "royaume uni": "united kingdom", "uk": "united kingdom", "ue": "european union",
    "union europeenne": "european union", "moyen orient": "middle east",
    "mer noire": "black sea", "pays bas": "netherlands", "allemagne": "germany",
    "londres": "london", "varsovie": "warsaw", "bruxelles": "brussels",
    "geneve": "geneva", "pekin": "beijing", "amerique": "america",
}  # fmt: skip
_RULES = [("shch", "s"), ("chtch", "s"), ("tsch", "s"), ("tch", "s"), ("sch", "s"),
          ("sh", "s"), ("ch", "s"), ("zh", "s"), ("kh", "g"), ("gh", "g"), ("ph", "f"),
          ("th", "t"), ("ck", "k"), ("qu", "k"), ("gue", "ge"), ("gui", "gi"), ("ou", "u"),
          ("x", "ks"), ("w", "v"), ("j", "s"), ("z", "s"), ("h", "g"), ("y", "i")]  # fmt: skip


def _word_key(word: str) -> str:
    """Phonetic key of one folded word: 'ouchakov' and 'ushakov' -> 'asakav'."""
    if not word.isalpha():
        return word
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # French mute e: Poutine/Putin, Crimée/Crimea
    for old, new in _RULES:
        word = word.replace(old, new)
    word = re.sub(r"c(?=[eiy])", "s", word).replace("c", "k")
    word = re.sub(r"[aeiou]+", "a", word)
    return re.sub(r"(.)\1+", r"\1", word)


def _words(text: str) -> list[str]:
    """Folded words with multi-word aliases replaced by their canonical form."""
    words = re.findall(r"[^\W_]+", fold(text))
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            alias = _ALIASES.get(" ".join(words[i : i + n]))
            if alias and i + n <= len(words):
                out.extend(alias.split())
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


def name_key(name: str) -> str:
    """Transliteration-insensitive key of a name (or any text), word by word.

    >>> name_key("Iouri Ouchakov") == name_key("Yuri Ushakov")
    True
    """
    return " ".join(_word_key(w) for w in _words(name))


def _close(a: str, b: str) -> bool:
    """Equal keys, or long keys at edit distance one."""
    if a == b:
        return True
    if min(len(a), len(b)) < 6 or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
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
    n = len(needle)
    spans = (hay[i : i + n] for i in range(len(hay) - n + 1))
    return n > 0 and any(all(map(_same_word, span, needle)) for span in spans)


# --- language ----------------------------------------------------------------

_FR_WORDS = frozenset(
    "le la les des du de un une et est sont qui que quoi quel quelle quels quelles "
    "combien quand ou pourquoi comment au aux il elle ils elles ont avec pour dans sur "
    "pas ne ce cette ces son sa ses leur leurs par en l d qu n s c j je tu nous vous "
    "mais donc etait ete avait selon lors entre apres avant depuis contre quelle y".split()
)
_EN_WORDS = frozenset(
    "the an of and is are was were who whom whose what which when where why how many "
    "much did does do has have had in at to for with by from it its he she they his her "
    "their that this these those not be been will would can could should about after "
    "before since between against according didn doesn wasn isn aren weren long".split()
)


def language(text: str) -> str:
    """'fr' or 'en' by stop words, accents and French spacing before '?!:;'.

    Each French/English stop word scores one point, each accented word and a
    space before '?', '!', ':' or ';' score one for French. Ties, including no
    signal at all, give 'en'.

    >>> language("Qui est Iouri Ouchakov ?"), language("Who is Ushakov?")
    ('fr', 'en')
    """
    words = re.findall(r"[^\W\d_]+", text.lower())
    fr = sum(fold(w) in _FR_WORDS for w in words)
    en = sum(fold(w) in _EN_WORDS for w in words)
    fr += sum(w != fold(w) for w in words) + bool(re.search(r"\w\s+[?!:;]", text))
    return "fr" if fr > en else "en"
