"""Read source files into `Document`s: decode, normalise, attach title and date.

The text returned here is *the* text of a document: chunk and citation offsets
index into it, so `doc.text[c.start:c.end] == c.text` always holds.

>>> doc = read_document(Path("corpus/000_187088d26fc0e502.txt"), Path("corpus"))
>>> doc.source, doc.date
('000_187088d26fc0e502.txt', '2025-06-04')
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
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
    """Line endings to LF, exotic spaces to plain ones, BOM and stray controls removed, NFC.

    NFC makes a file saved with decomposed accents (macOS) hash like its composed twin.

    >>> normalise_text("\\ufeffl\\u2019été\\r\\n")
    'l’été\\n'
    """
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for odd, plain in _SPACES.items():
        text = text.replace(odd, plain)
    return "".join(c for c in text if c in _ALLOWED_CONTROLS or unicodedata.category(c) != "Cc")


def _single_byte(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252 (Latin-1 for its holes)."""
    assert isinstance(err, UnicodeDecodeError)
    byte = err.object[err.start : err.start + 1]
    try:
        return byte.decode("cp1252"), err.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), err.start + 1


codecs.register_error("rag-cp1252", _single_byte)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode_legacy(data: bytes) -> str:
    """Not valid UTF-8: Windows-1252, unless most accents are UTF-8 and a few stray bytes are not."""
    text = data.decode("utf-8", errors="rag-cp1252")
    utf8 = len(_UTF8_SEQUENCE.findall(data))
    stray = sum(1 for c in text if ord(c) > 0x7F) - utf8
    if utf8 > stray:  # mostly UTF-8 (e.g. one article pasted from a Windows file into another)
        return text
    return data.decode("cp1252", errors="rag-cp1252")


def decode(data: bytes, *, name: str = "file") -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252, else refuse with a reason.

    >>> decode("Résumé de l’été".encode("cp1252"))
    'Résumé de l’été'
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(f"{name}: broken UTF-16 text; save it as UTF-8 text") from None
    if not data.strip():
        raise DocumentError(f"{name}: empty file; add some text or remove it")
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: binary file (NUL bytes), not text; save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if controls > max(2, len(text) // 100):
        raise DocumentError(f"{name}: looks binary ({controls} control characters); save it as UTF-8 text")
    return text


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_document(
    path: Path,
    corpus_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    metadata: dict[str, dict[str, str]] | None = None,
) -> Document:
    """Read one file of the corpus, or raise `DocumentError` saying why not."""
    source = path.relative_to(corpus_dir).as_posix()
    if display_name(source) != source:
        raise DocumentError(f"{display_name(source)}: file name is not valid UTF-8; rename it")
    data = _read_regular_file(path, source, max_bytes)
    text = normalise_text(decode(data, name=source))
    if not text.strip():
        raise DocumentError(f"{source}: empty file; add some text or remove it")
    meta = (metadata if metadata is not None else load_metadata(corpus_dir)).get(source, {})
    title = meta.get("title") or _first_line(text)
    return Document(source=source, text=text, sha256=content_hash(text), title=title, date=meta.get("date"))


def _read_regular_file(path: Path, source: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; pipes, devices and directories are refused.

    The file is opened non-blocking and checked on its descriptor, so a FIFO
    named `x.txt` cannot hang the ingest and a file swapped after listing is
    still checked.
    """
    too_big = f"{source}: {{size:,}} bytes is over the {max_bytes:,}-byte cap; split the file"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise DocumentError(f"{source}: permission denied; make it readable (chmod a+r)") from None
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(f"{source}: not a regular file (a directory, pipe or device); remove or rename it")
        if info.st_size > max_bytes:
            raise DocumentError(too_big.format(size=info.st_size))
        with open(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew after the check
        raise DocumentError(too_big.format(size=len(data)))
    return data


def display_name(source: str) -> str:
    """`source` made printable: bytes of a file name that are not UTF-8 shown as `\\xe9`."""
    return source.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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

    Hidden files and `metadata.json` are ignored; links that leave the corpus,
    broken or looping links and names that are not UTF-8 are skipped (never followed).
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
            reason = _unlisted(path, source, root)
            if reason:
                skipped[display_name(source)] = reason
            else:
                found.append(path)
    return found, skipped


def _unlisted(path: Path, source: str, root: Path) -> str | None:
    """Why `path` is not indexed, or None when it is a candidate document."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling, or a loop (RuntimeError before Python 3.13)
            return "broken or looping symbolic link; fix or remove it"
        if not target.is_relative_to(root):
            return "symbolic link leaving the corpus directory; not followed"
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        return f"not a {' or '.join(DOCUMENT_SUFFIXES)} file"
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; rename it"
    return None
