"""End to end on the fake models: ingest the five articles, ask, check the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag import Answer, IndexMissing, InvalidQuestion, Settings, ask, ingest
from rag.documents import read_document


def test_public_surface_is_locked() -> None:
    assert sorted(rag.__all__) == sorted(
        [
            "Answer",
            "Citation",
            "ConfigError",
            "DocumentError",
            "IndexIncompatible",
            "IndexMissing",
            "IngestReport",
            "InvalidQuestion",
            "LLMError",
            "LLMUnavailable",
            "ModelMissing",
            "RagError",
            "Settings",
            "StoreBusy",
            "StoreUnavailable",
            "ask",
            "evaluate",
            "ingest",
            "stream",
        ]
    )


def test_ingest_then_ask_returns_verified_citations(fake_settings: Settings) -> None:
    report = ingest(settings=fake_settings)
    assert sorted(report.added) == sorted(p.name for p in fake_settings.corpus_dir.glob("*.txt"))
    assert report.chunks > 20 and not report.skipped
    answer = ask("Avec quel pape Poutine s'est-il entretenu par téléphone ?", settings=fake_settings)
    assert isinstance(answer, Answer)
    assert not answer.abstained and answer.language == "fr"
    assert "Léon XIV" in answer.answer
    assert answer.citations and answer.citations[0].source == "000_187088d26fc0e502.txt"
    for c in answer.citations:
        text = read_document(fake_settings.corpus_dir / c.source, fake_settings.corpus_dir).text
        assert text[c.start : c.end] == c.text
        assert f"[{c.n}]" in answer.answer
    json.dumps(answer.to_dict())


def test_reingest_is_incremental(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    again = ingest(settings=fake_settings)
    assert not again.changed and len(again.unchanged) == 5 and again.embedded == 0
    first = fake_settings.corpus_dir / "000_187088d26fc0e502.txt"
    first.write_text(first.read_text(encoding="utf-8") + "\nUne phrase ajoutée pour le test.\n", encoding="utf-8")
    (fake_settings.corpus_dir / "004_d1cd692374a06a9c.txt").unlink()
    (fake_settings.corpus_dir / "new.md").write_text("Un nouvel article sur la météo à Lyon.", encoding="utf-8")
    report = ingest(settings=fake_settings)
    assert report.updated == ["000_187088d26fc0e502.txt"]
    assert report.removed == ["004_d1cd692374a06a9c.txt"]
    assert report.added == ["new.md"]
    assert 0 < report.embedded < report.chunks


def test_a_question_typed_in_lowercase_reads_its_names(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    answer = ask("avec quel pape poutine s'est-il entretenu par téléphone ?", settings=fake_settings)
    assert answer.standalone_question == "avec quel pape Poutine s'est-il entretenu par téléphone ?"
    assert not answer.abstained and "Léon XIV" in answer.answer
    history = [
        {"role": "user", "content": "when did putin speak with trump on wednesday?"},
        {"role": "assistant", "content": "On 4 June."},
    ]
    follow_up = ask("and with the pope?", history=history, settings=fake_settings)
    assert "when did Putin speak with Trump on Wednesday?" in follow_up.standalone_question


def test_unanswerable_question_abstains_without_citations(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    answer = ask("Quel temps fera-t-il demain à Marseille ?", settings=fake_settings)
    assert answer.abstained and not answer.citations
    assert "articles" in answer.answer


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "x" * 5000])
def test_bad_questions_are_refused_before_any_model_call(fake_settings: Settings, question: str) -> None:
    with pytest.raises(InvalidQuestion):
        ask(question, settings=fake_settings)


def test_no_index_says_to_run_ingest(fake_settings: Settings) -> None:
    with pytest.raises(IndexMissing, match="rag ingest"):
        ask("Combien de temps a duré l'appel ?", settings=fake_settings)


def test_follow_up_is_rewritten_with_history(fake_settings: Settings, use_llm: object) -> None:
    ingest(settings=fake_settings)
    history = [
        {"role": "user", "content": "Quand a eu lieu l'appel entre Poutine et le pape Léon XIV ?"},
        {"role": "assistant", "content": "Mercredi [1]."},
    ]
    answer = ask("Et qu'a-t-il affirmé au pape ?", history=history, settings=fake_settings)
    assert "pape" in answer.standalone_question.lower() and "Léon" in answer.standalone_question


def test_settings_from_env(tmp_path: Path) -> None:
    s = Settings.from_env({"RAG_CORPUS_DIR": str(tmp_path), "RAG_LLM": "ollama", "RAG_TOP_K": "7"})
    assert s.corpus_dir == tmp_path and s.llm == "ollama" and s.top_k == 7
    with pytest.raises(rag.ConfigError, match="RAG_LLM"):
        Settings.from_env({"RAG_LLM": "gpt"})
