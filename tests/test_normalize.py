"""Unit tests for rag.normalize: folding, numbers, durations, dates, names, language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.normalize import (
    DateMention,
    dates,
    durations,
    fold,
    language,
    mentions_name,
    name_key,
    numbers,
    same_name,
)

# --- fold --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Sergueï LAVROV", "serguei lavrov"),
        ("L’appel", "l'appel"),
        ("l‘appel `x´", "l'appel 'x'"),
        ("«\u00a0franche\u00a0»", '" franche "'),
        ("“franc”", '"franc"'),
        ("5\u202f000\u2009soldats", "5 000 soldats"),
        ("  trop   d'espaces \n\t ici ", "trop d'espaces ici"),
        ("Zaporijia–Kherson", "zaporijia-kherson"),
        ("Œuvre", "oeuvre"),
        ("États-Unis", "etats-unis"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_fold_has_no_accents_or_doubled_spaces(text: str) -> None:
    folded = fold(text)
    assert "  " not in folded
    assert folded == folded.strip()
    assert not any(c in folded for c in "éèàçï’«»\u00a0\u202f")


# --- numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 000 soldats", [5000]),
        ("5\u00a0000 soldats", [5000]),
        ("5\u202f000 soldats", [5000]),
        ("5,000 soldiers", [5000]),
        ("5.000 soldats", [5000]),
        ("3,5 milliards", [3.5e9]),
        ("1.25 hours", [1.25]),
        ("60 milliards de dollars", [60e9]),
        ("60 billion dollars", [60e9]),
        ("1,5 million", [1.5e6]),
        ("plus de 5000 soldats", [5000]),
        ("cinq mille", [5000]),
        ("five thousand", [5000]),
        ("deux", [2]),
        ("sept morts et 113 blessés", [7, 113]),
        ("trois trains", [3]),
        ("la sixième discussion", [6]),
        ("the sixth call", [6]),
        ("une douzaine", [12]),
        ("a dozen", [12]),
        ("quatre-vingt-dix-sept", [97]),
        ("soixante et onze", [71]),
        ("vingt et un", [21]),
        ("twenty-one", [21]),
        ("one hundred and five", [105]),
        ("deux millions cinq cent mille", [2_500_000]),
        ("deux cents", [200]),
        ("septante-cinq", [75]),
        ("le 1er juin", [1]),
        ("vingt-sixième", [26]),
        ("the twentieth", [20]),
        ("neuvième", [9]),
        ("a thousand men", [1000]),
        ("en 2022 200 soldats", [2022, 200]),
        ("1.234,5", [1234.5]),
        ("cinq quatre trois, partez", [5, 4, 3]),
        ("six cinq", [6, 5]),
        ("vingt trente", [20, 30]),
        ("dix-sept", [17]),
        ("5'000 francs", [5000]),
    ],
)
def test_numbers(text: str, expected: list[float]) -> None:
    assert numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    ["des centaines d'enfants", "hundreds of children", "un appel", "une conversation", "a call", "rien"],
)
def test_numbers_ignores_articles_and_vague_plurals(text: str) -> None:
    assert numbers(text) == []


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([" ", "\u00a0", "\u202f", ",", "."]))
def test_numbers_reads_any_grouped_integer(value: int, sep: str) -> None:
    grouped = f"{value:,}".replace(",", sep)
    assert numbers(f"plus de {grouped} soldats") == [value]


# --- durations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("une heure et quart", 75),
        ("1 h 15", 75),
        ("1h15", 75),
        ("75 minutes", 75),
        ("an hour and fifteen minutes", 75),
        ("une heure et quinze minutes", 75),
        ("an hour and a quarter", 75),
        ("1 hour 15 min", 75),
        ("1.25 hours", 75),
        ("une heure quinze.", 75),
        ("a 75-minute call", 75),
        ("environ une heure", 60),
        ("d'une durée d'environ une heure", 60),
        ("about an hour", 60),
        ("an hour-long call", 60),
        ("plus d'une heure", 60),
        ("une heure et demie", 90),
        ("an hour and a half", 90),
        ("one and a half hours", 90),
        ("1,5 heure", 90),
        ("quarante-cinq minutes", 45),
        ("trois quarts d'heure", 45),
        ("une demi-heure", 30),
        ("half an hour", 30),
        ("a quarter of an hour", 15),
        ("deux heures", 120),
    ],
)
def test_durations(text: str, minutes: float) -> None:
    assert durations(text) == [minutes]


@pytest.mark.parametrize(
    "text",
    ["La conversation aura lieu à 10 heures", "à une heure", "vers 10 h", "at 10 hours", "pendant trois jours", ""],
)
def test_durations_skips_clock_times_and_other_units(text: str) -> None:
    assert durations(text) == []


def test_durations_finds_several_in_order() -> None:
    assert durations("1 h 15 en juin, environ une heure le 3 juillet") == [75, 60]


# --- dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("19 mai", DateMention(None, 5, 19)),
        ("le lundi 19 mai", DateMention(None, 5, 19, 0)),
        ("May 19", DateMention(None, 5, 19)),
        ("May 19th, 2025", DateMention(2025, 5, 19)),
        ("19 May 2025", DateMention(2025, 5, 19)),
        ("Monday, May 19, 2025", DateMention(2025, 5, 19, 0)),
        ("2025-05-19", DateMention(2025, 5, 19)),
        ("19/05/2025", DateMention(2025, 5, 19)),
        ("3 juillet", DateMention(None, 7, 3)),
        ("ce jeudi 3 juillet", DateMention(None, 7, 3, 3)),
        ("July 3", DateMention(None, 7, 3)),
        ("1er juin", DateMention(None, 6, 1)),
        ("premier juin", DateMention(None, 6, 1)),
        ("le 2 juin dernier", DateMention(None, 6, 2)),
        ("lundi", DateMention(weekday=0)),
        ("Monday", DateMention(weekday=0)),
        ("mercredi", DateMention(weekday=2)),
        ("on Sunday", DateMention(weekday=6)),
        ("mi-mai", DateMention(month=5)),
        ("in mid-May", DateMention(month=5)),
        ("mars 2022", DateMention(2022, 3)),
        ("March 2022", DateMention(2022, 3)),
        ("in 2014", DateMention(2014)),
        ("date 2025-06", DateMention(2025, 6)),
    ],
)
def test_dates(text: str, mention: DateMention) -> None:
    assert dates(text) == [mention]


@pytest.mark.parametrize("text", ["you may go", "they march on", "31/02/2025", "5 000 soldats", "113 blessés"])
def test_dates_ignores_non_dates(text: str) -> None:
    assert dates(text) == []


def test_dates_default_year_and_order() -> None:
    found = dates("le 3 juillet, après le 19 mai 2024 et lundi", default_year=2025)
    assert found == [DateMention(2025, 7, 3), DateMention(2024, 5, 19), DateMention(weekday=0)]


# --- names -------------------------------------------------------------------

SAME = [
    ["Ouchakov", "Ushakov", "Uschakow"],
    ["Goudkov", "Gudkov"],
    ["Lougansk", "Louhansk", "Luhansk", "Lugansk"],
    ["Kiev", "Kyiv", "Kiyv"],
    ["Zaporijia", "Zaporizhzhia", "Zaporozhye"],
    ["Poutine", "Putin"],
    ["Zelensky", "Zelenskyy", "Zelenski"],
    ["Iouri", "Yuri", "Yury"],
    ["Sergueï", "Sergei", "Sergey"],
    ["Umerov", "Oumerov"],
    ["Yermak", "Iermak"],
    ["Mikhaïl", "Mikhail"],
    ["Léon XIV", "Leo XIV"],
    ["Crimée", "Crimea"],
    ["Kherson", "Kherson"],
    ["Turquie", "Turkey", "Türkiye"],
    ["Danemark", "Denmark"],
    ["Moscou", "Moscow"],
    ["États-Unis", "United States", "USA", "U.S."],
    ["Russie", "Russia"],
    ["OTAN", "NATO"],
    ["Maison Blanche", "White House"],
    ["Iouri Ouchakov", "Yuri Ushakov"],
    ["Tchaïkovski", "Chaikovsky"],
]
DISTINCT = [
    "Ouchakov", "Goudkov", "Lougansk", "Kiev", "Zaporijia", "Poutine", "Zelensky", "Lavrov", "Rubio",
    "Umerov", "Yermak", "Crimée", "Donetsk", "Kherson", "Istanbul", "Turquie", "Danemark", "Moscou",
    "Korenevo", "Poltava", "Lipetsk", "États-Unis", "Russie", "Ukraine", "OTAN", "Kremlin", "Maison Blanche",
]  # fmt: skip


@pytest.mark.parametrize("group", SAME, ids=lambda g: g[0])
def test_same_name_across_spellings(group: list[str]) -> None:
    for other in group[1:]:
        assert same_name(group[0], other)
        assert name_key(group[0]) == name_key(other)


@pytest.mark.parametrize("name", DISTINCT)
def test_distinct_names_do_not_collide(name: str) -> None:
    assert [other for other in DISTINCT if same_name(name, other)] == [name]


@pytest.mark.parametrize(
    ("a", "b"),
    [("Lavrov", "Rubio"), ("Iouri Ouchakov", "Ouchakov"), ("Leo", "la"), ("", ""), ("Kyiv", "Kharkiv")],
)
def test_same_name_rejects(a: str, b: str) -> None:
    assert not same_name(a, b)


@pytest.mark.parametrize(
    ("text", "name", "found"),
    [
        ("Selon Yuri Ushakov, conseiller", "Iouri Ouchakov", True),
        ("Selon Yuri Ushakov, conseiller", "Ouchakov", True),
        ("le président Zelenskyy et des membres de l'OTAN", "NATO", True),
        ("Pope Leo XIV", "Léon XIV", True),
        ("la guerre", "Léon", False),
        ("Sergueï Lavrov", "Ouchakov", False),
        ("Yuri Lavrov", "Iouri Ouchakov", False),
    ],
)
def test_mentions_name(text: str, name: str, found: bool) -> None:
    assert mentions_name(text, name) is found


# --- language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Qui est Iouri Ouchakov ?", "fr"),
        ("Combien de morts ?", "fr"),
        ("Quand ?", "fr"),
        ("Et combien de temps a-t-il duré ?", "fr"),
        ("Pourquoi?", "fr"),
        ("Où ?", "fr"),
        ("L'appel a duré une heure et quart.", "fr"),
        ("Who is Ushakov?", "en"),
        ("How many died?", "en"),
        ("When?", "en"),
        ("Who is Sergueï Lavrov?", "en"),
        ("And how long did it last?", "en"),
        ("Lavrov?", "en"),
        ("", "en"),
    ],
)
def test_language(text: str, lang: str) -> None:
    assert language(text) == lang
