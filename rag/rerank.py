"""Optional second stage: a sentence-transformers CrossEncoder re-scores the fused candidates.

Off by default (no cross-encoder is installable offline here); set
`RAG_RERANKER=<local model path>` to turn it on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, ModelMissing

if TYPE_CHECKING:
    from rag.retrieval import Hit


class CrossEncoderReranker:
    """Re-rank hits by `CrossEncoder.predict([(query, passage), ...])`."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError:
            raise ConfigError(
                "RAG_RERANKER needs sentence-transformers: pip install -e '.[st]' torch==2.13.0"
            ) from None
        try:
            self._model: Any = CrossEncoder(model, device="cpu")
        except Exception as exc:  # hub lookups fail offline with many exception types
            raise ModelMissing(f"cross-encoder {model!r} cannot be loaded offline ({exc})") from None

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        scores = self._model.predict([(query, h.chunk.text) for h in hits])
        ranked = sorted(zip(scores, hits, strict=True), key=lambda t: -float(t[0]))
        return [replace(h, score=float(s)) for s, h in ranked]
