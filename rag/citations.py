"""Citations that are right by construction: attribute each answer sentence to the
passages that actually contain what it claims, whatever markers the model wrote.

A sentence's *facts* are its durations, numbers, dates, weekdays and names
(normalised across French and English: "une heure et quart" == "1 h 15",
Ouchakov == Ushakov) plus its content words. A passage supports a sentence when
it holds every numeric fact of the sentence and enough of its names (in its text
or its article's title: "les deux hommes" of an article about Poutine and Trump) and
words.
Markers pointing to passages that do not support their sentence are dropped;
missing ones are added; each citation points at the supporting sentence inside
its chunk.

>>> p = Passage(1, "a.txt", 0, 42, "L'appel aurait duré une heure et quart.", "t", None, 1.0)
>>> text, cites, unsupported = attribute("The call lasted an hour and a quarter [2].", [p])
>>> text, cites[0].source
('The call lasted an hour and a quarter [1].', 'a.txt')
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from rag.chunking import sentence_spans
from rag.lexical import STOP_WORDS, analyze
from rag.normalize import counted, dates, durations, fold, language, name_key, numbers, strip_dates
from rag.weekdays import MONTHS_EN, MONTHS_FR, annotate

MARKER = re.compile(
    r"\s*(?:\[(?:passages?\s*|sources?\s*)?\d+(?:\s*(?:[,;]|et|and)\s*\d+)*\]"
    r"|\((?:(?:passages?|sources?)\s*)?\[?\d+\]?(?:\s*(?:[,;]|et|and)\s*\d+)*\))",
    re.I,
)
_CLOCK = re.compile(r"\b(\d{1,2})[:h.]00\b")
# "les deux hommes", "des deux côtés", "the two leaders": a pair already known (PAIR), not a count.
_PAIR = re.compile(r"\b((?:les|des|aux|ces|the|these|those)\s+)(?:deux|two)\b", re.I)
_POSSESSIVE = re.compile(r"['’]s$")
# Ranks: "sixième", "2nd", "the second": they back a rank, never a count ("2 prisonniers").
_RANK = re.compile(
    r"\b(?:\d+(?:st|nd|rd|th|e|er|re|ème)|first|second|third|\w+th|premi[eè]re?|seconde?|\w+i[eè]me)s?\b", re.I
)
_MONTH = "|".join(MONTHS_EN + MONTHS_FR)
_DATED_RANK = re.compile(
    rf"\b(?:(?:{_MONTH})\s+\d+(?:st|nd|rd|th)|\d+(?:st|nd|rd|th|er|e)\s+(?:of\s+)?(?:{_MONTH}))\b", re.I
)
_DIGITS = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d{3})*")
_CAPITALISED = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w’'-]{2,}")
_NOT_NAMES = {
    "the",
    "le",
    "la",
    "les",
    "selon",
    "lors",
    "this",
    "that",
    "yes",
    "non",
    "oui",
    "no",
    "dans",
    "des",
    "une",
}
MAX_PER_SENTENCE = 2
COGNATE_CHARS = 5  # as the lexical index's prefixes (rag.lexical.PREFIX_CHARS)
PAIR = -2.0  # the number of "les deux hommes": backs "the two leaders", not "two aircraft"
# Adjectives of nationality: names in English, lower case in French ("Ukrainian" ~ "ukrainien"),
# the plural alike ("ukrainiens"); those whose English name sounds otherwise are listed.
_NATIONALITY = re.compile(
    r"\b(?:[a-zà-ÿ]{3,}(?:i|é)?(?:en|ain|ais|ois)(?:ne|e)?|russe|allemande?|turque|turc|britannique)s?\b"
)
_NATIONALITY_EN = {"russe": "Russian", "allemand": "German", "allemande": "German", "turc": "Turkish"}
_NATIONALITY_EN |= {"turque": "Turkish", "britannique": "British", "français": "French", "française": "French"}
# Russian, Européens, les Russes: a nationality, not whom a question is about.
_DEMONYM = re.compile(r"\b[A-Z]\w+(?:ians?|eans?|cans?|ese|ish|iens?|éens?|ains?|ais|ois|sses?)\b")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as shown to the model under the marker `[n]`."""

    n: int
    source: str
    start: int
    end: int
    text: str
    title: str
    date: str | None
    score: float


@dataclass(frozen=True)
class Citation:
    """A verified citation: `text == document_text[start:end]` of file `source`."""

    n: int
    source: str
    start: int
    end: int
    text: str
    score: float
    title: str = ""
    date: str | None = None

    @classmethod
    def of(cls, n: int, passage: Passage, start: int, end: int) -> Citation:
        """Citation `[n]` of the span `start:end` (document offsets) of `passage`."""
        text = passage.text[start - passage.start : end - passage.start]
        return cls(n, passage.source, start, end, text, passage.score, passage.title, passage.date)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Facts:
    durations: set[float] = field(default_factory=set)
    numbers: set[float] = field(default_factory=set)
    days: set[tuple[int, int]] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    restated: set[str] = field(default_factory=set)  # a claim's names that the question itself gave
    ranks: set[float] = field(default_factory=set)  # "sixième", "6th": a rank, not a count
    titled: set[str] = field(default_factory=set)  # a passage's names found only in its article's title
    echoed: set[str] = field(default_factory=set)  # a claim's words that the question itself used
    counts: set[tuple[float, str]] = field(default_factory=set)  # "sept morts": (7, "mort")
    asked: set[str] = field(default_factory=set)  # a claim's: what its question counts ("injured")

    @property
    def numeric(self) -> int:
        return len(self.durations) + len(self.numbers) + len(self.ranks) + len(self.days) + len(self.weekdays)


_TODAY = re.compile(r"\b(?:aujourd['’]hui|ce matin|ce soir|cet après-midi|today|this morning|tonight)\b", re.I)


def published(doc_date: str | None) -> dt.date | None:
    """An article's date ('2025-07-03'), if it is one."""
    try:
        return dt.date.fromisoformat(doc_date) if doc_date else None
    except ValueError:
        return None


