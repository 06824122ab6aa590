"""Corpus management for the chat: what is indexed, add an article, read one back.

>>> s = Settings(embedder="fake")                       # doctest: +SKIP
>>> status(s).articles, status(s).chunks               # doctest: +SKIP
(5, 64)
>>> add_document("meteo.txt", "Il pleut à Lyon.".encode(), s)   # doctest: +SKIP
PosixPath('.../corpus/meteo.txt')
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rag.documents import METADATA_FILE, Document, decode, list_documents, load_metadata, normalise_text, read_document
from rag.errors import DocumentError, RagError
from rag.settings import DOCUMENT_SUFFIXES, Settings

MAX_NAME_CHARS = 120
_NAME = re.compile(r"^[\w][\w .()'’,+-]*$")


@dataclass(frozen=True)
class CorpusStatus:
    """What the corpus holds and what the index knows about it.

    `indexed` is False when there is no index yet (or it cannot be opened: see
    `problem`); `pending` lists articles that are new or whose content changed
    since they were indexed, so a re-index would pick them up.
    """

    articles: int
    chunks: int
    indexed: bool
    last_indexed: dt.datetime | None = None
    indexed_articles: int = 0
    pending: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    problem: str = ""


def status(settings: Settings) -> CorpusStatus:
    """Count articles and indexed chunks without loading any model."""
    try:
        files, skipped = list_documents(settings.corpus_dir)
    except DocumentError as exc:
        return CorpusStatus(0, 0, False, problem=str(exc))
    sources = {f.relative_to(settings.corpus_dir).as_posix(): f for f in files}
    try:
        chunks, indexed_sources = _index_contents(settings)
    except RagError as exc:
        return CorpusStatus(len(files), 0, False, skipped=skipped, problem=str(exc))
    if chunks == 0:
        return CorpusStatus(len(files), 0, False, pending=sorted(sources), skipped=skipped)
    last = _last_indexed(settings)
    pending = [s for s, path in sorted(sources.items()) if _changed(s, path, indexed_sources, last, settings)]
    return CorpusStatus(len(files), chunks, True, last, len(indexed_sources), pending, skipped)


def _changed(source: str, path: Path, indexed: dict[str, str], last: dt.datetime | None, settings: Settings) -> bool:
    """New, or modified since the last indexing (content compared only when the file is newer)."""
    if source not in indexed:
        return True
    if last is not None and _mtime(path) <= last.timestamp():
        return False
    try:
        doc = read_document(path, settings.corpus_dir, max_bytes=settings.max_file_bytes, metadata={})
    except DocumentError:
        return False  # unreadable: indexing would skip it too
    return doc.sha256 != indexed[source]


def _index_contents(settings: Settings) -> tuple[int, dict[str, str]]:
    """(chunk count, {indexed file: content hash}); (0, {}) when there is no collection yet."""
    from rag.errors import StoreUnavailable
    from rag.store import _client, collection_missing, read_all

    if not settings.chroma_url and not (settings.store_dir / "chroma.sqlite3").exists():
        return 0, {}
    client = _client(settings)
    try:
        collection = client.get_collection(settings.collection, embedding_function=None)
    except Exception as exc:
        if collection_missing(exc):
            return 0, {}
        raise StoreUnavailable(f"cannot open the index ({exc})") from None
    count = int(collection.count())
    metas = read_all(collection, ["metadatas"])["metadatas"] if count else []
    return count, {str(m["source"]): str(m.get("sha256", "")) for m in metas if m and "source" in m}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _last_indexed(settings: Settings) -> dt.datetime | None:
    """When the index content last changed: ingest rewrites the BM25 files then (None for a server)."""
    if settings.chroma_url:
        return None
    stamps = [_mtime(p) for p in (settings.store_dir / "lexical").glob("*") if p.is_file()]
    return dt.datetime.fromtimestamp(max(stamps)).astimezone() if stamps else None


def check_name(name: str) -> str:
    """The file name to store an upload under, or `DocumentError` saying why not."""
    name = unicodedata.normalize("NFC", name.strip())
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = Path(base).suffix.lower()
    if not base:
        raise DocumentError("the file has no name; give it a name ending in .txt or .md")
    if base != name:
        raise DocumentError(f"{name}: give a plain file name, without folders")
    if suffix not in DOCUMENT_SUFFIXES:
        raise DocumentError(f"{base}: only {' and '.join(DOCUMENT_SUFFIXES)} files can be added; save it as plain text")
    if base.startswith(".") or base == METADATA_FILE or len(base) > MAX_NAME_CHARS or not _NAME.match(base):
        raise DocumentError(
            f"{base}: unusable file name; use letters, digits, spaces, - or _ (at most {MAX_NAME_CHARS} characters)"
        )
    return Path(base).stem + suffix


def add_document(name: str, data: bytes, settings: Settings, *, overwrite: bool = False) -> Path:
    """Validate an uploaded article and write it (UTF-8, atomically) into the corpus dir.

    Refuses, with a reason in a `DocumentError`: wrong suffix or name, too big,
    empty, binary or undecodable content, or a name already taken (unless
    `overwrite`). The file is not indexed here: call `rag.ingest([path])`.
    """
    base = check_name(name)
    if len(data) > settings.max_file_bytes:
        raise DocumentError(
            f"{base}: {len(data):,} bytes is over the {settings.max_file_bytes:,}-byte limit; split the article"
        )
    text = normalise_text(decode(data, name=base))
    if not text.strip():
        raise DocumentError(f"{base}: empty file; add some text")
    corpus = settings.corpus_dir
    if not corpus.is_dir():
        raise DocumentError(f"corpus directory {corpus} does not exist; create it or set RAG_CORPUS_DIR")
    target = corpus / base
    if target.exists() and not overwrite:
        raise DocumentError(f"{base}: an article with this name already exists; rename the file")
    _write_atomic(target, text.rstrip("\n") + "\n")
    return target


def _write_atomic(target: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise DocumentError(f"cannot write in {target.parent} ({exc.strerror}); check its permissions") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DocumentError(f"{target.name}: cannot save it ({exc.strerror})") from None


def read_article(source: str, settings: Settings) -> Document:
    """The article `source` (relative to the corpus dir) as the indexer reads it."""
    corpus = settings.corpus_dir
    parts = Path(source).parts
    path = corpus / source
    canonical = bool(parts) and not Path(source).is_absolute() and ".." not in parts
    if not canonical or not path.resolve().is_relative_to(corpus.resolve()) or not path.is_file():
        raise DocumentError(f"{source}: no such article in {corpus}; it may have been removed (re-index)")
    return read_document(path, corpus, max_bytes=settings.max_file_bytes, metadata=load_metadata(corpus))
