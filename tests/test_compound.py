"""Compound questions on the fake models: split by the model, each part answered alone, joined."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag.answer
from rag import Settings, ask, ingest
from rag.compound import SYSTEM_SPLIT
from rag.documents import read_document
from rag.fakes import FakeLLM
from rag.llm import Message


class SplittingLLM(FakeLLM):
    """The fake model, and a scripted reply to the request to split a question."""

    def __init__(self, split: str) -> None:
        super().__init__()
        self.split = split

    def reply(self, messages: list[Message]) -> str:
        return self.split if messages[0]["content"] == SYSTEM_SPLIT else super().reply(messages)


def _indexed(tmp_path: Path, *texts: str) -> Settings:
    """A corpus of `texts` (a.txt, b.txt, ...), indexed with the fake models."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in zip("abc", texts, strict=False):
        (corpus / f"{name}.txt").write_text(f"{text}\n", "utf-8")
    settings = Settings(corpus_dir=corpus, store_dir=tmp_path / "store", embedder="fake", llm="fake")
    ingest(settings=settings)
    return settings


@pytest.fixture
def news(tmp_path: Path) -> Settings:
    return _indexed(
        tmp_path,
        "Le déraillement du train à Lyon a fait 7 morts, selon la préfecture.",
        "La tempête à Brest a fait 2 morts dans la nuit de lundi.",
    )


def _asked(settings: Settings, monkeypatch: pytest.MonkeyPatch, question: str, split: str) -> rag.Answer:
    llm = SplittingLLM(split)
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    return ask(question, settings=settings)


