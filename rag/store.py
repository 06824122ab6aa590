"""The Chroma vector store: open (embedded or server), check compatibility, write, query.

Writes go through llama-index's `ChromaVectorStore`; queries use the chromadb
collection directly (same data, and `rag ask` skips a 3 s llama-index import).
The per-file state (content hash, chunk and sentence counts, title) lives in each
chunk's metadata, so the index *is* the manifest: there is no second file to fall
out of step. A second collection (`<name>-sentences`) holds one vector per sentence
of each chunk, for sentence-level retrieval; a file's sentences are written before
its chunks and deleted before them, so complete chunks imply complete sentences.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from rag.chunking import Chunk
from rag.disk import check_segments, rebuild_hint
from rag.documents import Document
from rag.errors import IndexIncompatible, IndexMissing, RagError, StoreBusy, StoreUnavailable
from rag.settings import Settings

SENTENCES_SUFFIX = "-sentences"
WRITE_BATCH = 1000
READ_PAGE = 10_000  # records per get(): below SQLite's 32,766 bound variables


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
    sentences_expected: int = 0
    sentences_found: int = 0
    title: str = ""

    @property
    def complete(self) -> bool:
        return self.expected == self.found and self.sentences_expected == self.sentences_found


def sentences_name(collection: str) -> str:
    """The sentence collection's name (Chroma allows 63 characters: a long name is shortened with a hash)."""
    if len(collection) + len(SENTENCES_SUFFIX) <= 63:
        return collection + SENTENCES_SUFFIX
    short = collection[: 63 - len(SENTENCES_SUFFIX) - 9].rstrip("-_.")
    return f"{short}-{hashlib.sha1(collection.encode()).hexdigest()[:8]}{SENTENCES_SUFFIX}"


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:  # RAG_CHROMA_URL: the same collection API, served over HTTP
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb checks the server when the client is made
            raise StoreUnavailable(
                f"no Chroma server answers at {settings.chroma_url} ({exc}); start it "
                "(`chroma run --path DIR --host HOST --port PORT`) or fix or unset RAG_CHROMA_URL"
            ) from None
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except BaseException as exc:
        if not chroma_failure(exc):
            raise
        raise StoreUnavailable(_open_failure(settings, exc)) from None


def chroma_failure(exc: BaseException) -> bool:
    """An error to translate: an ordinary exception, or a panic of Chroma's Rust core
    (pyo3's `PanicException` derives from BaseException, so `except Exception` misses it)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def collection_missing(exc: BaseException) -> bool:
    """Chroma's way of saying the collection does not exist (embedded and server clients differ)."""
    return type(exc).__name__ == "NotFoundError" or "does not exist" in str(exc)


def _open_failure(settings: Settings, exc: BaseException) -> str:
    """What to tell the user when the embedded store cannot be opened."""
    where = settings.store_dir
    read_only = "readonly" in str(exc).replace("-", "").replace(" ", "").lower()
    if read_only or (where.is_dir() and not os.access(where, os.W_OK)):
        return (
            f"cannot open the vector store at {where}: it is read-only, and Chroma writes even to answer "
            f"({exc}); make it writable (chmod -R u+w {where}) or copy it elsewhere and set RAG_STORE_DIR"
        )
    if isinstance(exc, PermissionError):
        return f"cannot open the vector store at {where} ({exc}); check its permissions"
    return f"cannot open the vector store at {where} ({exc}); {rebuild_hint(settings)}"