def facts_of(text: str, *, doc_date: str | None = None, claim: bool = False) -> Facts:
    """Everything checkable in `text`; a passage that says "aujourd'hui" also carries its
    document's date (weekdays it names are dated already, by `annotate`): the day an
    article appeared is not the day of what its passages report.

    In a `claim`, numbers in words count from two up ("two trains", "sixth"):
    "first", "a" or "one" in an answer must not demand a 1 of the passage.
    A passage offers every number it states, in digits or in words ("sept morts").
    """
    f = Facts()
    f.durations = {round(d, 1) for d in durations(text)}
    spent: Counter[float] = Counter(f.durations)  # each use of a figure in a date or duration spends one
    for d in f.durations:
        spent.update({float(int(d // 60)), round(d % 60, 1), round(d / 60, 2)})
    for mention in dates(text):
        if mention.month and mention.day:
            f.days.add((mention.month, mention.day))
            spent.update({float(mention.day), float(mention.month), float(mention.year or 0)})
        elif mention.year:
            spent[float(mention.year)] += 1
        if mention.weekday is not None:
            f.weekdays.add(mention.weekday)
    plain = _CLOCK.sub(r"\1", text)  # "10:00" is the hour 10, not the numbers 10 and 0
    plain, pairs = _PAIR.subn(r"\1", plain)
    written = {float(re.sub(r"\D", "", d)) for d in _DIGITS.findall(plain)}
    ranks = [n for m in _RANK.finditer(_DATED_RANK.sub(" ", plain)) for n in numbers(m.group())]  # not "May 19th"
    for n in numbers(_RANK.sub(" ", plain)):  # "le deuxième cycle ... lundi (2 juin)" still ranks a 2
        if spent[n] > 0:
            spent[n] -= 1
        elif not claim or n in written or n >= 2:
            f.numbers.add(n)
    f.ranks = {n for n in ranks if not claim or n >= 2}
    f.counts = {(n, stem[0]) for n, word in counted(plain) if (stem := analyze(word))}
    if pairs or (not claim and 2.0 in f.numbers):  # a count of two also gives "the two"
        f.numbers.add(PAIR)
    if doc_date and _TODAY.search(text):  # the article's date is the passage's only when it says "today"
        day = published(doc_date)
        if day:
            f.days.add((day.month, day.day))
            f.weekdays.add(day.weekday())
    # A claim's first word is capitalised by grammar, not because it is a name; so is the
    # "What" that opens a question's second sentence ("... was killed. What was his name?").
    words = [
        m
        for m in _CAPITALISED.finditer(text)
        if not (claim and m.start() == len(text) - len(text.lstrip()))
        and not (claim and text[: m.start()].rstrip()[-1:] in (".", "?", "!") and fold(m.group()) in STOP_WORDS)
    ]
    names = [_POSSESSIVE.sub("", m.group()) for m in words]  # Trump's call: Trump
    f.names = {name_key(n) for n in names if fold(n) not in _NOT_NAMES and not dates(n)}
    f.words = set(analyze(text))
    return f


def without(claim: Facts, given: Facts) -> Facts:
    """The claim minus the dates and numbers the question already stated: an answer that
    restates the question ("Rubio phoned Lavrov before the 19 May call") needs a passage
    for "Rubio" and "Lavrov", not for the question's "19 May". Names the question gave are
    marked `restated`: when the claim adds names of its own, those are the ones a passage
    must hold ("the talks between Russians and Ukrainians were held in Istanbul" is backed
    by "talks between Moscow and Kyiv ... in Istanbul"). The question's words are marked
    `echoed`: a passage in another language is not asked for them.
    """
    return Facts(
        claim.durations - given.durations,
        claim.numbers - given.numbers,
        claim.days - given.days,
        claim.weekdays - given.weekdays,
        claim.names,
        claim.words,
        claim.names & given.names,
        claim.ranks - given.ranks - given.numbers,
        echoed=claim.words & given.words,
        counts=claim.counts,
        asked=_counted_kinds(given.words),
    )


# What a count counts, in either language: "2 drones" (or "2" to "How many drones?") is not
# the passage's "deux morts", nor "7" to "How many were injured?" its "sept morts".
_COUNTED_WORDS = {
    "dead": "mort morts tue tues tuee tuees dead death deaths killed died",
    "injured": "blesse blesses blessee blessees injured wounded hurt",
    "soldier": "soldat soldats militaire militaires soldier soldiers troops",
    "prisoner": "prisonnier prisonniers prisoner prisoners",
    "drone": "drone drones",
    "civilian": "civil civils civilian civilians",
    "child": "enfant enfants child children",
    "person": "personne personnes people person persons",
    "aircraft": "avion avions bombardier bombardiers aircraft",
    "call": "appel appels entretien entretiens conversation conversations discussion discussions call calls "
    "échange échanges exchange exchanges",  # "le sixième échange téléphonique"
    "train": "train trains",
    "missile": "missile missiles",
}


@lru_cache(maxsize=1)
def _counted_kind() -> dict[str, str]:
    """Stem -> what it counts (built on first use: `import rag` loads no stemmer)."""
    return {stem: kind for kind, words in _COUNTED_WORDS.items() for w in words.split() for stem in analyze(w)}


_PEOPLE = {"dead", "injured", "soldier", "prisoner", "civilian", "child", "person"}


def _counted_kinds(stems: Iterable[str]) -> set[str]:
    """What these words count; "people" is any of the people counted when nothing narrower is said."""
    table = _counted_kind()
    kinds = {table[w] for w in stems if w in table}
    return kinds - {"person"} or (_PEOPLE if kinds else set())


def _miscounted(claim: Facts, passage: Facts) -> bool:
    """A number of the claim that the passage gives only as a count of something else than
    what the claim (or, for a bare number, its question) counts.

    >>> passage = facts_of("Des frappes ont fait deux morts et 113 blessés.")
    >>> _miscounted(facts_of("2 drones", claim=True), passage), _miscounted(facts_of("2 morts", claim=True), passage)
    (True, False)
    >>> bare = without(facts_of("2", claim=True), facts_of("How many people were injured?"))
    >>> _miscounted(bare, passage), _miscounted(facts_of("Two people died.", claim=True), passage)
    (True, False)
    >>> _miscounted(facts_of("Deux personnes ont été blessées.", claim=True), passage)
    True
    >>> two = facts_of("Deux sessions de pourparlers ont eu lieu.")
    >>> _miscounted(facts_of("2 prisonniers", claim=True), two), _miscounted(facts_of("2 sessions", claim=True), two)
    (True, False)
    """
    for n in claim.numbers:
        words = {w for m, w in passage.counts if m == n}
        there = {_counted_kind().get(w) for w in words}
        said = {w for m, w in claim.counts if m == n}
        own = _counted_kinds(said)
        if own == _PEOPLE:  # "Seven people were injured": what it says of them
            own = _counted_kinds(claim.words) & _PEOPLE or own
        wanted = own or claim.asked
        if not words or not wanted or wanted & there:
            continue  # not a count there, or a count of what is claimed
        # A count of something this glossary does not know ("deux sessions") backs a claim
        # that counts nothing it knows, or the same word, not "2 prisonniers".
        if None not in there or (own and not words & said):
            return True
    return False


_COUNT_ASKED = re.compile(
    r"\b(?:combien (?:de\s+|d['’]\s*)|how many\s+|(?:which|what) number\s+)(?P<words>\w+(?: \w+){0,2})"
    r"|\bhow often\b|\b(?:le |la )?(?:combienti|quanti)[eè]me\b",
    re.I,
)
# What is counted named before the asking: "Il a parlé de trains ... : il y en avait combien ?"
_COUNT_AFTER = re.compile(
    r"\b(?:de|des|d['’]|of)\s+(?P<words>\w+(?: \w+){0,2})[^?:]*:\s*"
    r"(?:il y en (?:avait|a(?: eu)?)\s+combien|combien y en (?:avait|a)(?:-t-il)?|how many (?:were there|of them))",
    re.I,
)
_TIMES = {"fois", "times"}  # "combien de fois", "how many times": a count of anything


def counted_words(question: str) -> list[str] | None:
    """The (up to three) words after "combien de" or "how many", whose first names what is
    counted ("blessés", or "phone" of "phone calls"); [] for "how often"; None when `question`
    does not ask how many.

    >>> counted_words("How many phone calls had they had?"), counted_words("Quand ?")
    (['phone', 'calls', 'had'], None)
    >>> counted_words("Il a parlé de trains qui ont déraillé : il y en avait combien ?")
    ['trains', 'qui', 'ont']
    """
    m = _COUNT_ASKED.search(question) or _COUNT_AFTER.search(question)
    return None if m is None else (m["words"] or "").split()


def counts_other(question: str, answer: str) -> bool:
    """True when `question` asks how many of something and `answer` counts only other things.

    >>> counts_other("How many aircraft were destroyed?", "Three trains were destroyed [1].")
    True
    >>> counts_other("Combien de blessés ?", "7 morts et 113 blessés [1]."), counts_other("Quand ?", "3 trains")
    (False, False)
    """
    words = counted_words(question)
    asked = _counted_kinds(stem for w in words or [] for stem in analyze(w))
    counts = _counted_kinds(w for _, w in facts_of(answer, claim=True).counts)
    return bool(asked and counts) and not asked & counts


@lru_cache(maxsize=1)
def _filler() -> frozenset[str]:
    """Stems that say nothing of what a count is about: light verbs and the asking words."""
    words = "fait faire font fera eu été était made make makes had have has did done were was combien how many often"
    return frozenset(analyze(f"{words} fois times"))


def stated_count(
    question: str, passages: Sequence[Passage], *, query: str = ""
) -> tuple[float, Passage, int, int] | None:
    """The count the passages state, for a question asking how many: the one number of a
    sentence that counts what the question counts ("sept morts et 113 blessés": 7, for
    "combien de morts ?"), or a rank ("cet appel est la sixième discussion téléphonique
    depuis son retour" says there had been six, for "combien de fois se sont-ils parlé ?" or
    "how many calls had they had?": a rank of 2 or more, of what the question counts, anything
    for "combien de fois"). The first such sentence, in a passage about the question, that
    shares a word with it (or with `query`, a follow-up with the turn it follows) beyond what
    it counts and light verbs ("fait", "had"), a cognate counting across languages; with the
    passage and the sentence's offsets in its document. "People" counts people only when
    the question counts nothing more precise ("how many people were injured": the injured).

    >>> sixth = "Qualifié de franc, cet appel est la sixième discussion entre Poutine et Trump depuis son retour."
    >>> p = Passage(1, "a.txt", 0, len(sixth), sixth, "", "2025-07-03", 1.0)
    >>> stated_count("Combien de fois Poutine et Trump se sont-ils parlé ?", [p])[0]
    6.0
    >>> stated_count("How many phone calls had Putin and Trump had?", [p])[0], stated_count("Combien de morts ?", [p])
    (6.0, None)
    >>> stated_count("Which number call was it for Putin and Trump?", [p])[0]
    6.0
    >>> stated_count("C'était le combientième appel entre Poutine et Trump ?", [p])[0]
    6.0
    >>> crash = "Trois trains ont déraillé, avec un bilan de sept morts et 113 blessés."
    >>> q = Passage(1, "b.txt", 0, len(crash), crash, "", "2025-06-04", 1.0)
    >>> stated_count("Et ces déraillements ont fait combien de morts ?", [q])[0]
    7.0
    >>> stated_count("How many people were injured in the derailments?", [q])[0]
    113.0
    >>> stated_count("And how many injured?", [q], query="And how many injured? (How many died in the derailments?)")[0]
    113.0
    >>> stated_count("Combien de morts ?", [q])  # a sentence that shares nothing else with the question

    """
    asked = counted_words(question)
    if asked is None:
        return None
    words = [] if asked[:1] and asked[0].lower() in _TIMES else analyze(" ".join(asked))
    kinds = [w for w in words if w in _counted_kind()]
    precise = [w for w in kinds if _counted_kind()[w] != "person"]  # "people were injured": injured
    noun = next(iter(precise + kinds), words[0] if words else None)  # "phone calls": calls
    wanted = {noun} | _counted_kinds([noun]) if noun else None  # None: "how many times"
    topic = set(analyze(f"{question} {query}")) - {noun} - _filler()  # "déraillements" of "ont fait combien de morts ?"
    for p in passages:
        if not about(question, [p]):
            continue
        for s, e in sentence_spans(p.text):
            sentence = p.text[s:e]
            said = set(analyze(sentence))
            if not topic & said and not _cognates(topic, said):
                continue
            direct = {n for n, w in facts_of(sentence).counts if wanted and _counted_kinds(analyze(w)) & wanted}
            if len(direct) == 1:
                return direct.pop(), p, p.start + s, p.start + e
            for rank in _RANK.finditer(_DATED_RANK.sub(lambda d: " " * len(d.group()), sentence)):  # not "May 19th"
                n = numbers(rank.group())
                ranked = analyze(sentence[rank.end() :])[:1]  # the noun it ranks: "discussion"
                if not n or n[0] < 2 or not ranked:
                    continue
                if wanted is None or ranked[0] in wanted or _counted_kinds(ranked) & wanted:
                    return n[0], p, p.start + s, p.start + e
    return None


def support(claim: Facts, passage: Facts, passage_text: str, *, across: bool = False) -> float:
    """0 when the passage contradicts or lacks a numeric fact; else how much it covers.
    `across`: the claim and the passage are in different languages."""
    if not claim.durations <= passage.durations or not claim.numbers <= passage.numbers:
        return 0.0
    if not claim.ranks <= passage.ranks | passage.numbers:
        return 0.0
    if not claim.days <= passage.days or not claim.weekdays <= passage.weekdays:
        return 0.0
    counted_there = {word for _, word in passage.counts}
    if any(word in counted_there and (n, word) not in passage.counts for n, word in claim.counts):
        return 0.0  # "3 morts" from "trois trains ... sept morts": the passage counts its dead otherwise
    if _miscounted(claim, passage):
        return 0.0
    names_found = _names_in(claim, passage, passage_text)
    words_found = claim.words & passage.words
    if across:  # cognates: "energy" and "énergie", "diplomatic" and "diplomatique"
        words_found |= _cognates(claim.words - words_found, passage.words)
    required = claim.names - claim.restated or claim.names
    if required and len(names_found & required) * 2 < len(required):
        return 0.0
    if claim.restated and required != claim.names and not required & names_found - passage.titled:
        return 0.0  # the name the answer adds to the question's must be in the passage, not only its title
    # An English answer that restates an English question cannot find its words in a French
    # passage: across languages, the words it echoes from the question count only where found.
    unfound = claim.echoed - words_found if across else set()
    soft_total = 2 * len(claim.names) + len(claim.words - unfound)
    soft = (2 * len(names_found) + len(words_found)) / soft_total if soft_total else 0.0
    if claim.numeric:  # every number, duration and date of the claim is in the passage
        return 0.6 + 0.4 * soft
    return soft


def _cognates(words: set[str], other: set[str]) -> set[str]:
    """The `words` of five letters or more whose first five another language's `other` shares.

    >>> sorted(_cognates({"energy", "research", "spatial"}, {"energi", "recherch", "spatial"}))
    ['energy', 'spatial']
    """
    prefixes = {w[:COGNATE_CHARS] for w in other if len(w) >= COGNATE_CHARS}
    return {w for w in words if len(w) >= COGNATE_CHARS and w[:COGNATE_CHARS] in prefixes}


def _names_in(claim: Facts, passage: Facts, passage_text: str) -> set[str]:
    """The claim's names that the passage holds, as a name or within its folded text, or as
    words of its names: "Trump-Poutine" in "Trump a parlé à Poutine", "United" and "States"
    in "les États-Unis".

    >>> sorted(_names_in(facts_of("L'appel Trump-Poutine ?"), facts_of("Trump a parlé à Poutine."), ""))
    ['tramp patan']
    """
    folded = fold(passage_text)
    words = {w for name in passage.names for w in name.split()}
    return {n for n in claim.names if n in passage.names or n in folded or set(n.split()) <= words}


def passage_facts(passage: Passage) -> Facts:
    """What a passage offers: its facts (weekdays dated), its article's date, and the names in
    its article's title ("les deux hommes" of an article titled "Poutine ... Trump")."""
    facts = facts_of(annotate(passage.text, passage.date), doc_date=passage.date)
    titled = facts_of(passage.title).names
    facts.titled = titled - facts.names
    facts.names |= titled
    facts.names |= {name_key(n) for m in _NATIONALITY.finditer(passage.text) for n in _nationality(m.group())}
    return facts


def _nationality(adjective: str) -> set[str]:
    """An adjective of nationality as names: singular, and in English where it sounds otherwise.

    >>> sorted(_nationality("russes")), sorted(_nationality("ukrainiens")), sorted(_nationality("français"))
    (['Russian', 'russe', 'russes'], ['ukrainien', 'ukrainiens'], ['French', 'français'])
    >>> soldiers = Passage(1, "a.txt", 0, 60, "Il tue 5 000 soldats russes et ukrainiens par semaine.", "", None, 1.0)
    >>> attribute("Trump said 5,000 Russian and Ukrainian soldiers were killed every week.", [soldiers])[2]
    0
    """
    singular = adjective[:-1] if adjective.endswith("s") and not adjective.endswith(("ais", "ois")) else adjective
    return {adjective, singular} | ({_NATIONALITY_EN[singular]} if singular in _NATIONALITY_EN else set())


def concerns(question: str, passage: Passage) -> bool:
    """Whether `passage` (or its article's title and date) holds one of the names, dates or
    numbers of `question`, or two of its words: evidence about what the question asks.

    >>> concerns("Did Ushakov call it frank?", Passage(1, "a.txt", 0, 9, "Ouchakov l'a jugé franc.", "", None, 1.0))
    True
    """
    return _holds(facts_of(question, claim=True), passage)


def _holds(asked: Facts, passage: Passage) -> bool:
    """`concerns`, for a question whose facts are already read. A passage concerns the day
    its article appeared on (it backs that date only when it says "aujourd'hui")."""
    held = passage_facts(passage)
    found = _names_in(asked, held, f"{passage.text} {passage.title}")
    counted = (asked.numbers | asked.ranks) & (held.numbers | held.ranks)
    day = published(passage.date)
    days = held.days | ({(day.month, day.day)} if day else set())
    return bool(found or asked.days & days or counted or len(asked.words & held.words) >= 2)


def restates(question: str, passage: Passage) -> bool:
    """Whether `passage` holds at least half of the question's words: it is about exactly
    what is asked ("Poutine a-t-il évoqué l'opération ... mercredi ?" and "mercredi, Vladimir
    Poutine n'a pas mentionné l'opération ...")."""
    asked = facts_of(question, claim=True).words
    return bool(asked) and 2 * len(asked & facts_of(passage.text).words) >= len(asked)


# Words that place what a question asks about relative to the day it names ("the call before 19 May").
RELATIVE = re.compile(
    r"\b(?:before|after|previous|prior|since|until|avant|apr[èe]s|pr[ée]c[ée]dent\w*|derni[eè]re?s?|depuis|jusqu)\b",
    re.I,
)
NEAR_DAYS = 7  # an article reports what happened, or is announced, within about a week of it


def named_days(text: str, date: str | None = None) -> set[tuple[int, int]]:
    """The calendar days (month, day) `text` names, its weekdays dated by `date` (an
    article's publication date) when given.

    >>> sorted(named_days("Ils se sont parlé lundi, après l'appel du 18 mars.", "2025-05-17"))
    [(3, 18), (5, 12)]
    """
    return {(d.month, d.day) for d in dates(annotate(text, date) if date else text) if d.month and d.day}


def far_from_day(question: str, passages: Sequence[Passage]) -> bool:
    """True when `question` names a day (not as the bound of another time: "before 19 May")
    and none of `passages` names that day nor comes from an article published within a week
    of it: they report another event ("How long did the March 18 call last?" answered from
    an article of 3 July on that day's call). Passages of undated articles are not judged.

    >>> july = Passage(1, "a.txt", 0, 9, "L'appel a duré une heure.", "", "2025-07-03", 1.0)
    >>> far_from_day("How long did the March 18 call last?", [july]), far_from_day("Le 3 juillet ?", [july])
    (True, False)
    >>> far_from_day("What came before the March 18 call?", [july]), far_from_day("How long?", [july])
    (False, False)
    >>> march = Passage(1, "a.txt", 0, 9, "Ils s'étaient parlé le 18 mars.", "", "2025-07-03", 1.0)
    >>> far_from_day("How long did the March 18 call last?", [march])
    False
    """
    asked = named_days(question)
    if not asked or RELATIVE.search(question):
        return False
    for p in passages:
        day = published(p.date)
        if day is None or asked & named_days(p.text, p.date):
            return False
        if any(abs(day.toordinal() - _ordinal(day.year, month, d)) <= NEAR_DAYS for month, d in asked):
            return False
    return bool(passages)


def _ordinal(year: int, month: int, day: int) -> int:
    """The day's ordinal, or -1 (far from any) when there is no such day."""
    try:
        return dt.date(year, month, day).toordinal()
    except ValueError:
        return -1


def about(question: str, passages: Sequence[Passage]) -> bool:
    """False when the question names someone, a day or a number and none of `passages` (nor
    their articles' titles) holds any of it: an answer drawn from them is about something else
    ("How long did Rubio's call with Lavrov last?" answered from the Trump–Putin call).
    When it names someone (a nationality aside), two of its words in common are not enough.
    A question that names nothing is not judged here. Its first word is a name when the
    passages write it as one mid-sentence ("Trump's government ...").

    >>> call = Passage(1, "a.txt", 0, 30, "L'appel a duré une heure et quart.", "Poutine et Trump", None, 1.0)
    >>> about("How long did Rubio's call with Lavrov last?", [call]), about("How long did Trump's call last?", [call])
    (False, True)
    >>> dated = Passage(1, "a.txt", 0, 30, "Trump a appelé.", "", "2025-06-04", 1.0)
    >>> about("Who won the 2024 election?", [dated]), about("Who called in 2025?", [dated])
    (False, True)
    >>> about("How many died in the Russian derailments?", [Passage(1, "b", 0, 9, "En Russie, 7 morts.", "", None, 1)])
    True
    >>> frank = Passage(1, "a.txt", 0, 30, "Ouchakov a qualifié l'appel de « franc ».", "", None, 1.0)
    >>> about("Combien a duré l'appel que le Kremlin a dit « franc » ?", [frank]), about("Le Kremlin ?", [frank])
    (True, False)
    >>> aid = Passage(1, "a.txt", 0, 60, "Le gouvernement de Donald Trump aide Kiev comme Joe Biden.", "", None, 1.0)
    >>> about("Trump's government kept up aid to Ukraine started under which president?", [aid])
    True
    """
    asked = facts_of(question, claim=True)
    asked.names |= _leading_name(question, _mid_sentence_names(p.text for p in passages))  # "Trump's government"
    quoted = [set(analyze(m.group(1))) for m in _QUOTED.finditer(question)]
    if any(words and any(words <= set(analyze(p.text)) for p in passages) for words in quoted):
        return True  # the words it quotes: "la conversation que le Kremlin a qualifiée de « franche »"
    years = _years(question)
    if years and not any(years & _years(f"{p.text} {p.title} {p.date or ''}") for p in passages):
        return False  # "Who won the 2024 election?" answered from a passage that never says 2024
    named = asked.names - {name_key(m) for m in _DEMONYM.findall(question)}
    if not (named or asked.days or asked.numbers or asked.ranks):
        return True  # "the Russian train derailments" names no one: "Russian" may be "en Russie"
    if named:  # "Zelensky's visit to Denmark": a passage on other people's aid is about something else
        return any(
            _holds(Facts(asked.durations, asked.numbers, asked.days, names=named, ranks=asked.ranks), p)
            for p in passages
        )
    return any(_holds(asked, p) for p in passages)


# A sentence that asks, unless its yes or no answers ("Oui, la Russie a-t-elle continué ... ?")
_ASKING = re.compile(r"(?!(?:oui|non|yes|no)\b).*\?$", re.I | re.S)
# "Qui dirigeait la délégation russe aux négociations ?", "Who headed the Russian delegation?":
# whom the question says led something, and what (up to a preposition or the end).
_LED = re.compile(
    r"^\W*(?:qui|who)\b.*?\b(?:dirige\w*|condui\w*|men(?:ait|aient|é|ée|ées|és|e|ent)|headed|heads|led|leads"
    r"|was leading|was heading"
    r"|était à la tête d[eu]s?|was in charge of)\s+(?:(?:la|le|les|l['’]|the|this|that)\s*)?"
    r"(?P<led>[\w-]+(?:\s+(?!(?:aux?|à|de|des|du|d|at|in|of|to|for|during|on|with|en|pour|lors)\b)[\w-]+){0,2})",
    re.I,
)


def led_unmentioned(question: str, passages: Sequence[Passage]) -> bool:
    """Whether `question` asks who led something that none of `passages` mentions, nationality
    aside: they cannot say who led it ("Who headed the Russian delegation?" over passages
    that never speak of a delegation, only of the Kremlin adviser at the talks).

    >>> adviser = Passage(1, "a.txt", 0, 60, "Le conseiller russe Iouri Ouchakov était à Istanbul.", "", None, 1.0)
    >>> led_unmentioned("Qui menait la délégation russe à Istanbul ?", [adviser])
    True
    >>> led_unmentioned("Who headed the Russian delegation at the talks?", [adviser])
    True
    >>> office = Passage(1, "a.txt", 0, 60, "Le chef du bureau de la présidence, Andriï Iermak, a dit.", "", None, 1.0)
    >>> led_unmentioned("Qui dirige le bureau présidentiel ukrainien ?", [office])
    False
    """
    m = _LED.search(question)
    if m is None:
        return False
    led = {w for w in re.findall(r"[\w-]+", fold(m["led"])) if len(w) >= COGNATE_CHARS}
    nationalities = _DEMONYM.findall(m["led"].title()) + [x.group() for x in _NATIONALITY.finditer(fold(m["led"]))]
    led -= {fold(n) for n in nationalities}
    held = {w for p in passages for w in re.findall(r"\w+", fold(p.text))}
    return bool(led) and not _cognates(led, held)


# "Où ...", "Dans quelle ville ...", "In which country ...": a place asked for.
_WHERE = re.compile(
    r"^\W*(?:[\w'’-]+\s+)?(?:where|o[uù])\b|\b(?:quel(?:le)?\s+(?:ville|pays|endroit|lieu|région)"
    r"|(?:which|what)\s+(?:city|country|town|place|region))\b",
    re.I,
)
# What places a name in a sentence: "à Istanbul", "en Turquie", "la ville de Poltava", "in Denmark".
_LOCATIVE = re.compile(
    r"(?:\b(?:à|au|aux|en|dans|sur|vers|près de|depuis|in|at|on|near|to|inside|from)"
    r"|\b(?:ville|région|oblast|province|city|region|town|pays|country)\s+(?:de|d['’]|of))"
    r"\s+(?:(?:la|le|les|l['’]|the)\s*)?$",
    re.I,
)


def unplaced(question: str, answer: str, citations: Sequence[Citation]) -> bool:
    """Whether a "where?" is answered with a name that the cited sentences hold but never as
    a place ("Moscow", from "Moscou y réclame le retrait ...": Moscow the government, not
    where anyone was). A name they give after "à", "en", "in", "la ville de" ... is a place;
    so may be one of the answer's names that they write otherwise ("Middle East", "Moyen-Orient").

    >>> demand = Citation(1, "a.txt", 0, 60, "Dans ce document, Moscou y réclame le retrait des troupes.", 1.0)
    >>> unplaced("Where was Trump during the call?", "Moscow [1]", [demand])
    True
    >>> talks = Citation(1, "a.txt", 0, 60, "Des négociations se sont tenues à Istanbul, puis à Moscou.", 1.0)
    >>> unplaced("Where were the talks held?", "Istanbul [1]", [talks]), unplaced("Who spoke?", "Moscow [1]", [demand])
    (False, False)
    """
    if not _WHERE.search(question):
        return False
    bare = MARKER.sub("", answer)
    texts = [c.text for c in citations]
    named = facts_of(bare, claim=True).names | _leading_name(bare, _mid_sentence_names(texts))
    wanted = {w for n in named - facts_of(question, claim=True).names for w in n.split()}
    found = set()
    for text in texts:
        for m in _CAPITALISED.finditer(text):
            if (key := name_key(re.sub(r"^[A-Za-z][’']", "", m.group()))) in wanted:
                if _LOCATIVE.search(text[max(0, m.start() - 30) : m.start()]):
                    return False
                found.add(key)
    return bool(wanted) and found == wanted  # a name they write otherwise ("Middle East") may be the place


_QUOTED = re.compile(r"[«“\"]\s*([^»”\"]+?)\s*[»”\"]")  # what a question quotes from an article


# Who holds which title: "le secrétaire d'État américain, Marco Rubio", "Mikhaïl Goudkov,
# commandant adjoint de la marine russe", and in answers "Lavrov est le chef de la diplomatie".
_UPPER = r"[A-ZÀ-ÖØ-Þ][\w’'-]+"
_HOLDER = rf"{_UPPER}(?:[ \t]+{_UPPER})+"
_TITLE_WORD = rf"(?:[a-zà-ÿ][\w’'-]*|d['’]{_UPPER}|(?:de la|du|des) {_UPPER})"  # "d'État", "de la Défense"
_TITLE = rf"{_TITLE_WORD}(?:\s+{_TITLE_WORD}){{0,5}}?"
_LOWER_TITLE = r"[a-zà-ÿ][\w’'-]*(?:\s+[a-zà-ÿ][\w’'-]*){0,6}?"
_TITLES = [
    re.compile(rf"\b(?:[Ll]e|[Ll]a|[Ll]['’]|[Ss]on|[Ss]a)\s+(?P<title>{_TITLE}),?\s+(?P<name>{_HOLDER})"),
    re.compile(rf"(?P<name>{_HOLDER}),\s+(?:le |la |l['’])?(?P<title>{_LOWER_TITLE})\s*[,.;]"),
    re.compile(
        rf"(?P<name>{_HOLDER})\s+(?:est|était|is|was|occupe (?:la fonction|le poste) d[e'’]\s*)\s*"
        rf"(?:le |la |l['’]|the |an? )?(?P<title>{_TITLE})\s*(?:[,.;\[]|$)"
    ),
]
_LINKS = frozenset("de du des la le les l à au aux entre sur son sa ses et en avec par pour lors dans".split())


def _stated_titles(text: str) -> Iterator[tuple[str, str]]:
    """The (folded title, name as written) pairs `text` states; a title ending on a link word
    ("mort du") or naming a day ("journée de mercredi") is none."""
    for pattern in _TITLES:
        for m in pattern.finditer(text):
            title = fold(m["title"])
            if title.split()[-1] not in _LINKS and not dates(title):
                yield title, m["name"]


def titles(text: str) -> set[tuple[str, str]]:
    """The (title, name key) pairs `text` states by apposition or with "est".

    >>> text = "Le secrétaire d'État américain, Marco Rubio, a appelé le chef de la diplomatie russe Sergueï Lavrov."
    >>> sorted(titles(text))
    [('chef de la diplomatie russe', 'sarga lavrav'), ("secretaire d'etat americain", 'marka raba')]
    >>> titles("Sergueï Lavrov occupe la fonction de secrétaire d'État américain [1].")
    {("secretaire d'etat americain", 'sarga lavrav')}
    >>> titles("Dans la journée de mercredi Vladimir Poutine a parlé.")  # "journée de mercredi" is no title
    set()
    """
    return {(title, name_key(name)) for title, name in _stated_titles(text)}


def miscast(claim: str, held: set[tuple[str, str]]) -> bool:
    """True when `claim` gives someone a title that the passages give to someone else only
    (`held`: the passages' `titles`).

    >>> passage = "Le secrétaire d'État américain, Marco Rubio, a appelé le chef de la diplomatie russe Sergueï Lavrov."
    >>> held = titles(passage)
    >>> miscast("Sergueï Lavrov occupe la fonction de secrétaire d'État américain.", held)
    True
    >>> miscast("Sergueï Lavrov est le chef de la diplomatie russe.", held)
    False
    """
    return any(
        any(title == other and name != holder for other, holder in held) and (title, name) not in held
        for title, name in titles(claim)
    )


def given_by_title(question: str, passages: Sequence[Passage]) -> set[str]:
    """The names of those `question` designates by a title the passages give them ("le
    secrétaire d'État américain": Marco Rubio), unless it asks who holds it ("Qui est ...?").

    >>> p = Passage(1, "a.txt", 0, 9, "Le secrétaire d'État américain, Marco Rubio, a appelé Lavrov.", "", None, 1.0)
    >>> given_by_title("Le secrétaire d'État américain a appelé quelqu'un. À qui ?", [p])
    {'Marco Rubio'}
    >>> given_by_title("Qui est le secrétaire d'État américain ?", [p]), given_by_title("Quel secrétaire d'État ?", [p])
    (set(), set())
    """
    asked = f" {fold(question)}"
    if _WHO_IS.match(question) or _NAME_ASKED.search(asked):
        return set()
    named: dict[str, str] = {}
    for p in passages:
        for title, name in _stated_titles(p.text):
            named.setdefault(title, name)
    given = set()
    for title, name in named.items():
        at = asked.find(f" {title}")
        if at >= 0 and not _WHICH_ONE.search(asked[:at]):
            given.add(name)
    return given


_WHO_IS = re.compile(r"^\W*(?:qui|who)\s+(?:est|était|etait|is|was)\b", re.I)
_NAME_ASKED = re.compile(r"s'appel|\bnom\b|\bnamed?\b|\bcalled\b")  # "Comment s'appelle le commandant ...?"
_WHICH_ONE = re.compile(r"\b(?:quel(?:le)?s?|lequel|laquelle|which|what)(?:\s+\S+){0,2}\s*$")  # "Sur quel réseau"


def _years(text: str) -> set[int]:
    return {m.year for m in dates(text) if m.year}


def _best_span(claim: Facts, passage: Passage) -> tuple[int, int, float]:
    """The sentence of the passage that supports the claim best (doc offsets)."""
    best = (passage.start, passage.end, 0.0)
    for s, e in sentence_spans(passage.text):
        text = passage.text[s:e]
        score = support(claim, facts_of(annotate(text, passage.date), doc_date=passage.date), text)
        if score > best[2]:
            best = (passage.start + s, passage.start + e, score)
    return best


_SENTENCE_START = re.compile(r"(?:^|[.!?…:;«»\"“”()\n-])\s*$")
_ELIDED = re.compile(r"^[A-ZÀ-Þ][’']|^(?:Qu|Jusqu|Lorsqu|Puisqu)[’']")


def _mid_sentence_names(texts: Iterable[str]) -> set[str]:
    """Name keys of the words the passages capitalise inside a sentence (so by choice, not grammar)."""
    found = set()
    for text in texts:
        for m in _CAPITALISED.finditer(text):
            word = m.group()
            if _ELIDED.match(word) or _SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()] or "\n"):
                continue
            if fold(word) not in _NOT_NAMES:
                found.add(name_key(word))
    return found


def _leading_name(sentence: str, known: set[str]) -> set[str]:
    """A claim's first word when the passages use it as a name: "Kiev was hit" must be
    backed by a passage about Kiev, while "Yesterday ..." or "Two trains ..." need not be.

    >>> sorted(_leading_name("Kiev was hit.", {name_key("Kiev")})), _leading_name("Two were hit.", set())
    (['kav'], set())
    """
    first = _CAPITALISED.match(sentence.lstrip())
    if first is None or fold(first.group()) in _NOT_NAMES:
        return set()
    key = name_key(_POSSESSIVE.sub("", first.group()))  # "Trump's government"
    return {key} if key in known else set()


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)] or ([text] if text.strip() else [])


