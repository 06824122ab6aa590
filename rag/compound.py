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
>>> kind("Si on additionne les morts de Lyon et ceux de Brest, on arrive à combien ?")
'total'
>>> kind("Which official welcomed the deal, and which minister described the exchange?")
'both'
>>> kind("Qui a appelé Lavrov et quand ?") is None
True
>>> kind("Russia annexed Crimea in what year, and in what year did Putin claim the four regions?")
'both'

The common shapes are split without the model, which often drops a date or a name when it
rewrites ("the first call" for "the call of early June"): a difference, a comparison or a
total of two call lengths ("Was the June call longer than the one on 3 July?"), the years
or days between two events ("the first round of talks ... and the second one"), and a
total over two places or events named with the same preposition ("in the derailments and
in the strikes"). `rule_parts` gives the two questions as asked
of each side; anything else goes to the model.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from rag.citations import MARKER, counted_words, named_days
from rag.glosses import figures
from rag.lexical import analyze
from rag.normalize import counted, dates, durations, fold, numbers
from rag.weekdays import MONTHS_EN, MONTHS_FR

_WH = r"(?:qui|quel(?:le)?s?|quand|où|combien|comment|who|which|what|when|where|how)"
_DIFFERENCE = re.compile(
    r"\bde combien\b.*\b(?:plus|moins)\b|\bcombien de \w+ de (?:plus|moins)\b"
    r"|\bhow (?:much|many)\b.*\b(?:more|less|fewer|longer|shorter|later|earlier"
    r"|higher|lower|bigger|larger|smaller)\b.*\bthan\b",
    re.I,
)
_TOTAL = re.compile(
    r"\b(?:au total|en tout|au cumul|cumul[ée]s?|additionn\w*|in total|altogether|combined|all told"
    r"|add(?:ed|ing)? up)\b",
    re.I,
)
# Two full questions joined: "Which official ..., and which minister described ...?"
# ("Russia annexed Crimea in what year, and in what year did Putin claim ...?": the first asked at its end)
_BOTH = re.compile(
    rf"^\W*(?:{_WH}\b.|[^,?]+\b(?:in|en|à|on|of|de)\s+{_WH}\s+\w+(?=\s*,))"
    rf".*(?:,\s*|\s)(?:and|et)\s+(?:(?:in|en|à|on)\s+)?{_WH}\s+(?:\S+\s+){{3,}}",
    re.I,
)

# A quantity compared between two things: "De combien de minutes X a-t-il été plus long que Y ?",
# "How many minutes longer was X than Y?", "X a-t-il duré plus longtemps que Y ?", "Was X shorter than Y?"
_VERB_FR = r"(?:a-t-(?:il|elle)|ont-(?:ils|elles)|est-(?:il|elle)|sont-(?:ils|elles)|a|ont|est|sont)"
_LONG_FR = r"(?P<sign>plus|moins)\s+(?P<adj>longs?|longues?|courts?|courtes?|longtemps)"
_THAN_FR = r"\s+(?:qu(?:e\s+|['’])|par rapport à\s+)(?P<y>.+?)\s*\?*\s*$"
# "X a duré combien de minutes de plus que Y ?", "Combien de minutes de plus a duré X que Y ?"
_MORE_FR = r"combien de (?P<unit>minutes|temps|heures) de (?P<sign>plus|moins)"
_SHAPES = [
    ("difference", re.compile(
        rf"^\s*de combien(?: de (?P<unit>minutes|heures|temps))?\s+(?P<x>.+?)\s+{_VERB_FR}\s+(?:été|duré)\s+"
        rf"{_LONG_FR}{_THAN_FR}", re.I)),
    ("difference", re.compile(
        r"^\s*(?:(?:roughly|approximately|about|exactly|so|and|by),?\s+)?"
        r"how (?:many (?:more )?(?P<unit>minutes|hours)|much) (?P<adj>longer|shorter)? ?(?:was|were|did|is) "
        r"(?P<x>.+?)(?: last| take)?(?: (?P<adj2>longer|shorter))? than (?P<y>.+?)\s*\?*\s*$", re.I)),
    ("difference", re.compile(rf"^\s*(?P<x>.+?)\s+(?:a(?:-t-(?:il|elle))?\s+)?duré\s+{_MORE_FR}{_THAN_FR}", re.I)),
    ("difference", re.compile(rf"^\s*{_MORE_FR}\s+(?:a(?:-t-(?:il|elle))?\s+)?duré\s+(?P<x>.+?){_THAN_FR}", re.I)),
    ("difference", re.compile(  # "X lasted how many minutes longer than Y?"
        r"^\s*(?P<x>.+?)\s+(?:lasted|took|ran|went on)\s+how (?:many (?:more )?(?P<unit>minutes|hours)|much)"
        r"(?: (?P<adj>longer|shorter))? than (?P<y>.+?)\s*\?*\s*$", re.I)),
    ("compare", re.compile(
        rf"^\s*(?:est-ce que\s+)?(?P<x>.+?)\s+{_VERB_FR}\s+(?:été|duré)\s+{_LONG_FR}{_THAN_FR}", re.I)),
    ("compare", re.compile(
        r"^\s*(?:(?:was|were) (?P<x>.+?)|did (?P<x2>.+?) last) (?P<adj>longer|shorter) than (?P<y>.+?)\s*\?*\s*$",
        re.I)),
    ("difference", re.compile(  # "Comparing X with Y, how much longer did the first one last?"
        r"^\s*(?:comparing|if (?:you|we) compare|en comparant|si (?:l['’])?on compare)\s+(?P<x>.+?)\s+"
        r"(?:with|to|and|avec|à|et)\s+(?P<y>.+?),\s*"
        r"(?:how (?:much|many (?P<unit>minutes|hours))\s+(?P<adj>longer|shorter)"
        r"|de combien(?: de minutes)?\b.*?\b(?P<sign>plus|moins)\s+(?:longs?|longues?|courts?|courtes?|longtemps))\b",
        re.I)),
    ("total", re.compile(  # "Si on additionne X et celui du 3 juillet, ... combien de temps en tout ?"
        r"^\s*(?:si (?:l['’])?on additionne|en additionnant|if (?:you|we) add(?: up)?|adding(?: up)?)\s+(?P<x>.+?)\s+"
        r"(?:et|and|to|with)\s+(?P<y>.+?),\s*.*\b(?:combien de temps|how long|how much time|how many minutes)\b",
        re.I)),
    ("total", re.compile(  # "Au total, combien de temps ... si on compte X et celui du 3 juillet ?"
        r"\b(?:combien de temps|how long|how much time|how many minutes)\b.*?\b"
        r"(?:si (?:l['’])?on compte|en comptant|counting|if (?:you|we) count|if (?:you|we) add(?: up)?)\s+"
        r"(?P<x>.+?)\s+(?:et|and)\s+(?P<y>.+?)\s*\?*\s*$", re.I)),
    ("between", re.compile(  # the years or days between two events
        r"^\s*(?:il (?:s['’]est (?:passé|écoulé)|y a(?: eu)?) |(?:ça|cela) fait )?"
        r"combien (?P<span>d['’]années|de jours) "
        r"(?:se sont (?:écoulée?s|passée?s) |s['’]est-il (?:écoulé|passé) |séparent |sépar(?:ai|è)ent "
        r"|y a-t-il (?:eu )?)?(?:entre )?"
        r"(?P<x>.+?) et (?P<y>(?:l['’]|le |la |les |un |une |celui |celle |leur |son |sa |ses |ce |cet |cette ).+?)"
        r"\s*\?*\s*$", re.I)),
    ("between", re.compile(  # "combien de jours séparent X de la seconde ?", "... de celui du 4 juin ?"
        r"^\s*combien (?P<span>d['’]années|de jours) (?:séparent|sépar(?:ai|è)ent) (?P<x>.+?),?"
        r" de (?P<y>(?:l['’]|la |les |celui |celle |ceux |celles ).+?)\s*\?*\s*$", re.I)),
    ("between", re.compile(  # "... séparent le premier cycle du second ?"
        r"^\s*combien (?P<span>d['’]années|de jours) (?:séparent|sépar(?:ai|è)ent) (?P<x>.+?),?"
        r" du (?P<y_le>[^\W\d].*?)\s*\?*\s*$", re.I)),
    ("between", re.compile(
        r"^\s*how many (?P<span>years|days) (?:passed |elapsed |went by |were there |separated? |lay |lie )?"
        r"(?:between )?(?P<x>.+?) (?:and|from) "
        r"(?P<y>(?:the |a |an |that |their |his |her |its |this |[A-Z]\w+['’]s ).+?)"
        r"\s*\?*\s*$", re.I)),
    ("after", re.compile(
        r"^\s*how many (?P<span>years|days) (?:after|before) (?P<x>.+?),? did (?P<y>.+?)\s*\?*\s*$", re.I)),
    ("after", re.compile(  # the clause after the event starts with its subject's name: "... russes Trump et Poutine"
        r"^\s*(?i:combien (?P<span>d['’]années|de jours) (?:après|avant)) (?P<x>.+?),?\s+"
        r"(?P<y>[A-ZÀ-Ö][^\s,]*(?:\s+[^\s,]+)*?\s+[^\s,]+-(?:t-)?(?:il|elle|ils|elles|on)\b.*?)\s*\?*\s*$")),
]  # fmt: skip
# A total over two things named with the same preposition: "... in the derailments and in the strikes?"
_OVER = re.compile(
    r"^(?P<pre>.*?\s)(?P<prep>pour|dans|lors de|à|in|at|for|during)\s+(?P<a>.+?),?\s+(?:et|and)\s+(?P=prep)\s+"
    r"(?P<b>.+?)\s*\?*\s*$", re.I)  # fmt: skip
# A total over a noun's two complements: "les morts des déraillements et ceux des frappes sur Poltava"
_OF = r"(?:des|du|de la|de l['’]|d['’]|in|of|at|from|during)"
_THOSE = re.compile(
    rf"\b(?:les|des|de|the|many)\s+(?P<noun>\w+)\s+(?P<prep>{_OF})\s*(?P<a>.+?),?"
    rf"\s+(?:et|and)\s+(?:ceux|celles|those|the ones)\s+(?P<prep2>{_OF})\s*(?P<b>.+?)\s*(?:,|\?|$)", re.I)  # fmt: skip
_PRONOUN = re.compile(r"^(?:celui|celle|ceux|celles|the one|the ones|that|those|one)\b\s*", re.I)
_ARTICLE = re.compile(r"^(?:l['’]|le |la |les |un |une |the |a |an |their |leur |leurs )", re.I)
_PREPOSITION_FR = re.compile(r"\s(?:(?:de|du|des|entre|où|qui|que|à|au|en|avec|sur|pour|lors)(?=\s)|d['’](?=\w))", re.I)
_PREPOSITION_EN = re.compile(r"\s(?:between|on|of|in|with|at|from|during|where|that|which|when|about)\s", re.I)
STEMS = {
    ("minutes", "fr"): "Combien de temps a duré {x} ?",
    ("minutes", "en"): "How long did {x} last?",
    ("years", "fr"): "En quelle année a eu lieu {x} ?",
    ("years", "en"): "In which year did {x} take place?",
    ("days", "fr"): "À quelle date a eu lieu {x} ?",
    ("days", "en"): "On what date did {x} take place?",
}

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


UNITS = {("years", "fr"): " ans", ("years", "en"): " years", ("days", "fr"): " jours", ("days", "en"): " days"}


def kind(question: str) -> str | None:
    """'difference', 'total', 'compare' (a yes/no over two lengths) or 'both' when `question`
    is made of two, else None."""
    shape = _shape(question)
    if shape:
        return "difference" if shape[0] in ("between", "after") else shape[0]
    if _DIFFERENCE.search(question):
        return "difference"
    if _TOTAL.search(question):
        return "total"
    return "both" if _BOTH.search(question) else None


def _shape(question: str) -> tuple[str, re.Match[str]] | None:
    for how, pattern in _SHAPES:
        m = pattern.search(question)
        if m and not durations(_second(m)):  # "longer than an hour": one length, asked as one question
            return how, m
    return None


def _second(m: re.Match[str]) -> str:
    """The second thing a shape names: "du second" is "le second"."""
    return f"le {m['y_le']}" if m.groupdict().get("y_le") else m["y"]


def rule_parts(question: str, lang: str) -> tuple[list[str], str, bool] | None:
    """The two questions of a compound `question` of a common shape, what their answers
    measure ('minutes', 'years' or 'count') and, for a comparison, whether it asks if the
    first is the longer; None for other shapes (the model splits those).

    >>> rule_parts("De combien de minutes l'appel de juin a-t-il été plus long que celui du 3 juillet ?", "fr")
    (["Combien de temps a duré l'appel de juin ?", "Combien de temps a duré l'appel du 3 juillet ?"], 'minutes', True)
    >>> rule_parts("Was the June call between Trump and Putin shorter than the one on 3 July?", "en")[0]
    ['How long did the June call between Trump and Putin last?', 'How long did the call on 3 July last?']
    >>> rule_parts("How many years after the war did Smith write his book?", "en")[0]
    ['In which year did the war take place?', 'In which year did Smith write his book?']
    >>> rule_parts("Altogether, how many died in the derailments and in the strikes on Poltava?", "en")
    (['How many died in the derailments?', 'How many died in the strikes on Poltava?'], 'count', True)
    >>> rule_parts("How many days separated the first round of talks from the second one?", "en")[0][1]
    'On what date did the second round of talks take place?'
    >>> rule_parts("Combien de jours entre le premier et le deuxième cycle de pourparlers à Istanbul ?", "fr")[0][0]
    'À quelle date a eu lieu le premier cycle de pourparlers à Istanbul ?'
    >>> rule_parts("Combien de jours séparent la première session d'Istanbul, en mai, de la seconde ?", "fr")[0][1]
    "À quelle date a eu lieu la seconde session d'Istanbul ?"
    >>> rule_parts("Combien de jours séparent le premier cycle de pourparlers du second ?", "fr")[0][1]
    'À quelle date a eu lieu le second cycle de pourparlers ?'
    >>> rule_parts("Combien de jours après l'attaque Trump et Poutine se sont-ils parlé ?", "fr")[0]
    ["À quelle date a eu lieu l'attaque ?", "À quelle date après l'attaque Trump et Poutine se sont-ils parlé ?"]
    >>> rule_parts("How many days passed between the call of May 19 and their call in July?", "en")[0][1]
    'On what date did their call in July take place?'
    >>> rule_parts("Comparing the early-June call with the July 3 one, how much longer did the first last?", "en")[0]
    ['How long did the early-June call last?', 'How long did the July 3 call last?']
    >>> rule_parts("Si on additionne l'appel de juin et celui du 3 juillet, ça fait combien de temps ?", "fr")[0][1]
    "Combien de temps a duré l'appel du 3 juillet ?"
    >>> rule_parts("Combien de temps ont-ils parlé si on compte l'appel de juin et celui du 3 juillet ?", "fr")
    (["Combien de temps a duré l'appel de juin ?", "Combien de temps a duré l'appel du 3 juillet ?"], 'minutes', True)
    >>> rule_parts("Roughly how many minutes longer was the June call than the one on July 3?", "en")[0]
    ['How long did the June call last?', 'How long did the call on July 3 last?']
    >>> rule_parts("L'appel du 4 juin a duré combien de minutes de plus que celui du 3 juillet ?", "fr")[0]
    ["Combien de temps a duré l'appel du 4 juin ?", "Combien de temps a duré l'appel du 3 juillet ?"]
    >>> rule_parts("Combien de minutes de moins a duré l'appel de juillet par rapport à celui de juin ?", "fr")[1:]
    ('minutes', False)
    >>> rule_parts("The June call lasted how many minutes longer than the July one?", "en")[0]
    ['How long did the June call last?', 'How long did the July call last?']
    >>> rule_parts("By how many minutes was the June call longer than the one on 3 July?", "en")[0][1]
    'How long did the call on 3 July last?'
    >>> rule_parts("Il s'est passé combien de jours entre l'appel du 19 mai et celui du 3 juillet ?", "fr")[0]
    ["À quelle date a eu lieu l'appel du 19 mai ?", "À quelle date a eu lieu l'appel du 3 juillet ?"]
    >>> rule_parts("How many years passed between Russia's annexation of Crimea and Putin's claim?", "en")[0][1]
    "In which year did Putin's claim take place?"
    """
    shape = _shape(question)
    if shape is None:
        if not _TOTAL.search(question):
            return None
        over = _OVER.search(_TOTAL.sub("", question).strip(" ,"))
        if not over:
            return _two_lengths(question, lang) or _those(question, lang)
        pre = over["pre"][:1].upper() + over["pre"][1:]
        end = "?" if lang == "en" else " ?"
        return [f"{pre}{over['prep']} {over[side]}{end}" for side in ("a", "b")], "count", True
    how, m = shape
    x, y = (m.groupdict().get("x2") or m["x"]).strip(" ,"), _second(m).strip()
    span = m.groupdict().get("span")  # the years or days between or after two events, else two lengths
    unit = ("days" if span.lower().endswith(("jours", "days")) else "years") if span else "minutes"
    if how == "after":  # "How many years after X did Putin claim Y?": Y is a clause
        # A day is asked with the event it follows: "When did Trump and Putin speak?" alone
        # finds their earlier calls too.
        ask = {("years", "en"): "In which year did {y}?", ("days", "en"): "On what date after {x} did {y}?",
               ("years", "fr"): "En quelle année {y} ?", ("days", "fr"): "À quelle date après {x} {y} ?"}  # fmt: skip
        return [STEMS[(unit, lang)].format(x=_lowered(x)), ask[(unit, lang)].format(x=_lowered(x), y=y)], unit, True
    pronoun = _PRONOUN.match(y)
    if pronoun:
        y = f"{_head(x, lang)} {y[pronoun.end() :]}".strip()
    elif other := _OTHER_ONE.match(y):  # "the second one": the second round of talks ...
        y = _other_one(x, other, lang)
    elif first := _ELLIPTIC.match(x):  # "entre le premier et le deuxième cycle de pourparlers"
        x = _other_one(y, first, lang)
    adj = (m.groupdict().get("adj") or m.groupdict().get("adj2") or "").lower()
    longer = not (adj.startswith(("court", "short")) or (m.groupdict().get("sign") or "").lower() == "moins")
    return [STEMS[(unit, lang)].format(x=_lowered(side)) for side in (x, y)], unit, longer


def _those(question: str, lang: str) -> tuple[list[str], str, bool] | None:
    """The two counts of a total over "X and those of Y" (None for another wording).

    >>> _those("Si on additionne les morts des déraillements et ceux des frappes sur Poltava, on arrive à ?", "fr")[0]
    ['Combien de morts lors des déraillements ?', 'Combien de morts lors des frappes sur Poltava ?']
    >>> _those("Adding up the deaths in the derailments and those in the strikes, how many?", "en")[0]
    ['How many deaths in the derailments?', 'How many deaths in the strikes?']
    """
    m = _THOSE.search(question)
    if m is None:
        return None
    sides = ((m["prep"], m["a"]), (m["prep2"], m["b"]))
    if lang == "fr":
        joined = [f"{prep} {side}".replace("' ", "'").replace("’ ", "’") for prep, side in sides]  # "de l'attaque"
        parts = [f"Combien de {m['noun']} lors {side} ?" for side in joined]
    else:
        parts = [f"How many {m['noun']} {prep} {side}?" for prep, side in sides]
    return parts, "count", True


# "les deux appels Trump-Poutine du 4 juin et du 3 juillet", "the two calls on June 4 and July 3"
_TWO = re.compile(
    r"\b(?:les|the)\s+(?:deux|two)\s+(?P<noun>[^\W\d_]+?)s?\b(?P<mod>[^?]*?)"
    r"\s+(?P<prep>du|de la|des|de|d['’]|on|of|in|from)\s*(?P<a>[^?]+?),?"
    r"\s+(?:et|and)\s+(?:(?P=prep)\s*)?(?P<b>[^?]+?)\s*\?*\s*$",
    re.I,
)
_HOW_LONG = re.compile(r"\b(?:combien de temps|how long|how many minutes|how much time)\b", re.I)


def _two_lengths(question: str, lang: str) -> tuple[list[str], str, bool] | None:
    """The two lengths of a total over "the two calls of A and B" (None for another wording).

    >>> question = "Au total, combien de temps ont duré les deux appels du 4 juin et du 3 juillet ?"
    >>> _two_lengths(question, "fr")[:2]
    (["Combien de temps a duré l'appel du 4 juin ?", "Combien de temps a duré l'appel du 3 juillet ?"], 'minutes')
    >>> _two_lengths("In total, how long did the two calls on June 4 and July 3 last?", "en")[0]
    ['How long did the call on June 4 last?', 'How long did the call on July 3 last?']
    """
    m = _TWO.search(question)
    if m is None or not _HOW_LONG.search(question):
        return None
    noun, mod, prep = m["noun"].lower(), m["mod"].rstrip(), m["prep"].lower()
    b = re.sub(r"\s+(?:last|take|lasted|took)$", "", m["b"])
    if lang == "fr":
        article = "l'" if noun[:1] in "aeiouyhéèê" else "le "
        events = [f"{article}{noun}{mod} {prep} {side}".replace("' ", "'") for side in (m["a"], b)]
    else:
        events = [f"the {noun}{mod} {prep} {side}" for side in (m["a"], b)]
    return [STEMS[("minutes", lang)].format(x=event) for event in events], "minutes", True


def _head(x: str, lang: str) -> str:
    """What "celui" or "the one" stands for: "l'appel" of "l'appel de juin", "the call" of
    "the early-June call between Trump and Putin"."""
    before = (_PREPOSITION_FR if lang == "fr" else _PREPOSITION_EN).split(f" {x} ", maxsplit=1)[0]
    nouns = [w for w in _ARTICLE.sub("", before.strip()).split() if not w[:1].isupper()] or [x]
    if lang == "en":
        return f"the {nouns[-1]}"
    article = _ARTICLE.match(x)
    elided = nouns[-1][:1].lower() in "aeiouyhéèê"
    return f"l'{nouns[-1]}" if elided or not article else f"{article.group().strip().lower()} {nouns[-1]}"


# "the second one", "le second": another of what the first side names
_OTHER_ONE = re.compile(
    r"^(?:(?P<en>the|that)\s+(?P<which>[\w-]+(?:\s+\d+)?)\s+one"
    r"|(?P<fr>le|la|les)\s+(?P<quel>seconde?s?|suivante?s?|derni(?:er|[eè]re)s?|premi(?:er|[eè]re)s?|autres?|\w+i[eè]mes?))\s*$",
    re.I,
)


# "the first" or "le premier" of "between the first and the second round of talks"
_ELLIPTIC = re.compile(
    r"^(?:(?P<en>the)\s+(?P<which>first|second|third|last|previous|earlier|next)"
    r"|(?P<fr>le|la|les)\s+(?P<quel>premi(?:er|[eè]re)s?|seconde?s?|derni(?:er|[eè]re)s?|pr[ée]c[ée]dente?s?|\w+i[eè]mes?))\s*$",
    re.I,
)


def _other_one(x: str, other: re.Match[str], lang: str) -> str:
    """The other one ("the second one") said after `x` ("the first round of talks in Istanbul"): x's noun
    and what follows it, with the other ordinal or adjective.

    >>> _other_one("the first round of talks", _OTHER_ONE.match("the second one"), "en")
    'the second round of talks'
    >>> _other_one("le premier cycle de pourparlers à Istanbul", _OTHER_ONE.match("le second"), "fr")
    'le second cycle de pourparlers à Istanbul'
    >>> _OTHER_ONE.match("la frappe") is None  # a thing of its own, not another of x's
    True
    """
    head = _head(x, lang).split()[-1].removeprefix("l'")
    m = re.search(rf"\b{re.escape(head)}\b", x)
    which = other["which"] or other["quel"]
    tail = x[m.end() :].split(",")[0] if m else ""  # not ", en mai": that is when the first one was
    return f"{(other['en'] or other['fr']).lower()} {which} {head}{tail}"


def _lowered(side: str) -> str:
    """A side of the question within a new one: "Le sixième appel" -> "le sixième appel"."""
    return side[0].lower() + side[1:] if _ARTICLE.match(side) else side


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


def year(answer: str) -> float | None:
    """The one year `answer` gives, even one its question stated ("In which year did the
    annexation of Crimea in 2014 take place?" is answered "in 2014"); None if not exactly one.

    >>> year("La Crimée a été annexée en 2014 [1]."), year("2014 ou 2015")
    (2014.0, None)
    """
    found = {float(d.year) for d in dates(MARKER.sub("", answer)) if d.year}
    return found.pop() if len(found) == 1 else None


_RELATIVE = re.compile(r"\b(?:après|avant|after|before)\b", re.I)
GIVEN = {"fr": "le {day} {month}", "en": "{day} {month}"}
QUESTION_DATE = {"fr": " (date de la question)", "en": " (the question's date)"}  # said of a day no article states


def given_day(part: str, lang: str) -> str | None:
    """The day a part of a compound question names itself ("À quelle date a eu lieu l'appel
    du 19 mai ?"), as its answer: the passages only restate it, and the model's restating
    is no answer. None when it names no day, several, or one it is relative to ("après").

    >>> given_day("À quelle date a eu lieu l'appel du 19 mai ?", "fr")
    'le 19 mai'
    >>> given_day("On what date after the May 19 call did they talk?", "en") is None
    True
    """
    if _RELATIVE.search(part):
        return None
    days = named_days(part)
    if len(days) != 1:
        return None
    month, number = days.pop()
    return GIVEN[lang].format(day=number, month=(MONTHS_FR if lang == "fr" else MONTHS_EN)[month - 1])


def day(answer: str, year: int | None = None) -> dt.date | None:
    """The one calendar day `answer` gives (its year, else `year`); None if not exactly one.

    >>> day("Le lundi 2 juin 2025 [1]."), day("vendredi 16 mai [1]", 2025), day("en mai [1]", 2025)
    (datetime.date(2025, 6, 2), datetime.date(2025, 5, 16), None)
    """
    found = set()
    for d in dates(MARKER.sub("", answer)):
        if d.day is not None and d.month is not None and (d.year or year):
            found.add(dt.date(d.year or year or 1, d.month, d.day))
    return found.pop() if len(found) == 1 else None


def value(question: str, answer: str) -> tuple[float, bool] | None:
    """The one duration (in minutes) or, failing that, the one number that `answer` gives
    beyond those of `question` (days and years of dates aside), and whether `answer` states
    a duration; None if not exactly one.

    >>> value("Combien de temps a duré l'appel ?", "Il a duré une heure et quart (1 h 15 min) [1].")
    (75.0, True)
    >>> value("Combien de morts le 3 juin ?", "Sept morts le 3 juin [2]."), value("Combien ?", "3 ou 4 [1]")
    ((7.0, False), None)
    >>> value("Combien de blessés ont fait les explosions ?", "7 morts et 113 blessés [1].")  # what it counts
    (113.0, False)
    """
    text = MARKER.sub("", answer)
    stated = set(durations(text))
    found = stated - set(durations(question))
    if not found:
        dated = {float(x) for d in dates(text) for x in (d.day, d.year) if x is not None}
        found = set(numbers(text)) - set(numbers(question)) - dated
        asked = counted_words(question)
        if len(found) > 1 and asked:
            noun = analyze(asked[0])
            found = {n for n, word in counted(text) if n in found and analyze(word) == noun} or found
    return (found.pop(), bool(stated)) if len(found) == 1 else None


def lead(how: str, lang: str, values: Sequence[float], unit: str, longer: bool = True) -> str:
    """The computed sentence that opens a difference, a total or a comparison (`unit`:
    'minutes', 'years' or 'count'; `longer`: whether the comparison asks if the first is longer).

    >>> lead("difference", "fr", [75.0, 60.0], "minutes"), lead("total", "en", [7.0, 2.0], "count")
    ('La différence est de 15 min :', 'In total: 9.')
    >>> lead("difference", "en", [2014.0, 2022.0], "years")
    'The difference is 8 years:'
    >>> lead("compare", "fr", [75.0, 60.0], "minutes", longer=False)
    'Non.'
    """
    if how == "compare":
        yes = values[0] > values[1] if longer else values[0] < values[1]
        return {("fr", True): "Oui.", ("fr", False): "Non.", ("en", True): "Yes.", ("en", False): "No."}[(lang, yes)]
    result = abs(values[0] - values[1]) if how == "difference" else sum(values)
    shown = figures(result) if unit == "minutes" else f"{result:g}"
    if unit in ("years", "days"):
        shown += UNITS[(unit, lang)]
    return LEAD[(how, lang)].format(value=shown)


def renumbered(text: str, offset: int) -> str:
    """`text` with each marker [n] moved to [n + offset].

    >>> renumbered("Rubio [1], Umerov [1][2].", 2)
    'Rubio [3], Umerov [3][4].'
    """
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text)
