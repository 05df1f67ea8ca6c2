"""The QA layer on handmade data: question analysis, expected types, the year check, quotes and
confidence. No model and no index: windows are built by hand."""
import pytest

from docqa.errors import SettingsError
from docqa.ingest.records import Passage
from docqa.qa.answer import ENGLISH_LEAD, NOT_FOUND, NOT_FOUND_EN, AnswerSettings, choose_answer, reference
from docqa.qa.question import analyse, detect_language, expected_type
from docqa.qa.windows import Window, enumerates, has_new_value


@pytest.mark.parametrize("question", [
    "hoeveel medewerkers heeft de Dienst Alfa in dienst",
    "wat is de norm voor beschikbaarheid van het portaal",
    "welke organisatie is in 2023 opgericht",
    "is er in het jaarplan een budget voor huisvesting",
    "wie is de directeur van Beta",
    "Dienst Alfa portaal beschikbaarheid",
])
def test_dutch_questions_are_dutch(question):
    assert detect_language(question) == "nl"


@pytest.mark.parametrize("question", [
    "How many employees does Dienst Alfa have?",
    "What is the availability target of the portal?",
    "Who is the director of Beta",
    "When was the office in Gamma opened",
    "which year did Beta move to a new building",
])
def test_english_questions_are_english(question):
    assert detect_language(question) == "en"


@pytest.mark.parametrize("question, kind", [
    ("hoeveel aanvragen verwerkt Alfa per maand", "number"),
    ("welk percentage van de storingen werd opgelost", "percent"),
    ("wat kost de nieuwe huisvesting", "money"),
    ("wanneer opent het nieuwe loket", "date"),
    ("wie leidt de Dienst Alfa", "name"),
    ("hoe vaak wordt het portaal onderhouden", "frequency"),
    ("how often is the portal updated", "frequency"),
    ("wat doet de Dienst Alfa", None),
])
def test_expected_types(question, kind):
    assert expected_type(question) == kind


def test_the_analysis_names_years_organisations_and_definition_subjects():
    q = analyse("wat is een loketdag bij Alfa in 2023", organisations=["Dienst Alfa", "Beta (Bureau Beta)"])
    assert q.years == ("2023",) and q.organisations == ()
    assert q.definition is not None and q.definition.pattern.search("Een loketdag is ...")
    q = analyse("hoeveel medewerkers had BETA in 2023", organisations=["Dienst Alfa", "Beta (Bureau Beta)"])
    assert q.organisations == ("Beta (Bureau Beta)",) and q.numbers == frozenset({"2023"})


@pytest.mark.parametrize("question, text, answers", [
    ("hoe vaak per jaar wordt de catalogus herzien", "De catalogus wordt drie keer per maand herzien.", True),
    ("hoe vaak per jaar wordt de catalogus herzien", "Alfa levert maandelijkse overzichten.", True),
    ("hoe vaak per jaar wordt de catalogus herzien", "De catalogus is 1.200 keer geraadpleegd.", False),
    ("hoe vaak is de catalogus geraadpleegd", "De catalogus is 1.200 keer geraadpleegd.", True),
    ("hoe vaak is de catalogus geraadpleegd", "De catalogus telt 3 delen.", False),
    ("how often is the catalogue revised", "De catalogus wordt elk kwartaal herzien.", True),
])
def test_how_often_is_answered_by_a_frequency_or_a_count_of_times(question, text, answers):
    q = analyse(question)
    assert q.expected_type == "frequency" and has_new_value(text, "frequency", q) is answers


def test_a_value_the_question_already_holds_is_no_answer():
    q = analyse("hoeveel medewerkers had Beta in 2023")
    assert not has_new_value("Beta had in 2023 medewerkers in dienst.", "number", q)
    assert has_new_value("Beta had in 2023 in totaal 87 medewerkers.", "number", q)
    assert has_new_value("het verzuim was 4,1 procent", "percent", analyse("welk percentage verzuim"))
    assert not has_new_value("het verzuim daalde", "percent", analyse("welk percentage verzuim"))


PASSAGE_TEXT = "Beta had eind 2023 in totaal 87 medewerkers in dienst. 2. Het verzuim was 4,1 procent."


