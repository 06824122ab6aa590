"""The Streamlit chat over `rag.stream`: `rag chat` (or `streamlit run ui/app.py`).

Thin on purpose: session state and page layout live here; rendering is in
`ui/views.py` and `ui/sidebar.py`, shared resources in `ui/engine.py`, strings in
`ui/texts.py`. Every failure becomes a message saying what to do, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

from rag.corpus import status as corpus_status  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.settings import Settings  # noqa: E402
from ui import engine, sidebar, views  # noqa: E402
from ui.render import escape_markdown, explain  # noqa: E402
from ui.texts import tr  # noqa: E402

Message = dict[str, Any]


def init_state(base: Settings) -> None:
    """Defaults for a new session; the interface follows the browser's language."""
    ss = st.session_state
    ss.setdefault("messages", [])
    ss.setdefault("upload_round", 0)
    ss.setdefault("top_k", min(base.top_k, sidebar.MAX_TOP_K))
    ss.setdefault("show_scores", False)
    if "lang" not in ss:
        try:
            locale = st.context.locale or ""
        except Exception:  # no browser context (bare mode)
            locale = ""
        ss.lang_auto = not locale  # unknown: follow the language of the questions
        ss.lang = "en" if locale and not locale.lower().startswith("fr") else "fr"
    if "lang_next" in ss:
        ss.lang = ss.pop("lang_next")


def answer(question: str, settings: Settings, lang: str) -> None:
    """One turn: show the question, stream the answer, keep both in the session."""
    messages: list[Message] = st.session_state.messages
    history = engine.conversation(messages)
    messages.append({"role": "user", "content": question})
    views.user_message(question)
    with st.chat_message("assistant"):
        slot = st.empty()
        reply = engine.generate(question, history, settings, lang, slot)
        messages.append(reply)
        with slot.container():
            views.assistant_body(len(messages) - 1, reply, settings, lang, last=True)
    result = reply.get("answer")
    if result is not None and st.session_state.lang_auto and result.language != lang:
        st.session_state.lang_next = result.language
        st.rerun()


def history(messages: list[Message], settings: Settings, lang: str) -> None:
    for i, msg in enumerate(messages):
        if msg["role"] == "user":
            replied = i + 1 < len(messages) and messages[i + 1]["role"] == "assistant"
            views.user_message(msg["content"], interrupted=not replied, lang=lang)
        else:
            with st.chat_message("assistant"):
                views.assistant_body(i, msg, settings, lang, last=i == len(messages) - 1)


def _index_error_shown(messages: list[Message]) -> bool:
    """The last turn already offers to build the index."""
    error = messages[-1].get("error") if messages else None
    return error is not None and error.kind == "IndexMissing"


def main() -> None:
    st.set_page_config(page_title="Articles · Q&A", page_icon=":material/newspaper:", layout="centered")
    try:
        base = Settings.from_env()
    except RagError as exc:
        view = explain(exc, "en")
        st.error(view.message)
        st.caption(escape_markdown(view.detail))
        st.stop()
    init_state(base)
    ss = st.session_state
    lang: str = ss.lang
    status = corpus_status(base)
    settings = sidebar.render(base, status, lang)
    st.title(tr("title", lang), anchor=False)
    if ss.pop("build", False):
        sidebar.run_indexing(lambda: engine.reindex(settings, lang), lang)
    messages: list[Message] = ss.messages
    typed = st.chat_input(tr("placeholder", lang), key="question")  # pinned to the bottom wherever it is called
    pending = ss.pop("pending", None)
    question = typed if isinstance(typed, str) and typed else pending
    offer, intro = st.empty(), st.empty()  # fixed slots: a new run clears them at once, leaving nothing stale
    if not status.indexed and not status.problem and not question and not _index_error_shown(messages):
        with offer.container():
            st.info(tr("no_index", lang), icon=":material/database:")
            st.button(tr("build_index", lang), key="build-now", on_click=views.build_then_ask, args=(None,),
                      type="primary", icon=":material/database:")
    if not messages and not question:
        with intro.container():
            views.welcome(lang)
    history(messages, settings, lang)
    article = ss.get("article")
    if article:
        views.article_dialog(article, settings, lang)
    if question:
        answer(question, settings, lang)


main()
