"""`rag eval` on the fake models: the report keys of the contract, the three files, the regression gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer import Answer
from rag.citations import Citation
from rag.evaluation import DEFAULT_SET, evaluate, gate, load_jsonl, score_answer
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


def test_a_citation_of_another_article_stating_the_same_fact_counts(tmp_path: Path) -> None:
    line = {
        "id": "m-1",
        "question": "De combien de minutes l'appel de juin a-t-il été plus long que celui de juillet ?",
        "language": "fr",
        "type": "multi",
        "gold": {"kind": "duration", "minutes": 15, "tolerance": 5},
        "sources": ["a.txt", "b.txt"],
        "spans": [],
        "alternatives": [{"for": "a.txt", "source": "c.txt", "start": 0, "end": 9, "text": "1 h 15..."}],
    }
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    item = load_jsonl(path)[0]
    assert item.accepted == {"a.txt", "b.txt", "c.txt"}

    def cited(*sources: str) -> Answer:
        citations = [Citation(n, s, 0, 9, "...", 1.0) for n, s in enumerate(sources, 1)]
        return Answer(line["question"], "La différence est de 15 min [1][2].", "fr", False, citations)

    # the June call's length cited from c.txt, the alternative for a.txt: both parts are covered
    record = score_answer(item, cited("c.txt", "b.txt"))
    assert (record["citation_precision"], record["citation_recall"]) == (1.0, 1.0)
    # an article that states neither fact is still wrong, and c.txt does not stand in for b.txt
    assert score_answer(item, cited("c.txt", "d.txt"))["citation_precision"] == 0.5
    assert score_answer(item, cited("c.txt", "a.txt"))["citation_recall"] == 0.5


def test_every_span_and_alternative_of_the_eval_files_quotes_the_corpus() -> None:
    corpus = DEFAULT_SET.parents[1] / "corpus"
    for path in (DEFAULT_SET, DEFAULT_SET.with_name("holdout.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert sorted(row["sources"]) == sorted({s["source"] for s in row["spans"]}), row["id"]
            for span in row["spans"] + row.get("alternatives", []):
                text = (corpus / span["source"]).read_text(encoding="utf-8")
                assert text[span["start"] : span["end"]] == span["text"], row["id"]
            for alternative in row.get("alternatives", []):
                assert alternative["for"] in row["sources"] and alternative["source"] not in row["sources"], row["id"]


@pytest.mark.parametrize(
    ("answer", "judged"),
    [
        ("Marco Rubio [1]. Sergei Lavrov [2].", None),  # names have no language
        ("Istanbul [1]", None),
        ("Rubio a appelé Lavrov [1].", True),
        ("Rubio called Lavrov [1].", False),
    ],
)
def test_the_answer_language_is_judged_on_words_that_have_one(tmp_path: Path, answer: str, judged: bool | None) -> None:
    line = {"id": "p-1", "question": "Qui a appelé qui ?", "language": "fr", "type": "person", "gold": {"kind": "none"}}
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    record = score_answer(load_jsonl(path)[0], Answer(line["question"], answer, "fr", False, []))
    assert record["language_ok"] is judged