def passage(year=2023, text=PASSAGE_TEXT):
    return Passage(chunk_id="beta:1", doc_id="beta-verslag-2023", title="Jaarverslag 2023", organisation="Beta",
                   year=year, kind="jaarverslag", section="2.1 Personeel", source_path="/x/beta.txt",
                   page=None, page_end=None, line_start=3, line_end=4, char_start=0, char_end=len(text),
                   text=text)


class FakeHit:
    def __init__(self, p, rank=1):
        self.passage, self.rank, self.score, self.bm25_rank, self.dense_rank = p, rank, 1.0, 1, 2


def window(score, start=0, end=None, typed=True, hit=None):
    hit = hit or FakeHit(passage())
    end = end if end is not None else PASSAGE_TEXT.index(" Het verzuim")
    return Window(hit, start, end, {"dense": 0.9, "lexical": 0.5, "type": typed}, score)


def test_the_quote_is_verbatim_and_drops_a_dangling_list_marker():
    answer = choose_answer(analyse("hoeveel medewerkers had Beta"), [], [window(1.2)])
    assert not answer.abstained
    assert answer.citations[0].quote == "Beta had eind 2023 in totaal 87 medewerkers in dienst."
    a, b = answer.citations[0].span
    assert PASSAGE_TEXT[a:b] == answer.citations[0].quote


def test_abstains_when_the_best_window_lacks_the_type_asked_for():
    answer = choose_answer(analyse("hoeveel medewerkers had Beta"), [], [window(1.5, typed=False)])
    assert answer.abstained and answer.signals["message"] == NOT_FOUND
    assert "no number" in answer.signals["reason"]


def test_abstains_when_a_named_year_is_in_neither_passage_nor_document():
    answer = choose_answer(analyse("hoeveel medewerkers had Beta in 2019"), [], [window(1.5)])
    assert answer.abstained and answer.signals["missing"] == ["2019"]
    assert not choose_answer(analyse("hoeveel medewerkers had Beta in 2023"), [], [window(1.5)]).abstained


def test_english_questions_get_the_lead_in_and_english_not_found():
    answer = choose_answer(analyse("How many employees did Beta have"), [], [window(1.5)])
    assert answer.answer.startswith(ENGLISH_LEAD)
    empty = choose_answer(analyse("How many employees did Beta have"), [], [])
    assert empty.abstained and empty.signals["message"] == NOT_FOUND_EN
    assert not choose_answer(analyse("hoeveel medewerkers had Beta"), [], [window(1.5)]).answer.startswith(ENGLISH_LEAD)


@pytest.mark.parametrize("best, runner_up, expected", [(1.5, 1.0, "hoog"), (1.5, 1.49, "middel"),
                                                        (1.2, 0.5, "middel"), (0.9, 0.2, "laag")])
def test_confidence_levels(best, runner_up, expected):
    other = window(runner_up, start=PASSAGE_TEXT.index("Het verzuim"), end=len(PASSAGE_TEXT))
    answer = choose_answer(analyse("hoeveel medewerkers had Beta"), [], [window(best), other])
    assert answer.confidence == expected


def test_answer_settings_are_checked_when_built():
    with pytest.raises(SettingsError, match="passages=0"):
        AnswerSettings(passages=0)
    with pytest.raises(SettingsError, match="low_score"):
        AnswerSettings(low_score=2.0, high_score=1.0)


def test_references_name_organisation_title_year_section_and_lines():
    assert reference(passage()) == "Beta, Jaarverslag 2023, § 2.1 Personeel, r. 3-4"
    other = Passage(**{**passage().__dict__, "title": "Informatieplan", "year": 2024})
    assert reference(other) == "Beta, Informatieplan, 2024, § 2.1 Personeel, r. 3-4"


