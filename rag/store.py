"""The Chroma vector store: open (embedded or server), check compatibility, write, query.

Writes go through llama-index's `ChromaVectorStore`; queries use the chromadb
collection directly (same data, and `rag ask` skips a 3 s llama-index import).
The per-file state (content hash, chunk count) lives in each chunk's metadata,
so the index *is* the manifest: there is no second file to fall out of step.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.chunking import Chunk
from rag.documents import Document
from rag.errors import IndexIncompatible, IndexMissing, StoreBusy, StoreUnavailable
from rag.settings import Settings

LOCK_FILE = ".rag-write.lock"


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its document's metadata."""

    id: str
    source: str
    start: int
    end: int
    text: str
    title: str
    date: str | None


@dataclass(frozen=True)
class FileState:
    sha256: str
    expected: int
    found: int

    @property
    def complete(self) -> bool:
        return self.expected == self.found


def rebuild_hint(settings: Settings) -> str:
    if settings.chroma_url:
        return f"delete the collection {settings.collection!r} on the server, then run: rag ingest"
    return f"rebuild it with: rm -rf {settings.store_dir} && rag ingest"


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:
        where = settings.chroma_url or settings.store_dir
        raise StoreUnavailable(f"cannot open the vector store at {where} ({exc}); {rebuild_hint(settings)}") from None


class Store:
    """One collection of chunks for one embedder (id and dimension recorded in its metadata)."""

    def __init__(self, settings: Settings, embedder_id: str, dim: int, *, create: bool = False) -> None:
        self.settings = settings
        client = _client(settings)
        try:
            if create:
                meta = {"embedder": embedder_id, "dim": dim}
                self.collection = client.get_or_create_collection(
                    settings.collection, metadata=meta, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            else:
                self.collection = client.get_collection(settings.collection, embedding_function=None)
        except Exception as exc:
            if type(exc).__name__ == "NotFoundError" or "does not exist" in str(exc):
                raise IndexMissing(f"no index yet in {settings.chroma_url or settings.store_dir}; run: rag ingest") from None
            raise StoreUnavailable(f"cannot open the index ({exc}); {rebuild_hint(settings)}") from None
        found = self.collection.metadata or {}
        if found.get("embedder") != embedder_id or int(found.get("dim", -1)) != dim:
            raise IndexIncompatible(
                f"the index was built with embedder {found.get('embedder')!r} (dim {found.get('dim')}), "
                f"but {embedder_id!r} (dim {dim}) is configured; {rebuild_hint(settings)}"
            )

    def count(self) -> int:
        return int(self.collection.count())

    def file_states(self) -> dict[str, FileState]:
        """For each indexed file: its content hash and how many of its chunks are present."""
        got = self.collection.get(include=["metadatas"])
        found: Counter[tuple[str, str]] = Counter()
        expected: dict[tuple[str, str], int] = {}
        for meta in got["metadatas"] or []:
            key = (str(meta["source"]), str(meta["sha256"]))
            found[key] += 1
            expected[key] = int(meta["n_chunks"])
        states: dict[str, FileState] = {}
        for (source, sha), n in found.items():
            if source in states:  # two versions of one file (an interrupted write): force a rewrite
                states[source] = FileState("", -1, 0)
            else:
                states[source] = FileState(sha, expected[(source, sha)], n)
        return states

    def replace_file(self, doc: Document, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Swap every chunk of `doc.source` for the given ones."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        nodes = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            meta: dict[str, Any] = {
                "source": doc.source,
                "sha256": doc.sha256,
                "n_chunks": len(chunks),
                "index": chunk.index,
                "start": chunk.start,
                "end": chunk.end,
                "title": doc.title,
                "date": doc.date or "",
            }
            node = TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=list(vector),
                metadata=meta,
                start_char_idx=chunk.start,
                end_char_idx=chunk.end,
                excluded_embed_metadata_keys=list(meta),
                excluded_llm_metadata_keys=list(meta),
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.source)
            nodes.append(node)
        self.remove_file(doc.source)
        if nodes:
            ChromaVectorStore(chroma_collection=self.collection).add(nodes)

    def remove_file(self, source: str) -> None:
        self.collection.delete(where={"source": source})

    def all_chunks(self) -> list[StoredChunk]:
        got = self.collection.get(include=["metadatas", "documents"])
        return [_stored(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        got = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {i: _stored(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])}
        return [by_id[i] for i in ids if i in by_id]

    def query(self, vector: Sequence[float], k: int) -> list[tuple[StoredChunk, float]]:
        """The `k` nearest chunks with their cosine similarity."""
        k = min(k, self.count())
        if k == 0:
            return []
        got = self.collection.query(
            query_embeddings=[list(vector)], n_results=k, include=["metadatas", "documents", "distances"]
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        return [(_stored(i, d, m), 1.0 - float(dist)) for i, d, m, dist in rows]


def _stored(chunk_id: str, text: str | None, meta: Any) -> StoredChunk:
    return StoredChunk(
        id=chunk_id,
        source=str(meta["source"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text or "",
        title=str(meta.get("title", "")),
        date=str(meta.get("date") or "") or None,
    )


@contextmanager
def write_lock(settings: Settings, *, wait_s: float = 2.0) -> Iterator[None]:
    """One writer at a time across processes; others get `StoreBusy` after `wait_s`."""
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    path = Path(settings.store_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreUnavailable(f"cannot write in {settings.store_dir} ({exc.strerror}); check its permissions") from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreBusy("another `rag ingest` is updating the index; try again when it finishes") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def is_writing(settings: Settings) -> bool:
    """True while another process holds the write lock."""
    path = Path(settings.store_dir) / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
