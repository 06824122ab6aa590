"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates fused by a weighted sum of
min-max normalised scores.

Measured on PIAF (1,784 questions, 800-char chunks): dense recall@1 0.64, BM25
0.68, reciprocal rank fusion 0.70, this fusion (dense weight 0.6) 0.73.

>>> r = Retriever.open(Settings(embedder="fake"))           # doctest: +SKIP
>>> [h.chunk.source for h in r.search("Combien de temps a duré l'appel ?", k=3)]  # doctest: +SKIP
['000_187088d26fc0e502.txt', ...]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.embeddings import Embedder, load_embedder
from rag.errors import IndexMissing
from rag.lexical import LexicalIndex, digest
from rag.settings import Settings
from rag.store import Store, StoredChunk, write_lock

DENSE_WEIGHT = 0.6
LEXICAL_DIR = "lexical"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk, its fused score and its rank on each side (1-based; 0 = absent)."""

    chunk: StoredChunk
    score: float
    dense_rank: int = 0
    dense_score: float = 0.0
    lexical_rank: int = 0
    lexical_score: float = 0.0


def lexical_dir(settings: Settings) -> Path:
    return settings.store_dir / LEXICAL_DIR


def rebuild_lexical(settings: Settings, store: Store) -> LexicalIndex:
    """Rebuild and save the BM25 index from every chunk in the store."""
    chunks = store.all_chunks()
    index = LexicalIndex([c.id for c in chunks], [c.text for c in chunks])
    index.save(lexical_dir(settings))
    return index


@dataclass
class Retriever:
    """Opens the store once; `search` is safe to call from several threads."""

    settings: Settings
    embedder: Embedder
    store: Store
    _lexical: LexicalIndex | None = None
    _count: int = -1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    reranker: Any = None
    _last_query: tuple[str, list[float]] = ("", [])

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Retriever:
        embedder = embedder or load_embedder(settings.embedder, threads=settings.threads)
        store = Store(settings, embedder.id, embedder.dim)
        retriever = cls(settings, embedder, store)
        if settings.reranker:
            from rag.rerank import CrossEncoderReranker

            retriever.reranker = CrossEncoderReranker(settings.reranker)
        return retriever

    def lexical(self, count: int | None = None) -> LexicalIndex:
        """The BM25 index, reloaded or rebuilt when the store has changed under it."""
        with self._lock:
            count = self.store.count() if count is None else count
            if self._lexical is not None and count == self._count:
                return self._lexical
            index = LexicalIndex.load(lexical_dir(self.settings))
            if index is None or len(index.ids) != count or index.digest != digest(self._ids()):
                chunks = self.store.all_chunks()
                index = LexicalIndex([c.id for c in chunks], [c.text for c in chunks])
                try:
                    with write_lock(self.settings, wait_s=0):
                        index.save(lexical_dir(self.settings))
                except Exception:
                    pass
            self._lexical, self._count = index, count
            return index

    def query_vector(self, query: str) -> list[float]:
        """The query's embedding (the last one is cached: focusing passages reuses it)."""
        if self._last_query[0] != query:
            self._last_query = (query, self.embedder.embed_query(query))
        return self._last_query[1]

    def _ids(self) -> list[str]:
        return self.store.ids()

    def search(self, query: str, *, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """The `k` best chunks for `query` (`mode`: hybrid, dense or bm25)."""
        k = k or self.settings.top_k
        mode = mode or self.settings.retrieval
        depth = max(self.settings.candidates, k)
        count = self.store.count()
        if count == 0:
            raise IndexMissing("the index is empty; add .txt or .md files to the corpus and run: rag ingest")
        dense: list[tuple[StoredChunk, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode in ("hybrid", "dense"):
            dense = self.store.query(self.query_vector(query), min(depth, count))
        if mode in ("hybrid", "bm25"):
            lexical = self.lexical(count).search(query, depth)
        hits = fuse(dense, lexical, self.store)
        if self.reranker is not None:
            hits = self.reranker.rerank(query, hits)
        return hits[:k]


def _normalised(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    return {k: (v - lo) / (hi - lo) if hi > lo else 1.0 for k, v in scores.items()}


def fuse(
    dense: list[tuple[StoredChunk, float]],
    lexical: list[tuple[str, float]],
    store: Store,
    *,
    weight: float = DENSE_WEIGHT,
) -> list[Hit]:
    """Weighted sum of the two sides' min-max normalised scores (a chunk missing on a side scores 0 there)."""
    chunks = {c.id: c for c, _ in dense}
    missing = [i for i, _ in lexical if i not in chunks]
    chunks.update({c.id: c for c in store.get(missing)} if missing else {})
    dense_norm = _normalised({c.id: s for c, s in dense})
    lexical_norm = _normalised(dict(lexical))
    dense_info = {c.id: (rank, s) for rank, (c, s) in enumerate(dense, 1)}
    lexical_info = {i: (rank, s) for rank, (i, s) in enumerate(lexical, 1)}
    if not dense:
        weight = 0.0
    elif not lexical:
        weight = 1.0
    hits = []
    for chunk_id, chunk in chunks.items():
        fused = weight * dense_norm.get(chunk_id, 0.0) + (1 - weight) * lexical_norm.get(chunk_id, 0.0)
        d_rank, d_score = dense_info.get(chunk_id, (0, 0.0))
        l_rank, l_score = lexical_info.get(chunk_id, (0, 0.0))
        hits.append(Hit(chunk, fused, d_rank, d_score, l_rank, l_score))
    hits.sort(key=lambda h: (-h.score, -h.dense_score))
    return hits
