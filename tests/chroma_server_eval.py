"""`rag eval` with the embedded store and with a Chroma server: the same figures, or exit 1.

    .venv/bin/python tests/chroma_server_eval.py [--limit 6] [--out eval-out/chroma-server]

Runs, with the real packaged models, `rag eval --retrieval-only` (the whole eval set)
and `rag eval --limit N` (answers) twice: once on the embedded default, once with
`RAG_CHROMA_URL` pointing at a `chroma run` server started here on 127.0.0.1 (and
always stopped). The two runs differ only in that one variable; each has its own
scratch `RAG_STORE_DIR` so `vectorstore/` is left alone (with a server it only holds
the local BM25 copy). Both must exit 0 and report the same retrieval and answer
quality figures (timings aside). `make test` runs this after the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from servers import ServerError, chroma_server

PROJECT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).with_name("rag")
EVAL_SET = PROJECT / "evals" / "questions.jsonl"
QUALITY = ("retrieval", "answers")  # report sections compared; "latency" and timings are not


def run_eval(label: str, args: list[str], env: dict[str, str], out: Path) -> dict[str, Any]:
    """`rag eval ARGS --out OUT` in a child process; its report, or SystemExit when it fails."""
    command = [str(RAG), "eval", str(EVAL_SET), *args, "--out", str(out)]
    print(f"\n== {label}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=PROJECT)
    print(f"== {label}: exit {done.returncode} after {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"chroma_server_eval: `rag eval` failed ({label})")
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """The quality figures of a report, without timings."""
    keep: dict[str, Any] = {}
    for section in QUALITY:
        for key, value in (report.get(section) or {}).items():
            if key not in ("p50_ms", "seconds"):
                keep[f"{section}.{key}"] = value
    return keep


def answers(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(r.get("id", r.get("question"))), str(r.get("answer", ""))) for r in report.get("records", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=6, help="questions answered by the model (default 6)")
    parser.add_argument("--out", type=Path, default=PROJECT / "eval-out" / "chroma-server", help="report directory")
    args = parser.parse_args(argv)
    dropped = ("RAG_CHROMA_URL", "RAG_CHROMA_COLLECTION", "RAG_STORE_DIR")  # set per run below
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    base.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    runs = {"retrieval": ["--retrieval-only"], "answers": ["--limit", str(args.limit)]}
    reports: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-chroma-eval-") as scratch:
        root = Path(scratch)
        for name, flags in runs.items():
            env = {**base, "RAG_STORE_DIR": str(root / "embedded")}
            reports["embedded", name] = run_eval(f"embedded, {name}", flags, env, args.out / "embedded" / name)
        try:
            with chroma_server(root / "chroma") as url:
                print(f"\n== Chroma server at {url} (data in {root / 'chroma' / 'data'})", flush=True)
                for name, flags in runs.items():
                    env = {**base, "RAG_STORE_DIR": str(root / "client"), "RAG_CHROMA_URL": url}
                    reports["server", name] = run_eval(f"server, {name}", flags, env, args.out / "server" / name)
        except ServerError as exc:
            print(f"chroma_server_eval: {exc}", file=sys.stderr)
            return 1
    failed = False
    print(f"\n{'figure':<40} {'embedded':>10} {'server':>10}")
    for name in runs:
        embedded, server = figures(reports["embedded", name]), figures(reports["server", name])
        for key in sorted(set(embedded) | set(server)):
            same = embedded.get(key) == server.get(key)
            failed |= not same
            flag = "" if same else "  DIFFERS"
            print(f"{name + ': ' + key:<40} {embedded.get(key)!s:>10} {server.get(key)!s:>10}{flag}")
    pairs = zip(answers(reports["embedded", "answers"]), answers(reports["server", "answers"]), strict=True)
    changed = [(e, s) for e, s in pairs if e != s]
    for (qid, before), (_, after) in changed:
        print(f"answer to {qid} differs:\n  embedded: {before}\n  server:   {after}")
    if failed or changed:
        print("chroma_server_eval: the Chroma server run differs from the embedded one", file=sys.stderr)
        return 1
    print(f"\nchroma_server_eval: same figures with the embedded store and a Chroma server; reports in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
