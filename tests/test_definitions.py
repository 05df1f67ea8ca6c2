"""Definition questions ("wat is X", "waar staat X voor"): the answer window that defines X wins."""
import pytest

from docqa.qa.question import defined_subject
from docqa.qa.windows import WindowSettings, defines, expands


@pytest.mark.parametrize("question, subject, acronym", [
    ("wat is het Kernteam Zorg", "Kernteam Zorg", False),
    ("wat zijn pgb-budgetten bij de gemeente", "pgb-budgetten", False),
    ("wat wordt bedoeld met een warme overdracht?", "warme overdracht", False),
    ("wat betekent WLZ bij het zorgkantoor", "WLZ", True),
    ("waar staat de afkorting SVB voor", "SVB", True),
    ("what is the Kernteam Zorg", "Kernteam Zorg", False),
])
def test_the_subject_of_a_definition_question(question, subject, acronym):
    found = defined_subject(question)
    assert found.pattern.fullmatch(subject) and found.acronym == acronym


@pytest.mark.parametrize("question", ["hoeveel medewerkers heeft het Kernteam", "wie leidt het Kernteam",
                                      "welke taken heeft het Kernteam"])
def test_other_questions_have_no_subject(question):
    assert defined_subject(question) is None


@pytest.mark.parametrize("question, window, before, expected", [
    ("wat is het Kernteam Zorg", "Het Kernteam Zorg is een overleg van vijf gemeenten.", "", True),
    ("wat is het Kernteam Zorg", "Kernteam Zorg: vijf gemeenten die samen inkopen.", "", True),
    # the definition may open the sentence after the one that names the subject
    ("wat is het Kernteam Zorg", "Dat is een overleg van vijf gemeenten.", "Wij richtten het Kernteam Zorg op.", True),
    ("wat is het Kernteam Zorg", "Het Kernteam Zorg kwam in 2023 zes keer bijeen.", "", False),
    ("wat is het Kernteam Zorg", "Dat is een overleg van vijf gemeenten.", "Wij richtten een werkgroep op.", False),
    # an acronym is defined by its expansion
    ("waar staat SVB voor", "De Stichting Voorbeeld Beheer (SVB) voert de AOW uit.", "", True),
    ("waar staat SVB voor", "De SVB (Stichting Voorbeeld Beheer) voert de AOW uit.", "", True),
    ("waar staat SVB voor", "SVB staat voor Stichting Voorbeeld Beheer.", "", True),
    # "X is ..." says what it does, not what the letters stand for
    ("waar staat SVB voor", "De SVB is verantwoordelijk voor de AOW.", "", False),
])
def test_a_window_that_defines_the_subject(question, window, before, expected):
    assert defines(window, before, defined_subject(question)) is expected


def test_a_negative_weight_is_named():
    with pytest.raises(ValueError, match="w_definition=-1"):
        WindowSettings(w_definition=-1)


@pytest.mark.parametrize("before, after, spelled_out", [
    ("de Dienst Alfa Beta (", ") levert", True),
    ("", " (Dienst Alfa Beta) levert", True),
    ("", " staat voor Dienst Alfa Beta", True),
    ("de governance van ", " (en DXY) is herzien", False),
    ("diensten van ", " (Gamma Portaal) zijn", False),
])
def test_an_acronym_is_defined_only_by_words_that_can_spell_it_out(before, after, spelled_out):
    assert expands("DAB", before, after) is spelled_out
