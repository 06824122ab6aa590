"""Sentence-level evidence, coverage and the fusion: kept in step with incremental ingest, on the fake embedder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from reliability import make_corpus

from rag.chunking import chunk_sentences, chunk_text, sentence_text
from rag.documents import list_documents, load_metadata, read_document
from rag.ingest import ingest
from rag.lexical import LexicalIndex
from rag.retrieval import CROSS_LINGUAL, WEIGHTS, Retriever, fuse
from rag.settings import Settings
from rag.squad import build_corpus
from rag.store import Store, StoredChunk, sentences_name

EMBEDDER = ("fake-hash-384", 384)


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    settings = Settings(corpus_dir=tmp_path / "corpus", store_dir=tmp_path / "store", embedder="fake", chunk_chars=300)
    make_corpus(settings.corpus_dir, 4, sentences=10)
    return settings


def expected_sentences(settings: Settings) -> dict[str, Counter[str]]:
    """For each file of a clean build: how many sentence records each of its chunks has."""
    files, _ = list_documents(settings.corpus_dir)
    out: dict[str, Counter[str]] = {}
    for path in files:
        doc = read_document(path, settings.corpus_dir, metadata=load_metadata(settings.corpus_dir))
        chunks = chunk_text(doc.source, doc.sha256, doc.text, max_chars=settings.chunk_chars)
        out[doc.source] = Counter({c.id: len(chunk_sentences(c)) for c in chunks})
    return out


def held_sentences(settings: Settings) -> dict[str, Counter[str]]:
    got = Store(settings, *EMBEDDER).sentences.get(include=["metadatas"])
    out: dict[str, Counter[str]] = {}
    for meta in got["metadatas"]:
        out.setdefault(str(meta["source"]), Counter())[str(meta["chunk"])] += 1
    return out


def test_every_sentence_of_every_chunk_is_indexed_and_follows_changes(small: Settings) -> None:
    ingest(settings=small)
    assert held_sentences(small) == expected_sentences(small)
    assert all(s.complete for s in Store(small, *EMBEDDER).file_states().values())
    path = small.corpus_dir / "a001.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase de plus. Et une autre.\n", encoding="utf-8")
    (small.corpus_dir / "a002.txt").unlink()
    report = ingest(settings=small)
    assert report.updated == ["a001.txt"] and report.removed == ["a002.txt"]
    assert held_sentences(small) == expected_sentences(small)
    assert not ingest(settings=small).changed


def test_missing_sentences_make_a_file_incomplete_and_orphans_are_removed(small: Settings) -> None:
    ingest(settings=small)
    store = Store(small, *EMBEDDER)
    store.sentences.delete(where={"source": "a000.txt"})  # an index written before sentence vectors
    store.collection.delete(where={"source": "a003.txt"})  # a kill after its sentences, before its chunks
    (small.corpus_dir / "a003.txt").unlink()
    report = ingest(settings=small)
    assert report.updated == ["a000.txt"] and report.removed == []
    assert held_sentences(small) == expected_sentences(small)


def test_a_title_change_reindexes_the_file(small: Settings) -> None:
    ingest(settings=small)
    (small.corpus_dir / "metadata.json").write_text(json.dumps({"a001.txt": {"title": "Un autre titre"}}))
    assert ingest(settings=small).updated == ["a001.txt"]
    chunks = [c for c in Store(small, *EMBEDDER).all_chunks() if c.source == "a001.txt"]
    assert {c.title for c in chunks} == {"Un autre titre"}


def test_an_index_without_sentences_still_answers(small: Settings) -> None:
    ingest(settings=small)
    store = Store(small, *EMBEDDER)
    store.collection._client.delete_collection(sentences_name(small.collection))
    retriever = Retriever.open(small)
    assert retriever.store.sentences is None
    assert retriever.search("article", k=3) and retriever.search("article", k=3, mode="dense")


def test_sentence_collection_names_fit_chroma() -> None:
    assert sentences_name("articles") == "articles-sentences"
    long = sentences_name("x" * 60)
    assert len(long) <= 63 and long.endswith("-sentences") and long != sentences_name("x" * 59 + "y")


def test_coverage_counts_the_share_of_the_question_held() -> None:
    index = LexicalIndex(
        ["all", "some", "prefix", "none"],
        [
            "Quand fut-il construit ? Le barrage a été construit en 1950 sur le Rhône",
            "Un barrage en Suisse",
            "La construction du barrage",
            "Un chat noir",
        ],
    )
    got = index.coverage("Quand le barrage sur le Rhône a-t-il été construit ?")
    assert got["all"] == pytest.approx(1.0)
    assert 0 < got["some"] < got["prefix"] < got["all"]  # construction shares the first letters of construit
    assert "none" not in got and index.coverage("zzz") == {}


def _chunk(i: str) -> StoredChunk:
    return StoredChunk(i, "a.txt", 0, 1, i, "", None)


class _NoStore:
    """Chunks made up from their ids (except `missing` ones); remembers what was read."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing
        self.read: list[list[str]] = []

    def get(self, ids: list[str]) -> list[StoredChunk]:
        self.read.append(list(ids))
        return [_chunk(i) for i in ids if i not in self.missing]


