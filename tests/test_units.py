"""Unit tests for the small pieces: chunking, calendar, citations, safety, SQuAD metrics, lexical analysis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answer import build_messages, finish, is_refusal, off_kind
from rag.chunking import chunk_text, sentence_spans
from rag.citations import Passage, about, attribute, facts_of
from rag.glosses import gloss, unglossed
from rag.lexical import LexicalIndex, analyze
from rag.passages import focus
from rag.retrieval import Hit
from rag.safety import sanitize
from rag.squad import exact_match, f1
from rag.store import StoredChunk
from rag.weekdays import annotate, undoubled


def _hit(name: str, text: str, score: float = 1.0, title: str = "t", date: str | None = None) -> Hit:
    """A hit on a one-chunk article `name`.txt, as retrieval returns it."""
    return Hit(StoredChunk(f"{name}-0", f"{name}.txt", 0, len(text), text, title, date), score)


@given(st.text(alphabet=st.sampled_from(list("abc éà.!?\n«»'’ ")), max_size=400), st.integers(20, 200))
def test_chunks_keep_exact_offsets_and_cover_every_sentence(text: str, size: int) -> None:
    chunks = chunk_text("a.txt", "h", text, max_chars=size)
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text.strip() == c.text
    covered = {i for c in chunks for i in range(c.start, c.end)}
    for s, e in sentence_spans(text):
        assert all(i in covered for i in range(s, e) if not text[i].isspace())  # long ones are cut at spaces
    assert len({c.id for c in chunks}) == len(chunks)


def test_chunk_ids_depend_on_content_hash() -> None:
    a = chunk_text("a.txt", "h1", "Une phrase. Une autre.")
    b = chunk_text("a.txt", "h2", "Une phrase. Une autre.")
    assert [c.id for c in a] != [c.id for c in b]
    assert [c.id for c in a] == [c.id for c in chunk_text("a.txt", "h1", "Une phrase. Une autre.")]


def test_sentences_do_not_split_on_abbreviations() -> None:
    text = "Selon lui, MM. Poutine et Trump ont parlé. M. Ouchakov a confirmé."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Selon lui, MM. Poutine et Trump ont parlé.",
        "M. Ouchakov a confirmé.",
    ]


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Le cycle s'est tenu lundi à Istanbul.", "2025-06-04", "lundi (2 juin 2025)"),
        ("Il s'entretiendrait lundi avec Poutine.", "2025-05-17", "lundi (19 mai 2025)"),
        ("Ils ont échangé ce jeudi.", "2025-07-03", "jeudi (3 juillet 2025)"),
        ("La réunion du lundi 19 mai.", "2025-05-17", "lundi 19 mai."),
    ],
)
def test_weekdays_resolve_to_dates(text: str, published: str, expected: str) -> None:
    assert expected in annotate(text, published)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Le cycle s'est tenu lundi à Istanbul.", "2025-06-04", "lundi (Monday 2 June 2025) à"),
        ("L'opération menée dimanche.", "2025-06-04", "dimanche (Sunday 1 June 2025)."),
        ("Il a parlé ce jeudi 3 juillet.", "2025-07-03", "jeudi (Thursday) 3 juillet"),
        ("Il a parlé ce jeudi 3 juillet.", None, "jeudi (Thursday) 3 juillet"),
        ("Il reviendra mardi prochain.", "2025-07-03", "mardi prochain"),
    ],
)
def test_weekdays_are_named_in_english_for_english_questions(text: str, published: str | None, expected: str) -> None:
    assert expected in annotate(text, published, lang="en")


def test_a_copied_weekday_bracket_is_written_once() -> None:
    assert undoubled("It was on Sunday (Sunday 1 June 2025).") == "It was on Sunday 1 June 2025."
    assert undoubled("Monday (Sunday 1 June 2025)") == "Monday (Sunday 1 June 2025)"  # a contradiction stays visible


def test_annotate_without_date_changes_nothing() -> None:
    assert annotate("Il a parlé lundi.", None) == "Il a parlé lundi."


def _passages() -> list[Passage]:
    texts = [
        "Selon un communiqué, Vladimir Poutine s'est aussi entretenu par téléphone avec le pape Léon XIV.",
        "L'appel aurait duré une heure et quart, il s'agissait du premier contact depuis le 19 mai.",
        "Au cours d'un entretien téléphonique d'environ une heure, Poutine a parlé à Trump le 3 juillet.",
    ]
    return [Passage(i, f"{i}.txt", 100, 100 + len(t), t, "", "2025-06-04", 0.5) for i, t in enumerate(texts, 1)]


def test_attribution_fixes_a_wrong_marker() -> None:
    text, cites, unsupported = attribute("The call lasted one hour and fifteen minutes [3].", _passages())
    assert unsupported == 0
    assert text == "The call lasted one hour and fifteen minutes [1]."
    assert [c.source for c in cites] == ["2.txt"]
    assert cites[0].text.startswith("L'appel aurait duré")


def test_attribution_adds_a_missing_marker_and_drops_unsupported_numbers() -> None:
    text, cites, unsupported = attribute(
        "Poutine a parlé avec le pape Léon XIV. Il gagne 100 millions de dollars [2].", _passages()
    )
    assert text == "Poutine a parlé avec le pape Léon XIV [1]."
    assert unsupported == 1
    assert [c.source for c in cites] == ["1.txt"]


def test_a_date_nobody_asked_for_is_dropped_rather_than_the_answer() -> None:
    """ "Où a-t-il été tué ?" answered "à Korenevo le 3 juillet" when no passage dates the
    death: without `spare_dates` (the question asks when) the sentence goes; with it, the
    date goes and the place stays, cited."""
    text = "Des affrontements ont causé la mort du général Goudkov lors d'une opération à Korenevo."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", "2025-07-03", 1.0)]
    answer = "Le général Goudkov a été tué à Korenevo le 3 juillet [1]."
    assert attribute(answer, ps) == ("", [], 1)
    spared, cites, unsupported = attribute(answer, ps, spare_dates=True)
    assert spared == "Le général Goudkov a été tué à Korenevo [1]." and unsupported == 0 and len(cites) == 1
    assert attribute("Le général Goudkov a été tué à Korenevo par 3 drones le 3 juillet.", ps, spare_dates=True)[2] == 1


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("Où se trouvait Zelensky quand il a réclamé davantage de soutien militaire ?", True),
        ("Where was Zelensky when he asked for more military support?", True),
        ("Quand et où Zelensky a-t-il réclamé davantage de soutien militaire ?", False),
        ("Zelensky a réclamé davantage de soutien militaire : quel jour ?", False),
    ],
)
def test_a_when_inside_a_question_does_not_ask_for_the_date(question: str, kept: bool) -> None:
    """ "Où ... quand il a réclamé ...?" asks where: a date the model tacks on and no
    passage backs is dropped, not the answer; a question that asks when keeps the check."""
    text = "Lors de sa visite au Danemark, Zelensky a réclamé davantage de soutien militaire."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", "2025-07-03", 1.0)]
    answer = finish(question, question, "fr", "Zelensky était au Danemark le 5 juillet [1].", ps)
    assert answer.abstained is not kept
    assert not kept or answer.answer == "Zelensky était au Danemark [1].", answer.answer


def test_a_rank_backs_a_rank_and_not_a_count() -> None:
    """ "Le deuxième cycle ... lundi (2 juin)" ranks a 2 (the date's 2 is a day): it backs
    "the second round" and "Monday (2nd)", never "2 prisoners"; "May 19th" is a date."""
    text = "Le deuxième cycle de négociations s'est tenu lundi à Istanbul, avec les deux parties."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", "2025-06-04", 1.0)]
    for backed in ("The second round was held on Monday [1].", "Monday (2nd) [1]"):
        assert attribute(backed, ps)[2] == 0, backed
    assert attribute("2 prisoners were exchanged in Istanbul [1].", ps)[2] == 1
    assert facts_of("They met on May 19th.", claim=True).ranks == set()


def test_a_leading_name_must_be_in_the_cited_passage() -> None:
    """'Kiev' opens the sentence (capitalised by grammar too), but the passages use it as a
    name, so the Poltava passage cannot back a claim about Kiev; a plain first word is free."""
    texts = [
        "Les frappes ont touché la ville de Poltava, faisant deux morts.",
        "La Russie demande à Kiev de renoncer à l'OTAN.",
    ]
    ps = [Passage(i, f"{i}.txt", 0, len(t), t, "", None, 0.5) for i, t in enumerate(texts, 1)]
    _, cites, unsupported = attribute("Kiev was hit by strikes that left two dead [1].", ps)
    assert unsupported == 1 and not cites
    _, cites, unsupported = attribute("Poltava was hit by strikes that left two dead.", ps)
    assert unsupported == 0 and [c.source for c in cites] == ["1.txt"]
    _, cites, unsupported = attribute("Strikes hit the city of Poltava, leaving two dead.", ps)
    assert unsupported == 0 and [c.source for c in cites] == ["1.txt"]


def test_an_english_answer_that_restates_the_question_is_backed_by_the_french_passage_with_its_answer() -> None:
    """The question's words the answer echoes ("hit by strikes that left two dead") cannot be
    found in a French passage; they are not asked of it, but the name the answer adds is."""
    poltava = "Les frappes ukrainiennes ont également touché la ville de Poltava, faisant deux morts."
    other = "Des explosions ont fait dérailler trois trains, avec un bilan de sept morts."
    ps = [
        Passage(1, "a.txt", 0, len(other), other, "", None, 1.0),
        Passage(2, "b.txt", 0, len(poltava), poltava, "", None, 0.9),
    ]
    question = (
        "Which Ukrainian city was hit by strikes that left two dead, according to the article about the sixth call?"
    )
    answer = "{} was hit by strikes that left two dead, according to the article about the sixth call."
    text, cites, unsupported = attribute(answer.format("Poltava"), ps, question=question)
    assert unsupported == 0 and [c.source for c in cites] == ["b.txt"] and text.endswith("[1].")
    assert attribute(answer.format("Kharkiv"), ps, question=question)[1] == []
    # In the passages' language the echoed words are still asked for: a passage naming
    # Poltava for something else does not back a French answer about the strikes.
    elsewhere = [Passage(1, "c.txt", 0, 40, "Le maire de Poltava a reçu des journalistes.", "", None, 1.0)]
    question_fr = "Quelle ville ukrainienne a été touchée par des frappes faisant deux morts, selon l'article ?"
    claim_fr = "Poltava a été touchée par des frappes faisant deux morts, selon l'article."
    assert attribute(claim_fr, elsewhere, question=question_fr)[1] == []


def test_of_passages_that_back_a_sentence_about_as_well_the_one_the_model_cited_is_kept() -> None:
    """Two passages name Putin and Trump; the one the model read "energy and space" in (its
    marker, even standing alone after the sentence) holds the answer in French words."""
    texts = [
        "Ce sujet n'a pas été abordé lors de l'appel entre Vladimir Poutine et Donald Trump.",
        "Les deux dirigeants ont exprimé leur intérêt pour des projets communs dans l'énergie et l'espace.",
    ]
    ps = [Passage(i, f"{i}.txt", 0, len(t), t, "Poutine et Trump", None, 1.0) for i, t in enumerate(texts, 1)]
    question = "In which fields did Putin and Trump say they wanted joint projects?"
    answer = "Putin and Trump said they wanted joint projects in energy and space."
    for marked in (f"{answer} [2]", f"{answer[:-1]} [2]."):
        text, cites, _ = attribute(marked, ps, question=question)
        assert [c.source for c in cites] == ["2.txt"] and text == f"{answer[:-1]} [1].", marked


def test_focus_for_a_follow_up_shows_what_the_question_alone_asks_for() -> None:
    """The earlier turn's words (Rubio, Lavrov) would fill the budget with the call; the
    follow-up's own ranking brings the sentence about where he posted."""

    text = (
        "Marco Rubio, secrétaire d'État américain, a appelé le chef de la diplomatie russe Sergueï Lavrov "
        "après les pourparlers. "
        "Selon Moscou, Rubio et Lavrov ont parlé des pourparlers d'Istanbul et de l'échange de prisonniers. "
        "Il est temps de mettre fin à cette guerre, a écrit Rubio sur X."
    )
    hits = [_hit("a", text)]
    question = "Et sur quel réseau a-t-il écrit qu'il était temps de mettre fin à la guerre ?"
    query = f"{question} (Qui Marco Rubio a-t-il appelé après les pourparlers ? Rubio a appelé Sergueï Lavrov.)"
    assert [p.text[:11] for p in focus(hits, query, max_sentences=1)] == ["Marco Rubio"]
    shown = focus(hits, query, max_sentences=1, follow_up=(question, None))
    assert [p.text[-6:] for p in shown] == ["sur X."]


def test_focus_matches_counts_in_words_across_languages_but_not_ranks() -> None:
    """ "two dead" shares the count 2 with "deux morts", not with "le deuxième cycle"."""

    texts = [
        "Le deuxième cycle de pourparlers s'est tenu à Istanbul.",
        "La ville de Poltava a été touchée, avec deux morts.",
    ]
    hits = [_hit(str(i), t) for i, t in enumerate(texts)]
    assert focus(hits, "Which city was hit, with two dead?", max_sentences=1, budget_chars=60)[0].source == "1.txt"


def test_a_count_must_count_what_the_passage_counts() -> None:
    """ "trois trains ... sept morts": the passage holds a 3 and counts its dead, so it backs
    "7 morts" and "trois trains" but not "3 morts" (the model took the trains' number)."""
    text = "Des explosions ont fait dérailler trois trains, avec un bilan de sept morts et 113 blessés."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", None, 1.0)]
    for backed in (
        "7 morts [1].",
        "Trois trains ont déraillé [1].",
        "Il y a eu 113 blessés [1].",
        "Seven people died.",
    ):
        assert attribute(backed, ps)[2] == 0, backed
    for wrong in ("3 morts [1].", "Il y a eu 7 blessés [1]."):
        assert attribute(wrong, ps)[1:] == ([], 1), wrong
    assert (
        attribute(
            "L'appel du 3 juillet a duré 1 heure.",
            [Passage(1, "b.txt", 0, 40, "Le 3 juillet, un appel d'une heure.", "", None, 1.0)],
        )[2]
        == 0
    )


def test_a_word_that_only_opens_passage_sentences_is_not_a_name() -> None:
    """'L'appel' starts a passage's sentence: capitalised by grammar, so the claim's own
    'L'appel' asks nothing of the passages and the one-hour call stays cited."""
    texts = [
        "L'appel aurait duré une heure et quart, le premier contact depuis le 19 mai.",
        "Au cours d'un entretien téléphonique d'environ une heure, Poutine a parlé à Trump.",
    ]
    ps = [Passage(i, f"{i}.txt", 0, len(t), t, "", None, 0.5) for i, t in enumerate(texts, 1)]
    text, cites, unsupported = attribute("L'appel a duré environ une heure. (passage 2)", ps)
    assert unsupported == 0 and [c.source for c in cites] == ["2.txt"], text


def test_names_in_the_articles_title_back_a_claim_about_its_subjects() -> None:
    """ "Les deux hommes" are named by the article's title, so a claim naming them is backed
    by the sentence that dates their contact; a title naming others backs nothing."""
    text = "L'appel aurait duré une heure et quart, le premier contact officiel entre les deux hommes depuis le 19 mai."
    claim = "Le dernier contact officiel entre Trump et Poutine date du 19 mai."
    titled = Passage(1, "a.txt", 0, len(text), text, "Poutine a dit à Trump qu'il répondrait", "2025-06-04", 1.0)
    _, cites, unsupported = attribute(claim, [titled])
    assert unsupported == 0 and [c.source for c in cites] == ["a.txt"]
    other = Passage(1, "b.txt", 0, len(text), text, "Zelensky au Danemark", "2025-06-04", 1.0)
    _, cites, unsupported = attribute(claim, [other])
    assert unsupported == 1 and not cites


def test_a_second_citation_only_for_what_the_first_passage_lacks() -> None:
    """The same duration in two articles is cited once; a claim naming a person from each
    of two articles cites both."""
    texts = [
        "L'appel aurait duré une heure et quart, selon Trump.",
        "Trump a précisé que l'entretien avait duré une heure et quart.",
        "Rubio a salué l'accord d'échange de prisonniers conclu à Istanbul.",
        "Roustem Oumerov a décrit l'échange de prisonniers convenu à Istanbul.",
    ]
    ps = [Passage(i, f"{i}.txt", 0, len(t), t, "", None, 0.5) for i, t in enumerate(texts, 1)]
    _, cites, _ = attribute("The call lasted an hour and a quarter.", ps)
    assert [c.source for c in cites] == ["1.txt"]
    _, cites, _ = attribute("It was Rubio who welcomed it and Oumerov who described the exchange at Istanbul.", ps)
    assert sorted(c.source for c in cites) == ["3.txt", "4.txt"]


def test_citation_span_is_the_supporting_sentence() -> None:
    p = Passage(1, "a.txt", 10, 0, "", "", None, 1.0)
    body = "Première phrase sans rapport. L'appel a duré une heure et quart. Autre chose."
    p = Passage(1, "a.txt", 10, 10 + len(body), body, "", None, 1.0)
    _, cites, _ = attribute("Il a duré 75 minutes.", [p])
    assert cites[0].text == "L'appel a duré une heure et quart."
    assert cites[0].start == 10 + body.index("L'appel")


@pytest.mark.parametrize(
    "hostile",
    [
        "![x](http://evil.example/a.png)",
        "<img src=http://evil.example/a.png>",
        "<script>fetch('http://evil.example')</script>",
        "[clique](https://evil.example/x)",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "voir www.evil.example/page",
        "<http://evil.example>",
    ],
)
def test_sanitize_removes_every_outside_reference(hostile: str) -> None:
    out = sanitize(f"Réponse [1]. {hostile}")
    assert "evil.example" not in out and "<" not in out and "javascript:" not in out and "data:" not in out
    assert out.startswith("Réponse [1].")


def test_squad_metrics_are_french_aware() -> None:
    assert exact_match("l'Élysée", "Élysée")
    assert f1("les négociations d'Istanbul", "négociations à Istanbul") == 1.0
    assert f1("le sommet de Paris", "sommet Lyon") == 0.5
    assert f1("rien", "Istanbul") == 0.0


def test_lexical_matches_curly_and_straight_apostrophes() -> None:
    assert analyze("l’été") == analyze("l'été") == analyze("L'ÉTÉ")
    index = LexicalIndex(["a", "b"], ["Résumé de l’été à Paris", "Le printemps à Lyon"])
    assert index.search("l'été", 2)[0][0] == "a"
    assert index.search("le la les de", 2) == []
    assert index.search("?!", 2) == []


def test_focus_prefers_the_article_about_the_day_the_question_names() -> None:
    """ "L'appel du 3 juillet": the June article's hour and a quarter shares more words with
    the question, but only the article of 3 July can be about that call."""

    june = "L'appel du président a duré une heure et quart."
    july = "L'entretien a duré environ une heure."
    hits = [_hit("a", june, title="Juin", date="2025-06-04"), _hit("b", july, 0.9, "Juillet", "2025-07-03")]
    assert [p.source for p in focus(hits, "Combien de temps a duré l'appel ?", budget_chars=50)] == ["a.txt"]
    assert [p.source for p in focus(hits, "Combien de temps a duré l'appel du 3 juillet ?", budget_chars=50)] == [
        "b.txt"
    ]


class _Vectors:
    """Sentence vectors given by hand: the first component for a sentence containing a key."""

    def __init__(self, closeness: dict[str, float]) -> None:
        self.closeness = closeness

    def get(self, keys: object, texts: list[str]) -> list[list[float]]:
        return [[next((v for k, v in self.closeness.items() if k in t), 0.0), 0.0] for t in texts]


def test_focus_reads_an_english_question_over_french_sentences_by_meaning_more_than_by_names() -> None:
    """ "Joint projects" is closest to "projets communs", which shares no word with the
    English question; a sentence that only shares "Trump" with it counts that name half."""
    named = "Trump a parlé de la guerre avec Poutine."
    meant = "Les deux dirigeants ont exprimé leur intérêt pour des projets communs dans l'énergie."
    hits = [_hit("a", named), _hit("b", meant)]
    vectors = _Vectors({"Trump a parlé": 0.80, "projets communs": 0.835})
    question = "In which fields did Trump and Putin want joint projects?"
    shown = focus(hits, question, query_vector=[1.0, 0.0], vectors=vectors, max_sentences=1)  # type: ignore[arg-type]
    assert shown[0].source == "b.txt"
    french = "Dans quels domaines Trump et Poutine veulent-ils des projets ?"  # same language: words count in full
    shown = focus(hits, french, query_vector=[1.0, 0.0], vectors=vectors, max_sentences=1)  # type: ignore[arg-type]
    assert shown[0].source == "a.txt"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("L'appel aurait duré une heure et quart.", "L'appel aurait duré une heure et quart (1 h 15 min)."),
        ("un entretien d'environ une heure", "un entretien d'environ une heure (1 h)"),
        ("deux heures et demie", "deux heures et demie (2 h 30 min)"),
        ("trois quarts d'heure", "trois quarts d'heure (45 min)"),
        ("vingt-cinq minutes", "vingt-cinq minutes (25 min)"),
        ("40 minutes, à 10 heures", "40 minutes, à 10 heures"),  # already in figures
        ("une heure moins le quart", "une heure moins le quart"),  # not read: not glossed
        ("quatre régions", "quatre régions"),
    ],
)
def test_durations_in_words_are_glossed_in_figures_for_the_model(text: str, shown: str) -> None:
    assert gloss(text) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("la sixième discussion", "la sixième (6th) discussion"),
        ("la vingt-deuxième fois", "la vingt-deuxième (22nd) fois"),
        ("sept morts et 113 blessés", "sept (7) morts et 113 blessés"),
        ("trente-et-un soldats", "trente-et-un (31) soldats"),
        ("un blessé, une victime", "un blessé, une victime"),  # articles as often as counts
        ("le premier ministre", "le premier ministre"),
        ("deux heures", "deux heures (2 h)"),  # a duration, glossed once
    ],
)
def test_counts_and_ranks_in_words_are_glossed_for_english_questions(text: str, shown: str) -> None:
    assert gloss(text, "en") == shown
    assert gloss(text, "fr") == gloss(text)  # a French question reads them as written


