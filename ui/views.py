"""How one chat turn looks: the answer, its sources (passage highlighted in context),
the whole-article dialog, and the friendly error box. Everything shown is escaped.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rag.answer import Answer
from rag.citations import Citation
from rag.corpus import read_article
from rag.documents import Document
from rag.errors import DocumentError
from rag.settings import Settings
from ui.render import ErrorView, answer_markdown, escape_markdown, excerpt, format_date, highlighted_html
from ui.texts import EXAMPLES, tr

RETRYABLE = {"LLMError", "LLMUnavailable", "StoreBusy", "StoreUnavailable", "ModelMissing", "unexpected"}


def ask_later(question: str) -> None:
    """Button callback: ask `question` on this run."""
    st.session_state.pending = question


def build_then_ask(question: str | None) -> None:
    """Button callback: build the index, then ask `question` again."""
    st.session_state.build = True
    if question:
        st.session_state.pending = question


def open_article(source: str, start: int, end: int, text: str) -> None:
    st.session_state.article = {"source": source, "start": start, "end": end, "text": text}


def welcome(lang: str) -> None:
    """The empty screen: what this is, and example questions in both languages."""
    st.markdown(tr("intro", lang))
    st.caption(tr("examples", lang))
    columns = st.columns(2)
    for k, question in enumerate(EXAMPLES):
        columns[k % 2].button(
            escape_markdown(question), key=f"example-{k}", on_click=ask_later, args=(question,),
            width="stretch", icon=":material/chat_bubble:",
        )


def user_message(text: str, *, interrupted: bool = False, lang: str = "fr") -> None:
    with st.chat_message("user"):
        st.markdown(escape_markdown(text))
        if interrupted:
            st.caption(tr("interrupted", lang))


def assistant_body(i: int, msg: dict[str, Any], settings: Settings, lang: str, *, last: bool) -> None:
    """The content of one assistant turn (call inside `st.chat_message`)."""
    error: ErrorView | None = msg.get("error")
    if error is not None:
        error_box(i, error, msg.get("question", ""), lang, last=last)
        return
    answer: Answer = msg["answer"]
    show_scores = bool(st.session_state.get("show_scores"))
    st.markdown(answer_markdown(answer.answer))
    if answer.abstained:
        st.caption(tr("abstained", lang))
    for citation in answer.citations:
        source_card(i, citation, settings, lang, show_scores=show_scores)
    if show_scores and answer.passages:
        with st.expander(tr("passages_seen", lang, n=len(answer.passages)), icon=":material/search:"):
            for p in answer.passages:
                st.markdown(f"**{p.n}\\.** {escape_markdown(p.title or p.source)} · `{p.score:.4f}`")
                st.caption(escape_markdown(p.text))
    if answer.timings.get("total_s"):
        st.caption(tr("seconds", lang, s=answer.timings["total_s"]))


def locate(citation: Citation, settings: Settings) -> tuple[Document, int, int] | None:
    """The article of a citation and the passage's offsets in it (re-found if the file moved)."""
    try:
        doc = read_article(citation.source, settings)
    except DocumentError:
        return None
    if doc.text[citation.start : citation.end] == citation.text:
        return doc, citation.start, citation.end
    found = doc.text.find(citation.text)
    return (doc, found, found + len(citation.text)) if found != -1 else None


def source_card(i: int, c: Citation, settings: Settings, lang: str, *, show_scores: bool) -> None:
    """A citation as an expander: the passage highlighted in its surrounding text."""
    label = f"**\\[{c.n}\\]** {escape_markdown(c.title or c.source)}"
    if c.date:
        label += f" · {escape_markdown(format_date(c.date, lang))}"
    with st.expander(label, icon=":material/article:"):
        meta = [f"{tr('file', lang)} {escape_markdown(c.source)}"]
        if show_scores:
            meta.append(f"{tr('score', lang)} {c.score:.4f}")
        st.caption(" · ".join(meta))
        located = locate(c, settings)
        if located is None:
            st.caption(tr("article_moved", lang))
            st.html(highlighted_html("", c.text, ""))
            return
        doc, start, end = located
        st.html(highlighted_html(*excerpt(doc.text, start, end)))
        st.button(
            tr("read_article", lang), key=f"article-{i}-{c.n}", on_click=open_article,
            args=(c.source, start, end, c.text), icon=":material/menu_book:", type="tertiary",
        )


def close_article() -> None:
    st.session_state.pop("article", None)


def article_dialog(article: dict[str, Any], settings: Settings, lang: str) -> None:
    """The whole article in a large dialog, the cited passage highlighted (open until dismissed)."""

    @st.dialog("Article", width="large", on_dismiss=close_article)
    def show() -> None:
        citation = Citation(0, article["source"], article["start"], article["end"], article["text"], 0.0)
        located = locate(citation, settings)
        if located is None:
            st.warning(tr("article_moved", lang))
            return
        doc, start, end = located
        st.markdown(f"### {escape_markdown(doc.title)}")
        meta = [f"{tr('file', lang)} {escape_markdown(doc.source)}"]
        if doc.date:
            meta.insert(0, escape_markdown(format_date(doc.date, lang)))
        st.caption(" · ".join(meta) + " — " + tr("article_caption", lang))
        st.html(highlighted_html(doc.text[:start], doc.text[start:end], doc.text[end:]))

    show()


def error_box(i: int, error: ErrorView, question: str, lang: str, *, last: bool) -> None:
    """What happened, what to do, the technical detail, and the button that fixes it."""
    st.error(error.message, icon=":material/error:")
    if error.detail:
        st.caption(tr("details", lang, detail=escape_markdown(error.detail)))
    if not last:
        return
    if error.kind == "IndexMissing":
        st.button(tr("build_index", lang), key=f"build-{i}", on_click=build_then_ask, args=(question,),
                  type="primary", icon=":material/database:")
    elif error.kind in RETRYABLE and question:
        st.button(tr("retry", lang), key=f"retry-{i}", on_click=ask_later, args=(question,),
                  icon=":material/refresh:")
