"""The error tree. Every message says what happened and what to do next.

Only the edges (CLI, chat) turn these into exit codes or on-screen messages.
"""

from __future__ import annotations

REBUILD = "rebuild it with: rm -rf {store} && rag ingest"


class RagError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 1


class ConfigError(RagError):
    """A setting or environment variable has a value we cannot use."""


class InvalidQuestion(RagError):
    """The question is empty, too long or unreadable."""


class IndexMissing(RagError):
    """No index yet: run `rag ingest`."""


class IndexIncompatible(RagError):
    """The index was built with another embedder, or is damaged."""


class IndexDamaged(IndexIncompatible):
    """The embedded index's files are damaged (e.g. a kill during a write); `rag ingest` rebuilds it."""


class StoreUnavailable(RagError):
    """The vector store cannot be opened or written (permissions, server down)."""


class StoreBusy(RagError):
    """Another process is writing the index; try again in a moment."""


class ModelMissing(RagError):
    """A model file or package is missing or corrupt."""


class LLMUnavailable(RagError):
    """The language model cannot be reached or loaded."""


class LLMError(RagError):
    """The language model failed while answering (timeout, error mid-stream)."""


class DocumentError(RagError):
    """A source document cannot be read (encoding, size, binary, permissions)."""