class Store:
    """One collection of chunks for one embedder (id and dimension recorded in its metadata)."""

    def __init__(self, settings: Settings, embedder_id: str, dim: int, *, create: bool = False) -> None:
        self.settings = settings
        if not settings.chroma_url:
            check_segments(settings, writer=create)
        client = _client(settings)
        self.orphans: set[str] = set()  # sources with sentences but no chunks (seen by `file_states`)
        try:
            self.collection = _collection(client, settings.collection, embedder_id, dim, create)
            name, hnsw = sentences_name(settings.collection), _hnsw(self.collection)
            self.sentences: Any = _collection(client, name, embedder_id, dim, create, optional=True, hnsw=hnsw)
        except BaseException as exc:
            if not chroma_failure(exc):
                raise
            if collection_missing(exc):
                where = settings.chroma_url or settings.store_dir
                raise IndexMissing(f"no index yet in {where}; run: rag ingest") from None
            raise StoreUnavailable(f"cannot open the index ({exc}); {rebuild_hint(settings)}") from None
        for collection in (c for c in (self.collection, self.sentences) if c is not None):
            found = collection.metadata or {}
            if found.get("embedder") != embedder_id or int(found.get("dim", -1)) != dim:
                raise IndexIncompatible(
                    f"the index was built with embedder {found.get('embedder')!r} (dim {found.get('dim')}), "
                    f"but {embedder_id!r} (dim {dim}) is configured; {rebuild_hint(settings)}"
                )

    def count(self) -> int:
        with self._guard():
            return int(self.collection.count())

    def file_states(self) -> dict[str, FileState]:
        """For each indexed file: its content hash, how many of its chunks and sentences are present, its title."""
        with self._guard():
            got = read_all(self.collection, ["metadatas"])
        sentences: Counter[tuple[str, str]] = Counter()
        if self.sentences is not None:
            with self._guard():
                rows = read_all(self.sentences, ["metadatas"])["metadatas"]
            sentences.update((str(m["source"]), str(m["sha256"])) for m in rows)
        found: Counter[tuple[str, str]] = Counter()
        expected: dict[tuple[str, str], tuple[int, int, str]] = {}
        for meta in got["metadatas"]:
            key = (str(meta["source"]), str(meta["sha256"]))
            found[key] += 1  # an index written before sentence vectors has no n_sentences: rewrite it
            expected[key] = (int(meta["n_chunks"]), int(meta.get("n_sentences", -1)), str(meta.get("title", "")))
        states: dict[str, FileState] = {}
        for (source, sha), n in found.items():
            if source in states:  # two versions of one file (an interrupted write): force a rewrite
                states[source] = FileState("", -1, 0)
            else:
                chunks, n_sentences, title = expected[(source, sha)]
                states[source] = FileState(sha, chunks, n, n_sentences, sentences[(source, sha)], title)
        self.orphans = {source for source, _ in sentences} - set(states)
        return states

    def replace_file(
        self,
        doc: Document,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentences: Sequence[tuple[str, int, int]] = (),
        sentence_vectors: Sequence[Sequence[float]] = (),
    ) -> None:
        """Swap every chunk of `doc.source` for the given ones, and its sentences
        ((chunk id, start, end) in the document) for the given ones."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        nodes: list[Any] = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            meta: dict[str, Any] = {
                "source": doc.source,
                "sha256": doc.sha256,
                "n_chunks": len(chunks),
                "n_sentences": len(sentences),
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
        rows = list(zip(sentences, sentence_vectors, strict=True))
        for i in range(0, len(rows) if self.sentences is not None else 0, WRITE_BATCH):
            part = rows[i : i + WRITE_BATCH]
            with self._guard():
                self.sentences.add(
                    ids=[sentence_id(key) for key, _ in part],
                    embeddings=[list(v) for _, v in part],
                    metadatas=[
                        {"source": doc.source, "sha256": doc.sha256, "chunk": chunk, "start": start, "end": end}
                        for (chunk, start, end), _ in part
                    ],
                )
        if nodes:
            with self._guard():
                ChromaVectorStore(chroma_collection=self.collection).add(nodes)

    def remove_file(self, source: str) -> None:
        with self._guard():
            if self.sentences is not None:
                self.sentences.delete(where={"source": source})
            self.collection.delete(where={"source": source})

    def ids(self) -> list[str]:
        """Every chunk id in the collection."""
        with self._guard():
            return list(read_all(self.collection, [])["ids"])

    def all_chunks(self) -> list[StoredChunk]:
        with self._guard():
            got = read_all(self.collection, ["metadatas", "documents"])
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        return [_stored(i, d, m) for i, d, m in rows]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        with self._guard():
            got = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
        by_id = {i: _stored(i, d, m) for i, d, m in rows}
        return [by_id[i] for i in ids if i in by_id]

    def nearest(self, vector: Sequence[float], k: int, *, sentences: bool = False) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the `k` nearest chunks, or with `sentences` the chunk ids
        of the `k` nearest sentences, each chunk at its best sentence (ids only: no metadata read)."""
        collection = self.sentences if sentences else self.collection
        if collection is None or k < 1:
            return []
        with self._guard():  # Chroma returns fewer than `k` when the collection holds fewer
            got = collection.query(query_embeddings=[list(vector)], n_results=k, include=["distances"])
        best: dict[str, float] = {}
        for record, dist in zip(got["ids"][0], got["distances"][0], strict=False):
            chunk = record.rsplit("-", 2)[0] if sentences else record  # a sentence's id is chunk-start-end
            best.setdefault(chunk, 1.0 - float(dist))  # nearest first: the first is the best
        return list(best.items())

    def sentence_vectors(self, keys: Sequence[tuple[str, int, int]]) -> dict[tuple[str, int, int], list[float]]:
        """The stored `title: sentence` vectors of (chunk id, start, end) sentences; absent ones are left out."""
        if self.sentences is None or not keys:
            return {}
        with self._guard():
            got = self.sentences.get(ids=[sentence_id(k) for k in keys], include=["embeddings"])
        found = dict(zip(got["ids"], got["embeddings"] if got["embeddings"] is not None else [], strict=False))
        by_id = {sentence_id(k): k for k in keys}
        return {by_id[i]: [float(x) for x in v] for i, v in found.items() if i in by_id}

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Chroma's own exceptions (a damaged or locked index) become errors that say what to do."""
        try:
            yield
        except RagError:
            raise
        except BaseException as exc:
            if isinstance(exc, MemoryError) or not chroma_failure(exc):
                raise
            if "locked" in str(exc) or "busy" in str(exc).lower():
                raise StoreBusy(f"the index is busy ({exc}); try again in a moment") from None
            where = self.settings.chroma_url or self.settings.store_dir
            raise IndexIncompatible(f"the index at {where} is damaged ({exc}); {rebuild_hint(self.settings)}") from None


