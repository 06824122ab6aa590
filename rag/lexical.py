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
import re
import shutil
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu|quoiqu)'")
_WORD = re.compile(r"\w+")
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


def digest(ids: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()


class LexicalIndex:
    """BM25 over a fixed list of chunk ids."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s

        self.ids = list(ids)
        self.digest = digest(self.ids)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
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

    def save(self, directory: Path) -> None:
        """Write atomically: a temp dir renamed over the old one."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps({"digest": self.digest, "ids": self.ids}), encoding="utf-8")
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it is unreadable."""
        import bm25s

        try:
            state = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
            index = cls.__new__(cls)
            index.ids, index.digest = list(state["ids"]), str(state["digest"])
            index._bm25 = bm25s.BM25.load(str(directory), show_progress=False) if index.ids else bm25s.BM25()
            return index
        except (OSError, ValueError, KeyError):
            return None