# A question asking the time of day ("À quelle heure ?"), not how long.
ASKS_TIME = re.compile(r"\b(?:what time|at what hour|[àa] quelle heure)\b", re.I)


def attribute(
    answer: str,
    passages: Sequence[Passage],
    *,
    question: str = "",
    threshold: float = 0.34,
    spare_dates: bool = False,
) -> tuple[str, list[Citation], int]:
    """Rewrite the markers of `answer` so that each one points to a supporting passage.

    Returns the new text, its citations and how many sentences no passage supports.
    A sentence stating a number, duration or date that no passage holds is dropped;
    with `spare_dates` (the question does not ask when), a sentence that only a date of
    its own keeps unbacked loses that date instead ("tué à Korenevo le 3 juillet" when no
    passage dates the death).
    Facts the `question` itself states are not asked of the passages. A sentence giving
    someone a title that the passages give to someone else only is dropped (`miscast`), and
    so is a question (a heading the model echoed), unless a yes or no opens it.

    >>> heading = Passage(1, "a.txt", 0, 40, "Les pourparlers de paix au point mort ?", "", None, 1.0)
    >>> attribute("Les pourparlers de paix au point mort ?", [heading])
    ('', [], 1)
    >>> attribute("Oui, les pourparlers sont-ils au point mort [1] ?", [heading])[0]
    'Oui, les pourparlers sont-ils au point mort [1] ?'
    >>> call = Passage(1, "a.txt", 0, 60, "L'appel aura lieu à 10 heures le lundi 19 mai.", "", None, 1.0)
    >>> [attribute("10 heures le lundi 19 mai.", [call], question=q)[0] for q in ("À quelle heure ?", "Combien ?")]
    ['10 heures le lundi 19 mai [1].', '']
    """
    given = facts_of(question) if question else Facts()
    clock = bool(ASKS_TIME.search(question))
    pfacts = [passage_facts(p) for p in passages]
    langs = [language(p.text) for p in passages]
    known_names = _mid_sentence_names(p.text for p in passages)
    held = titles("\n".join(p.text for p in passages))
    numbers_seen: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    out: list[str] = []
    unsupported = 0
    sentences = split_sentences(answer)
    for i, sentence in enumerate(sentences):
        bare = MARKER.sub("", sentence).strip()
        if not re.search(r"\w", bare):  # a marker left after a closing quote: « ... russe." [1]. »
            continue
        if miscast(bare, held):  # "Lavrov occupe la fonction de secrétaire d'État" (Rubio's)
            unsupported += 1
            continue
        if _ASKING.match(bare):  # a question (a heading echoed) answers nothing
            unsupported += 1
            continue
        named = _named(sentence, sentences[i + 1] if i + 1 < len(sentences) else "")
        claim, chosen = _backing(bare, given, pfacts, passages, langs, known_names, named, threshold, clock)
        if not chosen and spare_dates and claim.days | claim.weekdays and (shorter := strip_dates(bare)) != bare:
            claim, chosen = _backing(shorter, given, pfacts, passages, langs, known_names, named, threshold, clock)
            bare = shorter if chosen else bare
        markers = []
        if not chosen:
            unsupported += 1
            if claim.numeric:
                continue
        for p in chosen:
            start, end, _ = _best_span(claim, p)
            key = (p.source, start, end)
            if key not in numbers_seen:
                numbers_seen[key] = len(citations) + 1
                citations.append(Citation.of(numbers_seen[key], p, start, end))
            markers.append(f"[{numbers_seen[key]}]")
        out.append(with_markers(bare, markers))
    return " ".join(out), citations, unsupported


