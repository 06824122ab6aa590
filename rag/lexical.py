"""The lexical side of retrieval: BM25 (bm25s) over French-aware tokens, persisted next to Chroma.

The index is derived from the chunks in Chroma: ingest rebuilds it after every
change, and a reader rebuilds it whenever its recorded chunk count or id digest
disagree with the store (an interrupted ingest), so the two cannot drift apart.

>>> analyze("Combien de temps a duré l’appel du 3 juillet ?")
['combien', 'temp', 'dur', 'appel', '3', 'juillet']
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from rag.normalize import fold, language, name_key

PREFIX_CHARS = 5
# BM25 settings and what is indexed (v2: title + chunk; v3: each chunk's language; v4: the
# names the chunks use); a saved index made otherwise is rebuilt.
# k1 = 0.6 (saturating repeated words sooner than 1.2) adds 0.4 points of hybrid recall@1 on PIAF.
PARAMS = {"k1": 0.6, "b": 0.75, "version": 4}
_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu|quoiqu)'")
_WORD = re.compile(r"\w+")
# A capitalised word after a word or a comma: a name, not the start of a sentence.
_MID_CAPITAL = re.compile(r"(?:(?<=[\w,] )|(?<=\w['’]))[A-ZÀ-ÖØ-Þ][^\W\d_]+")
STOP_WORDS = frozenset(
    """
    a au aux avec ce ces dans de des du elle en et eux il ils je la le les leur leurs lui ma mais me meme mes moi
    mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l m n s t y etant suis es est sommes etes sont serai sera seront etais etait etaient
    fus fut ai as avons avez ont aurai aura auront avais avait avaient eu cet cette ceux celle celles celui ci la
    se sa son si tout tous toute toutes tres plus aussi comme dont donc ou quel quelle quels quelles lequel
    laquelle lesquels est-ce
    the of and to in is was were be been being are for on at by with from as that this these those it its an or
    but not no did do does has have had what which who whom whose when where why how there their they them he
    she his her him we our you your i me my into about than then so such can could would should will shall may
    might must also very
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("french")


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def analyze(text: str) -> list[str]:
    """Lowercase, drop elisions and stop words, stem (Snowball French), fold accents."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    words = [w for w in _WORD.findall(_ELISION.sub(" ", text)) if _fold(w) not in STOP_WORDS]
    return [_fold(s) for s in _stemmer().stemWords(words)]


def names_used(texts: Iterable[str]) -> frozenset[str]:
    """The words `texts` capitalise mid-sentence more often than they write them in lowercase:
    "Poutine", "OTAN", not "Le" or "Mars".

    >>> sorted(names_used(["Selon Vladimir Poutine, le 18 mars.", "Le 2 Mars, l'OTAN."]))
    ['OTAN', 'Poutine', 'Vladimir']
    """
    capitalised: Counter[str] = Counter()
    lowercase: Counter[str] = Counter()
    for text in texts:
        capitalised.update(m.group() for m in _MID_CAPITAL.finditer(text))
        lowercase.update(w for w in _WORD.findall(text) if w.islower())
    return frozenset(word for word, n in capitalised.items() if n > lowercase[word.lower()])


def digest(ids: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()


class LexicalIndex:
    """BM25 over a fixed list of chunk ids."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s

        self.ids = list(ids)
        self.digest = digest(self.ids)
        self.languages = [language(t) for t in texts]  # "fr" or "en", as for questions
        self._prefixes: dict[str, list[int]] | None = None
        self._other: dict[str, frozenset[str]] = {}
        self.names = names_used(texts)
        self._bm25 = bm25s.BM25(k1=PARAMS["k1"], b=PARAMS["b"])
        if self.ids:
            self._bm25.index([analyze(t) or [""] for t in texts], show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Best `k` chunk ids with their BM25 score (only those sharing a term)."""
        import numpy as np

        tokens = analyze(query)
        if not self.ids or not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def coverage(self, query: str) -> dict[str, float]:
        """For each chunk sharing a term with `query`: the idf-weighted share of the query's terms
        it holds, half counted on whole stems and half on their first five letters (construit,
        construction).

        BM25 rewards a chunk that repeats one rare word; coverage rewards the chunk that
        holds all of what the question asks about (on PIAF it adds 2 points of recall@1).
        """
        import numpy as np

        tokens = {t for t in analyze(query) if t}
        if not self.ids or not tokens:
            return {}
        vocab: dict[str, int] = self._bm25.vocab_dict
        total = np.zeros(len(self.ids))
        for groups in ([[vocab[t]] for t in tokens if t in vocab], self._prefix_groups(tokens)):
            postings = [self._postings(ids) for ids in groups]
            weights = [self._idf(len(docs)) for docs in postings]
            for docs, weight in zip(postings, weights, strict=True):
                total[docs] += 0.5 * weight / sum(weights)
        return {self.ids[i]: float(total[i]) for i in np.flatnonzero(total)}

    def truecase(self, question: str) -> str:
        """`question` with a capital on each lowercase word that the chunks write as a name, in
        any spelling (`rag.normalize.name_key`: putin, Poutine; nato, OTAN): names tell what a
        question is about, and users often type none. A word whose key is shorter than four
        letters must be spelled as the name: "many" is not "Moyen" (-Orient); so must a word
        joined to another by a hyphen: "russo-ukrainiens" is not "Russie".

        >>> index = LexicalIndex(["a"], ["Donald Trump a appelé Vladimir Poutine, selon Kyiv et l'OTAN (Moyen-Orient)"])
        >>> index.truecase("did trump call putin? how many times? kyiv? nato? the trump-putin call?")
        'did Trump call Putin? how many times? Kyiv? Nato? the Trump-putin call?'
        """
        keys, spelled = self._spellings

        def capital(m: re.Match[str]) -> str:
            word, text = m.group(), m.string
            if not word.islower() or _fold(word) in STOP_WORDS:
                return word
            compound = text[m.end() : m.end() + 1] == "-" or text[max(m.start() - 1, 0) : m.start()] == "-"
            named = fold(word) in spelled or (name_key(word) in keys and not compound)  # not "russo-ukrainiens"
            return word[0].upper() + word[1:] if named else word

        return _WORD.sub(capital, question)

    @cached_property
    def _spellings(self) -> tuple[frozenset[str], frozenset[str]]:
        """The names' keys of four letters or more, and the names folded."""
        keys = {name_key(name) for name in self.names}
        return frozenset(key for key in keys if len(key) >= 4), frozenset(fold(name) for name in self.names)

    def written_in_other_language(self, query: str) -> frozenset[str]:
        """The ids of the chunks not written in `query`'s language, whose words it can share
        only by chance, names and figures aside.

        >>> sorted(LexicalIndex(["a", "b"], ["Il a parlé.", "He spoke."]).written_in_other_language("Who spoke?"))
        ['a']
        """
        lang = language(query)
        if lang not in self._other:
            self._other[lang] = frozenset(i for i, other in zip(self.ids, self.languages, strict=True) if other != lang)
        return self._other[lang]

    def _postings(self, token_ids: Sequence[int]) -> Any:
        """The rows (chunks) holding any of `token_ids`."""
        import numpy as np

        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        parts = [indices[indptr[t] : indptr[t + 1]] for t in token_ids]
        return np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]

    def _idf(self, df: int) -> float:
        return math.log(1 + (len(self.ids) - df + 0.5) / (df + 0.5))

    def _prefix_groups(self, tokens: set[str]) -> list[list[int]]:
        """For each distinct prefix of the query's stems: the ids of the vocabulary's stems that start with it."""
        if self._prefixes is None:
            prefixes: dict[str, list[int]] = {}
            for token, i in self._bm25.vocab_dict.items():
                if token:
                    prefixes.setdefault(token[:PREFIX_CHARS], []).append(i)
            self._prefixes = prefixes
        wanted = {t[:PREFIX_CHARS] for t in tokens}
        return [self._prefixes[p] for p in sorted(wanted) if p in self._prefixes]

    def save(self, directory: Path) -> None:
        """Write atomically: a temp dir renamed over the old one."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._bm25.save(str(tmp), show_progress=False)
        state = {
            "digest": self.digest,
            "ids": self.ids,
            "languages": self.languages,
            "names": sorted(self.names),
            "params": PARAMS,
        }
        (tmp / "ids.json").write_text(json.dumps(state), encoding="utf-8")
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def current(directory: Path) -> bool:
        """True when a saved index exists and was made with the current `PARAMS` (ids.json alone is read)."""
        try:
            return bool(json.loads((directory / "ids.json").read_text(encoding="utf-8")).get("params") == PARAMS)
        except (OSError, ValueError, AttributeError):
            return False

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none, it is unreadable or it was made with other `PARAMS`."""
        import bm25s

        try:
            state = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
            if state.get("params") != PARAMS:
                return None
            index = cls.__new__(cls)
            index.ids, index.digest, index._prefixes = list(state["ids"]), str(state["digest"]), None
            index.languages, index._other = [str(lang) for lang in state["languages"]], {}
            index.names = frozenset(str(name) for name in state["names"])
            index._bm25 = bm25s.BM25.load(str(directory), show_progress=False) if index.ids else bm25s.BM25()
            return index
        except (OSError, ValueError, KeyError):
            return None
