"""`rag bench --profile`: profile one answer and one retrieval, write the reports next to the results.

pyinstrument (in the `test` extra) gives a readable call tree (`profile-*.txt`,
`profile-*.html`); without it, cProfile's top functions (`profile-*.txt`) and
raw stats (`profile-*.prof`).
"""

from __future__ import annotations

import cProfile
import importlib
import io
import pstats
from collections.abc import Callable
from pathlib import Path

from rag.answer import ask
from rag.retrieval import Retriever
from rag.settings import Settings


def _with_pyinstrument(name: str, work: Callable[[], object], out: Path) -> list[str]:
    profiler = importlib.import_module("pyinstrument").Profiler(interval=0.0005)
    profiler.start()
    work()
    profiler.stop()
    text, html = out / f"profile-{name}.txt", out / f"profile-{name}.html"
    text.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    html.write_text(profiler.output_html(), encoding="utf-8")
    return [str(text), str(html)]


def _with_cprofile(name: str, work: Callable[[], object], out: Path) -> list[str]:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    raw, text = out / f"profile-{name}.prof", out / f"profile-{name}.txt"
    profiler.dump_stats(raw)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
    text.write_text(buffer.getvalue(), encoding="utf-8")
    return [str(text), str(raw)]


def profile(settings: Settings, question: str, out: Path) -> dict[str, list[str]]:
    """Profile `ask(question)` and one `search(question)` (models already loaded: a warm ask runs first)."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        importlib.import_module("pyinstrument")
        write = _with_pyinstrument
    except ImportError:
        write = _with_cprofile
    ask(question, settings=settings)  # load the models, so the profile shows the steady state
    retriever = Retriever.open(settings)
    retriever.search("warm-up", k=settings.top_k)
    return {
        "ask": write("ask", lambda: ask(question, settings=settings), out),
        "retrieval": write("retrieval", lambda: retriever.search(question, k=settings.top_k), out),
    }
