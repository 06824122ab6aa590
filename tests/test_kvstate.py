"""The system text, evaluated once, is restored before each prompt and reused by the next
process (marked `model`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import kvstate
from rag.answer import SYSTEM_RETRY, build_messages
from rag.citations import Passage
from rag.llm import LlamaCppLLM
from rag.settings import Settings

PASSAGE = Passage(1, "a.txt", 0, 55, "Vladimir Poutine s'est entretenu avec le pape Léon XIV.", "t", "2025-06-04", 1.0)


def _answer(settings: Settings) -> str:
    llm = LlamaCppLLM(settings)  # a new engine, as in a new process
    try:
        messages = build_messages("Avec quel pape Poutine a-t-il parlé ?", [PASSAGE], "fr")
        return "".join(llm.stream(messages, max_tokens=24))
    finally:
        llm.close()


@pytest.mark.model
def test_second_engine_starts_from_the_first_ones_state(
    real_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.gguf"
    model.symlink_to(real_settings.model_path)  # the state is written next to the model file
    settings = real_settings.with_(llm_model=str(model))
    restored: list[int] = []
    real_load = kvstate.load

    def load(llama: object, path: Path) -> kvstate.Head | None:
        head = real_load(llama, path)
        restored.append(len(head.ids) if head is not None else 0)
        return head

    monkeypatch.setattr(kvstate, "load", load)
    first = _answer(settings)
    (saved,) = tmp_path.glob("model.gguf.kv-*.npz")
    second = _answer(settings)
    assert restored[0] == 0 and restored[1] > 50  # the system text
    # The very same answer: with or without the file, the system text is evaluated on its
    # own and the rest after it (llama.cpp's sums depend on how a prompt is split).
    assert second == first and "Léon XIV" in first

    saved.write_bytes(b"not a state")  # a damaged file is ignored: the system text is evaluated again
    assert _answer(settings) == first and restored[2] == 0


@pytest.mark.model
def test_an_answer_depends_only_on_its_prompt_not_on_the_prompts_before_it(
    real_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llama.cpp would reuse as much of the previous prompt as matches, and its sums depend
    on where a prompt is split: each prompt starts instead from its own system text."""
    model = tmp_path / "model.gguf"
    model.symlink_to(real_settings.model_path)
    llm = LlamaCppLLM(real_settings.with_(llm_model=str(model)))
    starts: list[int] = []
    real_restore = kvstate.restore

    def restore(llama: object, head: kvstate.Head) -> int:
        starts.append(real_restore(llama, head))
        return starts[-1]

    monkeypatch.setattr(kvstate, "restore", restore)
    asked = build_messages("Avec quel pape Poutine a-t-il parlé ?", [PASSAGE], "fr")
    same_passage = build_messages("Qui a parlé avec le pape Léon XIV ?", [PASSAGE], "fr")
    retry = [{"role": "system", "content": SYSTEM_RETRY}, asked[1]]
    try:
        first = "".join(llm.stream(asked, max_tokens=24))
        for before in (same_passage, retry):  # shares the passages; another system text
            "".join(llm.stream(before, max_tokens=8))
            assert "".join(llm.stream(asked, max_tokens=24)) == first
    finally:
        llm.close()
    # Evaluated for the first prompt, restored for the next three; the retry's head evaluated once.
    assert len(starts) == 3 and starts[0] > 50 and len(set(starts)) == 1
    assert "Léon XIV" in first


def test_state_name_changes_with_what_the_state_depends_on(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    head = [{"role": "system", "content": "Answer."}]
    name = kvstate.state_file(model, "engine", head)
    assert name == kvstate.state_file(model, "engine", head) and name.parent == tmp_path
    assert name != kvstate.state_file(model, "engine 2", head)
    assert name != kvstate.state_file(model, "engine", [{"role": "system", "content": "Answer!"}])
    model.write_bytes(b"GGUF2")
    assert name != kvstate.state_file(model, "engine", head)
