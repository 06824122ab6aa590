"""Yes/no questions and restated question facts: the rules the system adds around the model."""

from __future__ import annotations

import pytest

from rag.answer import lead_with
from rag.citations import Passage, attribute
from rag.polarity import is_yes_no, negated, verdict


@pytest.mark.parametrize(
    "question",
    [
        "Did the Friday talks in Istanbul end with a truce agreement?",
        "Was the suspension discussed during the call?",
        "And has Moscow replied?",
        "Trump a-t-il été informé à l'avance des attaques ?",
        "Selon Trump, sa conversation allait-elle mener à une paix immédiate ?",
        "Est-ce que le Kremlin a jugé l'appel positif ?",
        "Y a-t-il eu un cessez-le-feu ?",
        "Le sixième appel a-t-il été plus court que celui où ils ont parlé des drones ?",
    ],
)
def test_yes_no_questions_are_recognised(question: str) -> None:
    assert is_yes_no(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who phoned Lavrov?",
        "When was Crimea annexed?",
        "Quand Trump a-t-il appelé Poutine ?",
        "Combien de temps a-t-il duré ?",
        "Pourquoi Poutine a-t-il refusé ?",
        "Quel jour de la semaine ont eu lieu les pourparlers ?",
        "How long did the call last?",
    ],
)
def test_open_questions_are_not_yes_no(question: str) -> None:
    assert not is_yes_no(question)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ("Le président a affirmé ne pas avoir été informé à l'avance.", True),
        ("Ce sujet n’a pas été abordé lors de l’appel.", True),
        ("Les pourparlers se sont déroulés vendredi, sans aboutir à un accord de trêve.", True),
        ("He said no progress had been made.", True),
        ("Les deux parties ont toutefois convenu d'un nouvel échange de prisonniers.", False),
        ("Le Kremlin l'a jugée positive et productive.", False),
    ],
)
def test_negation_in_french_and_english(evidence: str, expected: bool) -> None:
    assert negated(evidence) is expected


def test_the_verdict_compares_the_polarity_of_question_and_evidence() -> None:
    assert verdict("Trump a-t-il été informé ?", "Il affirme ne pas avoir été informé.") is False
    assert verdict("Was he informed?", "Il a été informé la veille.") is True
    assert verdict("Didn't he know?", "Il ne savait pas.") is True  # both negated: they agree


def test_a_yes_no_answer_opens_with_the_systems_reading() -> None:
    assert lead_with("Oui, il a été informé [1].", False, "fr") == "Non, il a été informé [1]."
    assert lead_with("The talks ended without a truce.", False, "en") == "No, The talks ended without a truce."
    assert lead_with("NOT FOUND", True, "en") == "NOT FOUND"
    assert lead_with("Yes, it was.", None, "en") == "Yes, it was."


def test_facts_restated_from_the_question_are_not_asked_of_the_passage() -> None:
    p = Passage(1, "a.txt", 0, 90, "Quelques heures plus tôt, Marco Rubio a appelé Sergueï Lavrov.", "t", None, 1.0)
    answer = "Marco Rubio phoned Lavrov before the 19 May call."
    _, cites, unsupported = attribute(answer, [p])
    assert (cites, unsupported) == ([], 1)  # "19 May" is in no passage
    text, cites, unsupported = attribute(answer, [p], question="Who phoned Lavrov before the 19 May call?")
    assert unsupported == 0 and [c.source for c in cites] == ["a.txt"] and text.endswith("[1].")


def test_new_numbers_still_need_a_passage_when_the_question_has_others() -> None:
    p = Passage(1, "a.txt", 0, 60, "L'appel du 19 mai a duré une heure.", "t", None, 1.0)
    _, cites, unsupported = attribute(
        "The 19 May call lasted two hours.", [p], question="How long was the 19 May call?"
    )
    assert cites == [] and unsupported == 1


def test_a_yes_no_answer_cites_the_passage_its_verdict_came_from() -> None:
    from rag.answer import Answer, cite_evidence

    evidence = Passage(1, "b.txt", 10, 60, "Ce sujet n'a pas été abordé lors de l'appel.", "t", "2025-07-03", 0.9)
    answer = Answer("q", "No, it was not discussed [1][2].", "en", False)
    cite_evidence(answer, evidence)
    assert answer.answer == "No, it was not discussed [1]."
    assert [(c.source, c.start, c.end) for c in answer.citations] == [("b.txt", 10, 60)]