def sentence_id(key: tuple[str, int, int]) -> str:
    """A sentence record's id: its chunk's id and its offsets in the document, `chunk-start-end`."""
    chunk, start, end = key
    return f"{chunk}-{start}-{end}"


def read_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """Every record's id and `include` fields, read `READ_PAGE` at a time: Chroma's embedded
    `get()` fails with "too many SQL variables" once it matches more than 32,766 records
    (chroma-core/chroma#7687), that is from about 6,000 articles' sentences."""
    out: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
    while True:
        got = collection.get(include=include, limit=READ_PAGE, offset=len(out["ids"]))
        out["ids"] += got["ids"]
        for key in include:
            values = got.get(key)
            out[key] += list(values) if values is not None else [None] * len(got["ids"])
        if len(got["ids"]) < READ_PAGE:
            return out


def _hnsw(collection: Any) -> dict[str, Any]:
    """The chunk collection's HNSW settings, for its sentence collection (cosine by default)."""
    try:
        found = dict((collection.configuration_json or {}).get("hnsw") or {})
    except Exception:  # an older server or client without `configuration_json`
        found = {}
    return found if found.get("space") == "cosine" else {"space": "cosine"}


def _collection(
    client: Any, name: str, embedder_id: str, dim: int, create: bool, *, optional: bool = False, hnsw: Any = None
) -> Any:
    """A collection of vectors of `embedder_id`; without `create`, None when an `optional` one is missing
    (an index written before sentence vectors: retrieval then goes without them)."""
    if create:
        return client.get_or_create_collection(
            name,
            metadata={"embedder": embedder_id, "dim": dim},
            configuration={"hnsw": hnsw or {"space": "cosine"}},
            embedding_function=None,
        )
    try:
        return client.get_collection(name, embedding_function=None)
    except BaseException as exc:
        if optional and chroma_failure(exc) and collection_missing(exc):
            return None
        raise


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
