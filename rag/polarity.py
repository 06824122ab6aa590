"""Yes/no questions: recognise them, and read yes or no from the passage that settles them.

A 1.5B model says "yes" to most yes/no questions, even when its passage says
"ne pas avoir été informé" or "sans aboutir à un accord". So the system decides
the polarity from the evidence (a negation in the best passage, against one in
the question) and the model only phrases the answer in the user's language.

>>> is_yes_no("Trump a-t-il été informé à l'avance ?"), is_yes_no("Who phoned Lavrov?")
(True, False)
>>> negated("Trump a affirmé ne pas avoir été informé."), negated("Les deux parties ont convenu d'un échange.")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.citations import Passage
from rag.glossary import in_french
from rag.lexical import STOP_WORDS
from rag.normalize import fold
from rag.weekdays import MONTHS_EN, MONTHS_FR, WEEKDAYS_EN, WEEKDAYS_FR

# An opening clause before the question proper: "In the early June call, did ...", "Côté russe, est-ce qu'on ..."
_OPENING = r"(?:[^,?]{1,80},\s*)?"
_EN_AUX = re.compile(
    rf"^{_OPENING}(?:(?:and|so|but|then)\s+)?"
    r"(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should|may|might)(?:n't)?\b",
    re.I,
)
_FR_VERB = re.compile(r"\b(?:a|ont|est|sont|avait|avaient|etait|etaient|va|vont|sera|seront|aurait|auraient)\s+\w")
_FR_START = re.compile(rf"^{_OPENING}(?:et\s+)?(?:est-ce qu|est ce qu)", re.I)
# Verb-subject inversion ("a-t-il", "allait-elle", "ont-elles") outside a wh-question.
_FR_INVERSION = re.compile(r"\b\w+-(?:t-)?(?:il|elle|ils|elles|on)\b", re.I)
_WH = re.compile(
    r"\b(?:qui|que|qu|quoi|quel|quelle|quels|quelles|quand|ou|comment|combien|combientieme|quantieme|pourquoi|lequel|laquelle|"
    r"lesquels|lesquelles|who|whom|whose|what|when|where|which|why|how)\b"
)
# "ne ... pas", "n'a pas", "sans", "aucun", "jamais"; not, n't, never, no, without.
_NEGATION = re.compile(
    r"\bn'|\b(?:ne|pas|jamais|aucune?s?|nullement|sans|ni|not|never|no|none|neither|nor|without|cannot)\b|n't\b"
)


def asking(question: str) -> str:
    """The sentence of `question` that asks: its last one ("No truce came of it. Did they ...?").

    >>> asking("The talks brought no truce. Did they agree on a swap?")
    'Did they agree on a swap?'
    """
    return re.split(r"(?<=[.:;!])\s+(?=\S)", question.strip())[-1]


def is_yes_no(question: str) -> bool:
    """True for a question answered by yes or no (English auxiliary first, French inversion),
    read from its last sentence when it has several ("No truce came of it. Did they agree ...?").

    >>> is_yes_no("The talks brought no truce. Did they at least agree on a swap?"), is_yes_no("Pas de trêve. Quand ?")
    (True, False)
    >>> is_yes_no("At the Istanbul talks, did they agree on a swap?"), is_yes_no("Côté russe, est-ce qu'on a aimé ?")
    (True, True)
    >>> is_yes_no("In the June call, what did Putin say?"), is_yes_no("Selon Trump, combien de soldats meurent ?")
    (False, False)
    >>> is_yes_no("Les armes, Trump et Poutine en ont parlé ?"), is_yes_no("Et le 3 juillet ?")
    (True, False)
    """
    text = asking(question)
    if _EN_AUX.search(text):
        return True
    folded = fold(text).replace("’", "'")
    if _FR_START.search(folded):
        return True
    inversion = _FR_INVERSION.search(folded.split("?")[0])
    if inversion is not None:
        return not _WH.search(folded[: inversion.start()])  # "Quand a-t-il ..." asks when
    # Spoken French: a statement asked ("Trump et Poutine en ont parlé ?"), no question word in it
    return bool(_FR_VERB.search(folded)) and folded.rstrip().endswith("?") and not _WH.search(folded)


# Verbs that deny what follows: "écarter toute concession" says no to concessions, and
# "ne renoncera pas à ses objectifs" is a double negation ("Will Russia give up ...?" - no).
_DENIAL = re.compile(
    r"\b(?:ecart(?:e|er|ent|ant|ait)|refus(?:e|er|ent|ant|ait|es)?|rejet(?:te|tent|er|ant|ait|es?)|"
    r"exclu(?:t|re|ant|ait|ent)|dement(?:ir|i)|nie(?:r|nt)?|renonc(?:e|er|era|ent|ant|ait)|abandonn(?:e|er|era|ent)|"
    r"refused?|refuses|refusing|reject(?:s|ed|ing)?|rul(?:e|es|ed|ing) out|den(?:y|ies|ied|ying)|"
    r"give up|gives up|gave up|giving up|abandon(?:s|ed|ing)?)\b"
)


def negated(text: str) -> bool:
    """True when a sentence of `text` carries a negation (French or English); a verb of
    denial under a negation in the same sentence cancels it.

    >>> negated("Poutine a indiqué vouloir écarter toute concession."), negated("Il n'exclut pas un accord.")
    (True, False)
    >>> negated("Trump dit n'avoir « pas fait de progrès ». La Russie « ne renoncera pas à ses objectifs ».")
    True
    """
    folded = fold(text).replace("’", "'")
    return any(bool(_NEGATION.search(s)) != bool(_DENIAL.search(s)) for s in re.split(r"(?<=[.!?;])\s+", folded))


_CALENDAR = frozenset(fold(w) for w in WEEKDAYS_FR + MONTHS_FR + WEEKDAYS_EN + MONTHS_EN)


def _keys(text: str, *, asked: bool = False) -> set[str]:
    """Folded words as comparison keys (five letters at most, so that "informed" meets
    "informé" and "concessions" "concession"); for a question (`asked`), only the words that
    say what it asks: no stop words, names, figures, weekdays or months."""
    words = re.findall(r"[^\W\d_]{3,}", text)
    if asked:  # "Trump", "3 juillet": which event, not what is asked about it
        words = [w for i, w in enumerate(words) if i == 0 or not w[0].isupper()]
    folded = {fold(w) for w in words}
    return {_spelled(w)[:5] for w in (folded - STOP_WORDS - _CALENDAR if asked else folded)}


def _spelled(word: str) -> str:
    """A folded word with the spellings French and English cognates differ by made alike
    ("attack" and "attaque", "advance" and "avance").

    >>> _spelled("attack"), _spelled("attaque"), _spelled("advance"), _spelled("avance")
    ('attak', 'attake', 'avanke', 'avanke')
    """
    word = re.sub(r"^adv", "av", word)
    return word.replace("ck", "k").replace("qu", "k").replace("c", "k")


def evidence(question: str, passages: Sequence[Passage]) -> Passage:
    """The passage a yes or no is read from: the one that holds most of the words saying what
    the question asks (the first shown on a tie). The first passage shown is not always it:
    "ne renoncera pas à ses objectifs", about the right call, does not settle whether arms
    deliveries were discussed during it; "Ce sujet n'a pas été abordé" does.

    >>> texts = ["Le 3 juillet, Poutine ne renoncera pas.", "Les armes ? Ce sujet n'a pas été abordé lors de l'appel."]
    >>> shown = [Passage(n, "a.txt", 0, 9, text, "", None, 1.0) for n, text in enumerate(texts, 1)]
    >>> evidence("Le 3 juillet, ont-ils discuté des livraisons d'armes lors de l'appel ?", shown).n
    2

    An English question is read with its news words in French (`rag.glossary`), so that
    "ahead of time" meets "à l'avance":

    >>> texts = ["Poutine riposterait à l'attaque de drones.", "Il n'a pas su à l'avance que des drones attaqueraient."]
    >>> shown = [Passage(n, "a.txt", 0, 9, text, "", None, 1.0) for n, text in enumerate(texts, 1)]
    >>> evidence("Had Trump been warned ahead of time about the drone attack?", shown).n
    2
    """
    wanted = _keys(in_french(asking(question)), asked=True)
    return max(passages, key=lambda p: len(wanted & _keys(p.text)))


def verdict(question: str, evidence: str) -> bool:
    """Yes (True) when the evidence and the question (the sentence of it that asks) agree in
    polarity. Of a sentence whose clauses are joined by "mais" or "but", the clause that holds
    most of what the question asks is read.

    >>> swap = "Ils ont convenu d'un échange de prisonniers, mais n'ont pas permis de cessez-le-feu."
    >>> verdict("Ont-ils convenu d'un échange de prisonniers ?", swap), verdict("Ont-ils permis une trêve ?", swap)
    (True, False)
    """
    asked = asking(question)
    wanted = _keys(in_french(asked), asked=True)
    read = []
    for sentence in re.split(r"(?<=[.!?;])\s+", evidence):
        best = max(_BUT.split(sentence), key=lambda clause: len(wanted & _keys(clause)))
        read.append(best if wanted & _keys(best) else sentence)
    return any(negated(part) for part in read) == negated(asked)


_BUT = re.compile(r",?\s+(?:mais|but|tandis que|alors que|whereas)\s+", re.I)