def test_a_calibration_gives_the_probability_and_its_band():
    from docqa.qa.calibration import FEATURES, Calibration

    def calibration(intercept):
        n = len(FEATURES)
        return Calibration(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, intercept, {})

    q = analyse("hoeveel medewerkers had Beta")
    sure = choose_answer(q, [], [window(0.5)], AnswerSettings(), calibration(3.0))
    assert sure.confidence == "hoog" and sure.probability > 0.95 and sure.to_json()["probability"] == round(sure.probability, 4)
    unsure = choose_answer(q, [], [window(1.5)], AnswerSettings(), calibration(-3.0))
    assert unsure.confidence == "laag" and not unsure.abstained
    assert choose_answer(q, [], [window(1.5)], AnswerSettings(abstain_below=0.1), calibration(-3.0)).abstained


def test_the_shipped_calibration_reads_the_features_docqa_computes():
    from docqa.qa.calibration import FEATURES, default_calibration

    assert default_calibration().features == FEATURES


# -- what the question names, checked against the quote --------------------------------------------

@pytest.mark.parametrize("question, person", [
    ("wie is de voorzitter van Dienst Alfa", True),
    ("Wie is directeur van Beta?", True),
    ("Who is the chief information officer of Beta?", True),
    ("wie is verantwoordelijk voor de inkoop bij Alfa", False),  # an organisation may be
    ("wie zijn de partners van Alfa", False),
    ("hoeveel medewerkers had Beta", False),
])
def test_questions_after_a_person(question, person):
    assert analyse(question).wants_person is person


@pytest.mark.parametrize("text, named", [
    ("Anna de Boer is sinds maart voorzitter van Alfa.", True),
    ("De directie bestaat uit drs. K. Smit en een plaatsvervanger.", True),
    ("J. Smit leidt het team.", True),
    ("De voorzitter stelt het beleid vast en legt verantwoording af.", False),
    ("Het loket van Alfa opent in 2027.", False),
    ("We werken samen met BETA en de gemeenten.", False),
])
def test_a_quote_names_a_person(text, named):
    from docqa.qa.answer import names_person
    assert names_person(text) is named


def person_window(text, score=1.5):
    hit = FakeHit(passage(text=text))
    return Window(hit, 0, len(text), {"dense": 0.9, "lexical": 0.5, "type": True}, score)


def test_a_person_question_is_abstained_on_when_the_quote_names_no_one():
    q = analyse("wie is de voorzitter van Beta")
    nobody = choose_answer(q, [], [person_window("De voorzitter van Beta legt verantwoording af aan het bestuur.")])
    assert nobody.abstained and "names no person" in nobody.signals["reason"]
    named = choose_answer(q, [], [person_window("Anna de Boer is voorzitter van Beta.")])
    assert not named.abstained
    assert not choose_answer(q, [], [person_window("De voorzitter van Beta legt verantwoording af.")],
                             AnswerSettings(check_person=False)).abstained


def test_the_quote_year_and_whole_year_checks():
    from docqa.qa.answer import other_years, part_of_year
    q = analyse("hoeveel meldingen kreeg Beta in heel 2023")
    assert q.whole_year and not analyse("hoeveel meldingen kreeg Beta in 2023").whole_year
    assert part_of_year("In de eerste drie maanden van 2023 kwamen 40 meldingen binnen.") == "de eerste drie maanden van 2023"
    assert part_of_year("In 2023 kwamen 140 meldingen binnen.") is None
    assert other_years(q, "Op 31 december 2022 waren het er 120.") == [2022]
    assert other_years(q, "In 2023 waren het er 120, in 2022 nog 100.") == []
    assert other_years(q, "Het waren er 120.") == []
    partial = person_window("In de eerste drie maanden van 2023 kwamen 40 meldingen binnen.")
    assert not choose_answer(q, [], [partial], AnswerSettings(check_whole_year=False)).abstained
    on = choose_answer(q, [], [partial])
    assert on.abstained and "whole year" in on.signals["reason"]
    earlier = person_window("Op 31 december 2022 waren er 120 meldingen.")
    assert choose_answer(q, [], [earlier], AnswerSettings(check_quote_years=True)).abstained


@pytest.mark.parametrize("question, count", [
    ("hoeveel loketten opende Dienst Alfa", True),
    ("het aantal meldingen bij Beta in 2023", True),
    ("how many offices does Beta have", True),
    ("hoeveel fte had Beta eind 2023", False),  # a measure: "94,5 fte" answers it
    ("hoeveel procent van de meldingen kwam op tijd", False),
    ("hoeveel geld gaat naar het loket", False),
    ("hoe groot is het aandeel van Beta", False),
])
def test_questions_after_a_count_of_things(question, count):
    assert analyse(question).wants_count is count


