"""The embedded index on disk: its derived files, the one-writer lock, and a check that
opening it cannot crash this process.

>>> with write_lock(Settings(store_dir=Path("/tmp/rag-doc-store"))):   # doctest: +SKIP
...     pass                                                           # ingest writes here
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rag.errors import IndexDamaged, StoreBusy, StoreUnavailable
from rag.settings import Settings

LOCK_FILE = ".rag-write.lock"
LEXICAL_DIR = "lexical"  # the BM25 index (rag/lexical.py), derived from the chunks
LEGACY_SENTENCE_DB = "sentences.sqlite3"  # an older release's sentence-vector cache
PROBED_FILE = ".rag-probed"
# A sound store opens and answers the probe in a few seconds; loading its HNSW files grows
# with their size. Chroma 1.5 can also hang for good in native code on a segment a kill left
# half-written (chroma-core/chroma#7678; seen in the kill test): a probe that outlasts this
# is taken for such a hang, not for a slow machine.
PROBE_TIMEOUT_S = 60.0
PROBE_S_PER_MB = 0.5


def rebuild_hint(settings: Settings) -> str:
    if settings.chroma_url:
        return f"delete the collection {settings.collection!r} on the server, then run: rag ingest"
    return f"rebuild it with: rm -rf {settings.store_dir} && rag ingest"


@contextmanager
def write_lock(settings: Settings, *, wait_s: float = 2.0) -> Iterator[None]:
    """One writer at a time across processes; others get `StoreBusy` after `wait_s`."""
    path = Path(settings.store_dir) / LOCK_FILE
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot write in {settings.store_dir} ({exc.strerror}); check its permissions"
        ) from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreBusy("another `rag ingest` is updating the index; try again when it finishes") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def is_writing(settings: Settings) -> bool:
    """True while another process holds the write lock."""
    path = Path(settings.store_dir) / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


# Chroma 1.5's Rust HNSW loader can kill the whole process (SIGSEGV) on a damaged
# segment file instead of raising (chroma-core/chroma#7238, #6949, #7069). So before
# this process first opens a store whose segment files it has not seen checked, a
# child process opens it and runs a few queries; a crash there becomes a message.
# For `rag ingest` the child also adds a few vectors and deletes them again: a segment
# left by a kill mid-flush can be read and queried, then crash the first add (seen in
# the kill test). A check that does not finish counts as damage too: Chroma can also
# hang on such a segment, and a process that opened it would hang with it. A healthy
# check is remembered (by a digest of the segment files) in PROBED_FILE, which an ingest
# deletes before it writes and rewrites when it has written everything.
_PROBED: set[str] = set()
_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PROBED_LOCK = threading.Lock()
_PROBE = """
import random, sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for col in client.list_collections():
    n = col.count()
    if n:
        dim = len(col.get(limit=1, include=["embeddings"])["embeddings"][0])
        rng = random.Random(0)
        vectors = [[rng.gauss(0, 1) for _ in range(dim)] for _ in range(4)]
        col.query(query_embeddings=vectors, n_results=min(n, 100), include=["distances"])
        if sys.argv[2] == "write":
            ids = [f"__rag_probe_{i}__" for i in range(len(vectors))]
            try:
                col.add(ids=ids, embeddings=vectors)
            finally:
                col.delete(ids=ids)
"""


def segment_files(store_dir: Path) -> list[Path]:
    """Chroma's vector segment files, in a stable order (raises OSError when unreadable)."""
    segments = sorted(p for p in store_dir.iterdir() if _is_segment_dir(p))
    return [path for segment in segments for path in sorted(segment.iterdir()) if path.is_file()]


def segments_digest(store_dir: Path) -> str | None:
    """A digest of Chroma's vector segment files, or None when there are none yet.

    `length.bin` is left out: Chroma rewrites it on every open of a small index
    with bytes that change each time, and a damaged one is read without crashing.
    """
    digest = hashlib.blake2b(digest_size=16)
    found = False
    try:
        for path in segment_files(store_dir):
            if path.name == "length.bin":
                continue
            found = True
            digest.update(f"{path.parent.name}/{path.name}\0".encode())
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
    except OSError:
        return None  # unreadable: Chroma will say so itself
    return digest.hexdigest() if found else None


