"""Yes/no questions and restated question facts: the rules the system adds around the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from rag.answer import Answer, lead_with
from rag.citations import Passage, attribute
from rag.polarity import asking, evidence, is_yes_no, negated, verdict


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
        # a verb of denial says no; under a negation of its own sentence it says yes
        ("Poutine a indiqué vouloir écarter toute concession sur les territoires occupés.", True),
        ("Moscow rejected the ceasefire proposal.", True),
        ("La Russie « ne renoncera pas à ses objectifs ».", False),
        ("He did not rule out a meeting.", False),
        ("Trump dit n'avoir « pas fait de progrès ». La Russie « ne renoncera pas à ses objectifs ».", True),
    ],
)
def test_negation_in_french_and_english(evidence: str, expected: bool) -> None:
    assert negated(evidence) is expected


def test_the_verdict_compares_the_polarity_of_question_and_evidence() -> None:
    assert verdict("Trump a-t-il été informé ?", "Il affirme ne pas avoir été informé.") is False
    assert verdict("Was he informed?", "Il a été informé la veille.") is True
    assert verdict("Didn't he know?", "Il ne savait pas.") is True  # both negated: they agree
    assert verdict("Is Russia willing to make concessions?", "Poutine veut écarter toute concession.") is False
    assert verdict("Will Russia give up its goals?", "La Russie ne renoncera pas à ses objectifs.") is False


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


def test_names_restated_from_the_question_give_way_to_the_names_the_answer_adds() -> None:
    p = Passage(
        1,
        "a.txt",
        0,
        120,
        "Des pourparlers directs entre Moscou et Kyiv se sont déroulés à Istanbul vendredi.",
        "t",
        None,
        1.0,
    )
    question = "Dans quelle ville se sont tenus les pourparlers entre Russes et Ukrainiens ?"
    answer = "Les pourparlers entre Russes et Ukrainiens se sont tenus à Istanbul."
    assert attribute(answer, [p])[2] == 1  # "Russes" and "Ukrainiens" are in no passage
    text, cites, unsupported = attribute(answer, [p], question=question)
    assert unsupported == 0 and text.endswith("[1].") and "Istanbul" in cites[0].text
    wrong = "Les pourparlers entre Russes et Ukrainiens se sont tenus à Genève."
    assert attribute(wrong, [p], question=question)[1] == []  # the name it adds must be in the passage


def test_the_verdict_stands_on_evidence_about_the_question_when_the_wording_cannot_be_checked() -> None:
    from rag.answer import Answer, settle

    evidence = Passage(
        1,
        "c.txt",
        5,
        100,
        "La conversation aura lieu à 10 heures le lundi 19 mai, sans que le fuseau horaire soit précisé.",
        "t",
        "2025-05-17",
        0.9,
    )
    question = "Did the announcement of the 19 May call say which time zone was meant?"
    raw = "No, the announcement did not say which time zone was meant."
    unchecked = Answer(question, "The articles do not contain the answer to this question.", "en", True)
    settle(unchecked, raw, False, evidence)  # English words, French passage: attribution could not back it
    assert not unchecked.abstained and unchecked.answer == "No, according to the articles [1]."
    assert [c.source for c in unchecked.citations] == ["c.txt"]

    elsewhere = Passage(1, "d.txt", 0, 40, "Les pompiers sont intervenus dans la nuit.", "t", None, 0.2)
    off_topic = Answer(question, "The articles do not contain the answer to this question.", "en", True)
    settle(off_topic, raw, False, elsewhere)
    assert off_topic.abstained and off_topic.citations == []


def test_a_sentence_contradicting_the_verdict_gives_way_to_the_verdict() -> None:
    from rag.answer import Answer, settle

    evidence = Passage(
        1, "e.txt", 0, 80, "Les pourparlers se sont achevés sans aboutir à un accord de trêve.", "t", None, 1.0
    )
    answer = Answer("Les pourparlers ont-ils abouti à une trêve ?", "Non, ils ont abouti à une trêve [1].", "fr", False)
    settle(answer, "Oui, ils ont abouti à une trêve.", False, evidence)
    assert answer.answer == "Non, d'après les articles [1]." and answer.citations[0].source == "e.txt"


def test_a_yes_no_answer_that_asks_the_question_back_gives_way_to_the_verdict() -> None:
    from rag.answer import Answer, settle

    evidence = Passage(1, "e.txt", 0, 60, "L'appel a duré moins longtemps que le précédent.", "t", None, 1.0)
    question = "L'appel a-t-il été plus court que le précédent ?"
    echo = "Oui, l'appel a-t-il été plus court que le précédent [1] ?"
    answer = Answer(question, echo, "fr", False)
    settle(answer, echo, True, evidence)
    assert answer.answer == "Oui, d'après les articles [1]." and answer.citations[0].source == "e.txt"

    stated = Answer(question, "Oui, l'appel a été plus court [1].", "fr", False)
    settle(stated, "Oui, l'appel a été plus court.", True, evidence)
    assert stated.answer == "Oui, l'appel a été plus court [1]."


def test_an_answer_from_passages_about_someone_else_is_not_an_answer() -> None:
    """The duration of one call does not answer how long another lasted."""
    from rag.answer import finish

    call = Passage(
        1, "a.txt", 0, 60, "L'appel aurait duré une heure et quart.", "Poutine et Trump se sont parlé", None, 1.0
    )
    other = finish(
        "How long did Marco Rubio's call with Sergei Lavrov last?",
        "How long did Marco Rubio's call with Sergei Lavrov last?",
        "en",
        "1 hour 15 minutes [1]",
        [call],
    )
    assert other.abstained and not other.citations
    same = finish(
        "How long did Trump's call with Putin last?",
        "How long did Trump's call with Putin last?",
        "en",
        "1 hour 15 minutes [1]",
        [call],
    )
    assert not same.abstained and [c.source for c in same.citations] == ["a.txt"]
    unnamed = finish(
        "How long did the call last?", "How long did the call last?", "en", "1 hour 15 minutes [1]", [call]
    )
    assert not unnamed.abstained  # a question that names nothing is not judged by what it names


def test_words_in_common_do_not_make_a_passage_about_the_people_a_question_names() -> None:
    """Aid "sous le mandat de ce dernier" does not answer what Zelensky obtained in Denmark,
    while a question naming only a nationality is still judged by its words."""
    from rag.citations import about

    text = "Les États-Unis ont fourni 60 milliards de dollars d'aide militaire."
    aid = Passage(1, "a.txt", 0, 90, text, "", None, 1.0)
    assert not about("Quel montant d'aide militaire Zelensky a-t-il obtenu au Danemark ?", [aid])
    assert about("Quel montant d'aide militaire les États-Unis ont-ils fourni ?", [aid])
    text = "Des drones frappent des dépôts de munitions dans l'oblast de Donetsk."
    depots = Passage(1, "a.txt", 0, 90, text, "", None, 1.0)
    assert about("In which oblast did Russian drones hit ammunition depots?", [depots])
    text = "Des pourparlers directs entre Kiev et Moscou se sont tenus en Turquie."
    talks = Passage(1, "a.txt", 0, 90, text, "", None, 1.0)
    assert about("Où se sont tenus les pourparlers directs entre Russes et Ukrainiens ?", [talks])


def test_both_is_not_a_count() -> None:
    """«des deux côtés» (on both sides) backs "the two leaders", never "two aircraft"."""
    text = "Nous avons discuté de l'attaque des avions par l'Ukraine, et d'autres attaques des deux côtés."
    sides = Passage(1, "a.txt", 0, 99, text, "", None, 1.0)
    _, cites, unsupported = attribute("Two aircraft were destroyed in Ukraine's attack [1].", [sides])
    assert cites == [] and unsupported == 1
    pair = Passage(1, "a.txt", 0, 90, "Les deux dirigeants ont parlé de projets communs dans l'énergie.", "", None, 1.0)
    _, cites, _ = attribute("The two leaders talked about joint projects in energy [1].", [pair])
    assert [c.source for c in cites] == ["a.txt"]
    count = Passage(1, "a.txt", 0, 90, "Deux trains ont déraillé dans la région de Briansk.", "", None, 1.0)
    _, cites, _ = attribute("Two trains derailed in the Bryansk region [1].", [count])
    assert [c.source for c in cites] == ["a.txt"]


def test_the_name_an_answer_adds_must_be_in_the_passage_not_only_in_its_title() -> None:
    p = Passage(
        1,
        "a.txt",
        0,
        90,
        "Des affrontements ont causé la mort du général Mikhaïl Goudkov.",
        "Poutine à Trump",
        None,
        1.0,
    )
    question = "Qui a remplacé le général Mikhaïl Goudkov après sa mort ?"
    _, cites, unsupported = attribute("Donald Trump a remplacé le général Mikhaïl Goudkov.", [p], question=question)
    assert cites == [] and unsupported == 1


def test_nationalities_and_possessives_are_names_across_languages() -> None:
    from rag.citations import facts_of, passage_facts

    p = Passage(1, "a.txt", 0, 80, "a déclaré le chef du bureau présidentiel ukrainien, Andriy Yermak.", "", None, 1.0)
    assert facts_of("the Ukrainian presidential office", claim=True).names <= passage_facts(p).names
    assert facts_of("Did Trump's envoy call?", claim=True).names == facts_of("Did Trump call?", claim=True).names


def test_a_refusal_to_a_yes_no_question_gives_way_to_evidence_that_restates_it() -> None:
    from rag.citations import restates

    question = (
        "Vladimir Poutine a-t-il évoqué l'opération ukrainienne contre les aérodromes lors de sa réunion mercredi ?"
    )
    evidence = Passage(
        1,
        "a.txt",
        0,
        200,
        "Lors d'une réunion mercredi, Vladimir Poutine n'a pas mentionné l'opération menée par l'Ukraine "
        "contre les aérodromes.",
        "t",
        None,
        1.0,
    )
    assert restates(question, evidence)
    assert not restates(question, Passage(1, "b.txt", 0, 40, "Vladimir Poutine a parlé au pape.", "t", None, 1.0))


class _Refuses:
    """A model that never finds the answer."""

    id = "refuses"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, messages: object, *, max_tokens: int, stop: object = None) -> Iterator[str]:
        self.calls += 1
        yield "NOT FOUND"


def _generate(
    question: str,
    passages: list[Passage],
    llm: object,
    *,
    lang: str = "fr",
    wider: Callable[[], list[Passage]] | None = None,
) -> Answer:
    """`generate` run to its end with a stand-in model: the verified answer."""
    from rag.answer import generate
    from rag.settings import Settings

    settings = Settings(embedder="fake", llm="fake")
    steps = generate(question, question, lang, passages, llm, settings, 0.0, wider=wider)  # type: ignore[arg-type]
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def test_a_refused_yes_no_question_is_settled_by_evidence_that_restates_it_without_a_second_try() -> None:
    question = "Poutine a-t-il évoqué l'opération contre les aérodromes lors de sa réunion de mercredi ?"
    restating = Passage(
        1,
        "a.txt",
        0,
        200,
        "Lors de sa réunion de mercredi, Poutine n'a pas évoqué l'opération contre les aérodromes.",
        "t",
        None,
        1.0,
    )
    llm = _Refuses()
    answer = _generate(question, [restating], llm)
    assert answer.answer == "Non, d'après les articles [1]." and [c.source for c in answer.citations] == ["a.txt"]
    assert llm.calls == 1
    llm = _Refuses()
    vague = Passage(1, "b.txt", 0, 60, "Poutine a parlé au pape mercredi.", "t", None, 1.0)
    answer = _generate(question, [vague], llm)
    assert answer.abstained and not answer.citations and llm.calls == 2  # the second try found nothing either


class _Scripted:
    """A model that gives its replies in turn."""

    id = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls = 0

    def stream(self, messages: object, *, max_tokens: int, stop: object = None) -> Iterator[str]:
        self.calls += 1
        yield self.replies.pop(0)


def test_an_answer_that_only_restates_the_date_it_was_asked_about_gets_a_second_try() -> None:
    question = "When had Putin and Trump last spoken before the 19 May call?"
    p = Passage(1, "a.txt", 0, 90, "Leur dernier échange remontait au 18 mars.", "Poutine et Trump", "2025-05-17", 1.0)
    llm = _Scripted("19 May (article of 17 May)", "On 18 March [1].")
    answer = _generate(question, [p], llm, lang="en")
    assert llm.calls == 2 and answer.answer == "On 18 March [1]." and answer.retried


class _Reads(_Scripted):
    """A scripted model that also keeps the user message of each call."""

    def __init__(self, *replies: str) -> None:
        super().__init__(*replies)
        self.prompts: list[str] = []

    def stream(self, messages: object, *, max_tokens: int, stop: object = None) -> Iterator[str]:
        self.prompts.append(messages[-1]["content"])  # type: ignore[index]
        yield from super().stream(messages, max_tokens=max_tokens, stop=stop)


def test_the_second_try_reads_more_sentences_and_cites_them() -> None:
    """A "not found" from the first sentences: the second try reads the wider choice too."""
    question = "Quelle ville a été touchée par des frappes faisant deux morts ?"
    first = Passage(1, "a.txt", 0, 40, "Les pourparlers de paix sont au point mort.", "t", None, 1.0)
    more = Passage(2, "a.txt", 50, 140, "Les frappes ont touché la ville de Poltava, faisant deux morts.", "t", None, 1)
    llm = _Reads("NOT FOUND", "Poltava [2].")
    answer = _generate(question, [first], llm, wider=lambda: [first, more])
    assert "Poltava" not in llm.prompts[0] and "Poltava" in llm.prompts[1]
    assert answer.answer == "Poltava [1]." and [c.start for c in answer.citations] == [50] and answer.retried


def test_an_answer_the_checks_drop_gets_a_second_try_and_a_second_wrong_one_is_dropped_too() -> None:
    question = "How many minutes did the call last?"
    p = Passage(1, "a.txt", 0, 60, "L'appel aurait duré une heure et quart.", "Poutine et Trump", None, 1.0)
    for replies, expected in ((("1 [1]", "75 minutes [1]."), "75 minutes [1]."), (("1 [1]", "2 [1]"), None)):
        llm = _Scripted(*replies)
        answer = _generate(question, [p], llm, lang="en")
        assert llm.calls == 2 and answer.retried
        assert answer.answer == expected if expected else answer.abstained and not answer.citations


def test_a_follow_up_may_repeat_a_date_its_conversation_already_gave() -> None:
    from rag.answer import finish

    p = Passage(
        1,
        "a.txt",
        0,
        90,
        "Le Kremlin a annoncé mercredi que Poutine s'était entretenu avec le pape.",
        "t",
        "2025-06-04",
        1.0,
    )
    question = "Et quand s'est-il entretenu avec lui ?"
    query = f"{question} (Avec quel pape Poutine s'est-il entretenu mercredi (4 juin 2025) ? Léon XIV.)"
    answer = finish(question, query, "fr", "Il s'est entretenu avec lui mercredi (4 juin 2025) [1].", [p])
    assert not answer.abstained and [c.source for c in answer.citations] == ["a.txt"]


def test_the_verdict_is_read_from_the_passage_that_holds_what_the_question_asks() -> None:
    """The first passage is about the right call but says nothing of arms deliveries; the
    third does ("Ce sujet n'a pas été abordé"): the no is read from it."""
    texts = [
        "Vladimir Poutine a indiqué ce jeudi 3 juillet à Donald Trump que la Russie « ne renoncera pas ».",
        "Les présidents russe et américain ont échangé par téléphone ce jeudi.",
        "Cet entretien intervient après la suspension des livraisons d'armes à l'Ukraine. "
        "Ce sujet n'a pas été abordé lors de l'appel.",
    ]
    shown = [Passage(n, "a.txt", 0, len(t), t, "", "2025-07-03", 1.0) for n, t in enumerate(texts, 1)]
    question = "Pendant l'appel du 3 juillet, ont-ils discuté de la pause dans les livraisons d'armes ?"
    proof = evidence(question, shown)
    assert proof.n == 3 and verdict(question, proof.text) is False
    # an English question meets the French words it shares a stem with ("informed", "informé")
    informed = [
        Passage(1, "a.txt", 0, 9, "Trump a dit que Poutine répondrait à l'attaque de drones.", "", None, 1.0),
        Passage(2, "b.txt", 0, 9, "Il dit ne pas avoir été informé à l’avance des attaques de drones.", "", None, 1.0),
    ]
    assert evidence("Was Trump informed in advance of the drone attacks?", informed).n == 2
    # nothing to choose by: the first passage shown
    assert evidence("Did it happen?", informed).n == 1


def test_a_question_read_from_the_sentence_that_asks_and_evidence_from_the_clause_it_concerns() -> None:
    """ "No lasting ceasefire came of it. Did they agree on a swap?": a yes/no question whose
    first sentence states a negation; the evidence agrees on the swap "but" not on a truce."""
    question = "The talks in Istanbul brought no lasting ceasefire. Did the two sides agree on a prisoner exchange?"
    evidence = "Les deux pays ont convenu d'un échange de prisonniers, mais n'ont pas permis de cessez-le-feu."
    assert is_yes_no(question) and asking(question).startswith("Did the two sides")
    assert verdict(question, evidence) is True
    assert verdict("Did the talks bring a ceasefire?", evidence) is False
