"""Make model output safe to display: plain text and markers, nothing that loads or links out.

The model's text may carry whatever a hostile document or question asked it to
write. Images, links, reference definitions, HTML and URLs are removed; passes
repeat until nothing changes (removing a tag can join `![x]` and `(url)`); a
last pass breaks `](` and `]:` so that no inline link, image or reference
definition can survive in any Markdown dialect, whatever the regexes missed.

Sentences that repeat the hidden instructions are dropped too: those sharing a
run of six words with a system prompt of `rag.answer`, or holding one of its
code-like words (a canary such as `K9-CANARY-41f7`).

>>> sanitize('Voir ![x](http://evil.example/p.png) <script>alert(1)</script> [1]')
'Voir alert(1) [1]'
>>> sanitize('Voir [la source](//evil.example/a) et ![x]<b>(//evil.example/p.png) [1].')
'Voir la source et [1].'
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import lru_cache

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[(?!\d+\])[^\]]*\](?:\[[^\]]*\])?")  # inline, or by reference
_LINK = re.compile(r"\[([^\]]+)\]\(\s*[^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->", re.S)
# Schemes anywhere (GFM autolinks `http://` after `_` or `*`, where `\b` sees no boundary),
# `www.` hosts and protocol-relative `//host.tld/...` addresses.
_URL = re.compile(
    r"(?:https?|ftp|file|data|javascript|vbscript):\S*|(?<![A-Za-z0-9])www\.\S+|(?<![\w:/])//[\w-]+(?:\.[\w-]+)+\S*",
    re.I,
)
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
MAX_PASSES = 8
NGRAM = 6
_SENTENCE = re.compile(r"[^.!?…\n]*(?:[.!?…]+|\n+|$)")
_CODE_WORD = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w][\w-]{5,}")
PROMPT_NAMES = ("SYSTEM", "SYSTEM_RETRY")


def _once(text: str) -> str:
    text = _TAG.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    return _URL.sub("", text)


def sanitize(text: str, *, prompts: Sequence[str] | None = None) -> str:
    """Drop images, HTML tags, URLs, link targets (keeping link text) and leaked `prompts`.

    `prompts` defaults to the system prompts of `rag.answer` when it is loaded.
    """
    text = drop_leaks(text, _loaded_prompts() if prompts is None else tuple(prompts))
    for _ in range(MAX_PASSES):
        cleaner = _once(text)
        if cleaner == text:
            break
        text = cleaner
    text = text.replace("<", "‹").replace(">", "›")
    text = text.replace("](", "] (").replace("]:", "] :")
    return re.sub(r"[ \t]{2,}", " ", text)


def drop_leaks(text: str, prompts: Sequence[str]) -> str:
    """`text` without the sentences that quote `prompts` (six words in a row, or a code-like word)."""
    ngrams, codes = _fingerprint(tuple(p for p in prompts if p))
    if not ngrams and not codes:
        return text
    kept = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group()
        folded = sentence.lower()
        words = re.findall(r"\w+", folded)
        grams = {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
        if grams & ngrams or any(code in folded for code in codes):
            continue
        kept.append(sentence)
    return "".join(kept)


@lru_cache(maxsize=8)
def _fingerprint(prompts: tuple[str, ...]) -> tuple[frozenset[tuple[str, ...]], tuple[str, ...]]:
    ngrams: set[tuple[str, ...]] = set()
    codes: set[str] = set()
    for prompt in prompts:
        words = re.findall(r"\w+", prompt.lower())
        ngrams |= {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
        codes |= {m.group().lower() for m in _CODE_WORD.finditer(prompt)}
    return frozenset(ngrams), tuple(sorted(codes))


def _loaded_prompts() -> tuple[str, ...]:
    """The prompts of `rag.answer` if it is imported (looked up at call time: no import cycle)."""
    module = sys.modules.get("rag.answer")
    return tuple(str(getattr(module, name, "")) for name in PROMPT_NAMES) if module else ()
