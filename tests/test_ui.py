"""The Streamlit chat on the fake models, driven by `AppTest`: every flow a first-time user meets."""

from __future__ import annotations

import html
import itertools
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from rag import Settings, ingest
from rag import ask as ask_library
from rag.citations import MARKER
from rag.documents import read_document
from rag.errors import IndexMissing, InvalidQuestion, LLMError, ModelMissing, RagError
from rag.fakes import FakeLLM
from rag.settings import PROJECT_DIR
from ui import engine
from ui.render import answer_markdown, escape_markdown, excerpt, explain, format_date, streaming_markdown

APP = str(PROJECT_DIR / "ui" / "app.py")
POPE_Q = "Avec quel pape Poutine s'est-il entretenu par téléphone ?"
POPE = "000_187088d26fc0e502.txt"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fake_settings: Settings) -> Settings:
    """The app's environment: fake models, private corpus and store."""
    for var in ("RAG_CHROMA_URL", "RAG_LLM_MODEL", "RAG_TOP_K", "RAG_RERANKER", "OLLAMA_HOST"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_LLM", "fake")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(fake_settings.corpus_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(fake_settings.store_dir))
    assert Settings.from_env() == fake_settings
    return fake_settings


@pytest.fixture
def indexed(env: Settings) -> Settings:
    ingest(settings=env)
    return env


def start(locale: str | None = "fr-FR") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if locale:
        at.context["locale"] = locale
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    """Everything written on the page (main and sidebar), to search in."""
    parts: list[Any] = [*at.markdown, *at.caption, *at.error, *at.info, *at.success, *at.warning, *at.title]
    return "\n".join(str(p.value) for p in parts)


def last_answer(at: AppTest) -> Any:
    reply = at.session_state.messages[-1]
    assert reply["role"] == "assistant"
    return reply.get("answer")


# --- Flows -------------------------------------------------------------------------------------


def test_first_visit_without_index_offers_to_build_it(env: Settings) -> None:
    at = start()
    assert at.title[0].value == "Interrogez les articles"
    assert "pas encore indexés" in at.info[0].value
    assert [b.key for b in at.button if b.key and b.key.startswith("example-")]  # example questions shown
    at.button(key="build-now").click().run()
    assert not at.exception
    assert "56 passages" in at.success[0].value or "passages" in at.success[0].value
    assert int(at.metric[1].value) > 0 and not at.info  # chunks counted, offer gone
    assert not [b for b in at.button if b.key == "build-now"]


def test_ask_shows_verified_answer_and_highlighted_source(indexed: Settings) -> None:
    at = ask(start(), POPE_Q)
    answer = last_answer(at)
    assert not answer.abstained and answer.citations[0].source == POPE
    shown = [m.value for m in at.markdown]
    assert answer_markdown(answer.answer) in shown and "**\\[1\\]**" in answer_markdown(answer.answer)
    label = at.expander[0].label
    assert label.startswith("**\\[1\\]** Poutine a dit à Trump") and "4 juin 2025" in label
    c = answer.citations[0]
    doc = read_document(indexed.corpus_dir / POPE, indexed.corpus_dir)
    assert doc.text[c.start : c.end] == c.text
    card = at.expander[0].html[0].value
    assert f">{html.escape(c.text)}</mark>" in card  # the passage, highlighted
    before, _, after = excerpt(doc.text, c.start, c.end)
    assert html.escape(before) in card and html.escape(after) in card  # inside its surrounding text
    assert escape_markdown(POPE) in page_text(at)  # file name shown


def test_whole_article_opens_in_a_dialog(indexed: Settings) -> None:
    at = ask(start(), POPE_Q)
    c = last_answer(at).citations[0]
    at.button(key="article-1-1").click().run()
    assert not at.exception
    doc = read_document(indexed.corpus_dir / POPE, indexed.corpus_dir)
    whole = at.html[-1].value
    assert html.escape(doc.text[: c.start]) in whole and html.escape(doc.text[c.end :]) in whole
    assert f">{html.escape(c.text)}</mark>" in whole
    assert "Le passage cité est surligné" in page_text(at)


def test_follow_up_passes_the_conversation(indexed: Settings, use_llm: Any) -> None:
    llm = use_llm(FakeLLM())
    at = ask(start(), POPE_Q)
    first = last_answer(at)
    ask(at, "Et combien de temps a duré l'appel ?")
    follow_ups = [m[-1]["content"] for m in llm.calls if "Follow-up to:" in m[-1]["content"]]
    assert follow_ups, "the follow-up was asked without its conversation"
    assert POPE_Q in follow_ups[0] and MARKER.sub("", first.answer)[:40] in follow_ups[0]
    assert [m["role"] for m in at.session_state.messages] == ["user", "assistant"] * 2
    assert len(at.chat_message) == 4


def test_example_question_and_new_conversation(indexed: Settings) -> None:
    at = start()
    at.button(key="example-0").click().run()
    assert "Léon XIV" in last_answer(at).answer
    assert not [b for b in at.button if b.key and b.key.startswith("example-")]  # examples gone
    at.button(key="new_chat").click().run()
    assert at.session_state.messages == [] and not at.chat_message
    assert [b for b in at.button if b.key == "example-0"]


def test_too_long_question_says_how_to_fix_it(indexed: Settings) -> None:
    at = ask(start(), "a" * 1200)
    assert "Question trop longue" in at.error[0].value and "1200" in at.error[0].value
    assert "1000" in at.error[0].value
    ask(at, POPE_Q)  # the failed turn does not break the next one
    assert not last_answer(at).abstained


def test_llm_failing_mid_stream_then_retry(indexed: Settings, use_llm: Any) -> None:
    use_llm(FakeLLM(fail_after=3))
    at = ask(start(locale="en-US"), POPE_Q)
    assert "The model failed while answering" in at.error[0].value
    assert "Traceback" not in page_text(at) and not at.exception
    use_llm(FakeLLM())
    at.button(key="retry-1").click().run()
    assert "Léon XIV" in last_answer(at).answer


def test_asking_without_index_builds_it_then_answers(env: Settings) -> None:
    at = ask(start(), POPE_Q)
    assert "pas encore indexés" in at.error[0].value and not at.info  # one offer, not two
    at.button(key="build-1").click().run()
    assert not at.exception
    assert "Léon XIV" in last_answer(at).answer and at.session_state.messages[-1]["role"] == "assistant"


def test_model_missing_is_explained(env: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ingest(settings=env)
    monkeypatch.setenv("RAG_LLM", "llama-cpp")
    monkeypatch.setenv("RAG_LLM_MODEL", str(tmp_path / "absent.gguf"))
    at = ask(start(), POPE_Q)
    assert "modèle n'est pas installé" in at.error[0].value and "make chat" in at.error[0].value


def test_bad_configuration_is_explained(env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM", "gpt")
    at = start()
    assert "configuration is invalid" in at.error[0].value and "RAG\\_LLM" in at.caption[0].value


def test_upload_validates_adds_and_indexes(indexed: Settings) -> None:
    at = start()
    article = "Le maire de Lyon a inauguré le pont Raymond-Barre le 12 mars devant trois mille habitants."
    at.file_uploader(key="upload-0").set_value(
        [
            ("lyon.txt", article.encode(), "text/plain"),
            ("vide.txt", b"", "text/plain"),
            ("image.txt", b"\x89PNG\x00\x00\x00", "text/plain"),
        ]
    ).run()
    at.button(key="add_files").click().run()
    assert not at.exception
    assert "Ajouté : lyon\\.txt" in [s.value for s in at.success]
    refused = " ".join(e.value for e in at.error)
    assert "vide\\.txt" in refused and "empty" in refused and "image\\.txt" in refused and "binary" in refused
    assert (indexed.corpus_dir / "lyon.txt").read_text(encoding="utf-8") == article + "\n"
    assert at.metric[0].value == "6"
    ask(at, "Quel pont le maire de Lyon a-t-il inauguré le 12 mars ?")
    assert [c.source for c in last_answer(at).citations] == ["lyon.txt"]


def test_model_and_document_text_is_escaped(indexed: Settings) -> None:
    hostile = (
        "Le maire de Lyon a inauguré le **pont** <b>Raymond-Barre</b> le 12 mars.\n"
        "<script>alert(1)</script>\n![x](http://evil.example/p.png)\n"
    )
    (indexed.corpus_dir / "lyon.txt").write_text(hostile, encoding="utf-8")
    ingest(settings=indexed)
    at = ask(start(), "Quel pont le maire de Lyon a-t-il inauguré le 12 mars ?")
    answer = last_answer(at)
    assert answer.citations and answer.citations[0].source == "lyon.txt"
    shown = "\n".join(m.value for m in at.markdown)
    assert "**pont**" not in shown and "\\*\\*pont\\*\\*" in shown and "<b>" not in shown
    card = "\n".join(h.value for h in at.html)
    assert "&lt;b&gt;Raymond-Barre&lt;/b&gt;" in card and "&lt;script&gt;" in card and "<script>" not in card


def test_interface_follows_the_browser_language_and_the_toggle(indexed: Settings) -> None:
    at = start(locale="en-GB")
    assert at.title[0].value == "Ask the articles"
    at.segmented_control(key="lang").set_value("fr").run()
    assert at.title[0].value == "Interrogez les articles"
    assert at.session_state.lang_auto is False


def test_without_locale_the_interface_follows_the_question(indexed: Settings) -> None:
    at = start(locale=None)
    assert at.title[0].value == "Interrogez les articles"
    ask(at, "What did Putin tell Trump about the Ukrainian drone attack?")
    assert at.title[0].value == "Ask the articles"


def test_settings_change_passages_and_show_scores(indexed: Settings) -> None:
    at = start()
    at.slider(key="top_k").set_value(1).run()
    at.checkbox(key="show_scores").check().run()
    ask(at, POPE_Q)
    shown = last_answer(at).passages
    expected = ask_library(POPE_Q, settings=indexed.with_(top_k=1)).passages
    assert [(p.source, p.start, p.end) for p in shown] == [(p.source, p.start, p.end) for p in expected]
    assert expected != ask_library(POPE_Q, settings=indexed.with_(top_k=4)).passages  # the slider matters
    assert "score de recherche" in page_text(at)
    assert any(e.label == f"Passages consultés ({len(shown)})" for e in at.expander)


def test_sessions_do_not_share_conversations(indexed: Settings) -> None:
    one, two = start(), start()
    ask(one, POPE_Q)
    two.run()
    assert len(one.session_state.messages) == 2 and two.session_state.messages == []


# --- Parts -------------------------------------------------------------------------------------


class Slot:
    """Records what the app writes into a placeholder (the `st.empty()` fake)."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def markdown(self, text: str) -> None:
        self.shown.append(("markdown", text))

    def info(self, text: str, icon: str | None = None) -> None:
        self.shown.append(("info", text))

    def empty(self) -> None:
        self.shown.append(("empty", ""))


def test_answer_streams_token_by_token(indexed: Settings, use_llm: Any) -> None:
    use_llm(FakeLLM())
    slot = Slot()
    reply = engine.generate(POPE_Q, [], indexed, "fr", slot)
    partial = [text for kind, text in slot.shown if kind == "markdown" and text.endswith(" ▌")]
    assert len(partial) >= 5
    assert all(len(a) < len(b) for a, b in itertools.pairwise(partial))  # growing
    assert "Léon XIV" in reply["answer"].answer and "Léon XIV" in partial[-1]


def test_failure_mid_stream_is_reported_not_raised(indexed: Settings, use_llm: Any) -> None:
    use_llm(FakeLLM(fail_after=3))
    slot = Slot()
    reply = engine.generate(POPE_Q, [], indexed, "en", slot)
    assert sum(1 for kind, _ in slot.shown if kind == "markdown") >= 3  # tokens came before the failure
    assert reply["error"].kind == "LLMError" and "partial answer was discarded" in reply["error"].message


def test_one_generation_at_a_time_and_the_wait_is_shown(indexed: Settings) -> None:
    slot, entered = Slot(), threading.Event()

    def second_session() -> None:
        with engine.turn(slot, "en"):
            entered.set()

    lock = engine.gate()
    with lock:
        worker = threading.Thread(target=second_session)
        worker.start()
        time.sleep(0.6)
        assert not entered.is_set()
        assert ("info", "Another question is being answered; yours is next…") in slot.shown
    worker.join(5)
    assert entered.is_set() and not lock.locked()


def test_conversation_keeps_answered_turns_only() -> None:
    answered = {"role": "assistant", "content": "Léon XIV [1].", "answer": object()}
    failed = {"role": "assistant", "content": "", "error": object()}
    messages = [
        {"role": "user", "content": "q1"},
        answered,
        {"role": "user", "content": "q2"},
        failed,
        {"role": "user", "content": "q3"},
    ]
    assert engine.conversation(messages) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "Léon XIV [1]."},
    ]


def test_markdown_from_the_model_cannot_format_link_or_load() -> None:
    text = "**gras** <img src=x> [lien](http://evil.example) :red[rouge] $x^2$ &amp; # titre `code` [2]"
    unescaped = re.compile(r"(?<!\\)[*_<>\[\]()$&#:`!]")
    assert unescaped.findall(streaming_markdown(text)) == []
    assert unescaped.findall(answer_markdown(text).replace("**\\[2\\]**", "")) == []
    assert "http" not in streaming_markdown(text)  # sanitised before display, even mid-stream
    assert answer_markdown("Léon XIV [2].").endswith("**\\[2\\]**\\.")
    assert escape_markdown("a\nb") == "a  \nb"


def test_excerpt_cuts_at_paragraphs_and_words() -> None:
    text = "Premier paragraphe assez long.\nLe passage cité ici.\nLa suite du texte, encore."
    start = text.index("Le passage")
    before, passage, after = excerpt(text, start, start + len("Le passage cité ici."), context=25)
    assert (before, passage, after) == ("…paragraphe assez long.\n", "Le passage cité ici.", "\nLa suite du texte,…")
    assert excerpt(text, 0, 7, context=1000) == ("", "Premier", text[7:])


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (IndexMissing("no index yet; run: rag ingest"), "IndexMissing", "Construisez l'index"),
        (InvalidQuestion("the question is 1500 characters long; the limit is 1000: shorten it"), "too_long", "1500"),
        (InvalidQuestion("the question is empty"), "InvalidQuestion", "Tapez une question"),
        (ModelMissing("model file x is missing"), "ModelMissing", "make chat"),
        (LLMError("boom"), "LLMError", "Réessayez"),
        (RagError("other"), "RagError", "détail"),
        (ValueError("bug"), "unexpected", "journal du serveur"),
    ],
)
def test_every_error_has_a_friendly_explanation(exc: BaseException, kind: str, words: str) -> None:
    view = explain(exc, "fr")
    assert view.kind == kind and words in view.message
    assert "Traceback" not in view.message + view.detail


def test_dates_are_written_for_people() -> None:
    assert format_date("2025-06-04", "fr") == "4 juin 2025"
    assert format_date("2025-06-04", "en") == "4 June 2025"
    assert format_date("juin 2025", "fr") == "juin 2025" and format_date(None, "en") == ""


def test_upload_before_any_index_builds_the_whole_index(env: Settings) -> None:
    at = start()
    at.file_uploader(key="upload-0").set_value(("lyon.txt", "Il pleut à Lyon.".encode(), "text/plain")).run()
    at.button(key="add_files").click().run()
    assert at.metric[0].value == "6" and not at.info  # six articles, all indexed: no "build the index" offer
    assert "6 ajouté(s)" in " ".join(s.value for s in at.success)


def test_an_interrupted_question_is_marked(indexed: Settings) -> None:
    at = start()
    at.session_state.messages = [{"role": "user", "content": "Question coupée ?"}]
    at.run()
    assert "La réponse précédente a été interrompue." in [c.value for c in at.caption]
    ask(at, POPE_Q)
    assert "Léon XIV" in last_answer(at).answer