def test_copied_count_glosses_are_taken_out_but_passage_numbers_stay() -> None:
    assert unglossed("The sixth (6th) call; seven (7) dead [1].") == "The sixth call; seven dead [1]."
    assert unglossed("Monday (3); in 2025 (2025)") == "Monday (3); in 2025 (2025)"


def test_a_copied_rank_figure_wins_over_the_words_the_model_wrote_before_it() -> None:
    """'sixième (6th)' was shown; the model wrote 'The sixteenth (6th) call': the figure is the passage's."""
    text = "Cet appel est la sixième discussion téléphonique entre Poutine et Trump."
    p = Passage(1, "a.txt", 0, len(text), text, "t", "2025-07-03", 1.0)
    question = "Which Putin–Trump phone call was the one on 3 July?"
    answer = finish(question, question, "en", "The sixteenth (6th) Putin–Trump phone call was on 3 July [1].", [p])
    assert not answer.abstained and "6th" in answer.answer and "sixteenth" not in answer.answer
    wrong = finish(question, question, "en", "The sixteenth Putin–Trump phone call was on 3 July [1].", [p])
    assert wrong.abstained  # without the figure, the invented rank is still dropped


def test_an_answer_the_named_passage_does_not_concern_is_attributed_afresh() -> None:
    """ "Istanbul (2nd)": the second passage also says Istanbul, but of the June round; the
    first, on the talks of mid-May the question asks about, backs it as well."""
    may = "Des pourparlers directs, les premiers depuis mars 2022, se sont déroulés à Istanbul vendredi."
    june = "Le deuxième cycle de négociations s'est tenu lundi à Istanbul."
    ps = [Passage(n, f"{n}.txt", 0, len(t), t, "t", "2025-06-04", 1.0) for n, t in enumerate((may, june), 1)]
    question = "Russia and Ukraine held their first direct talks since March 2022 in mid-May. Which city hosted them?"
    answer = finish(question, question, "en", "Istanbul (2nd)", ps)
    assert answer.answer == "Istanbul [1]", answer.answer
    assert [c.source for c in answer.citations] == ["1.txt"]


