"""Shared fixtures. Tests never reach the network: only loopback and Unix sockets connect.

`RAG_TEST_CHROMA=server pytest ...` runs the suite against one real Chroma server
(`chroma run` on 127.0.0.1, started for the session and stopped at the end) instead of
the embedded store; `make test` does a second pass that way. In that mode every
`Settings` a test makes without a Chroma URL gets the session's server and a collection
of its own, named after its `store_dir` (`collection_for`): one store directory, one
index, as with the embedded store, so tests never see each other's chunks. Child
processes made by `reliability.fake_env` get the same two settings through
`RAG_CHROMA_URL` and `RAG_CHROMA_COLLECTION`. The few tests that are about the embedded
files themselves are skipped, with the reason, in `EMBEDDED_ONLY`.
"""

from __future__ import annotations

import hashlib
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

from servers import ServerError, chroma_server

from rag import llm as llm_module
from rag.settings import DEFAULT_COLLECTION, PROJECT_DIR, Settings

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


# --- the vector store under test: embedded (default) or one Chroma server (RAG_TEST_CHROMA=server) ---

CHROMA_MODE = os.environ.get("RAG_TEST_CHROMA", "").strip() or "embedded"
SERVER_MODE = CHROMA_MODE == "server"
COLLECTION_PREFIX = "store-"
_SERVER: dict[str, str] = {}  # {"url": ...} while the session's server runs

# Tests about the embedded store itself, skipped in server mode. Keys are node ids (with
# every parametrisation). The last five only assert what the embedded store says; the
# server's version of each, and of the kill test, is in tests/test_chroma_server.py.
EMBEDDED_ONLY: dict[str, str] = {
    "tests/test_crash.py::test_ingest_killed_at_ten_random_points_always_recovers":
        "times its kills from the embedded store's sqlite write log (test_chroma_server kills a server client)",
    "tests/test_faults.py::test_damaged_store_never_crashes_and_says_how_to_rebuild":
        "damages the embedded store's sqlite and HNSW files on disk",
    "tests/test_faults.py::test_segfaulting_store_is_caught_by_the_probe_in_process":
        "the crash probe guards Chroma's in-process HNSW loader, which a server client never runs",
    "tests/test_faults.py::test_the_writers_probe_adds_and_deletes_and_leaves_a_sound_store_as_it_was":
        "the crash probe guards Chroma's in-process HNSW writer, which a server client never runs",
    "tests/test_faults.py::test_a_store_whose_check_hangs_counts_as_damaged_and_ingest_rebuilds_it":
        "the crash probe guards Chroma's in-process HNSW loader, which a server client never runs",
    "tests/test_faults.py::test_an_ingest_that_dies_while_writing_leaves_the_store_to_be_checked":
        "the crash probe's record is the embedded store's (a server client never probes)",
    "tests/test_faults.py::test_ingest_rebuilds_a_damaged_store_from_the_corpus":
        "damages the embedded store's HNSW files on disk (a server keeps its own)",
    "tests/test_faults.py::test_read_only_store_gets_a_clear_message":
        "a read-only embedded store directory (Chroma writes its sqlite file even to answer)",
    "tests/test_bench.py::test_bench_on_fakes_writes_every_section_with_sane_numbers":
        "`rag bench` always measures the embedded store on scratch indexes (it drops RAG_CHROMA_URL)",
    "tests/test_faults.py::test_another_embedder_is_refused_with_the_rebuild_command":
        "asserts the embedded rebuild hint `rm -rf DIR` (a server's hint names the collection)",
    "tests/test_doctor.py::test_index_of_another_embedder_says_rebuild":
        "asserts the embedded rebuild hint `rm -rf DIR` (a server's hint names the collection)",
    "tests/test_doctor.py::test_all_green_on_fake_models_with_an_index":
        "asserts the embedded checks ('embedded at DIR'; a server adds a 'chroma server' check)",
    "tests/test_doctor.py::test_cli_exit_code_follows_the_checks":
        "counts the embedded store's four checks (a server adds a 'chroma server' check)",
    "tests/test_corpus.py::test_status_before_and_after_indexing":
        "asserts the embedded index's last-indexed time (None with a server, by design)",
}  # fmt: skip