def check_segments(settings: Settings, *, writer: bool = False) -> None:
    """Open the store in a child process first when it might crash this one (see above).

    A damaged store is `IndexDamaged`; a reader that finds one while `rag ingest` runs is
    told the index is busy instead (`writer`: the caller is that ingest, holding the lock).
    """
    store_dir = settings.store_dir
    key = str(store_dir.resolve())
    with _PROBED_LOCK:
        if key in _PROBED:
            return
        digest = segments_digest(store_dir)
        try:
            known = (store_dir / PROBED_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            known = ""
        if digest is None or digest == known:
            _PROBED.add(key)
            return
        if not os.access(store_dir, os.W_OK):
            return  # Chroma cannot open a read-only store at all: `_client` explains that
        failure = probe(store_dir, write=writer)
        if failure is None:
            _PROBED.add(key)
            with suppress(OSError):  # a read-only store is checked again next time
                (store_dir / PROBED_FILE).write_text(segments_digest(store_dir) or "", encoding="utf-8")
            return
    if not writer and is_writing(settings):
        raise StoreBusy(f"`rag ingest` is rewriting the index ({failure}); try again when it finishes")
    raise IndexDamaged(f"the index at {store_dir} is damaged ({failure}); {rebuild_hint(settings)}")


def discard_embedded(settings: Settings) -> None:
    """Delete a damaged embedded index (Chroma's files, BM25, sentence cache), keeping the
    write lock and anything else in the directory: the corpus is the source of truth."""
    store_dir = settings.store_dir
    _PROBED.discard(str(store_dir.resolve()))
    for path in store_dir.iterdir():
        if path.name in ("chroma.sqlite3", PROBED_FILE, LEGACY_SENTENCE_DB, LEXICAL_DIR) or _is_segment_dir(path):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _is_segment_dir(path: Path) -> bool:
    """Chroma keeps each HNSW segment in a directory named by its UUID."""
    return path.is_dir() and _SEGMENT_DIR.fullmatch(path.name) is not None


def mark_checked(settings: Settings) -> None:
    """Record the segment files as sound: called by an ingest that wrote and read them to the end."""
    if settings.chroma_url:
        return
    digest = segments_digest(settings.store_dir)
    if digest:
        with suppress(OSError):
            (settings.store_dir / PROBED_FILE).write_text(digest, encoding="utf-8")


def forget_checked(settings: Settings) -> None:
    """Forget that the segment files were checked: called by an ingest before it writes. A kill
    mid-write can leave Chroma's files as they were and its write log half applied, which the
    next process to open the store replays (and Chroma can hang or crash on); without the
    record, that process checks the store in a child first."""
    if not settings.chroma_url:
        with suppress(OSError):
            (settings.store_dir / PROBED_FILE).unlink(missing_ok=True)


def probe(store_dir: Path, *, write: bool = False, timeout_s: float | None = None) -> str | None:
    """None when a child process can open and query the store (and, with `write`, add and
    delete a few vectors) within `timeout_s` (by default `probe_timeout`), else what went wrong."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", ANONYMIZED_TELEMETRY="False")
    limit = probe_timeout(store_dir) if timeout_s is None else timeout_s
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(store_dir), "write" if write else "read"],
            capture_output=True,
            text=True,
            timeout=limit,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return f"opening it in a separate check process did not finish in {limit:.0f} s"
    except OSError:
        return None  # no child process: do not block the user on the check
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"opening it crashed a separate check process with {_signal_name(-done.returncode)}"
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"the check exited with code {done.returncode}"


def probe_timeout(store_dir: Path) -> float:
    """Seconds a probe may take: `PROBE_TIMEOUT_S`, plus `PROBE_S_PER_MB` per MB of segment files.

    >>> probe_timeout(Path("/nonexistent"))
    60.0
    """
    try:
        size = sum(path.stat().st_size for path in segment_files(store_dir))
    except OSError:
        size = 0
    return PROBE_TIMEOUT_S + PROBE_S_PER_MB * size / 1e6


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