def test_a_passage_named_in_words_becomes_its_marker() -> None:
    text = "Des affrontements ont causé la mort du général Mikhaïl Goudkov lors d'une opération à Korenevo."
    p = Passage(1, "a.txt", 0, len(text), text, "t", "2025-07-03", 1.0)
    question = "Où le général Mikhaïl Goudkov a-t-il été tué ?"
    raw = "Dans le passage 1, on trouve que des affrontements ont causé la mort du général à Korenevo."
    answer = finish(question, question, "fr", raw, [p])
    assert not answer.abstained
    assert answer.answer == "Des affrontements ont causé la mort du général à Korenevo [1]."
    assert answer.citations[0].source == "a.txt"


def test_the_model_reads_the_glossed_duration() -> None:
    p = Passage(1, "a.txt", 0, 39, "L'appel aurait duré une heure et quart.", "t", "2025-06-04", 1.0)
    prompt = build_messages("How long did the call last?", [p], "en")[-1]["content"]
    assert "une heure et quart (1 h 15 min)" in prompt
    assert unglossed("It lasted 1 hour and 15 minutes (1 h 15 min) [1].") == "It lasted 1 hour and 15 minutes [1]."
    assert unglossed("L'appel (du 3 juillet) a duré 1 h [1].") == "L'appel (du 3 juillet) a duré 1 h [1]."