def test_fusion_rewards_agreement_and_keeps_scores_in_unit_range() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    store = _NoStore(missing={"x"})
    lists = {"sentences": [("b", 0.95), ("c", 0.9), ("x", 0.1)], "coverage": {"b": 1.0, "a": 0.5, "d": 0.5}}
    hits = fuse(dense, [("b", 9.0), ("a", 3.0)], store, **lists)  # type: ignore[arg-type]
    assert [h.chunk.id for h in hits][:2] == ["b", "a"] and {h.chunk.id for h in hits} == {"a", "b", "c", "d"}
    assert hits[0].score == 1.0 and min(h.score for h in hits) >= 0.0
    assert hits[0].sentence_score == 0.95 and hits[0].coverage == 1.0 and hits[0].lexical_rank == 1
    top = fuse(dense, [("b", 9.0), ("a", 3.0)], store, limit=2, **lists)  # type: ignore[arg-type]
    assert [h.chunk.id for h in top] == ["b", "a"] and store.read[-1] == ["b", "a"]
    only_dense = fuse(dense, [], store)  # type: ignore[arg-type]
    assert [h.chunk.id for h in only_dense] == ["a", "b", "c"]
    assert set(WEIGHTS) == {"dense", "sentences", "bm25", "coverage"}


def test_words_shared_across_languages_count_half(tmp_path: Path) -> None:
    """An English question over French chunks shares their names and figures but few other
    words: the lexical evidence of a chunk in the other language counts `CROSS_LINGUAL`, so
    that the dense side's choice is not outvoted by a chance "Trump"."""
    index = LexicalIndex(["fr", "en"], ["Trump a parlé avec Poutine.", "Trump spoke with Putin."])
    assert index.written_in_other_language("Who did Trump speak with?") == {"fr"}
    assert index.written_in_other_language("Avec qui Trump a-t-il parlé ?") == {"en"}
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded is not None and loaded.languages == ["fr", "en"]

    dense, lexical, coverage = [("a", 0.9), ("b", 0.5), ("c", 0.45)], [("b", 5.0), ("a", 4.0)], {"b": 0.5, "a": 0.4}
    same = fuse(dense, lexical, _NoStore(set()), coverage=coverage)  # type: ignore[arg-type]
    other = fuse(dense, lexical, _NoStore(set()), coverage=coverage, other={"a", "b", "c"})  # type: ignore[arg-type]
    assert same[0].chunk.id == "b" and other[0].chunk.id == "a"
    assert CROSS_LINGUAL == 0.5


def test_lowercase_names_in_a_question_are_capitalised_as_the_chunks_write_them(tmp_path: Path) -> None:
    """Users type "putin" and "nato"; the checks that read names need them as names. Only words the
    chunks capitalise mid-sentence count: "Mars" of a sentence written "le 18 mars" twice does not."""
    texts = ["Donald Trump a appelé Vladimir Poutine le 18 mars.", "Selon l'OTAN, Mars 2 ; le 18 mars."]
    LexicalIndex(["a", "b"], texts).save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded is not None and loaded.names == {"Trump", "Vladimir", "Poutine", "OTAN"}  # not "Donald", first
    question = "did trump call putin in mars, and what did nato say?"
    assert loaded.truecase(question) == "did Trump call Putin in mars, and what did Nato say?"
    assert loaded.truecase("Did Trump call?") == "Did Trump call?"


