"""LLM backends behind one streaming interface: llama.cpp in process (default) and Ollama.

Generation is serialised per model (one lock): two callers never interleave
tokens in one context, and the model loads once per process.

>>> llm = load_llm(Settings(llm="fake"))
>>> "".join(llm.stream([{"role": "user", "content": "Bonjour ?"}], max_tokens=8))  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from rag.errors import LLMError, LLMUnavailable, ModelMissing
from rag.settings import Settings

Message = dict[str, str]


class LLM(Protocol):
    """What the answer pipeline needs from a chat model."""

    id: str

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]: ...


class LlamaCppLLM:
    """The packaged GGUF run in process by llama-cpp-python.

    llama.cpp keeps the KV cache of the previous prompt and re-evaluates only what
    differs, so the fixed system text at the head of every prompt costs nothing
    after the first question.
    """

    def __init__(self, settings: Settings) -> None:
        from rag.modelfile import SIZE

        path = settings.model_path
        if not path.is_file() or path.stat().st_size != SIZE and settings.llm_model is None:
            raise ModelMissing(f"model file {path} is missing or incomplete; run: rag model (or make chat)")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMUnavailable(f"llama-cpp-python is not installed ({exc}); run: make chat") from None
        try:
            self._llama: Any = Llama(
                model_path=str(path),
                n_ctx=settings.context_tokens,
                n_threads=settings.threads,
                n_batch=512,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
            raise ModelMissing(f"cannot load {path} ({exc}); delete it and run: rag model") from None
        self.id = f"llama-cpp:{path.name}"
        self._timeout = settings.llm_timeout_s
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        with self.lock:
            deadline = time.monotonic() + self._timeout
            try:
                chunks = self._llama.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=0.0, top_k=1, stream=True, stop=stop or []
                )
                for chunk in chunks:
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        yield text
                    if time.monotonic() > deadline:
                        raise LLMError(f"the model took more than {self._timeout:.0f} s; try a shorter question")
            except LLMError:
                raise
            except Exception as exc:
                raise LLMError(f"the model failed while answering ({exc})") from None


class OllamaLLM:
    """A model served by Ollama (`RAG_LLM=ollama`, `OLLAMA_HOST`, `RAG_LLM_MODEL`)."""

    def __init__(self, settings: Settings) -> None:
        import ollama

        self.host = settings.ollama_host
        self.model = settings.ollama_model
        self.id = f"ollama:{self.model}"
        self._client = ollama.Client(host=self.host, timeout=settings.llm_timeout_s)
        self.lock = threading.Lock()

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        import httpx
        import ollama

        options: dict[str, Any] = {"temperature": 0.0, "top_k": 1, "num_predict": max_tokens}
        if stop:
            options["stop"] = stop
        try:
            for part in self._client.chat(model=self.model, messages=messages, stream=True, options=options):
                text = part.message.content if part.message else None
                if text:
                    yield text
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelMissing(
                    f"model {self.model!r} not found on the Ollama server at {self.host}: run "
                    f"`ollama create {self.model} -f Modelfile` (or `ollama pull {self.model}`)"
                ) from None
            raise LLMError(f"Ollama at {self.host} failed: {exc.error}") from None
        except (httpx.ConnectError, ConnectionError) as exc:
            raise LLMUnavailable(f"Ollama not reachable at {self.host} ({exc}); start it with `ollama serve` or fix OLLAMA_HOST") from None
        except httpx.TimeoutException:
            raise LLMError(f"Ollama at {self.host} did not answer in time; try again or raise the timeout") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"Ollama at {self.host} failed mid-answer ({exc}); the answer is incomplete") from None


_CACHE: dict[tuple[str, str, str], LLM] = {}
_CACHE_LOCK = threading.Lock()


def load_llm(settings: Settings) -> LLM:
    """The configured LLM, loaded once per process."""
    key = (settings.llm, str(settings.llm_model), settings.ollama_host)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(settings)
        return _CACHE[key]


def _build(settings: Settings) -> LLM:
    if settings.llm == "ollama":
        return OllamaLLM(settings)
    if settings.llm == "fake":
        from rag.fakes import FakeLLM

        return FakeLLM()
    return LlamaCppLLM(settings)
