"""What the chat shares across sessions: one gate for the models, loaded once per process.

The LLM backends already serialise generation per model; the gate also keeps an
answer from running while another session re-indexes, and lets a waiting session
say so instead of hanging silently.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

import rag
from rag.embeddings import load_embedder
from rag.errors import RagError
from rag.ingest import IngestReport, ingest
from rag.llm import load_llm
from rag.settings import Settings
from ui.render import explain, streaming_markdown
from ui.texts import tr

log = logging.getLogger("rag.ui")


@st.cache_resource(show_spinner=False)
def gate() -> threading.Lock:
    """One lock per server process: one generation (or indexing) at a time."""
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def load_models(key: str, _settings: Settings) -> str:
    """Load the embedder and the LLM once per server process (`key` identifies the settings)."""
    embedder = load_embedder(_settings.embedder, threads=_settings.threads)
    llm = load_llm(_settings)
    return f"{embedder.id} + {llm.id}"


def models_key(settings: Settings) -> str:
    return f"{settings.embedder}|{settings.llm}|{settings.llm_model}|{settings.ollama_host}|{settings.threads}"


@contextmanager
def turn(slot: Any, lang: str) -> Iterator[None]:
    """Hold the gate; while another session holds it, say so in `slot`.

    Waits in short steps so that Streamlit can stop this run (the user left or
    asked something else) instead of blocking a thread forever.
    """
    lock = gate()
    if not lock.acquire(blocking=False):
        slot.info(tr("waiting", lang), icon=":material/hourglass_top:")
        while not lock.acquire(timeout=0.25):
            slot.info(tr("waiting", lang), icon=":material/hourglass_top:")
        slot.empty()
    try:
        yield
    finally:
        lock.release()


def reindex(settings: Settings, lang: str, paths: list[Path] | None = None) -> IngestReport:
    """Run `rag.ingest` behind the gate with a progress bar in the current container."""
    bar = st.progress(0.0, text=tr("indexing", lang, done=0, total="…"))

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=tr("indexing", lang, done=done, total=total))

    with turn(st.empty(), lang):
        report = ingest(paths, settings=settings, progress=progress)
    bar.progress(1.0, text=tr("indexing", lang, done=report.embedded, total=report.embedded))
    return report


def conversation(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The answered turns, as `rag.stream` wants its history."""
    history: list[dict[str, str]] = []
    for question, reply in itertools.pairwise(messages):
        if question["role"] == "user" and reply["role"] == "assistant" and reply.get("answer") is not None:
            history += [{"role": "user", "content": question["content"]},
                        {"role": "assistant", "content": reply["content"]}]
    return history


def generate(question: str, history: list[dict[str, str]], settings: Settings, lang: str, slot: Any) -> dict[str, Any]:
    """Stream the answer into `slot`; return the turn to store (an answer or an error)."""
    raw = ""
    try:
        with turn(slot, lang):
            slot.markdown(f"*{tr('searching', lang)}*")
            load_models(models_key(settings), settings)
            for item in rag.stream(question, history=history, settings=settings):
                if isinstance(item, rag.Answer):
                    return {"role": "assistant", "content": item.answer, "answer": item}
                raw += item
                slot.markdown(streaming_markdown(raw))
    except Exception as exc:  # the edge: every failure becomes a message
        if not isinstance(exc, RagError):
            log.exception("answering %r failed", question)
        return {"role": "assistant", "content": "", "error": explain(exc, lang), "question": question}
    raise AssertionError("rag.stream ended without an answer")  # pragma: no cover
