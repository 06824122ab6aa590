"""`RAG_CHROMA_URL`: the same pipeline against a real Chroma server started from the installed package.

The server runs for the module on 127.0.0.1 and a free port, and is always stopped.
Each test uses its own collection, so tests do not see each other's chunks.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag import Answer, IndexMissing, Settings, StoreUnavailable, ask, ingest
from rag.answer import _retriever
from rag.doctor import run_checks
from rag.settings import DEFAULT_COLLECTION

QUESTION = "Avec quel pape Poutine s'est-il entretenu par téléphone ?"
CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on 127.0.0.1, up once its heartbeat answers; stopped (and killed if need be) at the end."""
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: reinstall chromadb (make install)")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    command = [str(CHROMA), "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with (root / "server.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_for_heartbeat(url, server, root / "server.log")
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for_heartbeat(url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"chroma run exited with {server.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no heartbeat from the Chroma server at {url} after {timeout_s:.0f} s")


@pytest.fixture
def settings(chroma_url: str, corpus: Path, tmp_path: Path) -> Settings:
    """Made from the environment, as users make it: RAG_CHROMA_URL is the only switch."""
    env = {
        "RAG_CHROMA_URL": chroma_url,
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_STORE_DIR": str(tmp_path / "client-a"),
        "RAG_EMBEDDER": "fake",
        "RAG_LLM": "fake",
    }
    return Settings.from_env(env).with_(collection=f"test-{uuid.uuid4().hex[:12]}")


def server_collection(settings: Settings) -> object:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(str(settings.chroma_url).rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_collection(settings.collection, embedding_function=None)


def test_ingest_and_ask_through_the_server(settings: Settings) -> None:
    report = ingest(settings=settings)
    assert len(report.added) == 5 and report.chunks > 5
    answer = ask(QUESTION, settings=settings)
    assert not answer.abstained and "Léon XIV" in answer.answer
    assert answer.citations[0].source == "000_187088d26fc0e502.txt"
    collection = server_collection(settings)
    assert collection.count() == report.chunks  # type: ignore[attr-defined]
    assert collection.metadata["embedder"] == "fake-hash-384"  # type: ignore[attr-defined]
    local = sorted(p.name for p in settings.store_dir.iterdir())
    assert "chroma.sqlite3" not in local and "lexical" in local  # vectors on the server, BM25 kept locally
    again = ingest(settings=settings)
    assert not again.changed and again.embedded == 0  # incremental against the server too


def test_a_second_client_reads_the_same_index(settings: Settings, tmp_path: Path) -> None:
    ingest(settings=settings)
    other = settings.with_(store_dir=tmp_path / "client-b")  # another machine: nothing local yet
    answer = ask(QUESTION, settings=other)
    assert answer.citations[0].source == "000_187088d26fc0e502.txt"
    assert (other.store_dir / "lexical" / "ids.json").exists()  # its BM25 index, rebuilt from the server's chunks


def test_missing_collection_says_run_ingest(settings: Settings) -> None:
    with pytest.raises(IndexMissing, match="rag ingest"):
        ask(QUESTION, settings=settings)


def test_server_down_is_store_unavailable(settings: Settings) -> None:
    down = settings.with_(chroma_url=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"no Chroma server answers at http://127\.0\.0\.1:\d+.*chroma run"):
        ingest(settings=down)
    assert time.monotonic() - started < 10


def test_doctor_sees_the_server(settings: Settings) -> None:
    ingest(settings=settings)
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["chroma server"].ok and str(settings.chroma_url) in checks["chroma server"].detail
    assert checks["index"].ok and "chunks from 5 files" in checks["index"].detail


def test_asks_keep_working_while_another_process_ingests(settings: Settings, tmp_path: Path) -> None:
    """Client B asks from two threads while client A, another process (`rag ingest`), adds 41 articles."""
    settings = settings.with_(collection=DEFAULT_COLLECTION)  # what the CLI uses; no other test does
    before = ingest(settings=settings).chunks
    reader = settings.with_(store_dir=tmp_path / "client-b")
    for i in range(40):
        sentence = f"Le {i} juin, il a plu {i} millimètres à Lyon selon Météo-France. "
        text = f"Article {i} sur la météo à Lyon.\n" + sentence * 12
        (settings.corpus_dir / f"meteo_{i:02d}.txt").write_text(text, encoding="utf-8")
    (settings.corpus_dir / "marseille.txt").write_text(
        "Le port de Marseille a accueilli 512 navires de croisière en 2024, un record selon la capitainerie.",
        encoding="utf-8",
    )
    writer = _start_cli_ingest(settings)
    answers: list[Answer] = []
    seen: set[int] = set()  # chunk counts client B saw on the server
    errors: list[BaseException] = []

    def keep_asking() -> None:
        while writer.poll() is None or len(answers) < 4:
            try:
                answers.append(ask(QUESTION, settings=reader))
                seen.add(_retriever(reader).store.count())
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
                return

    threads = [threading.Thread(target=keep_asking) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        out, err = writer.communicate(timeout=120)
    finally:
        for t in threads:
            t.join(timeout=60)
    assert writer.returncode == 0, err
    assert "41 added" in out, out
    assert not errors, errors
    assert len(answers) >= 4 and all(a.citations[0].source == "000_187088d26fc0e502.txt" for a in answers)
    late = ask("Combien de navires de croisière le port de Marseille a-t-il accueillis ?", settings=reader)
    assert late.citations and late.citations[0].source == "marseille.txt"  # B sees A's new chunks
    after = _retriever(reader).store.count()
    assert any(before < n < after for n in seen), sorted(seen)  # B read while A was half-way through writing


def _start_cli_ingest(settings: Settings) -> subprocess.Popen[str]:
    """`rag ingest` in its own process, configured only through the environment (default collection)."""
    rag = shutil.which("rag", path=str(Path(sys.executable).parent))
    assert rag, "the rag console script is not installed in the venv"
    env = {
        **os.environ,
        "RAG_CHROMA_URL": str(settings.chroma_url),
        "RAG_CORPUS_DIR": str(settings.corpus_dir),
        "RAG_STORE_DIR": str(settings.store_dir),
        "RAG_EMBEDDER": "fake",
        "RAG_LLM": "fake",
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.Popen([rag, "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