def test_squad_titles_become_metadata(tmp_path: Path) -> None:
    data = {"data": [{"title": "<i>Lyon</i>", "paragraphs": [{"context": "Lyon est une ville.", "qas": []}]}]}
    (tmp_path / "s.json").write_text(json.dumps(data), encoding="utf-8")
    build_corpus(tmp_path / "s.json", tmp_path / "corpus")
    assert load_metadata(tmp_path / "corpus") == {"000__i_Lyon_i_.txt": {"title": "Lyon"}}
    assert sentence_text("Lyon", "Elle est grande.") == "Lyon: Elle est grande."


def test_a_bm25_index_made_with_other_settings_is_rebuilt(small: Settings) -> None:
    ingest(settings=small)
    ids = small.store_dir / "lexical" / "ids.json"
    state = json.loads(ids.read_text(encoding="utf-8"))
    ids.write_text(json.dumps({**state, "params": {"k1": 1.2, "b": 0.75}}), encoding="utf-8")  # an older build
    assert LexicalIndex.load(ids.parent) is None and not LexicalIndex.current(ids.parent)
    assert not ingest(settings=small).changed
    assert LexicalIndex.current(ids.parent) and LexicalIndex.load(ids.parent) is not None


def test_passage_focusing_reads_the_sentence_vectors_ingest_wrote(fake_settings: Settings) -> None:
    """Focusing embeds nothing but the question when the index holds the sentences' vectors;
    without them (an older index) it embeds the same `title: sentence` texts itself."""
    from rag.fakes import FakeEmbedder
    from rag.passages import SentenceVectors, focus

    ingest(settings=fake_settings)
    retriever = Retriever.open(fake_settings, embedder=FakeEmbedder())
    question = "Combien de temps a duré l'appel entre Trump et Poutine ?"
    hits = retriever.search(question, k=4)
    vector = retriever.query_vector(question)
    calls = retriever.embedder.calls  # type: ignore[attr-defined]
    stored = focus(hits, question, query_vector=vector, vectors=SentenceVectors(retriever.embedder, retriever.store))
    assert retriever.embedder.calls == calls  # type: ignore[attr-defined]
    assert stored and all(any(p.text in h.chunk.text for h in hits) for p in stored)

    retriever.store.sentences = None  # as an index written before sentence vectors
    embedded = focus(hits, question, query_vector=vector, vectors=SentenceVectors(retriever.embedder, retriever.store))
    assert retriever.embedder.calls > calls  # type: ignore[attr-defined]
    assert [(p.source, p.start, p.end) for p in embedded] == [(p.source, p.start, p.end) for p in stored]


def test_the_index_is_read_in_pages(small: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every record goes page by page (Chroma's embedded get() fails past 32,766
    records): the same states, ids and chunks whatever the page size, even one that divides
    the count exactly."""
    ingest(settings=small)
    store = Store(small, *EMBEDDER)
    whole = (store.file_states(), store.ids(), store.all_chunks())
    assert len(whole[1]) > 14
    for page in (7, len(whole[1])):
        monkeypatch.setattr("rag.store.READ_PAGE", page)
        assert (store.file_states(), store.ids(), store.all_chunks()) == whole


def test_an_english_question_finds_french_words_through_the_glossary(tmp_path: Path) -> None:
    """The fake embedder shares no meaning across languages, so only the lexical side can find
    "les sujets de l'appel" for "topics of the call": through the glossary's French words."""
    settings = Settings(corpus_dir=tmp_path / "corpus", store_dir=tmp_path / "store", embedder="fake")
    settings.corpus_dir.mkdir()
    texts = {
        "a.txt": "Les sujets de l'appel seront le commerce et la paix.",
        "b.txt": "Le président a parlé aux journalistes lundi.",
        "c.txt": "Une réunion est prévue à Genève la semaine prochaine.",
    }
    for name, text in texts.items():
        (settings.corpus_dir / name).write_text(text, encoding="utf-8")
    ingest(settings=settings)
    retriever = Retriever.open(settings)
    assert retriever.search("What topics will the call cover?", k=1, mode="bm25")[0].chunk.source == "a.txt"
    assert retriever.search("Quels sujets pour l'appel ?", k=1, mode="bm25")[0].chunk.source == "a.txt"