def _backing(
    bare: str,
    given: Facts,
    pfacts: Sequence[Facts],
    passages: Sequence[Passage],
    langs: Sequence[str],
    known_names: set[str],
    named: set[int],
    threshold: float,
    clock: bool = False,
) -> tuple[Facts, list[Passage]]:
    """The facts of the answer sentence `bare` and the passages that back them. Asked what
    `clock` time, "10 heures le lundi 19 mai" states the hour 10, not a length of ten hours."""
    claim = without(facts_of(bare, claim=True), given)
    if clock:
        claim.numbers |= {d // 60 for d in claim.durations if d % 60 == 0}
        claim.durations = set()
    leading = _leading_name(bare, known_names)
    claim.names |= leading
    claim.restated |= leading & given.names  # "Putin and Trump said ...": the question named both
    pairs = zip(pfacts, passages, strict=True)
    lang = language(bare)
    scored = sorted(
        ((support(claim, pf, p.text, across=lang != pl), pf, p) for (pf, p), pl in zip(pairs, langs, strict=True)),
        key=lambda t: -t[0],
    )
    close = [(pf, p) for score, pf, p in scored if score >= threshold and score >= scored[0][0] - 0.1]
    close.sort(key=lambda t: t[1].n not in named)  # of passages that back it about as well, the model's
    return claim, _enough(claim, close)


def _named(sentence: str, following: str) -> set[int]:
    """The passages the model cited for `sentence`, in it or in a marker standing alone after it
    ("... space. [3]"): of the passages that back the sentence about as well, the one the model read it in.

    >>> sorted(_named("Putin and Trump spoke of energy.", "[3]")), sorted(_named("Oui [1, 2].", "Non."))
    ([3], [1, 2])
    """
    alone = following if not re.search(r"\w", MARKER.sub("", following)) else ""
    return {int(n) for m in MARKER.finditer(sentence + alone) for n in re.findall(r"\d+", m.group())}


def _enough(claim: Facts, candidates: Sequence[tuple[Facts, Passage]]) -> list[Passage]:
    """The best supporting passage, and the next ones only for a name of the claim the
    ones before lack ("Rubio ... Umerov" from two articles), up to MAX_PER_SENTENCE.
    A second passage that repeats the first's facts would only add a citation to check."""
    chosen: list[Passage] = []
    named: set[str] = set()
    for pf, p in candidates:
        names = _names_in(claim, pf, p.text)
        if chosen and (len(chosen) >= MAX_PER_SENTENCE or not names - named):
            continue
        chosen.append(p)
        named |= names
    return chosen


def with_markers(sentence: str, markers: list[str]) -> str:
    """`sentence` with `markers` before its final punctuation.

    >>> with_markers("Il a duré une heure.", ["[2]"]), with_markers("A-t-il duré une heure ?", ["[2]"])
    ('Il a duré une heure [2].', 'A-t-il duré une heure [2] ?')
    """
    if not markers:
        return sentence
    stripped = sentence.rstrip(".!?…")
    ending = sentence[len(stripped) :]
    space = " " if stripped.endswith(" ") else ""  # French "?" after a space: "heure [2] ?"
    return f"{stripped.rstrip()} {''.join(markers)}{space}{ending}"