def test_a_total_is_computed_from_the_two_verified_answers(news: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    split = "1. Combien de morts a fait le déraillement du train à Lyon ?\n2. Combien de morts à Brest ?"
    question = "Au total, combien de morts ont fait le train à Lyon et la tempête à Brest ?"
    answer = _asked(news, monkeypatch, question, split)
    assert not answer.abstained and answer.answer.startswith("Au total : 9. ")
    assert [(c.n, c.source) for c in answer.citations] == [(1, "a.txt"), (2, "b.txt")]
    assert "7 morts" in answer.answer and "[1]" in answer.answer and "[2]" in answer.answer
    for c in answer.citations:
        assert read_document(news.corpus_dir / c.source, news.corpus_dir).text[c.start : c.end] == c.text


def test_a_difference_in_english(news: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    split = "How many morts did the train déraillement at Lyon make?\nHow many morts did the tempête at Brest make?"
    question = "How many more morts did the train at Lyon make than the tempête at Brest?"
    answer = _asked(news, monkeypatch, question, split)
    assert not answer.abstained and answer.answer.startswith("The difference is 5:")


def test_a_part_the_articles_do_not_answer_makes_the_whole_abstain(
    news: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = "Combien de morts a fait le déraillement du train à Lyon ?\nCombien de blessés à Marseille hier ?"
    answer = _asked(news, monkeypatch, "Au total, combien de victimes à Lyon et à Marseille ?", split)
    assert answer.abstained and not answer.citations
    assert answer.answer == rag.answer.ABSTAIN["fr"]


def test_a_split_that_loses_a_name_is_not_used(news: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """'le premier' and 'le second' lost Lyon and Brest: the question is answered as one."""
    split = "Combien de morts a fait le premier ?\nCombien de morts a fait le second ?"
    llm = SplittingLLM(split)
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    answer = ask("Au total, combien de morts ont fait Lyon et Brest ?", settings=news)
    assert len(llm.calls) >= 2 and llm.calls[1][0]["content"] != SYSTEM_SPLIT
    assert "Au total :" not in answer.answer


def test_a_plain_question_is_never_split(news: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = SplittingLLM("never used ?\nnever used ?")
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    ask("Combien de morts a fait le déraillement du train à Lyon ?", settings=news)
    assert all(call[0]["content"] != SYSTEM_SPLIT for call in llm.calls)


@pytest.fixture
def calls(tmp_path: Path) -> Settings:
    return _indexed(
        tmp_path,
        "La réunion de mardi à Lyon a duré une heure et quart, selon la mairie.",
        "La réunion de jeudi à Brest a duré environ une heure.",
        "La ville de Brest a été fondée en 1998. Le port de Brest a été agrandi en 2017.",
    )


def test_a_difference_of_lengths_is_split_by_its_shape_not_by_the_model(
    calls: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's split ("the first meeting") would lose the days; the shape keeps them."""
    llm = SplittingLLM("Combien de temps a duré la première ?\nCombien de temps a duré la seconde ?")
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    question = "De combien de minutes la réunion de mardi à Lyon a-t-elle été plus longue que celle de jeudi à Brest ?"
    answer = ask(question, settings=calls)
    assert all(call[0]["content"] != SYSTEM_SPLIT for call in llm.calls)
    assert answer.answer.startswith("La différence est de 15 min :"), answer.answer
    assert {c.source for c in answer.citations} == {"a.txt", "b.txt"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("La réunion de mardi à Lyon a-t-elle été plus longue que celle de jeudi à Brest ?", "Oui."),
        ("La réunion de mardi à Lyon a-t-elle été plus courte que celle de jeudi à Brest ?", "Non."),
        ("Did the Tuesday réunion at Lyon last shorter than the jeudi réunion at Brest?", "No."),
    ],
)
def test_a_comparison_of_lengths_is_answered_from_both(
    calls: Settings, monkeypatch: pytest.MonkeyPatch, question: str, expected: str
) -> None:
    answer = _asked(calls, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer.startswith(f"{expected} "), answer.answer
    assert len(answer.citations) == 2


def test_a_comparison_whose_lengths_cannot_be_read_is_answered_as_one_question(
    calls: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = _asked(calls, monkeypatch, "La réunion de mardi a-t-elle été plus longue que celle de Marseille ?", "x\ny")
    assert not answer.answer.startswith(("Oui.", "Non."))


def test_the_years_between_two_events(calls: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    question = "Combien d'années séparent la fondation de la ville de Brest et l'agrandissement du port de Brest ?"
    answer = _asked(calls, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer.startswith("La différence est de 19 ans :"), answer.answer


def test_a_total_of_two_lengths_split_by_the_model_is_read_from_the_sentences(
    calls: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = "Combien de temps a duré la réunion de mardi à Lyon ?\nEt la réunion de jeudi à Brest, combien de temps ?"
    question = "Au total, combien de temps ont duré la réunion de mardi à Lyon et celle de jeudi à Brest ?"
    answer = _asked(calls, monkeypatch, question, split)
    assert answer.answer == "Au total : 2 h 15 min. 1 h 15 min [1] et 1 h [2].", answer.answer
    assert [c.source for c in answer.citations] == ["a.txt", "b.txt"]


def test_a_total_of_the_two_lengths_of_a_and_b_is_split_by_its_shape(
    calls: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Les deux réunions de mardi et de jeudi": each day's meeting, not the model's split."""
    llm = SplittingLLM("Combien de temps a duré la première ?\nCombien de temps a duré la seconde ?")
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    answer = ask("Au total, combien de temps ont duré les deux réunions de mardi et de jeudi ?", settings=calls)
    assert all(call[0]["content"] != SYSTEM_SPLIT for call in llm.calls)
    assert answer.answer == "Au total : 2 h 15 min. 1 h 15 min [1] et 1 h [2].", answer.answer


def test_two_questions_in_one_whose_answers_hold_one_number_each_get_no_computed_lead(
    news: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = "Combien de morts a fait le déraillement du train à Lyon ?\nCombien de morts a fait la tempête à Brest ?"
    question = "Qui compte les morts du train à Lyon, et qui compte ceux de la tempête à Brest ?"
    answer = _asked(news, monkeypatch, question, split)
    assert not answer.abstained and answer.answer.startswith("Le déraillement"), answer.answer


_GENEVA = (
    "Le premier cycle de pourparlers à Genève s'est tenu le 16 mai 2025.",
    "Le second cycle de pourparlers à Genève s'est tenu le 2 juin 2025.",
)
_BREST = (
    "La tempête à Brest a eu lieu le 2 juin 2025.",
    "Macron s'est rendu à Lyon le 9 juin 2025, après la tempête à Brest.",
)


@pytest.mark.parametrize(
    ("question", "texts", "days"),
    [
        ("Combien de jours se sont écoulés entre le premier cycle de pourparlers à Genève et le second ?", _GENEVA, 17),
        ("How many days separated the first cycle de pourparlers à Genève from the second one?", _GENEVA, 17),
        ("Combien de jours se sont écoulés entre le premier et le second cycle de pourparlers à Genève ?", _GENEVA, 17),
        ("Combien de jours après la tempête à Brest Macron s'est-il rendu à Lyon ?", _BREST, 7),
        ("How many days after la tempête à Brest did Macron se rendre à Lyon?", _BREST, 7),
    ],
)
def test_the_days_between_or_after_two_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, question: str, texts: tuple[str, str], days: int
) -> None:
    """Split by its shape ("the second one" is the second cycle of talks in Geneva; "how
    many days after X did Y?" asks the day of Y after X, so that an earlier Y is not
    taken); the system counts the days between the two dates the answers give."""
    answer = _asked(_indexed(tmp_path, *texts), monkeypatch, question, "never used ?\nnever used ?")
    leads = (f"La différence est de {days} jours :", f"The difference is {days} days:")
    assert answer.answer.startswith(leads), answer.answer
    assert [c.source for c in answer.citations] == ["a.txt", "b.txt"]


def test_a_total_over_x_and_those_of_y_is_split_by_its_shape(news: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model, asked to split it, rewrote it as one question; the shape gives both parts."""
    question = "Si on additionne les morts du déraillement à Lyon et ceux de la tempête à Brest, on arrive à combien ?"
    answer = _asked(news, monkeypatch, question, "Combien de morts à Lyon et à Brest ?")
    assert answer.answer.startswith("Au total : 9. "), answer.answer
    assert [c.source for c in answer.citations] == ["a.txt", "b.txt"]


def test_a_length_is_read_even_when_its_sentence_ranks_below_those_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fourteen sentences share more words with the question than the one giving the length."""
    filler = " ".join(
        f"La réunion de mardi à Lyon a réuni le groupe {n} de Lyon, venu de loin pour la réunion de mardi à Lyon."
        for n in range(14)
    )
    settings = _indexed(
        tmp_path,
        f"{filler} À Lyon, elle a duré deux heures.",
        "La réunion de jeudi à Brest a duré environ une heure.",
    )
    question = "La réunion de mardi à Lyon a-t-elle été plus longue que celle de jeudi à Brest ?"
    answer = _asked(settings, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer.startswith("Oui. 2 h [1] contre 1 h [2]."), answer.answer


class RoleLLM(FakeLLM):
    """Answers a who-question with a role first, with the name when asked again."""

    def reply(self, messages: list[Message]) -> str:
        if messages[0]["content"] == rag.answer.SYSTEM_RETRY:
            return "Vladimir Poutine a remis en question les pourparlers [1]."
        return "Le président russe a remis en question les pourparlers [1]."


def test_a_who_question_answered_with_a_role_is_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _indexed(
        tmp_path,
        "Le président russe Vladimir Poutine a remis en question les pourparlers de paix avec Kyiv.",
    )
    llm = RoleLLM()
    monkeypatch.setattr(rag.answer, "load_llm", lambda _settings: llm)
    answer = ask("Qui a remis en question les pourparlers de paix ?", settings=settings)
    assert answer.answer.startswith("Vladimir Poutine") and answer.retried, answer.answer
    # a retry that names no one either leaves the first answer as it was
    monkeypatch.setattr(RoleLLM, "reply", lambda self, messages: "Le président russe les a remis en question [1].")
    answer = ask("Qui a remis en question les pourparlers de paix ?", settings=settings)
    assert answer.answer.startswith("Le président russe") and not answer.abstained, answer.answer


def test_how_many_is_answered_from_a_rank_when_the_model_finds_no_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'le troisième match entre Lyon et Brest depuis 2020' says there had been three."""
    settings = _indexed(tmp_path, "Ce match était le troisième match entre Lyon et Brest depuis 2020.")
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "NOT FOUND")
    answer = _asked(settings, monkeypatch, "Combien de matchs Lyon et Brest ont-ils joués depuis 2020 ?", "")
    assert answer.answer == "3 [1].", answer.answer
    assert answer.citations[0].text == "Ce match était le troisième match entre Lyon et Brest depuis 2020."
    # a rank of something else is no count of what is asked
    answer = _asked(settings, monkeypatch, "Combien de buts Lyon et Brest ont-ils marqués depuis 2020 ?", "")
    assert answer.abstained


def test_a_day_the_question_gives_is_taken_from_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "Between the cycle of 16 May and the second one": the passages would only restate
    16 May, which is no answer; the question's day counts, cited where an article states it,
    else as the question's, in the other answer's year."""
    settings = _indexed(tmp_path, *_GENEVA)
    question = "Combien de jours se sont écoulés entre le cycle de pourparlers du 16 mai et le second cycle à Genève ?"
    answer = _asked(settings, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer.startswith("La différence est de 17 jours : Le 16 mai [1]."), answer.answer
    assert answer.citations[0].text == _GENEVA[0]
    assert [c.source for c in answer.citations] == ["a.txt", "b.txt"]
    # both days given and stated: nothing is asked of the model
    question = "Il s'est passé combien de jours entre le cycle de pourparlers du 16 mai et celui du 2 juin ?"
    answer = _asked(settings, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer == "La différence est de 17 jours : Le 16 mai [1]. Le 2 juin [2].", answer.answer
    # a day no article states is the question's, uncited
    question = "Combien de jours se sont écoulés entre le cycle de pourparlers du 15 mai et le second cycle à Genève ?"
    answer = _asked(settings, monkeypatch, question, "never used ?\nnever used ?")
    assert answer.answer.startswith("La différence est de 18 jours : le 15 mai (date de la question)."), answer.answer
    assert [c.source for c in answer.citations] == ["b.txt"]


def test_how_many_is_answered_from_the_one_count_of_what_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model finds no count: the sentence on the same topic that counts the dead once
    gives it; a question on another topic, or on other things, gets none."""
    settings = _indexed(tmp_path, "Le déraillement du train à Lyon a fait 3 blessés et 7 morts, selon la préfecture.")
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "NOT FOUND")
    answer = _asked(settings, monkeypatch, "Combien de morts le déraillement à Lyon a-t-il fait ?", "")
    assert answer.answer == "7 [1].", answer.answer
    for other in ("Combien de trains ont déraillé à Lyon ?", "Combien de morts la tempête a-t-elle fait ?"):
        assert _asked(settings, monkeypatch, other, "").abstained, other


def test_a_length_the_model_takes_from_another_meeting_is_replaced_by_the_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "1 h 15" (Tuesday's meeting) for the council's sixth meeting: the system reads 1 h
    from the sentence on the sixth meeting and answers that, citing it; an abstention stays."""
    settings = _indexed(
        tmp_path,
        "La réunion de mardi à Brest a duré une heure et quart, selon la mairie.",
        "La sixième réunion du conseil municipal à Brest a duré environ une heure.",
    )
    question = "Combien de temps a duré la sixième réunion du conseil municipal à Brest ?"
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "Elle a duré une heure et quart.")
    answer = _asked(settings, monkeypatch, question, "")
    assert answer.answer == "1 h [1].", answer.answer
    assert answer.citations[0].text == "La sixième réunion du conseil municipal à Brest a duré environ une heure."
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "NOT FOUND")
    assert _asked(settings, monkeypatch, question, "").abstained
    # an answer that gives no length ("1") is replaced by the one read; an unbacked length stays dropped
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "1")
    assert _asked(settings, monkeypatch, question, "").answer == "1 h [1]."
    monkeypatch.setattr(SplittingLLM, "reply", lambda self, messages: "Elle a duré trois heures.")
    assert _asked(settings, monkeypatch, question, "").abstained
