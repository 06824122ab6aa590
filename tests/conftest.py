"""Shared fixtures. Tests never reach the network: only loopback and Unix sockets connect."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from rag import llm as llm_module
from rag.settings import PROJECT_DIR, Settings

CORPUS = PROJECT_DIR / "corpus"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", "") or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded(real: Any) -> Any:
    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
            raise ConnectionRefusedError(f"tests may not reach the network (tried {address!r})")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the project's five articles (and their metadata)."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, corpus: Path) -> Settings:
    """Settings on the fake embedder and fake LLM, with a private corpus and store."""
    return Settings(corpus_dir=corpus, store_dir=tmp_path / "store", embedder="fake", llm="fake")


@pytest.fixture
def use_llm() -> Iterator[Any]:
    """Install a given LLM object for the `fake` backend: `use_llm(FakeLLM(delay_s=1))`."""
    saved = dict(llm_module._CACHE)

    def install(llm: Any) -> Any:
        for key in [k for k in llm_module._CACHE if k[0] == "fake"]:
            del llm_module._CACHE[key]
        llm_module._CACHE[("fake", "None", Settings().ollama_host)] = llm
        return llm

    yield install
    llm_module._CACHE.clear()
    llm_module._CACHE.update(saved)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The packaged models over a private index of the five articles (built once per session)."""
    from rag.ingest import ingest
    from rag.modelfile import is_valid

    settings = Settings(store_dir=tmp_path_factory.mktemp("real-store"))
    if not is_valid(settings.model_path):
        pytest.fail(f"model file {settings.model_path} missing: run `make model` (make test does it)")
    ingest(settings=settings)
    return settings