def test_a_label_a_section_number_or_a_share_is_no_count():
    count = analyse("hoeveel loketten telt Alfa")
    assert not has_new_value("In fase 4 volgt de evaluatie van de loketten.", "number", count)
    assert not has_new_value("3.2 Loketten van Alfa", "number", count)
    assert not has_new_value("Van de loketten is 60% vernieuwd.", "number", count)
    assert not has_new_value("De loketten krijgen een 7,9 van hun bezoekers.", "number", count)
    assert has_new_value("Alfa telt 14 loketten.", "number", count)
    assert has_new_value("Alfa bereikte 1,2 miljoen bezoekers.", "number", count)
    share = analyse("welke norm geldt voor de loketten van Alfa")  # a number, no count: a share answers it
    assert has_new_value("De norm is 60% binnen een week.", "number", share)
    # the years of a table header run together by the PDF extraction are no figure
    assert not has_new_value("Kengetallen 20222023 20212022 Loketten", "number", count)
    assert has_new_value("Kengetallen 2023 Loketten 17", "number", count)


def test_what_something_cost_asks_for_an_amount():
    assert expected_type("wat heeft het nieuwe loket van Alfa gekost") == "money"


@pytest.mark.parametrize("text", [
    "CBR Centraal Bureau Rijvaardigheid",
    "Het advies komt van de Raad van State.",
    "De Chief Privacy Officer stelt de regels op.",
])
def test_an_organisations_name_is_no_persons(text):
    from docqa.qa.answer import names_person
    assert not names_person(text)


def test_an_answer_from_another_organisations_document_that_never_names_the_asked_one_is_abstained_on():
    orgs = ["Dienst Alfa", "Beta (Bureau Beta)"]
    q = analyse("hoeveel medewerkers had Dienst Alfa in 2023", organisations=orgs)
    assert q.organisations == ("Dienst Alfa",)
    from_beta = window(1.5)  # the passage is Beta's and names only Beta
    assert not choose_answer(q, [], [from_beta], AnswerSettings(check_organisation=False)).abstained
    off = choose_answer(q, [], [from_beta])
    assert off.abstained and "does not name Dienst Alfa" in off.signals["reason"]
    text = "Beta had eind 2023 in totaal 87 medewerkers, Dienst Alfa 40."
    naming = Window(FakeHit(passage(text=text)), 0, len(text), {"dense": 0.9, "lexical": 0.5, "type": True}, 1.5)
    assert not choose_answer(q, [], [naming], AnswerSettings(check_organisation=True)).abstained
    own = analyse("hoeveel medewerkers had Beta in 2023", organisations=orgs)
    assert not choose_answer(own, [], [from_beta], AnswerSettings(check_organisation=True)).abstained


@pytest.mark.parametrize("question, wants", [
    ("welke diensten levert Dienst Alfa aan gemeenten", True),
    ("welke nieuwe regels gelden er", True),
    ("tot welke leeftijd vallen jongeren onder de regeling", False),  # "vallen" is the verb, not a plural
    ("door welke monitor is de oude peiling vervangen", False),
    ("wat zijn de taken van Dienst Alfa", True),
])
def test_a_list_question_asks_for_a_plural(question, wants):
    assert analyse(question).wants_list is wants


@pytest.mark.parametrize("text, several", [
    ("Dienst Alfa haalt gegevens op bij bronnen zoals het kadaster en de RDW.", True),
    ("De data moeten juist, volledig, tijdig en vindbaar zijn.", True),
    ("De gidsen Anna en Bram zijn nieuw.", True),
    ("• regel een\n• regel twee", True),
    ("Na afloop van het kwartaal, wordt het plan opgesteld en vastgesteld.", False),
    ("Het plan is voor werkzoekenden en werkgevers bedoeld.", False),
    ("Dienst Alfa bestaat sinds 2001.", False),
])
def test_an_enumeration_names_several_things(text, several):
    assert enumerates(text) is several
