"""Property test in the style of Chroma's own state machines: random add / edit / delete / rename of
corpus files, each followed by an ingest; after every step the index holds exactly the chunks a
clean build would (ids, sources, hashes), no duplicate or stale chunk, a BM25 index over the same
ids; and a new process that reopens the store sees the same thing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from reliability import expected_index, index_problems, snapshot

from rag import Settings, ingest
from rag.lexical import LexicalIndex, digest
from rag.retrieval import lexical_dir
from rag.store import Store

SENTENCES = [
    "Le président a reçu le ministre à l’Élysée.",
    "L'appel a duré une heure et quart.",
    "Les élèves de Montréal ont fêté l’été.",
    "La réunion s'est tenue mardi à Lyon.",
    "Il faisait 40\u00a0°C à Perpignan.",
    "Le pape Léon XIV a parlé de la paix.",
    "Un accord a été signé après trois jours.",
    "Who said what remains unclear.",
]
NAMES = ["a.txt", "b.md", "sub/c.txt", "été d’août.txt", "sub/deep/e.txt", "F.TXT"]
REOPEN_EVERY = 12

texts = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=12).map(" ".join)
line_endings = st.sampled_from(["\n", "\r\n"])


class CorpusIndex(RuleBasedStateMachine):
    """The model is the corpus itself: `expected_index` computes what a clean build holds."""

    files = Bundle("files")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="rag-state-"))
        self.settings = Settings(
            corpus_dir=self.tmp / "corpus", store_dir=self.tmp / "store", embedder="fake", llm="fake", chunk_chars=90
        )
        self.settings.corpus_dir.mkdir()
        self.steps = 0
        self.expected: dict[str, tuple[str, str]] = {}

    def _write(self, name: str, text: str, eol: str) -> None:
        path = self.settings.corpus_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"Titre {name}\n\n{text}\n".replace("\n", eol).encode())

    def _ingest(self) -> None:
        report = ingest(settings=self.settings)
        self.expected = expected_index(self.settings)
        assert report.chunks == len(self.expected)
        self.steps += 1

    @rule(target=files, name=st.sampled_from(NAMES), text=texts, eol=line_endings)
    def add(self, name: str, text: str, eol: str) -> str:
        self._write(name, text, eol)
        self._ingest()
        return name

    @rule(name=files, text=texts, eol=line_endings)
    def edit(self, name: str, text: str, eol: str) -> None:
        if (self.settings.corpus_dir / name).exists():
            self._write(name, text, eol)
        self._ingest()

    @rule(name=files, eol=line_endings)
    def rewrite_line_endings_only(self, name: str, eol: str) -> None:
        path = self.settings.corpus_dir / name
        if path.exists():
            path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", eol.encode()))
        before = dict(self.expected)
        report = ingest(settings=self.settings)
        assert report.embedded == 0 and not report.changed
        assert expected_index(self.settings) == before

    @rule(name=consumes(files))
    def delete(self, name: str) -> None:
        (self.settings.corpus_dir / name).unlink(missing_ok=True)
        self._ingest()

    @rule(target=files, old=consumes(files), new=st.sampled_from(NAMES))
    def rename(self, old: str, new: str) -> str:
        source = self.settings.corpus_dir / old
        if source.exists():
            (self.settings.corpus_dir / new).parent.mkdir(parents=True, exist_ok=True)
            source.rename(self.settings.corpus_dir / new)
        self._ingest()
        return new

    @invariant()
    def index_is_exactly_a_clean_build(self) -> None:
        if not self.steps:
            return
        store = Store(self.settings, "fake-hash-384", 384)
        got = store.collection.get(include=["metadatas"])
        held = {i: (str(m["source"]), str(m["sha256"])) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        assert len(got["ids"]) == len(held), "duplicate ids"
        assert held == self.expected
        for source in {s for s, _ in held.values()}:
            n = [int(m["n_chunks"]) for m in got["metadatas"] if m["source"] == source]
            assert len(n) == n[0], f"{source}: {len(n)} of {n[0]} chunks"
        lexical = LexicalIndex.load(lexical_dir(self.settings))
        assert lexical is not None and lexical.digest == digest(list(held))

    @invariant()
    def a_new_process_sees_the_same_index(self) -> None:
        if self.steps and self.steps % REOPEN_EVERY == 0:
            self._reopen_check()

    def _reopen_check(self) -> None:
        snap = snapshot(self.settings, query="président ministre")
        assert index_problems(snap, self.expected) == []

    def teardown(self) -> None:
        try:
            if self.steps % REOPEN_EVERY:
                self._reopen_check()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


CorpusIndex.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: 12 steps read fine, and it takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_corpus_index_state_machine = CorpusIndex.TestCase
