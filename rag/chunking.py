"""Sentence-aware chunks that keep exact char offsets into the source text.

We split ourselves rather than with llama-index's `SentenceSplitter` because
citations need `document.text[chunk.start:chunk.end] == chunk.text` exactly,
and re-joined splits lose the original whitespace.

>>> [c.text for c in chunk_text("a.txt", "h", "Un deux. Trois ! Quatre ?", max_chars=16)]
['Un deux. Trois !', 'Quatre ?']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.settings import DEFAULT_CHUNK_CHARS, DEFAULT_CHUNK_OVERLAP

_ABBREVIATIONS = {"m", "mm", "mme", "mmes", "dr", "st", "mr", "mrs", "ms", "prof", "gén", "gen", "etc", "p", "no", "vs"}
# End of sentence: terminal punctuation, optional closing quotes, then space(s).
_BOUNDARY = re.compile(r"""(?<=[.!?…])["'»”’)\]]*(?=\s+["'«“(\[]?[\w])""")


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; `text == document.text[start:end]`."""

    id: str
    source: str
    index: int
    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        cut = line.start()
        for m in _BOUNDARY.finditer(line.group()):
            end = line.start() + m.end()
            word = re.search(r"(\w+)\.$", text[cut:end].rstrip("\"'»”’)]"))
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
            spans.append((cut, end))
            cut = end
        spans.append((cut, line.end()))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut a sentence longer than `max_chars` at commas or spaces."""
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        cut = cut + 1 if cut > max_chars // 3 else window.rfind(" ")
        if cut <= 0:
            cut = max_chars
        yield _strip(text, start, start + cut)
        start, _ = _strip(text, start + cut, end)
    yield start, end


def chunk_text(
    source: str,
    doc_hash: str,
    text: str,
    *,
    max_chars: int = DEFAULT_CHUNK_CHARS,
    overlap: int = DEFAULT_CHUNK_OVERLAP,
) -> list[Chunk]:
    """Group whole sentences into chunks of at most `max_chars` (longer sentences are cut).

    `overlap` repeats up to that many chars of trailing sentences at the start of
    the next chunk. Ids are deterministic: same file content, same ids.
    """
    sentences = [p for s, e in sentence_spans(text) for p in _split_long(text, s, e, max_chars)]
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in sentences:
        heading_only = len(current) == 1 and _is_heading(text, current[0])
        new_paragraph = "\n\n" in text[current[-1][1] : span[0]] if current else False
        if current and (_is_heading(text, span) or (new_paragraph and not heading_only)):
            groups.append(current)
            current = []
        limit = max_chars + max_chars // 2 if heading_only else max_chars
        if current and span[1] - current[0][0] > limit:
            groups.append(current)
            current = _tail(current, overlap)
            if current and span[1] - current[0][0] > max_chars:
                current = []
        current.append(span)
    if current and groups and current[-1][1] - current[0][0] < min(40, max_chars // 4):
        groups[-1] = groups[-1] + [s for s in current if s not in groups[-1]]
    elif current:
        groups.append(current)
    chunks = []
    for i, group in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        key = f"{source}\x00{doc_hash}\x00{start}\x00{end}".encode()
        chunk_id = hashlib.sha1(key).hexdigest()[:20]
        chunks.append(Chunk(id=chunk_id, source=source, index=i, start=start, end=end, text=text[start:end]))
    return chunks


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """The (start, end) in the document of each sentence of `chunk`: the units of sentence-level retrieval."""
    return [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)]


def indexed_text(title: str, text: str) -> str:
    """What BM25 indexes for a chunk: its article's title, then the chunk (the title says what "il" is about)."""
    return f"{title}\n\n{text}" if title else text


def sentence_text(title: str, sentence: str) -> str:
    """What is embedded for one sentence: `title: sentence` (a sentence alone often lacks its subject)."""
    return f"{title}: {sentence}" if title else sentence


def _is_heading(text: str, span: tuple[int, int]) -> bool:
    """A short line of its own without final punctuation: it starts a new chunk."""
    start, end = span
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return whole_line and end - start < 90 and text[end - 1] not in ".!?…:;,"


def _tail(group: list[tuple[int, int]], overlap: int) -> list[tuple[int, int]]:
    """The trailing sentences of `group` that fit in `overlap` chars."""
    tail: list[tuple[int, int]] = []
    for span in reversed(group[1:]):
        if group[-1][1] - span[0] > overlap:
            break
        tail.insert(0, span)
    return tail
