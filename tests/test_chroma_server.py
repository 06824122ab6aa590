"""`RAG_CHROMA_URL`: the same pipeline against a real Chroma server started from the installed package.

The server runs for the module on 127.0.0.1 and a free port, and is always stopped
(in server mode, `RAG_TEST_CHROMA=server`, the session's server is used instead).
Each test uses its own collection, so tests do not see each other's chunks.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import ServerError, chroma_server, free_port

from rag import Answer, IndexIncompatible, IndexMissing, Settings, StoreUnavailable, ask, ingest
from rag.answer import _retriever
from rag.corpus import status
from rag.doctor import run_checks
from rag.fakes import FakeEmbedder
from rag.retrieval import Retriever
from rag.settings import DEFAULT_COLLECTION

QUESTION = "Avec quel pape Poutine s'est-il entretenu par téléphone ?"


@pytest.fixture(scope="module")
def chroma_url(chroma_for_tests: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's server in server mode, else `chroma run` for this module (see tests/servers.py)."""
    if chroma_for_tests:
        yield chroma_for_tests
        return
    try:
        with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
            yield url
    except ServerError as exc:
        pytest.fail(str(exc))


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


def test_rag_chroma_collection_keeps_two_indexes_apart_on_one_server(settings: Settings, tmp_path: Path) -> None:
    """`RAG_CHROMA_COLLECTION`: two corpora on one server, each in its own collection."""
    other_corpus = tmp_path / "other-corpus"
    other_corpus.mkdir()
    (other_corpus / "lyon.txt").write_text("Le maire de Lyon a inauguré le pont Raymond-Barre le 12 mars.", "utf-8")
    env = {"RAG_CHROMA_URL": str(settings.chroma_url), "RAG_CHROMA_COLLECTION": f"{settings.collection}-lyon",
           "RAG_CORPUS_DIR": str(other_corpus), "RAG_STORE_DIR": str(tmp_path / "client-lyon"),
           "RAG_EMBEDDER": "fake", "RAG_LLM": "fake"}  # fmt: skip
    lyon = Settings.from_env(env)
    assert lyon.collection == f"{settings.collection}-lyon"
    assert ingest(settings=settings).chunks > 5 and ingest(settings=lyon).chunks == 1
    assert ask(QUESTION, settings=settings).citations[0].source == "000_187088d26fc0e502.txt"  # still all five
    assert {c.source for c in ask("Quel pont le maire de Lyon a-t-il inauguré ?", settings=lyon).citations} == {
        "lyon.txt"
    }
    assert server_collection(settings).count() > 5  # type: ignore[attr-defined]


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


def test_another_embedder_is_refused_with_the_servers_rebuild_hint(settings: Settings) -> None:
    ingest(settings=settings)
    other = FakeEmbedder("another-model")
    hint = f"delete the collection {settings.collection!r} on the server, then run: rag ingest"
    with pytest.raises(IndexIncompatible, match="fake-hash-384") as refused:
        Retriever.open(settings, embedder=other)
    assert "another-model-384" in str(refused.value) and hint in str(refused.value)
    with pytest.raises(IndexIncompatible, match="rag ingest"):
        ingest(settings=settings, embedder=other)
    assert Retriever.open(settings).search("pape", k=1), "the refused writer changed nothing"
    checks = {c.name: c for c in run_checks(settings.with_(embedder="fake"))}
    assert checks["index"].ok


def test_corpus_status_reads_the_server(settings: Settings) -> None:
    before = status(settings)
    assert (before.articles, before.chunks, before.indexed, len(before.pending)) == (5, 0, False, 5)
    report = ingest(settings=settings)
    after = status(settings)
    assert after.indexed and after.chunks == report.chunks and after.indexed_articles == 5 and after.pending == []
    assert after.last_indexed is None  # the local BM25 copy's time would not say when the server's index changed


def test_a_client_killed_mid_ingest_leaves_what_the_next_ingest_heals(settings: Settings, tmp_path: Path) -> None:
    """`kill -9` of `rag ingest` while it writes to the server; the next ingest makes the collection
    equal to a clean build (the server keeps the half-written state, the chunks' hashes heal it)."""
    for i in range(40):
        sentence = f"Le {i} juin, il a plu {i} millimètres à Lyon selon Météo-France. "
        (settings.corpus_dir / f"meteo_{i:02d}.txt").write_text(f"Article {i}.\n" + sentence * 12, encoding="utf-8")
    clean = settings.with_(collection=f"{settings.collection}-clean", store_dir=tmp_path / "clean")
    ingest(settings=clean)
    expected = _chunk_index(clean)
    writer = _start_cli_ingest(settings, collection=settings.collection)
    deadline = time.monotonic() + 120
    while writer.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # no collection yet
            if server_collection(settings).count():  # type: ignore[attr-defined]
                writer.send_signal(signal.SIGKILL)
                break
        time.sleep(0.01)
    writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL, "the ingest ended before it could be killed mid-way"
    assert 0 < len(_chunk_index(settings)) < len(expected)  # half-written
    report = ingest(settings=settings)
    assert report.added and _chunk_index(settings) == expected
    assert ask(QUESTION, settings=settings).citations[0].source == "000_187088d26fc0e502.txt"


def _chunk_index(settings: Settings) -> dict[str, tuple[str, str]]:
    got = server_collection(settings).get(include=["metadatas"])  # type: ignore[attr-defined]
    return {i: (m["source"], m["sha256"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}


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


def _start_cli_ingest(settings: Settings, collection: str | None = None) -> subprocess.Popen[str]:
    """`rag ingest` in its own process, configured only through the environment (default collection)."""
    rag = shutil.which("rag", path=str(Path(sys.executable).parent))
    assert rag, "the rag console script is not installed in the venv"
    env = {
        **{k: v for k, v in os.environ.items() if k != "RAG_CHROMA_COLLECTION"},
        **({"RAG_CHROMA_COLLECTION": collection} if collection else {}),
        "RAG_CHROMA_URL": str(settings.chroma_url),
        "RAG_CORPUS_DIR": str(settings.corpus_dir),
        "RAG_STORE_DIR": str(settings.store_dir),
        "RAG_EMBEDDER": "fake",
        "RAG_LLM": "fake",
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.Popen([rag, "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
