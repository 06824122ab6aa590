"""The sidebar: language, new conversation, corpus status, re-index, add articles, settings."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import streamlit as st

from rag.corpus import CorpusStatus, add_document
from rag.errors import DocumentError, RagError
from rag.ingest import IngestReport
from rag.settings import Settings
from ui.engine import reindex
from ui.render import escape_markdown, explain, format_when
from ui.texts import LANG_NAMES, LANGS, tr

log = logging.getLogger("rag.ui")
MAX_TOP_K = 10


def _manual_language() -> None:
    st.session_state.lang_auto = False


def new_conversation() -> None:
    st.session_state.messages = []
    st.session_state.pop("article", None)
    st.session_state.pop("pending", None)


def notify(kind: str, text: str) -> None:
    """Queue a message shown in the sidebar on the next run (after `st.rerun`)."""
    st.session_state.setdefault("notices", []).append((kind, text))


def report_notices(report: IngestReport, lang: str) -> None:
    notify("success", tr("indexed", lang, added=len(report.added), updated=len(report.updated),
                         removed=len(report.removed), chunks=report.chunks))
    for source, reason in sorted(report.skipped.items()):
        notify("warning", tr("skipped", lang, source=source, reason=reason))


def render(base: Settings, status: CorpusStatus, lang: str) -> Settings:
    """Draw the sidebar; return the settings chosen there."""
    with st.sidebar:
        st.segmented_control(
            tr("language", lang), LANGS, format_func=LANG_NAMES.__getitem__, key="lang", required=True,
            on_change=_manual_language,
        )
        st.button(tr("new_chat", lang), on_click=new_conversation, icon=":material/add_comment:",
                  width="stretch", key="new_chat")
        _corpus(base, status, lang)
        _notices()
        _upload(base, status, lang)
        st.subheader(tr("settings", lang), divider="gray")
        st.slider(tr("top_k", lang), 1, MAX_TOP_K, key="top_k", help=tr("top_k_help", lang))
        st.checkbox(tr("show_scores", lang), key="show_scores")
    return base.with_(top_k=int(st.session_state.top_k))


def _corpus(settings: Settings, status: CorpusStatus, lang: str) -> None:
    st.subheader(tr("corpus", lang), divider="gray")
    left, right = st.columns(2)
    left.metric(tr("articles", lang), status.articles)
    right.metric(tr("chunks", lang), status.chunks)
    st.caption(tr("last_indexed", lang, when=format_when(status.last_indexed, lang)))
    if status.problem:
        st.warning(escape_markdown(status.problem), icon=":material/warning:")
    elif status.indexed and status.pending:
        st.caption(":material/pending: " + tr("pending", lang, n=len(status.pending)))
    if st.button(tr("reindex", lang), icon=":material/sync:", width="stretch", key="reindex"):
        run_indexing(lambda: reindex(settings, lang), lang)


def run_indexing(action: Callable[[], IngestReport], lang: str) -> None:
    """Run an indexing action; report through notices, never a traceback."""
    try:
        report = action()
    except Exception as exc:  # the edge: every failure becomes a message
        if not isinstance(exc, RagError):
            log.exception("indexing failed")
        view = explain(exc, lang)
        notify("error", f"{view.message}  \n{escape_markdown(view.detail)}")
    else:
        report_notices(report, lang)
    st.rerun()


def _notices() -> None:
    for kind, text in st.session_state.pop("notices", []):
        getattr(st, kind)(text)


def _upload(settings: Settings, status: CorpusStatus, lang: str) -> None:
    st.subheader(tr("add_articles", lang), divider="gray")
    mb = max(1, math.ceil(settings.max_file_bytes / 1_000_000))
    files = st.file_uploader(
        tr("uploader", lang, mb=mb), type=["txt", "md"], accept_multiple_files=True,
        key=f"upload-{st.session_state.upload_round}", max_upload_size=mb,
    )
    if not files or not st.button(tr("add_button", lang), type="primary", icon=":material/upload_file:",
                                  width="stretch", key="add_files"):
        return
    added = []
    for upload in files:
        try:
            added.append(add_document(upload.name, upload.getvalue(), settings))
        except DocumentError as exc:
            notify("error", tr("refused", lang, reason=escape_markdown(str(exc))))
    for path in added:
        notify("success", tr("added", lang, name=escape_markdown(path.name)))
    st.session_state.upload_round += 1
    if added:  # no index yet: build it whole, not from the new files alone
        run_indexing(lambda: reindex(settings, lang, added if status.indexed else None), lang)
    st.rerun()
