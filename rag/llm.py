"""LLM backends behind one streaming interface: llama.cpp in process (default) and Ollama.

Generation is serialised per model (one lock): two callers never interleave
tokens in one context, and the model loads once per process.

>>> llm = load_llm(Settings(llm="fake"))
>>> "".join(llm.stream([{"role": "user", "content": "Bonjour ?"}], max_tokens=8))  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from rag import kvstate
from rag.errors import ConfigError, LLMError, LLMUnavailable, ModelMissing
from rag.settings import Settings

Message = dict[str, str]
CONNECT_TIMEOUT_S = 5.0
# llama.cpp's flash attention: prompts of ~300 tokens evaluate 6.5% faster on this 2-core
# CPU (85.4 -> 91.0 tokens/s, 12 prompts of the eval set, interleaved, 2026-12-06).
FLASH_ATTENTION = True


class LLM(Protocol):
    """What the answer pipeline needs from a chat model."""

    id: str

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]: ...


class LlamaCppLLM:
    """The packaged GGUF run in process by llama-cpp-python.

    The system text at the head of every prompt is evaluated once and restored before
    each prompt (`rag.kvstate`): it costs nothing after the first question, and an
    answer depends only on its prompt, not on the prompts before it.
    """

    def __init__(self, settings: Settings) -> None:
        from rag.modelfile import SIZE

        path = settings.model_path
        if not path.is_file() or (path.stat().st_size != SIZE and settings.llm_model is None):
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
                flash_attn=FLASH_ATTENTION,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
            raise ModelMissing(f"cannot load {path} ({exc}); delete it and run: rag model") from None
        self.id = f"llama-cpp:{path.name}"
        self._path = path
        self._engine = (
            f"llama-cpp-python {getattr(sys.modules['llama_cpp'], '__version__', '?')} n_ctx={settings.context_tokens}"
            f" flash_attn={FLASH_ATTENTION}"
        )
        self._heads: dict[str, kvstate.Head | None] = {}  # evaluated system texts, restored before each prompt
        self._timeout = settings.llm_timeout_s
        self.lock = threading.Lock()
        # Free the model while the interpreter is whole: llama-cpp-python's own __del__ at
        # shutdown finds its C bindings gone and prints "Exception ignored ... TypeError".
        atexit.register(self.close)

    def close(self) -> None:
        """Release the model (idempotent)."""
        llama, self._llama = getattr(self, "_llama", None), None
        close = getattr(llama, "close", None)  # a stand-in engine (tests) may have none
        if close is not None:
            close()

    def _start_from_system_text(self, messages: list[Message]) -> None:
        """Restore the evaluated system text of `messages` (`rag.kvstate`): from memory, else
        from the state saved next to the model (the process's first prompt), else evaluated
        on its own (and saved, for the first prompt). Either way the rest of the prompt is
        evaluated after it in the same way, so answers depend on nothing but the prompt."""
        if not messages or messages[0].get("role") != "system":
            return
        system = messages[0]["content"]
        if system in self._heads:
            head = self._heads[system]
            if head is None or kvstate.restore(self._llama, head):  # None: this engine gives no state
                return
        self._llama.reset()
        state = kvstate.state_file(self._path, self._engine, messages[:1])
        head = kvstate.load(self._llama, state) if not self._heads else None
        if head is None:
            self._llama.reset()
            self._llama.create_chat_completion(messages=messages[:1], max_tokens=1, temperature=0.0, top_k=1)
            head = kvstate.snapshot(self._llama)
            if head is not None and not self._heads:
                kvstate.save(head, state)
        self._heads[system] = head

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        with self.lock:
            deadline = time.monotonic() + self._timeout
            try:
                self._start_from_system_text(messages)
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
    """A model served by Ollama (`RAG_LLM=ollama`, `OLLAMA_HOST`, `RAG_LLM_MODEL`, default `rag-qwen`).

    Nothing is sent until the first question, so a server that is down shows up
    as `LLMUnavailable` when asking (or in `rag doctor`), not at import. Every
    request carries the options that make answers reproducible and the context
    size the prompts are budgeted for: Ollama would otherwise cut long prompts
    to its own default silently.
    """

    def __init__(self, settings: Settings) -> None:
        self.host = settings.ollama_host
        self.model = settings.ollama_model
        self.id = f"ollama:{self.model}"
        self.timeout_s = settings.llm_timeout_s
        self.num_ctx = settings.context_tokens
        self._client = self._connect(self.timeout_s)

    def _connect(self, timeout_s: float) -> Any:
        import httpx
        import ollama

        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
        try:
            return ollama.Client(host=self.host, timeout=timeout)
        except ValueError as exc:
            example = "http://127.0.0.1:11434"
            raise ConfigError(f"OLLAMA_HOST={self.host!r} is not an address ({exc}); e.g. {example}") from None

    def stream(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Iterator[str]:
        """The answer's text pieces as Ollama sends them; raises rather than end an answer early."""
        options: dict[str, Any] = {"temperature": 0.0, "top_k": 1, "num_predict": max_tokens, "num_ctx": self.num_ctx}
        if stop:
            options["stop"] = stop
        deadline = time.monotonic() + self.timeout_s
        parts = self._client.chat(model=self.model, messages=messages, stream=True, options=options)
        done = False
        try:
            with self._errors_mapped(self.timeout_s):
                for part in parts:  # the request is sent on the first iteration
                    text = part.message.content if part.message else None
                    if text:
                        yield text
                    if part.done:
                        done = True
                        break
                    if time.monotonic() > deadline:
                        raise LLMError(
                            f"Ollama at {self.host} took more than {self.timeout_s:g} s to answer; "
                            "try again, with a shorter question or a faster server"
                        )
        finally:
            parts.close()  # hang up on the server whatever happened
        if not done:
            raise LLMError(f"Ollama at {self.host} ended the answer before it was complete; try again")

    def check(self, *, timeout_s: float = 5.0) -> str:
        """Reach the server and find the model: a one-line description, or the error `stream` would raise."""
        client = self._connect(timeout_s)
        with self._errors_mapped(timeout_s):
            listed = [m.model or "" for m in client.list().models]
            details = client.show(self.model).details
        about = [details.family, details.parameter_size, details.quantization_level] if details else []
        described = " ".join(x for x in about if x)
        names = ", ".join(listed[:5]) + (" ..." if len(listed) > 5 else "")
        return f"model {self.model!r} at {self.host}" + (f" ({described})" if described else "") + f"; served: {names}"

    @contextmanager
    def _errors_mapped(self, timeout_s: float) -> Iterator[None]:
        """Turn the client's exceptions into the project's errors, each saying what to do."""
        import httpx
        import ollama

        incomplete = "the answer is incomplete, try again"
        try:
            yield
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelMissing(
                    f"model {self.model!r} not found on the Ollama server at {self.host}: run "
                    f"`ollama create {self.model} -f Modelfile` in the rag checkout (after `rag model`), "
                    f"or `ollama pull {self.model}`, or set RAG_LLM_MODEL to a model the server has"
                ) from None
            if exc.status_code == -1:  # an {"error": ...} line in the middle of the stream
                raise LLMError(f"Ollama at {self.host} failed mid-answer ({exc.error}); {incomplete}") from None
            raise LLMError(f"Ollama at {self.host} refused the request ({exc.error}, HTTP {exc.status_code})") from None
        except (httpx.ConnectError, httpx.ConnectTimeout, ConnectionError) as exc:
            raise LLMUnavailable(
                f"Ollama not reachable at {self.host} ({type(exc).__name__}); start it with `ollama serve` "
                "or point OLLAMA_HOST at a running server"
            ) from None
        except httpx.TimeoutException:
            silent = f"sent nothing for {timeout_s:g} s"
            raise LLMError(f"Ollama at {self.host} {silent}; try again, or use a faster server") from None
        except (httpx.HTTPError, ValueError) as exc:  # dropped connection, truncated or malformed line
            raise LLMError(f"Ollama at {self.host} broke off ({type(exc).__name__}: {exc}); {incomplete}") from None


_CACHE: dict[tuple[str, str, str], LLM] = {}
_CACHE_LOCK = threading.Lock()


def load_llm(settings: Settings) -> LLM:
    """The configured LLM, loaded once per process (an Ollama client is remade if its timeout changed)."""
    key = (settings.llm, str(settings.llm_model), settings.ollama_host)
    with _CACHE_LOCK:
        llm = _CACHE.get(key)
        if llm is None or not _still_fits(llm, settings):
            llm = _CACHE[key] = _build(settings)
        return llm


def _still_fits(llm: LLM, settings: Settings) -> bool:
    if isinstance(llm, OllamaLLM):
        return (llm.timeout_s, llm.num_ctx) == (settings.llm_timeout_s, settings.context_tokens)
    return True


def _build(settings: Settings) -> LLM:
    """One backend per `RAG_LLM` value: the rest of the code never asks which one it got."""
    if settings.llm == "ollama":
        return OllamaLLM(settings)
    if settings.llm == "fake":
        from rag.fakes import FakeLLM

        return FakeLLM()
    return LlamaCppLLM(settings)
