"""Deterministic stand-ins for the real models, for tests and demos (`RAG_EMBEDDER=fake`, `RAG_LLM=fake`).

They implement the real interfaces and record what they were given.

>>> FakeEmbedder().embed_query("l'appel") == FakeEmbedder().embed_query("l’appel")
True
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterator, Sequence

from rag.errors import LLMError
from rag.lexical import analyze
from rag.llm import Message
from rag.normalize import dates

_WHEN = re.compile(r"\b(?:quand|when)\b", re.I)
_PASSAGE = re.compile(r"^\[(\d+)\](?: \([^)]*\))? (.*?)(?=\n\[\d+\]|\Z)", re.M | re.S)


class FakeEmbedder:
    """Bag of stemmed words hashed into 384 dimensions, L2-normalised."""

    dim = 384

    def __init__(self, name: str = "fake-hash") -> None:
        self.id = f"{name}-{self.dim}"
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        v = [0.0] * self.dim
        for token in analyze(text):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
            v[h % self.dim] += 1.0 if h & 1 << 40 else -1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        return self._vector(text)


class FakeLLM:
    """Answers with the passage sentence that shares most words with the question.

    `delay_s` slows each token; `fail_after` raises `LLMError` after that many tokens.
    """

    def __init__(self, *, delay_s: float = 0.0, fail_after: int | None = None) -> None:
        self.id = "fake-llm"
        self.delay_s = delay_s
        self.fail_after = fail_after
        self.calls: list[list[Message]] = []

    def reply(self, messages: list[Message]) -> str:
        user = messages[-1]["content"]
        if "Last question:" in user:
            convo, last = user.split("Last question:", 1)
            firsts = re.findall(r"^User: (.*)$", convo, re.M)
            return f"{firsts[-1] if firsts else ''} {last.strip()}".strip()
        question = user.rsplit("Question:", 1)[-1].split("\n")[0]
        wanted = set(analyze(question))
        when = bool(_WHEN.search(question))  # asked when: a dated sentence first, as a model would
        best: tuple[int, int, str, str] = (0, 0, "", "")
        for n, text in _PASSAGE.findall(user.split("</passages>")[0]):  # a passage may run over lines
            for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
                overlap = len(wanted & set(analyze(sentence)))
                score = overlap + (overlap >= 2 and when and bool(dates(sentence)))
                if score > best[0]:
                    best = (score, overlap, n, sentence.strip())
        if best[1] < 2:
            return "NOT FOUND"
        return f"{best[3].rstrip('.')} [{best[2]}]."

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        self.calls.append(messages)
        for i, token in enumerate(re.findall(r"\S+\s*", self.reply(messages))[:max_tokens]):
            if self.fail_after is not None and i >= self.fail_after:
                raise LLMError("the fake model failed mid-answer")
            if self.delay_s:
                time.sleep(self.delay_s)
            yield token
