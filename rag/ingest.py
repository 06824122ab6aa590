"""Index the corpus: read, chunk, embed, write; incremental by content hash.

>>> report = ingest()                      # doctest: +SKIP
>>> report.added, report.unchanged         # doctest: +SKIP
([], ['000_187088d26fc0e502.txt', ...])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.chunking import Chunk, chunk_sentences, chunk_text, sentence_text
from rag.disk import discard_embedded, forget_checked, mark_checked, write_lock
from rag.documents import Document, list_documents, load_metadata, read_document
from rag.embeddings import Embedder, load_embedder
from rag.errors import DocumentError, IndexDamaged
from rag.lexical import LexicalIndex
from rag.retrieval import lexical_dir, rebuild_lexical
from rag.settings import Settings
from rag.store import Store

Progress = Callable[[int, int], None]
BATCH_CHUNKS = 64


@dataclass
class IngestReport:
    """What one ingest did; `skipped` maps a file to the reason it was not indexed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    rebuilt: str = ""  # why the whole index was rebuilt (it was damaged), else ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed"]
        parts += [f"{len(self.unchanged)} unchanged", f"{len(self.skipped)} skipped"]
        done = f"{', '.join(parts)}; {self.chunks} chunks in the index ({self.seconds:.1f} s)"
        return f"{self.rebuilt}\n{done}" if self.rebuilt else done


def ingest(
    paths: Iterable[str | Path] | None = None,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus directory.

    With `paths`, only those files (inside the corpus dir) are indexed and
    nothing is removed. Files that cannot be read are reported in `skipped`
    and keep whatever they had in the index before.
    """
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    embedder = embedder or load_embedder(settings.embedder, threads=settings.threads)
    report = IngestReport()
    corpus = settings.corpus_dir
    files, report.skipped = list_documents(corpus)
    if paths is not None:
        wanted = {_relative(Path(p), corpus) for p in paths}
        files = [f for f in files if f.relative_to(corpus).as_posix() in wanted]
        report.skipped = {k: v for k, v in report.skipped.items() if k in wanted}
    with write_lock(settings):
        store, report.rebuilt = _open_for_writing(settings, embedder)
        states = store.file_states()
        metadata = load_metadata(corpus)
        todo: list[tuple[Document, list[Chunk]]] = []
        for path in files:
            try:
                doc = read_document(path, corpus, max_bytes=settings.max_file_bytes, metadata=metadata)
            except DocumentError as exc:
                report.skipped[path.relative_to(corpus).as_posix()] = str(exc).split(": ", 1)[-1]
                continue
            state = states.get(doc.source)
            if state is not None and state.sha256 == doc.sha256 and state.complete and state.title == doc.title:
                report.unchanged.append(doc.source)
                continue
            (report.updated if state is not None else report.added).append(doc.source)
            chunks = chunk_text(
                doc.source, doc.sha256, doc.text, max_chars=settings.chunk_chars, overlap=settings.chunk_overlap
            )
            todo.append((doc, chunks))
        present = {p.relative_to(corpus).as_posix() for p in files} | set(report.skipped)
        gone = sorted(set(states) - present) if paths is None else []
        orphans = sorted(store.orphans - present) if paths is None else []  # sentences a kill left without chunks
        if todo or gone or orphans:
            forget_checked(settings)  # until mark_checked below: a kill on the way leaves the store to be checked
        report.embedded = _write(store, embedder, todo, progress)
        for source in gone + orphans:
            store.remove_file(source)
        report.removed = gone
        if report.changed or not LexicalIndex.current(lexical_dir(settings)):
            rebuild_lexical(settings, store)
        report.chunks = store.count()
        mark_checked(settings)
    report.seconds = time.perf_counter() - started
    return report


def _open_for_writing(settings: Settings, embedder: Embedder) -> tuple[Store, str]:
    """The store to write into, and why it was rebuilt: a damaged embedded index (a kill
    mid-write can leave Chroma's HNSW files unreadable) is deleted and rebuilt from the
    corpus, which is the source of truth."""
    try:
        return Store(settings, embedder.id, embedder.dim, create=True), ""
    except IndexDamaged as exc:
        discard_embedded(settings)
        note = f"{str(exc).split(';')[0]}: rebuilt from {settings.corpus_dir}"
        return Store(settings, embedder.id, embedder.dim, create=True), note


def _write(
    store: Store, embedder: Embedder, todo: Sequence[tuple[Document, list[Chunk]]], progress: Progress | None
) -> int:
    """Embed in batches across files (each chunk, then each of its sentences as `title: sentence`);
    write each file as soon as its vectors are ready. Returns the number of chunks embedded."""
    total = sum(len(chunks) for _, chunks in todo)
    done = 0
    pending: list[tuple[Document, list[Chunk]]] = []
    for item in todo:
        pending.append(item)
        if sum(len(c) for _, c in pending) >= BATCH_CHUNKS or item is todo[-1]:
            units = [[(c.id, s, e) for c in chunks for s, e in chunk_sentences(c)] for _, chunks in pending]
            texts = [c.text for _, chunks in pending for c in chunks]
            sentences = [
                sentence_text(doc.title, doc.text[s:e])
                for (doc, _), spans in zip(pending, units, strict=True)
                for _, s, e in spans
            ]
            vectors = embedder.embed_passages(texts + sentences)
            offset, sentence_offset = 0, len(texts)
            for (doc, chunks), spans in zip(pending, units, strict=True):
                sentence_vectors = vectors[sentence_offset : sentence_offset + len(spans)]
                store.replace_file(doc, chunks, vectors[offset : offset + len(chunks)], spans, sentence_vectors)
                offset += len(chunks)
                sentence_offset += len(spans)
            done += len(texts)
            pending = []
            if progress:
                progress(done, total)
    return done


def _relative(path: Path, corpus: Path) -> str:
    try:
        return path.resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
