"""`kill -9` of an ingest at random points, then a re-ingest: the store opens, holds exactly what a
clean build holds (no duplicates, no stale chunks) and answers queries.

The random test runs `python -m rag.cli ingest` in a child process and SIGKILLs it at a random
moment after it takes the write lock (seed printed; `RAG_KILL_SEED=N` replays a run). The fast
tests below build the half-written states a kill can leave and check that one ingest repairs them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability import expected_index, kill_scenario, make_corpus

from rag import Settings, ingest
from rag.chunking import chunk_text
from rag.documents import read_document
from rag.fakes import FakeEmbedder
from rag.retrieval import Retriever
from rag.store import Store


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A directory in RAM when there is one: a kill loses the process, not the page cache, so
    fsync adds nothing to this test but minutes."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="rag-kill-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_ingest_killed_at_ten_random_points_always_recovers(fast_tmp: Path) -> None:
    seed = int(os.environ.get("RAG_KILL_SEED", time.time_ns() % 1_000_000))
    print(f"kill test seed: {seed} (RAG_KILL_SEED={seed} replays it)")
    points = kill_scenario(fast_tmp, points=10, seed=seed)
    assert len(points) >= 10
    assert [p for p in points if not p.survived] == []
    phases = [p.phase for p in points]
    print({phase: phases.count(phase) for phase in sorted(set(phases))})
    assert "between writes" in phases, "no kill interrupted the writes half-way: the targeting is off"
    settings = Settings(corpus_dir=fast_tmp / "corpus", store_dir=fast_tmp / "clean", embedder="fake")
    report = ingest(settings=settings)  # a clean build of the final corpus is what the checks compared to
    assert report.chunks == len(expected_index(settings))


# ---------------------------------------------------------------------------- half-written states


@pytest.fixture
def built(tmp_path: Path) -> Settings:
    settings = Settings(corpus_dir=tmp_path / "corpus", store_dir=tmp_path / "store", embedder="fake", chunk_chars=200)
    make_corpus(settings.corpus_dir, 6, sentences=12)
    ingest(settings=settings)
    return settings


def held(settings: Settings) -> dict[str, tuple[str, str]]:
    got = Store(settings, "fake-hash-384", 384).collection.get(include=["metadatas"])
    return {i: (m["source"], m["sha256"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}


def test_killed_between_delete_and_add_the_file_comes_back(built: Settings) -> None:
    Store(built, "fake-hash-384", 384).remove_file("a002.txt")
    report = ingest(settings=built)
    assert report.added == ["a002.txt"] and held(built) == expected_index(built)


def test_killed_halfway_through_a_files_chunks_it_is_rewritten(built: Settings) -> None:
    store = Store(built, "fake-hash-384", 384)
    ids = [i for i, (source, _) in held(built).items() if source == "a003.txt"]
    assert len(ids) > 2
    store.collection.delete(ids=ids[: len(ids) // 2])
    report = ingest(settings=built)
    assert report.updated == ["a003.txt"] and held(built) == expected_index(built)


def test_two_versions_of_a_file_left_by_a_kill_become_one(built: Settings) -> None:
    path = built.corpus_dir / "a004.txt"
    old = read_document(path, built.corpus_dir)
    path.write_text(old.text + "\nUne phrase ajoutée après coup.\n", encoding="utf-8")
    new = read_document(path, built.corpus_dir)
    chunks = chunk_text(new.source, new.sha256, new.text, max_chars=built.chunk_chars)
    store = Store(built, "fake-hash-384", 384)
    store.collection.add(  # the new version's chunks written next to the old ones
        ids=[c.id for c in chunks],
        embeddings=FakeEmbedder().embed_passages([c.text for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[{"source": new.source, "sha256": new.sha256, "n_chunks": len(chunks), "start": c.start, "end": c.end}
                   for c in chunks],
    )  # fmt: skip
    report = ingest(settings=built)
    assert report.updated == ["a004.txt"]
    assert held(built) == expected_index(built)
    assert {sha for source, sha in held(built).values() if source == "a004.txt"} == {new.sha256}


def test_a_stale_or_missing_bm25_index_is_rebuilt_by_readers(built: Settings) -> None:
    lexical = built.store_dir / "lexical"
    shutil.rmtree(lexical)
    (built.store_dir / "lexical.tmp").mkdir()  # a kill between the writes of `LexicalIndex.save`
    hits = Retriever.open(built).search("réforme des retraites", k=3, mode="bm25")
    assert hits and (lexical / "ids.json").exists()
