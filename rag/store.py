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

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.chunking import Chunk
from rag.documents import Document
from rag.errors import IndexDamaged, IndexIncompatible, IndexMissing, RagError, StoreBusy, StoreUnavailable
from rag.settings import Settings

LOCK_FILE = ".rag-write.lock"
LEXICAL_DIR = "lexical"  # the BM25 index (rag/lexical.py), derived from the chunks
LEGACY_SENTENCE_DB = "sentences.sqlite3"  # an older release's sentence-vector cache
SENTENCES_SUFFIX = "-sentences"
WRITE_BATCH = 1000
PROBED_FILE = ".rag-probed"
PROBE_TIMEOUT_S = 120.0


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


def rebuild_hint(settings: Settings) -> str:
    if settings.chroma_url:
        return f"delete the collection {settings.collection!r} on the server, then run: rag ingest"
    return f"rebuild it with: rm -rf {settings.store_dir} && rag ingest"


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
            got = self.collection.get(include=["metadatas"])
        sentences: Counter[tuple[str, str]] = Counter()
        if self.sentences is not None:
            with self._guard():
                rows = self.sentences.get(include=["metadatas"])["metadatas"] or []
            sentences.update((str(m["source"]), str(m["sha256"])) for m in rows)
        found: Counter[tuple[str, str]] = Counter()
        expected: dict[tuple[str, str], tuple[int, int, str]] = {}
        for meta in got["metadatas"] or []:
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
                    ids=[f"{chunk}-{start}-{end}" for (chunk, start, end), _ in part],
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
            return list(self.collection.get(include=[])["ids"])

    def all_chunks(self) -> list[StoredChunk]:
        with self._guard():
            got = self.collection.get(include=["metadatas", "documents"])
        rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
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
        with self._guard():
            k = min(k, int(collection.count())) if collection is not None else 0
            if k == 0:
                return []
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
            got = self.sentences.get(ids=[f"{c}-{s}-{e}" for c, s, e in keys], include=["embeddings"])
        found = dict(zip(got["ids"], got["embeddings"] if got["embeddings"] is not None else [], strict=False))
        return {k: [float(x) for x in found[f"{k[0]}-{k[1]}-{k[2]}"]] for k in keys if f"{k[0]}-{k[1]}-{k[2]}" in found}

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


@contextmanager
def write_lock(settings: Settings, *, wait_s: float = 2.0) -> Iterator[None]:
    """One writer at a time across processes; others get `StoreBusy` after `wait_s`."""
    path = Path(settings.store_dir) / LOCK_FILE
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot write in {settings.store_dir} ({exc.strerror}); check its permissions"
        ) from None
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


# Chroma 1.5's Rust HNSW loader can kill the whole process (SIGSEGV) on a damaged
# segment file instead of raising (chroma-core/chroma#7238, #6949, #7069). So before
# this process first opens a store whose segment files it has not seen checked, a
# child process opens it and runs a few queries; a crash there becomes a message.
# A healthy check is remembered (by a digest of the segment files) in PROBED_FILE.
_PROBED: set[str] = set()
_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PROBED_LOCK = threading.Lock()
_PROBE = """
import random, sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for col in client.list_collections():
    n = col.count()
    if n:
        dim = len(col.get(limit=1, include=["embeddings"])["embeddings"][0])
        rng = random.Random(0)
        vectors = [[rng.gauss(0, 1) for _ in range(dim)] for _ in range(4)]
        col.query(query_embeddings=vectors, n_results=min(n, 100), include=["distances"])
"""


def segments_digest(store_dir: Path) -> str | None:
    """A digest of Chroma's vector segment files, or None when there are none yet.

    `length.bin` is left out: Chroma rewrites it on every open of a small index
    with bytes that change each time, and a damaged one is read without crashing.
    """
    digest = hashlib.blake2b(digest_size=16)
    found = False
    try:
        segments = sorted(p for p in store_dir.iterdir() if p.is_dir() and _SEGMENT_DIR.fullmatch(p.name))
        for segment in segments:
            for path in sorted(segment.iterdir()):
                if path.name == "length.bin" or not path.is_file():
                    continue
                found = True
                digest.update(f"{segment.name}/{path.name}\0".encode())
                with path.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
    except OSError:
        return None  # unreadable: Chroma will say so itself
    return digest.hexdigest() if found else None


def check_segments(settings: Settings, *, writer: bool = False) -> None:
    """Open the store in a child process first when it might crash this one (see above).

    A damaged store is `IndexDamaged`; a reader that finds one while `rag ingest` runs is
    told the index is busy instead (`writer`: the caller is that ingest, holding the lock).
    """
    store_dir = settings.store_dir
    key = str(store_dir.resolve())
    with _PROBED_LOCK:
        if key in _PROBED:
            return
        digest = segments_digest(store_dir)
        try:
            known = (store_dir / PROBED_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            known = ""
        if digest is None or digest == known:
            _PROBED.add(key)
            return
        if not os.access(store_dir, os.W_OK):
            return  # Chroma cannot open a read-only store at all: `_client` explains that
        failure = probe(store_dir)
        if failure is None:
            _PROBED.add(key)
            with suppress(OSError):  # a read-only store is checked again next time
                (store_dir / PROBED_FILE).write_text(segments_digest(store_dir) or "", encoding="utf-8")
            return
    if not writer and is_writing(settings):
        raise StoreBusy(f"`rag ingest` is rewriting the index ({failure}); try again when it finishes")
    raise IndexDamaged(f"the index at {store_dir} is damaged ({failure}); {rebuild_hint(settings)}")


def discard_embedded(settings: Settings) -> None:
    """Delete a damaged embedded index (Chroma's files, BM25, sentence cache), keeping the
    write lock and anything else in the directory: the corpus is the source of truth."""
    store_dir = settings.store_dir
    _PROBED.discard(str(store_dir.resolve()))
    for path in store_dir.iterdir():
        if path.name in ("chroma.sqlite3", PROBED_FILE, LEGACY_SENTENCE_DB, LEXICAL_DIR) or _is_segment_dir(path):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _is_segment_dir(path: Path) -> bool:
    """Chroma keeps each HNSW segment in a directory named by its UUID."""
    return path.is_dir() and _SEGMENT_DIR.fullmatch(path.name) is not None


def mark_checked(settings: Settings) -> None:
    """Record the segment files as sound: called by an ingest that wrote and read them to the end."""
    if settings.chroma_url:
        return
    digest = segments_digest(settings.store_dir)
    if digest:
        with suppress(OSError):
            (settings.store_dir / PROBED_FILE).write_text(digest, encoding="utf-8")


def probe(store_dir: Path, *, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a child process can open and query the store, else what went wrong."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", ANONYMIZED_TELEMETRY="False")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(store_dir)], capture_output=True, text=True, timeout=timeout_s, env=env
        )
    except (subprocess.TimeoutExpired, OSError):
        return None  # too slow to tell (a loaded machine) or no child process: do not block the user on it
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"opening it crashed a separate check process with {_signal_name(-done.returncode)}"
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"the check exited with code {done.returncode}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
