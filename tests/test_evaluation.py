"""`rag eval` on the fake models: the report keys of the contract, the three files, the regression gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rag.evaluation import DEFAULT_SET, evaluate, gate
from rag.report import write_reports
from rag.settings import Settings

KEYS = [
    "retrieval.recall@1",
    "retrieval.recall@5",
    "retrieval.recall@10",
    "retrieval.mrr",
    "answers.accuracy",
    "answers.exact_match",
    "answers.f1",
    "answers.citation_precision",
    "answers.citation_recall",
    "answers.abstention_accuracy",
    "answers.language_match",
    "latency.p50_s",
    "latency.p95_s",
]


def _subset(tmp_path: Path) -> Path:
    lines = DEFAULT_SET.read_text(encoding="utf-8").splitlines()
    chosen = [line for line in lines if json.loads(line)["type"] in ("person", "unanswerable")][:8]
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return path


def test_eval_on_fakes_writes_every_report(fake_settings: Settings, tmp_path: Path) -> None:
    report = evaluate([_subset(tmp_path)], settings=fake_settings)
    assert report["n"] == 8
    for key in KEYS:
        section, name = key.split(".")
        assert name in report[section], key
    assert 0.0 <= report["answers"]["accuracy"] <= 1.0
    assert all(
        {"question", "answer", "citations", "why", "retrieval_rank", "timings"} <= set(r) for r in report["records"]
    )
    write_reports(report, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"report.json", "report.md", "report.png"}
    assert "## Failures" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_squad_retrieval_only_builds_its_own_index(fake_settings: Settings, tmp_path: Path) -> None:
    squad = {
        "data": [
            {
                "title": "Lyon",
                "paragraphs": [
                    {
                        "context": "Lyon est une ville de France. Elle compte 500 000 habitants.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Combien d'habitants compte Lyon ?",
                                "answers": [{"text": "500 000", "answer_start": 42}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    report = evaluate([path], settings=fake_settings, retrieval_only=True, compare=True)
    assert set(report["compare"]) == {"dense", "bm25", "hybrid"}
    assert report["compare"]["bm25"]["recall@1"] == 1.0
    assert (fake_settings.store_dir / "bench" / "mini" / "corpus").is_dir()


def test_gate_flags_a_regression_beyond_the_margin() -> None:
    base = {"answers": {"accuracy": 0.8, "citation_precision": 0.9}}
    assert gate({"answers": {"accuracy": 0.78, "citation_precision": 0.9}}, base) == []
    problems = gate({"answers": {"accuracy": 0.70, "citation_precision": 0.9}}, base)
    assert len(problems) == 1 and "accuracy" in problems[0]


def test_cli_eval_baseline_exits_1_on_regression(fake_settings: Settings, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"answers": {"accuracy": 1.01, "citation_precision": 0.0}}), encoding="utf-8")
    env = {
        "RAG_CORPUS_DIR": str(fake_settings.corpus_dir),
        "RAG_STORE_DIR": str(fake_settings.store_dir),
        "RAG_EMBEDDER": "fake",
        "RAG_LLM": "fake",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "eval",
            str(_subset(tmp_path)),
            "--out",
            str(tmp_path / "o"),
            "--baseline",
            str(baseline),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-500:]
    assert "REGRESSION" in done.stderr and "answers.accuracy" in done.stdout


def test_a_squad_file_gets_its_own_index_and_collection(tmp_path: Path) -> None:
    from rag.evaluation import _squad_settings

    settings = Settings(store_dir=tmp_path / "store", chroma_url="http://127.0.0.1:9")
    bench = _squad_settings(Path("../shared/bench/piaf-dev.json"), settings)
    assert bench.collection != settings.collection and bench.collection.startswith(settings.collection)
    assert bench.store_dir != settings.store_dir and bench.chroma_url == settings.chroma_url
