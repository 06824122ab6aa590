"""The Ollama backend against a fake Ollama server on 127.0.0.1, and the shipped Modelfile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_ollama import REPLY, FakeModel, FakeOllama, chat_prompt, model_from_modelfile

from rag import LLMError, LLMUnavailable, ModelMissing, Settings, ask, ingest
from rag import llm as llm_module
from rag.answer import SYSTEM, build_messages
from rag.llm import OllamaLLM, load_llm
from rag.settings import DEFAULT_OLLAMA_MODEL, MODEL_FILE_NAME, PROJECT_DIR

MODELFILE = PROJECT_DIR / "Modelfile"
QUESTION = "Avec quel pape Poutine s'est-il entretenu par téléphone ?"
QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
CONVERSATIONS: list[list[dict[str, str]]] = [
    [{"role": "system", "content": "Réponds en français."}, {"role": "user", "content": "Qui ?\nLe pape Léon XIV."}],
    [{"role": "user", "content": "How long did the call last?"}],
    [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Quand ?"},
        {"role": "assistant", "content": "Mercredi [1]."},
        {"role": "user", "content": "  Et où ?  \n"},
    ],
]


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    """A fake Ollama serving `rag-qwen` created from the repository's Modelfile; always stopped."""
    with FakeOllama() as fake:
        fake.create(DEFAULT_OLLAMA_MODEL, MODELFILE.read_text(encoding="utf-8"))
        yield fake
    for key in [k for k in llm_module._CACHE if k[0] == "ollama"]:
        del llm_module._CACHE[key]


@pytest.fixture
def settings(fake_settings: Settings, server: FakeOllama) -> Settings:
    """The fake embedder, the Ollama backend on the fake server, an index of the five articles."""
    ingest(settings=fake_settings)
    return fake_settings.with_(llm="ollama", ollama_host=server.host, llm_timeout_s=10.0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_one_variable_switches_to_ollama(server: FakeOllama) -> None:
    settings = Settings.from_env({"RAG_LLM": "ollama", "OLLAMA_HOST": server.host, "RAG_LLM_MODEL": "rag-qwen"})
    llm = load_llm(settings)
    assert isinstance(llm, OllamaLLM)
    assert (llm.host, llm.model, llm.id) == (server.host, "rag-qwen", "ollama:rag-qwen")
    assert load_llm(settings) is llm
    assert load_llm(settings.with_(llm_timeout_s=3.0)) is not llm  # a new timeout gets a new client


def test_ask_streams_through_ollama_and_cites_the_article(settings: Settings, server: FakeOllama) -> None:
    tokens: list[str] = []
    answer = ask(QUESTION, settings=settings, on_token=tokens.append)
    assert len(tokens) > 3 and "".join(tokens) == REPLY  # streamed piece by piece
    assert not answer.abstained and "Léon XIV" in answer.answer
    assert answer.citations and answer.citations[0].source == "000_187088d26fc0e502.txt"
    assert "Léon XIV" in answer.citations[0].text
    (request,) = server.chats()
    assert request.body["model"] == "rag-qwen" and request.body["stream"] is True
    options = request.body["options"]
    assert options["temperature"] == 0 and options["num_predict"] == settings.max_answer_tokens
    assert options["num_ctx"] == settings.context_tokens  # never Ollama's own, shorter default
    assert [m["role"] for m in request.body["messages"]] == ["system", "user"]
    assert QUESTION in request.body["messages"][1]["content"]
    (prompt,) = server.prompts
    assert prompt.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n<passages>\n")
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_stream_passes_stop_and_token_limit(settings: Settings, server: FakeOllama) -> None:
    llm = OllamaLLM(settings)
    pieces = list(llm.stream([{"role": "user", "content": "Bonjour"}], max_tokens=3, stop=["\n\n"]))
    assert "".join(pieces) == "Poutine s'est entretenu "
    assert server.chats()[-1].body["options"]["stop"] == ["\n\n"]


def test_unknown_model_says_how_to_create_it(settings: Settings, server: FakeOllama) -> None:
    with pytest.raises(ModelMissing, match=r"'qwen-inconnu' not found.*ollama create qwen-inconnu -f Modelfile"):
        ask(QUESTION, settings=settings.with_(llm_model="qwen-inconnu"))
    assert server.chats()[-1].body["model"] == "qwen-inconnu"


def test_server_down_is_llm_unavailable_at_once(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    host = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=rf"Ollama not reachable at {host}.*ollama serve"):
        ask(QUESTION, settings=fake_settings.with_(llm="ollama", ollama_host=host))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("mode", ["error", "drop", "no-done"])
def test_failure_mid_stream_raises_instead_of_answering(settings: Settings, server: FakeOllama, mode: str) -> None:
    server.mode = mode
    tokens: list[str] = []
    result: Any = None
    with pytest.raises(LLMError, match=r"Ollama at .*(incomplete|before it was complete)"):
        result = ask(QUESTION, settings=settings, on_token=tokens.append)
    assert result is None  # no Answer, so no partial text passed off as the answer
    assert tokens  # the tokens that had arrived were streamed, and then the error came
    if mode != "no-done":
        assert len("".join(tokens)) < len(REPLY)


def test_silent_server_times_out(settings: Settings, server: FakeOllama) -> None:
    server.stall_s = 30
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"sent nothing for 0\.5 s"):
        ask(QUESTION, settings=settings.with_(llm_timeout_s=0.5))
    assert time.monotonic() - started < 5