def test_focus_prefers_sentences_not_dated_in_other_months_than_the_question_names() -> None:
    """ "La conversation de juin": a sentence about the call of 18 March ranks below one
    with no date; unless the question asks about another time ("avant", "before")."""

    march = "La précédente conversation entre Poutine et Trump a eu lieu le 18 mars."
    june = "Le Kremlin a jugé la conversation positive."
    hits = [_hit("a", march), _hit("b", june)]
    first = focus(hits, "Le Kremlin a-t-il jugé positive la conversation de juin entre Poutine et Trump ?")
    assert first[0].source == "b.txt"
    before = focus(hits, "Quand la conversation entre Poutine et Trump avant celle de juin a-t-elle eu lieu ?")
    assert before[0].source == "a.txt"


def test_a_follow_up_is_about_the_days_its_earlier_turn_names() -> None:
    """ "That conversation" after a question on the 3 July call: the June article's verdict
    on its own call ranks below the July one, in the follow-up's own ranking too."""

    june = _hit("a", "Le Kremlin a jugé la conversation positive et productive.", 1.0, date="2025-06-04")
    july = _hit("b", "Le Kremlin a jugé la conversation franche.", 0.9, date="2025-07-03")
    question = "And how did the Kremlin describe that conversation?"
    query = f"{question} (What did Trump say after his July 3 call with Putin? That he had made no progress.)"
    shown = focus([june, july], query, max_sentences=1, budget_chars=50, follow_up=(question, None))
    assert [p.source for p in shown] == ["b.txt"]


