"""rag.corpus: status of corpus and index, adding articles (validated), reading them back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rag import DocumentError, Settings, ingest
from rag.corpus import add_document, check_name, read_article, status
from rag.documents import read_document

POPE = "000_187088d26fc0e502.txt"


def test_status_before_and_after_indexing(fake_settings: Settings) -> None:
    before = status(fake_settings)
    assert (before.articles, before.chunks, before.indexed) == (5, 0, False)
    assert before.last_indexed is None and len(before.pending) == 5 and not before.problem
    report = ingest(settings=fake_settings)
    after = status(fake_settings)
    assert after.indexed and after.chunks == report.chunks > 0
    assert after.indexed_articles == 5 and after.pending == [] and after.last_indexed is not None


def test_changed_article_is_pending_but_a_touched_one_is_not(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    pope = fake_settings.corpus_dir / POPE
    later = time.time() + 60
    os.utime(pope, (later, later))  # newer, same content
    assert status(fake_settings).pending == []
    pope.write_text(pope.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n", encoding="utf-8")
    os.utime(pope, (later, later))
    assert status(fake_settings).pending == [POPE]


def test_status_reports_a_missing_corpus_dir(tmp_path: Path) -> None:
    got = status(Settings(corpus_dir=tmp_path / "nope", store_dir=tmp_path / "store", embedder="fake", llm="fake"))
    assert not got.indexed and got.articles == 0 and "does not exist" in got.problem


def test_added_article_is_pending_until_indexed(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    path = add_document("météo.md", "# Météo\r\nIl pleut\u00a0à Lyon depuis trois jours.".encode(), fake_settings)
    assert path == fake_settings.corpus_dir / "météo.md"
    assert path.read_text(encoding="utf-8") == "# Météo\nIl pleut à Lyon depuis trois jours.\n"
    assert status(fake_settings).pending == ["météo.md"]
    report = ingest([path], settings=fake_settings)
    assert report.added == ["météo.md"] and status(fake_settings).pending == []
    assert not [p for p in fake_settings.corpus_dir.iterdir() if p.name.startswith(".")]  # no temp file left


def test_windows_1252_upload_is_stored_as_utf8(fake_settings: Settings) -> None:
    path = add_document("ete.txt", "L'été à Besançon, déjà chaud.".encode("cp1252"), fake_settings)
    assert path.read_bytes().decode("utf-8") == "L'été à Besançon, déjà chaud.\n"
    assert read_document(path, fake_settings.corpus_dir).text.startswith("L'été")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("vide.txt", b"", "empty"),
        ("blanc.txt", b"  \n\t \r\n", "empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("rapport.pdf", b"%PDF-1.4 du texte", "only .txt and .md"),
        ("../evasion.txt", b"du texte", "without folders"),
        ("/etc/passwd.txt", b"du texte", "without folders"),
        (".cache.txt", b"du texte", "unusable file name"),
        ("metadata.json", b"{}", "only .txt and .md"),
        ("", b"du texte", "no name"),
    ],
)
def test_uploads_are_refused_with_a_reason(fake_settings: Settings, name: str, data: bytes, reason: str) -> None:
    before = sorted(p.name for p in fake_settings.corpus_dir.iterdir())
    with pytest.raises(DocumentError, match=reason):
        add_document(name, data, fake_settings)
    assert sorted(p.name for p in fake_settings.corpus_dir.iterdir()) == before


def test_oversized_upload_is_refused(fake_settings: Settings) -> None:
    with pytest.raises(DocumentError, match="over the 100-byte limit"):
        add_document("long.txt", b"mot " * 100, fake_settings.with_(max_file_bytes=100))


def test_existing_name_is_refused_unless_overwrite(fake_settings: Settings) -> None:
    with pytest.raises(DocumentError, match="already exists"):
        add_document(POPE, b"Nouveau texte.", fake_settings)
    path = add_document(POPE, b"Nouveau texte.", fake_settings, overwrite=True)
    assert path.read_text(encoding="utf-8") == "Nouveau texte.\n"


def test_check_name_keeps_plain_names() -> None:
    assert check_name("Article (2) - Lyon.TXT") == "Article (2) - Lyon.txt"
    with pytest.raises(DocumentError):
        check_name("a\x00b.txt")


def test_read_article_returns_the_indexed_text_and_metadata(fake_settings: Settings) -> None:
    doc = read_article(POPE, fake_settings)
    assert doc.source == POPE and doc.date == "2025-06-04" and doc.title.startswith("Poutine a dit à Trump")
    assert doc.text == read_document(fake_settings.corpus_dir / POPE, fake_settings.corpus_dir).text


@pytest.mark.parametrize("source", ["../secret.txt", "../corpus/" + POPE, "/etc/hostname", "absent.txt", ""])
def test_read_article_stays_inside_the_corpus(fake_settings: Settings, source: str) -> None:
    (fake_settings.corpus_dir.parent / "secret.txt").write_text("secret", encoding="utf-8")
    with pytest.raises(DocumentError, match="no such article"):
        read_article(source, fake_settings)
