"""Unit tests for rag.checking: gold parsing and the typed answer checker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.checking import (
    DateGold,
    DurationGold,
    Gold,
    NameGold,
    NoneGold,
    NumberGold,
    SetGold,
    TextGold,
    Verdict,
    YesNoGold,
    check,
    polarity,
)

QUESTIONS = Path(__file__).resolve().parents[1] / "evals" / "questions.jsonl"


def judge(answer: str, gold: dict[str, Any]) -> Verdict:
    return check(answer, Gold.from_dict(gold), abstained=False)


# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "duration", "minutes": 75}, DurationGold(75.0)),
        ({"kind": "duration", "minutes": 60, "tolerance": 5}, DurationGold(60.0, 5.0)),
        ({"kind": "date", "date": "2025-05-19", "accept_weekday": True}, DateGold(2025, 5, 19, True)),
        ({"kind": "date", "date": "2022-03"}, DateGold(2022, 3)),
        ({"kind": "date", "date": "2014"}, DateGold(2014)),
        ({"kind": "number", "value": 5000, "tolerance": 0}, NumberGold(5000.0)),
        ({"kind": "name", "value": "Iouri Ouchakov", "aliases": ["Ushakov"]}, NameGold("Iouri Ouchakov", ("Ushakov",))),
        (
            {"kind": "set", "items": ["Donetsk", ["OTAN", "NATO"]], "min": 1},
            SetGold((("Donetsk",), ("OTAN", "NATO")), 1),
        ),
        ({"kind": "yesno", "value": False}, YesNoGold(False)),
        ({"kind": "text", "any": ["Istanbul", "Turquie"]}, TextGold(("Istanbul", "Turquie"))),
        ({"kind": "none"}, NoneGold()),
    ],
)
def test_from_dict(data: dict[str, Any], expected: Gold) -> None:
    assert Gold.from_dict(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "colour"},
        {"minutes": 75},
        {"kind": "duration"},
        {"kind": "date", "date": "2025-13-01"},
        {"kind": "date", "date": "2025-02-30"},
        {"kind": "date", "date": "2025-05", "accept_weekday": True},
        {"kind": "yesno", "value": "no"},
        {"kind": "set", "items": []},
        {"kind": "set", "items": ["a", "b"], "min": 3},
        {"kind": "text", "any": []},
        {"kind": "name", "value": ""},
    ],
)
def test_from_dict_rejects_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Gold.from_dict(data)


def test_eval_set_golds_all_parse() -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 64
    kinds = {type(Gold.from_dict(row["gold"])) for row in rows}
    assert kinds == {DurationGold, DateGold, NumberGold, NameGold, SetGold, YesNoGold, TextGold, NoneGold}


# --- abstention --------------------------------------------------------------


@pytest.mark.parametrize(
    "gold",
    [
        {"kind": "duration", "minutes": 75},
        {"kind": "date", "date": "2025-05-19"},
        {"kind": "number", "value": 7},
        {"kind": "name", "value": "Marco Rubio"},
        {"kind": "set", "items": ["Donetsk"]},
        {"kind": "yesno", "value": False},
        {"kind": "text", "any": ["Istanbul"]},
    ],
)
def test_abstaining_on_answerable_is_wrong(gold: dict[str, Any]) -> None:
    verdict = check("Je ne sais pas.", Gold.from_dict(gold), abstained=True)
    assert verdict == Verdict(False, "abstained on an answerable question")


def test_unanswerable() -> None:
    gold = Gold.from_dict({"kind": "none"})
    assert check("Les articles ne le disent pas.", gold, abstained=True).correct
    verdict = check("Il a 70 ans.", gold, abstained=False)
    assert not verdict.correct
    assert "unanswerable" in verdict.why


# --- durations ---------------------------------------------------------------

H115 = {"kind": "duration", "minutes": 75}
ABOUT_HOUR = {"kind": "duration", "minutes": 60, "tolerance": 5}


@pytest.mark.parametrize(
    "answer",
    [
        "L'appel a duré une heure et quart.",
        "Il a duré 1 h 15.",
        "1h15",
        "75 minutes",
        "It lasted an hour and fifteen minutes.",
        "Une heure et quinze minutes, selon Trump.",
        "An hour and a quarter.",
        "About 1 hour 15 min.",
        "1.25 hours",
    ],
)
def test_duration_75_correct(answer: str) -> None:
    assert judge(answer, H115).correct


@pytest.mark.parametrize(
    "answer", ["Environ une heure.", "About an hour.", "Une heure et demie.", "45 minutes", "Trump ne l'a pas dit."]
)
def test_duration_75_wrong(answer: str) -> None:
    assert not judge(answer, H115).correct


def test_duration_why_names_both_values() -> None:
    assert judge("Environ une heure.", H115).why == "expected 75 min, found 60 min"
    assert judge("Je ne sais pas.", H115).why == "expected 75 min, found nothing"


@pytest.mark.parametrize("answer", ["Environ une heure.", "About an hour.", "Une heure.", "roughly 60 minutes"])
def test_duration_about_an_hour(answer: str) -> None:
    assert judge(answer, ABOUT_HOUR).correct


@pytest.mark.parametrize("answer", ["Une heure et quart.", "Half an hour.", "Deux heures.", "à 10 heures"])
def test_duration_about_an_hour_wrong(answer: str) -> None:
    assert not judge(answer, ABOUT_HOUR).correct


# --- dates -------------------------------------------------------------------

MAY19 = {"kind": "date", "date": "2025-05-19", "accept_weekday": True}


@pytest.mark.parametrize(
    "answer",
    ["Le lundi 19 mai.", "Le 19 mai 2025.", "On May 19.", "Monday.", "Lundi, à 10 heures.", "2025-05-19", "19/05/2025"],
)
def test_date_correct(answer: str) -> None:
    assert judge(answer, MAY19).correct


@pytest.mark.parametrize(
    "answer",
    ["Le 18 mars.", "Mardi.", "Tuesday, May 20.", "Le 19 mai 2024.", "Le mardi 19 mai.", "En mai.", "Je ne sais pas."],
)
def test_date_wrong(answer: str) -> None:
    assert not judge(answer, MAY19).correct


def test_date_weekday_needs_accept_weekday() -> None:
    assert not judge("Monday.", {"kind": "date", "date": "2025-05-19"}).correct
    assert judge("May 19th", {"kind": "date", "date": "2025-05-19"}).correct


@pytest.mark.parametrize(
    ("answer", "gold", "correct"),
    [
        ("Depuis mars 2022.", "2022-03", True),
        ("Since March 2022.", "2022-03", True),
        ("Mi-mai.", "2025-05", True),
        ("Depuis mars 2014.", "2022-03", False),
        ("En 2014.", "2014", True),
        ("In 2022.", "2014", False),
    ],
)
def test_partial_dates(answer: str, gold: str, correct: bool) -> None:
    assert judge(answer, {"kind": "date", "date": gold}).correct is correct


def test_date_why() -> None:
    why = judge("Le mardi 20 mai.", MAY19).why
    assert why == "expected 2025-05-19 (Monday), found ????-05-20 Tuesday"


# --- numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "value", "correct"),
    [
        ("Plus de 5 000 soldats par semaine.", 5000, True),
        ("More than 5,000 soldiers a week.", 5000, True),
        ("cinq mille", 5000, True),
        ("500 soldats", 5000, False),
        ("Sept morts et 113 blessés.", 7, True),
        ("Seven people died.", 7, True),
        ("Huit morts.", 7, False),
        ("113 blessés.", 113, True),
        ("Trois trains ont déraillé.", 3, True),
        ("C'était le sixième appel.", 6, True),
        ("It was the sixth call.", 6, True),
        ("The fifth call.", 6, False),
        ("Plus de 60 milliards de dollars.", 60e9, True),
        ("Over $60 billion.", 60e9, True),
        ("60 millions de dollars.", 60e9, False),
    ],
)
def test_number(answer: str, value: float, correct: bool) -> None:
    assert judge(answer, {"kind": "number", "value": value}).correct is correct


def test_number_tolerance() -> None:
    assert judge("environ 4 990", {"kind": "number", "value": 5000, "tolerance": 10}).correct
    assert not judge("environ 4 980", {"kind": "number", "value": 5000, "tolerance": 10}).correct


# --- names -------------------------------------------------------------------

USHAKOV = {"kind": "name", "value": "Iouri Ouchakov", "aliases": ["Yuri Ushakov"]}


@pytest.mark.parametrize(
    "answer",
    [
        "Iouri Ouchakov.",
        "Yuri Ushakov",
        "Ouchakov",
        "M. Ouchakov, conseiller de Poutine.",
        "Youri Ouchakov",
        "Ushakov.",
    ],
)
def test_name_correct(answer: str) -> None:
    assert judge(answer, USHAKOV).correct


@pytest.mark.parametrize("answer", ["Sergueï Lavrov.", "Dmitri Peskov", "Iouri", "Le conseiller de Poutine."])
def test_name_wrong(answer: str) -> None:
    assert not judge(answer, USHAKOV).correct


@pytest.mark.parametrize(
    ("answer", "gold", "correct"),
    [
        ("Le pape Léon XIV.", "Léon XIV", True),
        ("Pope Leo XIV", "Léon XIV", True),
        ("Le patriarche Kirill", "Léon XIV", False),
        ("Mikhail Gudkov", "Mikhaïl Goudkov", True),
        ("General Gudkov", "Mikhaïl Goudkov", True),
        ("Le général Guerassimov", "Mikhaïl Goudkov", False),
        ("Volodymyr Zelenskyy", "Volodymyr Zelensky", True),
        ("Andrii Yermak", "Andriy Yermak", True),
        ("Rustem Umerov", "Andriy Yermak", False),
    ],
)
def test_name_transliterations(answer: str, gold: str, correct: bool) -> None:
    assert judge(answer, {"kind": "name", "value": gold}).correct is correct


# --- sets --------------------------------------------------------------------

REGIONS = {"kind": "set", "items": ["Donetsk", "Lougansk", "Zaporijia", "Kherson"]}


@pytest.mark.parametrize(
    "answer",
    [
        "Donetsk, Lougansk, Zaporijia et Kherson.",
        "Donetsk, Luhansk, Zaporizhzhia and Kherson.",
        "Kherson, Zaporozhye, Lugansk, Donetsk",
    ],
)
def test_set_complete(answer: str) -> None:
    assert judge(answer, REGIONS).correct


@pytest.mark.parametrize(
    "answer", ["Donetsk, Lougansk et Kherson.", "Donetsk, Luhansk, Crimea and Kharkiv.", "Quatre régions."]
)
def test_set_incomplete(answer: str) -> None:
    assert not judge(answer, REGIONS).correct


def test_set_min_and_why() -> None:
    gold = dict(REGIONS, min=3)
    assert judge("Donetsk, Luhansk and Kherson", gold).correct
    verdict = judge("Donetsk and Kherson", gold)
    assert verdict == Verdict(False, "found 2/4 items (need 3); missing Lougansk, Zaporijia")


def test_set_items_with_alternatives() -> None:
    gold = {"kind": "set", "items": [["Zelensky"], ["OTAN", "NATO"]]}
    assert judge("Zelenskyy and several NATO members", gold).correct
    assert not judge("Zelensky only", gold).correct


# --- yes / no ----------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "Non.",
        "Non, il n'a pas été informé.",
        "No.",
        "No, he was not told in advance.",
        "Nope",
        "Selon Ouchakov, Trump n'a pas été informé à l'avance.",
        "According to Ushakov, Trump did not know.",
        "Trump didn't know about it.",
        "Le sujet n'a jamais été abordé.",
        "Les pourparlers se sont terminés sans accord de trêve.",
        "Aucun accord n'a été conclu.",
        "Absolutely not.",
        "Ils n'ont fait aucun progrès, a déploré Trump.",
        "Selon Ouchakov, non.",
    ],
)
def test_negative_answers(answer: str) -> None:
    assert polarity(answer) is False
    assert judge(answer, {"kind": "yesno", "value": False}).correct
    assert not judge(answer, {"kind": "yesno", "value": True}).correct


@pytest.mark.parametrize(
    "answer",
    [
        "Oui.",
        "Oui, mais sans cessez-le-feu.",
        "Yes.",
        "Yes, although no ceasefire was agreed.",
        "Les deux parties ont convenu d'un nouvel échange, sans avancée majeure.",
        "Putin told Trump the talks had been useful.",
        "Selon M. Ouchakov, le Kremlin l'a jugée positive.",
        "D'après l'article, oui.",
        "Si, il l'a dit.",
    ],
)
def test_positive_answers(answer: str) -> None:
    assert polarity(answer) is True
    assert judge(answer, {"kind": "yesno", "value": True}).correct
    assert not judge(answer, {"kind": "yesno", "value": False}).correct


def test_polarity_of_empty_answer() -> None:
    assert polarity("  ...  ") is None
    assert judge("", {"kind": "yesno", "value": True}).why == "expected yes, answer reads nothing"


# --- text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "alternatives", "correct"),
    [
        ("À Istanbul.", ["Istanbul", "Turquie"], True),
        ("In Türkiye.", ["Istanbul", "Turquie"], True),
        ("In Turkey", ["Turquie"], True),
        ("À Genève.", ["Istanbul", "Turquie"], False),
        ("Il est ministre ukrainien de la Défense.", ["ministre ukrainien de la Défense"], True),
        ("Ukraine's defence minister", ["defence minister"], True),
        ("He heads the presidential office.", ["defence minister"], False),
        ("On X.", ["X", "Twitter"], True),
        ("On Truth Social.", ["X", "Twitter"], False),
        ("La discussion a été « franche ».", ["franche"], True),
        ("Une discussion franchement positive.", ["franche"], False),
    ],
)
def test_text(answer: str, alternatives: list[str], correct: bool) -> None:
    assert judge(answer, {"kind": "text", "any": alternatives}).correct is correct