def test_focus_matches_english_weekdays_and_months_with_french_ones() -> None:

    rubio = "Rubio a salué les accords conclus à Istanbul."
    friday = "Les pourparlers se sont déroulés à Istanbul vendredi, sans aboutir à une trêve."
    hits = [_hit("a", rubio), _hit("b", friday, 0.9)]
    assert focus(hits, "Did the Friday talks in Istanbul end with a truce?")[0].source == "b.txt"


_SUSPENSION = (
    "Les deux présidents ont parlé de l'Ukraine pendant une heure. "
    "Cet entretien intervient après la suspension de livraisons d'armes américaines. "
    "Ce sujet n'a pas été abordé lors de l'appel. "
    "Le Kremlin a publié un communiqué dans la soirée."
)
_YERMAK = (
    "Kyiv a remis une liste d'enfants déportés. "
    '"Nous parlons de centaines d\'enfants que la Russie a illégalement déportés. '
    "Nous attendons une réponse. "
    'La balle est dans le camp de la Russie", a déclaré Andriy Yermak sur Telegram. '
    "Le Kremlin n'a pas commenté."
)


@pytest.mark.parametrize(
    ("text", "question", "budget", "shown", "alone"),
    [
        (  # "Ce sujet n'a pas été abordé" says what the call did about the suspension
            _SUSPENSION,
            "La suspension des livraisons d'armes américaines a-t-elle été discutée ?",
            90,
            [
                "Cet entretien intervient après la suspension de livraisons d'armes américaines. "
                "Ce sujet n'a pas été abordé lors de l'appel."
            ],
            ("Qu'a publié le Kremlin dans la soirée ?", "Le Kremlin a publié un communiqué dans la soirée."),
        ),
        (  # a quoted sentence says nothing of who spoke: the one closing the quotation does
            _YERMAK,
            "Qui a parlé des centaines d'enfants déportés par la Russie ?",
            90,
            [
                '"Nous parlons de centaines d\'enfants que la Russie a illégalement déportés.',
                'La balle est dans le camp de la Russie", a déclaré Andriy Yermak sur Telegram.',
            ],
            ("Qui a remis une liste d'enfants déportés ?", "Kyiv a remis une liste d'enfants déportés."),
        ),
    ],
)
def test_focus_keeps_what_a_chosen_sentence_needs(
    text: str, question: str, budget: int, shown: list[str], alone: tuple[str, str]
) -> None:
    """A chosen sentence brings the next one when it refers back to it, and the one that
    closes a quotation it is inside of; a sentence that needs neither comes alone."""
    from rag.polarity import verdict

    hits = [_hit("a", text)]
    passages = focus(hits, question, max_sentences=1, budget_chars=budget)
    assert [p.text for p in passages] == shown
    assert all(text[p.start : p.end] == p.text for p in passages)
    if text is _SUSPENSION:  # the yes/no verdict reads the negation the second sentence carries
        assert verdict(question, passages[0].text) is False
    assert [p.text for p in focus(hits, alone[0], max_sentences=1, budget_chars=60)] == [alone[1]]


