"""Read source files into `Document`s: decode, normalise, attach title and date.

The text returned here is *the* text of a document: chunk and citation offsets
index into it, so `doc.text[c.start:c.end] == c.text` always holds.

>>> doc = read_document(Path("corpus/000_187088d26fc0e502.txt"), Path("corpus"))
>>> doc.source, doc.date
('000_187088d26fc0e502.txt', '2025-06-04')
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.settings import DEFAULT_MAX_FILE_BYTES, DOCUMENT_SUFFIXES

METADATA_FILE = "metadata.json"
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200b": ""}
_ALLOWED_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True)
class Document:
    """One article: `source` is its path relative to the corpus dir."""

    source: str
    text: str
    sha256: str
    title: str
    date: str | None = None


def normalise_text(text: str) -> str:
    """Line endings to LF, exotic spaces to plain ones, BOM and stray controls removed.

    >>> normalise_text("\\ufeffl\\u2019été\\r\\n")
    'l’été\\n'
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for odd, plain in _SPACES.items():
        text = text.replace(odd, plain)
    return "".join(c for c in text if c in _ALLOWED_CONTROLS or unicodedata.category(c) != "Cc")


def decode(data: bytes, *, name: str = "file") -> str:
    """UTF-8 (with or without BOM), else Windows-1252, else refuse with a reason."""
    if not data.strip():
        raise DocumentError(f"{name}: empty file; add some text or remove it")
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: binary file (NUL bytes), not text; save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if controls > max(2, len(text) // 100):
        raise DocumentError(f"{name}: looks binary ({controls} control characters); save it as UTF-8 text")
    return text


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_document(
    path: Path, corpus_dir: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES, metadata: dict[str, dict[str, str]] | None = None
) -> Document:
    """Read one file of the corpus, or raise `DocumentError` saying why not."""
    source = path.relative_to(corpus_dir).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{source}: {size:,} bytes is over the {max_bytes:,}-byte cap; split the file")
        data = path.read_bytes()
    except PermissionError:
        raise DocumentError(f"{source}: permission denied; make it readable (chmod a+r)") from None
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read ({exc.strerror})") from None
    text = normalise_text(decode(data, name=source))
    if not text.strip():
        raise DocumentError(f"{source}: empty file; add some text or remove it")
    meta = (metadata if metadata is not None else load_metadata(corpus_dir)).get(source, {})
    title = meta.get("title") or _first_line(text)
    return Document(source=source, text=text, sha256=content_hash(text), title=title, date=meta.get("date"))


def _first_line(text: str, limit: int = 100) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def load_metadata(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """`corpus/metadata.json`: `{"file.txt": {"title": ..., "date": "YYYY-MM-DD"}}`, or `{}`."""
    path = corpus_dir / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DocumentError(f"{path}: not valid JSON ({exc}); fix or delete it") from None
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items() if isinstance(v, dict)}


def list_documents(corpus_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """Files to index under `corpus_dir`, and the ones skipped with a reason.

    Hidden files and `metadata.json` are ignored; links that leave the corpus are
    skipped (never followed).
    """
    if not corpus_dir.is_dir():
        raise DocumentError(f"corpus directory {corpus_dir} does not exist; create it or set RAG_CORPUS_DIR")
    root = corpus_dir.resolve()
    found: list[Path] = []
    skipped: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(corpus_dir, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            source = path.relative_to(corpus_dir).as_posix()
            if name.startswith(".") or source == METADATA_FILE:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                skipped[source] = "symbolic link leaving the corpus directory; not followed"
            elif path.suffix.lower() not in DOCUMENT_SUFFIXES:
                skipped[source] = f"not a {' or '.join(DOCUMENT_SUFFIXES)} file"
            else:
                found.append(path)
    return found, skipped
