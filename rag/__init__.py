"""rag: offline question answering over news articles, in French and English, with verified citations.

>>> from rag import ask
>>> a = ask("Avec quel pape Poutine a-t-il parlé ?")   # doctest: +SKIP
>>> print(a.answer, a.citations[0].source)             # doctest: +SKIP
Poutine s'est entretenu avec le pape Léon XIV [1]. 000_187088d26fc0e502.txt
"""

from __future__ import annotations

from typing import Any

from rag.answer import Answer, ask, stream
from rag.citations import Citation
from rag.errors import (
    ConfigError,
    DocumentError,
    IndexIncompatible,
    IndexMissing,
    InvalidQuestion,
    LLMError,
    LLMUnavailable,
    ModelMissing,
    RagError,
    StoreBusy,
    StoreUnavailable,
)
from rag.ingest import IngestReport, ingest
from rag.settings import Settings

__all__ = [
    "Answer",
    "Citation",
    "ConfigError",
    "DocumentError",
    "IndexIncompatible",
    "IndexMissing",
    "IngestReport",
    "InvalidQuestion",
    "LLMError",
    "LLMUnavailable",
    "ModelMissing",
    "RagError",
    "Settings",
    "StoreBusy",
    "StoreUnavailable",
    "ask",
    "evaluate",
    "ingest",
    "stream",
]


def evaluate(*args: Any, **kwargs: Any) -> Any:
    """Run an eval (see `rag.evaluation.evaluate`); imported lazily, it pulls in plotting."""
    from rag.evaluation import evaluate as _evaluate

    return _evaluate(*args, **kwargs)
