"""Pure helpers that turn answers, passages and errors into safe display text.

Nothing from the model or from a document reaches the page unescaped: Markdown
text is backslash-escaped (no links, images, HTML, LaTeX or colour directives can
come through), and HTML is built only from `html.escape`d text.

>>> answer_markdown("Léon XIV [1].")
'Léon XIV **\\\\[1\\\\]**\\\\.'
>>> excerpt("Un. Deux. Trois.", 4, 9, context=10)
('Un. ', 'Deux.', ' Trois.')
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from rag.errors import InvalidQuestion, RagError
from rag.safety import sanitize
from ui.texts import MONTHS, tr

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^\"])")
_MARKER = re.compile(r"\\\[(\d+)\\\]")
_TOO_LONG = re.compile(r"(\d+) characters long; the limit is (\d+)")
MARK_STYLE = (
    "background: rgba(255, 196, 0, 0.38); color: inherit; padding: 0.1em 0.2em; "
    "border-radius: 0.25em; box-decoration-break: clone; -webkit-box-decoration-break: clone"
)
TEXT_STYLE = "white-space: pre-wrap; line-height: 1.65; font-size: 0.95rem; margin: 0"


def escape_markdown(text: str) -> str:
    """Backslash-escape every character Markdown (or Streamlit) could interpret."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def answer_markdown(text: str) -> str:
    """A verified answer as Markdown: escaped text, citation markers in bold."""
    return _MARKER.sub(r"**\\[\1\\]**", escape_markdown(text))


def streaming_markdown(raw: str) -> str:
    """Tokens streamed so far: sanitised like the final answer, escaped, with a cursor."""
    return escape_markdown(sanitize(raw)) + " ▌"


def excerpt(text: str, start: int, end: int, *, context: int = 320) -> tuple[str, str, str]:
    """(before, passage, after) around `text[start:end]`, cut at paragraph or word boundaries."""
    lo, hi = max(0, start - context), min(len(text), end + context)
    if lo > 0:  # whole paragraphs inside the window, else whole words
        cut = text.find("\n", lo, max(lo, start - 1))
        cut = cut if cut != -1 else text.find(" ", lo, start)
        lo = cut + 1 if cut != -1 else lo
    if hi < len(text):
        cut = text.rfind("\n", end + 1, hi)
        cut = cut if cut != -1 else text.rfind(" ", end, hi)
        hi = cut if cut != -1 else hi
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return before, text[start:end], after


def highlighted_html(before: str, passage: str, after: str) -> str:
    """The passage in a <mark> inside its surrounding text; everything escaped."""
    return (
        f'<div class="rag-passage" style="{TEXT_STYLE}">{html.escape(before)}'
        f'<mark style="{MARK_STYLE}">{html.escape(passage)}</mark>{html.escape(after)}</div>'
    )


def format_date(date: str | None, lang: str) -> str:
    """'2025-06-04' -> '4 juin 2025' / '4 June 2025'; unparseable dates as given."""
    if not date:
        return ""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return date
    return f"{day.day} {MONTHS.get(lang, MONTHS['en'])[day.month - 1]} {day.year}"


def format_when(moment: dt.datetime | None, lang: str) -> str:
    if moment is None:
        return tr("never", lang)
    return f"{format_date(moment.date().isoformat(), lang)}, {moment:%H:%M}"


@dataclass(frozen=True)
class ErrorView:
    """What the chat shows for an error: a kind (for tests and buttons), a message, a detail."""

    kind: str
    message: str
    detail: str


def explain(exc: BaseException, lang: str) -> ErrorView:
    """A friendly, translated explanation of `exc` (the library's message as the detail)."""
    if not isinstance(exc, RagError):
        return ErrorView("unexpected", tr("err_unexpected", lang), type(exc).__name__)
    detail = str(exc)
    too_long = _TOO_LONG.search(detail)
    if isinstance(exc, InvalidQuestion) and too_long:
        n, limit = too_long.groups()
        return ErrorView("too_long", tr("err_too_long", lang, n=n, limit=limit), detail)
    for cls in type(exc).__mro__:
        key = f"err_{cls.__name__}"
        if key in _KNOWN:
            return ErrorView(cls.__name__, tr(key, lang), detail)
    return ErrorView("RagError", tr("err_RagError", lang), detail)  # pragma: no cover - RagError is in the MRO


_KNOWN = {
    f"err_{name}"
    for name in (
        "IndexMissing", "InvalidQuestion", "ModelMissing", "LLMUnavailable", "LLMError", "IndexIncompatible",
        "StoreBusy", "StoreUnavailable", "DocumentError", "ConfigError", "RagError",
    )
}