def test_a_country_named_in_two_words_is_found_in_its_hyphenated_french_name() -> None:
    """'United' and 'States' are two capitalised words of the claim; the passage names
    'les États-Unis' as one: each word is found in it, so the mediation claim is backed."""
    text = "Rubio a souligné que les États-Unis étaient prêts à poursuivre leurs efforts de médiation."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", None, 1.0)]
    question = "What did Rubio say the United States were ready to continue?"
    claim = "The {} were ready to pursue their mediation efforts [1]."
    _, cites, unsupported = attribute(claim.format("United States"), ps, question=question)
    assert unsupported == 0 and [c.source for c in cites] == ["a.txt"]
    _, cites, _ = attribute(claim.format("United Kingdom"), ps, question=question)
    assert not cites


def test_a_name_adds_to_a_question_that_names_it_only_in_common_words() -> None:
    """"Joe Biden" and "Truth Social" answer questions that say "president" and "réseau social"."""
    question = "Under which US president did the United States provide more than 60 billion dollars of aid?"
    assert not off_kind(question, "Under President Joe Biden, the United States provided 60 billion dollars [1].")
    assert not off_kind("Sur quel réseau social a-t-il écrit ?", "Il a écrit sur le réseau Truth Social [1].")


@pytest.mark.parametrize(
    ("question", "restated", "answered"),
    [
        (  # the question asks a time of day; a length is no answer, "10 heures" is
            "À quelle heure Poutine et Trump ont-ils commencé leur entretien du 3 juillet ?",
            "Poutine et Trump ont commencé leur entretien du 3 juillet à environ une heure.",
            "Poutine et Trump ont commencé leur entretien du 3 juillet à 10 heures.",
        ),
        (  # "Donald" and "Vladimir" add nothing to a question naming Trump and Poutine
            "Début juin, en plus de Trump, avec quelle personnalité Poutine a-t-il eu un entretien téléphonique ?",
            "Donald Trump et Vladimir Poutine ont eu un entretien téléphonique le 4 juin.",
            "Vladimir Poutine a eu un entretien téléphonique avec le pape Léon XIV.",
        ),
        (  # "met" is the question's "meet", and "ont été" the question's own verb
            "Where did the Russian and Ukrainian negotiators meet face to face?",
            "The Russian and Ukrainian negotiators met face to face on 18 March.",
            "The Russian and Ukrainian negotiators met face to face in Istanbul.",
        ),
        (
            "Qu'est-ce que l'attaque de drones a endommagé ou détruit sur les aérodromes russes ?",
            "Les aérodromes russes ont été endommagés ou détruits par l'attaque de drones.",
            "L'attaque de drones a endommagé ou détruit des avions sur les aérodromes russes.",
        ),
    ],
)
def test_an_answer_that_restates_the_question_is_dropped(question: str, restated: str, answered: str) -> None:
    text = (
        "Le 18 mars, puis le 4 juin, Vladimir Poutine et Donald Trump ont eu un entretien téléphonique ; "
        "Vladimir Poutine a eu un entretien téléphonique avec le pape Léon XIV. Poutine et Trump ont commencé "
        "leur entretien du 3 juillet à 10 heures, et il a duré environ une heure. Les négociateurs russes et "
        "ukrainiens se sont rencontrés face à face à Istanbul. L'attaque de drones a endommagé ou détruit des "
        "avions sur les aérodromes russes."
    )
    ps = [Passage(1, "a.txt", 0, len(text), text, "", "2025-07-03", 1.0)]
    lang = "en" if question.startswith("Where") else "fr"
    assert finish(question, question, lang, restated, ps).abstained
    assert not finish(question, question, lang, answered, ps).abstained


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("NOT FOUND", True),
        ("The answer is not in the passages.", True),
        ("Les articles ne contiennent pas la réponse.", True),
        ("Elles ne sont pas mentionnées.", True),
        ("No, Trump was not informed in advance of the drone attacks.", False),  # "not in" is not "not in..."
        ("Moscow was not involved.", False),
    ],
)
def test_a_refusal_is_told_from_a_negative_answer(text: str, refusal: bool) -> None:
    assert is_refusal(text) is refusal