def collection_for(store_dir: Path | str) -> str:
    """The server-mode collection of a store directory: one directory, one index, as when embedded."""
    digest = hashlib.blake2b(str(Path(store_dir).absolute()).encode(), digest_size=8).hexdigest()
    return f"{COLLECTION_PREFIX}{digest}"


def _on_the_server(post_init: Any) -> Any:
    """`Settings.__post_init__`, then: no Chroma URL (or one from this wrapper) -> the session's server."""

    def __post_init__(self: Settings) -> None:
        post_init(self)
        url = _SERVER.get("url")
        derived = self.collection.startswith(COLLECTION_PREFIX)
        if url and (self.chroma_url is None or (self.chroma_url == url and derived)):
            object.__setattr__(self, "chroma_url", url)
            if derived or self.collection == DEFAULT_COLLECTION:
                object.__setattr__(self, "collection", collection_for(self.store_dir))

    return __post_init__


def _pass_the_server_to_children() -> None:
    """`reliability.fake_env` drops every RAG_* variable; in server mode it hands on the settings' server."""
    import reliability

    plain = reliability.fake_env

    def fake_env(settings: Settings, **extra: str) -> dict[str, str]:
        env = plain(settings, **extra)
        url = _SERVER.get("url")
        if url and settings.chroma_url == url and "RAG_CHROMA_URL" not in extra:
            env["RAG_CHROMA_URL"] = url
            derived = settings.collection.startswith(COLLECTION_PREFIX)
            env["RAG_CHROMA_COLLECTION"] = collection_for(env["RAG_STORE_DIR"]) if derived else settings.collection
        return env

    reliability.fake_env = fake_env  # before any test module runs `from reliability import fake_env`


if SERVER_MODE:
    _pass_the_server_to_children()


def pytest_configure(config: pytest.Config) -> None:
    if CHROMA_MODE not in ("embedded", "server"):
        raise pytest.UsageError(f"RAG_TEST_CHROMA={CHROMA_MODE!r}: use 'server', or leave it unset (embedded store)")


def pytest_report_header(config: pytest.Config) -> str:
    if SERVER_MODE:
        return "vector store: one Chroma server for the session (RAG_TEST_CHROMA=server)"
    return "vector store: embedded Chroma (RAG_TEST_CHROMA=server for a Chroma server)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not SERVER_MODE:
        return
    for item in items:
        for key, reason in EMBEDDED_ONLY.items():
            if item.nodeid == key or item.nodeid.startswith((f"{key}[", f"{key}::")):
                item.add_marker(pytest.mark.skip(reason=f"embedded store only: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def chroma_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """In server mode, the session's Chroma server URL (and every store on it); else None."""
    if not SERVER_MODE:
        yield None
        return
    post_init = Settings.__post_init__
    root = tmp_path_factory.mktemp("chroma-session")
    try:
        with chroma_server(root) as url:
            _SERVER["url"] = url
            Settings.__post_init__ = _on_the_server(post_init)  # type: ignore[method-assign]
            yield url
            try:
                _SERVER["summary"] = _server_summary(url, tmp_path_factory.getbasetemp(), root)
            except Exception as exc:  # a summary line only: never fail the session for it
                _SERVER["summary"] = f"Chroma server {url}: could not count its collections ({exc})"
    except ServerError as exc:
        pytest.fail(str(exc))
    finally:
        Settings.__post_init__ = post_init  # type: ignore[method-assign]
        _SERVER.pop("url", None)


def _server_summary(url: str, basetemp: Path, server_root: Path) -> str:
    """How many indexes the session put on the server, and how many embedded ones tests still made."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    embedded = [p for p in basetemp.rglob("chroma.sqlite3") if server_root not in p.parents]
    where = sorted({p.relative_to(basetemp).parts[0] for p in embedded})
    return (
        f"Chroma server {url}: {client.count_collections()} collections made by the tests; "
        f"embedded stores made all the same: {len(embedded)}{' in ' + ', '.join(where) if where else ''}"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SERVER_MODE and "summary" in _SERVER:
        terminalreporter.write_line(_SERVER["summary"])


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