def test_slow_answer_is_cut_at_the_deadline(settings: Settings, server: FakeOllama) -> None:
    server.token_delay_s = 0.4  # each piece arrives in time, the whole answer does not
    started = time.monotonic()
    with pytest.raises(LLMError, match="took more than 1 s"):
        ask(QUESTION, settings=settings.with_(llm_timeout_s=1.0))
    assert time.monotonic() - started < 5


def test_check_finds_the_model_or_says_what_is_wrong(settings: Settings, server: FakeOllama) -> None:
    assert "model 'rag-qwen' at" in OllamaLLM(settings).check() and "qwen2 1.5B Q4_K_M" in OllamaLLM(settings).check()
    with pytest.raises(ModelMissing, match="ollama pull absent"):
        OllamaLLM(settings.with_(llm_model="absent")).check()
    with pytest.raises(LLMUnavailable):
        OllamaLLM(settings.with_(ollama_host=f"127.0.0.1:{closed_port()}")).check(timeout_s=1)
    assert [r.path for r in server.requests[:2]] == ["/api/tags", "/api/show"]


def test_fake_server_speaks_the_protocol(server: FakeOllama) -> None:
    import httpx

    assert httpx.get(f"{server.host}/api/version").json()["version"]
    tags = httpx.get(f"{server.host}/api/tags").json()["models"]
    assert [m["name"] for m in tags] == ["rag-qwen:latest"]
    missing = httpx.post(f"{server.host}/api/show", json={"model": "x"})
    assert missing.status_code == 404 and missing.json() == {"error": "model 'x' not found"}
    whole = httpx.post(f"{server.host}/api/chat", json={"model": "rag-qwen", "messages": [], "stream": False}).json()
    assert whole["done"] is True and whole["message"]["content"] == REPLY and whole["eval_count"] > 3


# ---------------------------------------------------------------- Modelfile


def modelfile_model() -> FakeModel:
    return model_from_modelfile("rag-qwen", MODELFILE.read_text(encoding="utf-8"))


def test_modelfile_serves_the_packaged_gguf_with_its_settings() -> None:
    model = modelfile_model()
    assert model.source == f"./models/{MODEL_FILE_NAME}"
    assert "<|im_end|>" in model.parameters["stop"]
    assert model.parameters["temperature"] == ["0"] and model.parameters["num_ctx"] == ["4096"]
    assert model.system == QWEN_SYSTEM
    assert f"ollama create {DEFAULT_OLLAMA_MODEL} -f Modelfile" in MODELFILE.read_text(encoding="utf-8")


def chatml(messages: list[dict[str, str]]) -> str:
    """Qwen2.5's ChatML, written out by hand (default system text when there is none)."""
    if messages[0]["role"] != "system":
        messages = [{"role": "system", "content": QWEN_SYSTEM}, *messages]
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_modelfile_template_renders_qwen_chatml(messages: list[dict[str, str]]) -> None:
    assert chat_prompt(modelfile_model(), messages) == chatml(messages)


@pytest.mark.model
def test_modelfile_template_matches_the_gguf_chat_template() -> None:
    """Ollama's prompt == the prompt llama.cpp builds from the GGUF's own `tokenizer.chat_template`."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    path: Path = Settings().model_path
    if not path.is_file():
        pytest.fail(f"model file {path} missing: run `make model` (make test does it)")
    vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
    template = vocab.metadata["tokenizer.chat_template"]
    eos = vocab._model.token_get_text(vocab.token_eos())
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")
    passages: list[Any] = []
    conversations = [*CONVERSATIONS, build_messages(QUESTION, passages, "fr")]
    for messages in conversations:
        conversation: Any = messages
        assert chat_prompt(modelfile_model(), messages) == formatter(messages=conversation).prompt
