"""The packaged models end to end on the five articles (marked `model`: they take a while)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag import ask
from rag.checking import Gold, check
from rag.citations import MARKER
from rag.documents import read_document
from rag.settings import Settings

pytestmark = pytest.mark.model


def _verified(settings: Settings, answer_sources: list[tuple[str, int, int, str]]) -> None:
    for source, start, end, text in answer_sources:
        doc = read_document(settings.corpus_dir / source, settings.corpus_dir)
        assert doc.text[start:end] == text


def test_english_question_on_the_june_call(real_settings: Settings) -> None:
    a = ask(
        "How long did the phone call last in which Putin said he would respond to the drone attack?",
        settings=real_settings,
    )
    assert a.language == "en" and not a.abstained
    verdict = check(
        MARKER.sub("", a.answer), Gold.from_dict({"kind": "duration", "minutes": 75}), abstained=a.abstained
    )
    assert verdict.correct, (a.answer, verdict.why)
    assert {c.source for c in a.citations} & {"000_187088d26fc0e502.txt", "001_d069e54fa5cd9020.txt"}
    _verified(real_settings, [(c.source, c.start, c.end, c.text) for c in a.citations])


def test_french_question_on_the_july_call(real_settings: Settings) -> None:
    a = ask("Combien de temps a duré l'appel du 3 juillet ?", settings=real_settings)
    assert a.language == "fr" and not a.abstained
    verdict = check(
        MARKER.sub("", a.answer), Gold.from_dict({"kind": "duration", "minutes": 60}), abstained=a.abstained
    )
    assert verdict.correct, (a.answer, verdict.why)
    assert {c.source for c in a.citations} & {"002_d8b1cb26158f392a.txt", "004_d1cd692374a06a9c.txt"}


def test_pope_question_from_python(real_settings: Settings) -> None:
    a = ask("Avec quel pape Poutine a-t-il parlé ?", settings=real_settings)
    assert "Léon XIV" in a.answer or "Leo XIV" in a.answer
    assert a.citations[0].source == "000_187088d26fc0e502.txt"


def test_cli_ask_json(real_settings: Settings) -> None:
    env = {**os.environ, "RAG_STORE_DIR": str(real_settings.store_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--json", "Which pope did Putin speak with?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["language"] == "en" and data["citations"] and "XIV" in data["answer"]