def test_an_article_date_says_what_day_a_passage_concerns_but_backs_no_claimed_date() -> None:
    sixth = "Ce sixième échange téléphonique a duré environ une heure."
    p = Passage(1, "b.txt", 0, len(sixth), sixth, "Poutine à Trump", "2025-07-03", 1.0)
    assert about("How long did the 3 July call last?", [p])
    assert not about("How long did the 4 June call last?", [p])
    _, cites, unsupported = attribute("The call took place on 3 July 2025 and lasted an hour.", [p])
    assert unsupported == 1 and not cites  # the passage never says when
    today = Passage(1, "b.txt", 0, 40, "Les deux présidents se sont parlé aujourd'hui.", "", "2025-07-03", 1.0)
    assert attribute("The two presidents spoke on 3 July.", [today])[1]


@pytest.mark.parametrize(
    ("answer", "question", "backed"),
    [
        ("7", "How many people were injured in the train derailments?", False),  # 7 counts the dead
        ("113", "How many people were injured in the train derailments?", True),
        ("Seven people died.", "How many people died in the derailments?", True),
        ("Sept personnes sont mortes.", "Combien de personnes sont mortes ?", True),
        ("3 drones", "How many drones hit the trains?", False),  # 3 counts the trains
        ("3", "How many trains derailed?", True),
    ],
)
def test_a_number_must_count_what_is_asked_in_either_language(answer: str, question: str, backed: bool) -> None:
    text = "Des explosions ont fait dérailler trois trains, avec un bilan de sept morts et 113 blessés."
    ps = [Passage(1, "a.txt", 0, len(text), text, "", "2025-06-01", 1.0)]
    assert (attribute(answer, ps, question=question)[2] == 0) is backed
