"""`rag bench` on the fake models at tiny size: every section present, numbers sane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.bench import BenchOptions, _spread
from rag.bench_ingest import perturb
from rag.bench_report import Target
from rag.bench_stats import latency_summary, percentile
from rag.cli import main

SECTIONS = ("meta", "ingest", "reingest", "retrieval", "growth", "answer", "startup", "memory", "targets")


def _tiny_squad(path: Path) -> Path:
    """Two articles of two paragraphs, one question each: a SQuAD file in PIAF's shape."""
    data = []
    for a in range(2):
        paragraphs = []
        for p in range(2):
            context = (
                f"L'article {a} raconte l'épisode {p}. Le maire de Lyon a inauguré le pont le {p + 3} mai 2019. "
                f"La cérémonie a duré {20 + p} minutes devant 300 personnes. Il pleuvait sur la ville."
            )
            qas = [{"id": f"{a}-{p}", "question": f"Combien de temps a duré la cérémonie {p} ?",
                    "answers": [{"text": f"{20 + p} minutes", "answer_start": context.index(f"{20 + p} minutes")}]}]
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": f"Article {a}", "paragraphs": paragraphs})
    path.write_text(json.dumps({"version": "1", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path


def _run(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_LLM", "fake")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "never-used"))
    piaf = _tiny_squad(tmp_path / "tiny-squad.json")
    out = tmp_path / "out"
    code = main(["bench", "--questions", "2", "--queries", "3", "--growth", "1,3", "--piaf", str(piaf),
                 "--repeats", "1", "--out", str(out), "--work", str(tmp_path / "work"), "--profile"])
    assert code == 0
    assert not (tmp_path / "never-used").exists(), "the bench must work on its own scratch indexes"
    assert "Targets" in (out / "results.txt").read_text(encoding="utf-8")
    assert (out / "profile-ask.txt").is_file() and (out / "profile-retrieval.txt").is_file()
    loaded: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return loaded


def test_bench_on_fakes_writes_every_section_with_sane_numbers(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = _run(tmp_path, corpus, monkeypatch)
    _check_indexes(results)
    _check_growth_answers_startup_targets(results)


def _check_indexes(results: dict[str, Any]) -> None:
    assert not results["errors"]
    for key in SECTIONS:
        assert results[key], f"section {key} is empty"
    for label in ("corpus", "piaf-dev"):
        ingest = results["ingest"][label]
        assert ingest["chunks"] > 0 and ingest["embedded"] == ingest["chunks"] and ingest["tokens"] > 0
        assert ingest["ours"]["chunks_per_s"] > 0 and ingest["raw"]["chunks_per_s"] > 0 and ingest["ratio"] > 0
        reingest = results["reingest"][label]
        assert all(run["embedded"] == 0 and not run["changed"] for run in reingest["runs"])
        assert 0 < reingest["seconds_p50"] < 30
        retrieval = results["retrieval"][label]
        for mode in ("dense", "bm25", "hybrid"):
            assert 0 < retrieval["ours"][mode]["p50_ms"] <= retrieval["ours"][mode]["p95_ms"]
        assert retrieval["raw"]["total"]["p50_ms"] > 0 and retrieval["ratio_p50"] > 0


def _check_growth_answers_startup_targets(results: dict[str, Any]) -> None:
    one, three = results["growth"]["rows"]
    assert (one["factor"], three["factor"]) == (1, 3)
    assert three["documents"] == 3 * one["documents"] and three["chunks"] == 3 * one["chunks"]
    assert three["vectors"]["hash_assigned"] == 0, "replicas keep offsets, so every chunk finds its 1x vector"
    assert three["index_bytes"] > one["index_bytes"] > 0
    assert "noise" in results["growth"]["note"]

    answer = results["answer"]
    assert answer["n"] == 2 and len(answer["records"]) == 2
    for record in answer["records"]:
        ours = record["ours"]
        assert 0 < ours["first_token_s"] <= ours["total_s"]
        assert ours["prompt_tokens"] > 0 and record["plain_prompt_tokens"] > 0
        assert record["raw"]["same_text_as_ours"]

    startup = results["startup"]
    assert 0 < startup["cold_ask"]["first_output_s"] <= startup["cold_ask"]["total_s"]
    assert startup["heavy_after_import"]["rag"] == []
    assert startup["imports"]["import_rag"]["seconds_p50"] > 0
    assert results["memory"]["ask_max_rss_mb"] > 10 and results["memory"]["ingest_max_rss_mb"] > 10

    names = [t["name"] for t in results["targets"]]
    assert any("growth exponent" in n for n in names) and any("peak RSS" in n for n in names)
    for target in results["targets"]:
        assert target["verdict"].startswith(("PASS", "MISS", "n/a"))


def test_target_verdicts_say_by_how_much() -> None:
    assert Target("p50", 7.5, 6.0, "s").to_dict()["verdict"] == "MISS by 1.5 s (+25%)"
    assert Target("p50", 4.0, 6.0, "s").to_dict()["passed"] is True
    assert Target("ratio", 0.5, 0.9, "x raw", higher_is_better=True).to_dict()["verdict"] == "MISS by 0.4 x raw (-44%)"
    assert Target("missing", None, 1.0, "s").to_dict()["passed"] is None


def test_helpers() -> None:
    text = "Le 19 mai 2025, l'entretien téléphonique a duré deux heures."
    for replica in range(1, 12):
        changed = perturb(text, replica)
        assert len(changed) == len(text) and changed != text
    assert perturb(text, 0) == text
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95) == 10
    assert latency_summary([0.001, 0.003])["p50_ms"] == 2.0
    assert _spread(["a", "b", "c", "d"], 2) == ["a", "c"]
    with pytest.raises(ValueError, match="unknown bench section"):
        BenchOptions(sections=("nope",))
