"""qa/claims.py: verdicts, details and citations on invented passages about invented organisations."""
from dataclasses import dataclass

import pytest

from docqa.qa.claims import (ClaimCandidate, ClaimCheck, ClaimChecker, ClaimSettings, analyse_claim,
                             direction_of, polarity_of, reference, sentence_changes, sentence_spans,
                             table_changes)


@dataclass(frozen=True)
class FakePassage:
    chunk_id: str
    text: str
    doc_id: str = "alfa-jaarverslag-2022"
    title: str = "Jaarverslag 2022"
    organisation: str = "Dienst Alfa (Dienst voor Algemene Functies)"
    year: int = 2022
    section: str = "2 Resultaten > 2.1 Dienstverlening"
    page: int | None = None
    line_start: int = 10
    line_end: int = 14

    @property
    def location(self) -> str:
        return f"r. {self.line_start}-{self.line_end}"


@dataclass(frozen=True)
class FakeHit:
    rank: int
    passage: FakePassage
    score: float = 1.0


def candidates(*passages, **meta):
    """One candidate window per sentence of each passage, scored by passage order."""
    out = []
    for rank, text in enumerate(passages, 1):
        hit = FakeHit(rank, FakePassage(f"alfa:{rank}", text, **meta))
        for a, b in sentence_spans(text):
            out.append(ClaimCandidate(hit, a, b, 1.0 - rank / 10, {"dense": 0.9, "lexical": 0.5}))
    return out


CHECKER = ClaimChecker()

PASSAGE = ("In 2022 handelde Dienst Alfa 137 bezwaren af. Het aantal storingen daalde van 64 naar 39. "
           "Voor het nieuwe loket rekent Alfa met circa € 3 mln. aan kosten. "
           "Sinds 2016 werkt Dienst Alfa samen met het Bureau Delta aan het loket.")


def check(claim, *passages, **meta):
    return CHECKER.check(claim, candidates(*(passages or (PASSAGE,)), **meta))


# -- verdicts ---------------------------------------------------------------------------------------

def test_a_matching_figure_on_the_same_topic_is_supported():
    result = check("Dienst Alfa handelde in 2022 ruim 130 bezwaren af.")
    assert result.verdict == "supported"
    assert "137 bezwaren" in result.citations[0].quote
    assert {d.status for d in result.details} == {"match"}


def test_another_figure_for_the_same_thing_contradicts_and_is_quoted():
    result = check("Dienst Alfa handelde in 2022 ruim 180 bezwaren af.")
    assert result.verdict == "contradicted"
    assert "137 bezwaren" in result.citations[0].quote
    mismatch = [d for d in result.details if d.status == "mismatch"]
    assert mismatch and mismatch[0].source_value == "137"


def test_an_amount_with_approximation_words():
    assert check("Het nieuwe loket van Dienst Alfa kost naar schatting zo'n 3 miljoen euro.").verdict == "supported"
    result = check("Het nieuwe loket van Dienst Alfa kost naar schatting 7 miljoen euro.")
    assert result.verdict == "contradicted" and "€ 3 mln" in result.citations[0].quote


def test_a_wrong_year_contradicts():
    result = check("Dienst Alfa werkt al sinds 2013 samen met het Bureau Delta aan het loket.")
    assert result.verdict == "contradicted"
    assert "Sinds 2016" in result.citations[0].quote


def test_a_claim_the_documents_do_not_address_is_not_found():
    result = check("Dienst Alfa opende in 2022 een vestiging in Zeeland met tweehonderd medewerkers.")
    assert result.verdict == "not_found"
    assert result.to_text().splitlines()[1].startswith("-> niet gevonden in de documenten")


def test_the_same_figure_about_something_else_is_not_support():
    # the passage has 137 bezwaren, the claim 137 klachten over the website: off topic, not supported
    result = check("Dienst Alfa ontving 137 klachten over de nieuwe website.")
    assert result.verdict != "supported"


def test_a_missing_detail_keeps_a_claim_from_support():
    result = check("Dienst Alfa handelde in 2022 137 bezwaren af binnen zes weken.")
    assert result.verdict == "not_found"
    assert any(d.status == "absent" for d in result.details)


def test_direction_from_two_figures_in_a_sentence():
    assert check("Het aantal storingen bij Dienst Alfa daalde.").verdict == "supported"
    result = check("Het aantal storingen bij Dienst Alfa is gestegen.")
    assert result.verdict == "contradicted"
    assert "van 64 naar 39" in result.citations[0].quote


def test_direction_from_a_table_in_thousands():
    table = ("Lasten Dienst Alfa (x € 1.000)\nPlan Plan Werkelijk\n2028 2027 2026\n"
             "Salarissen 9.100 9.400 8.800\nOnderhoud gebouwen 640 600 580\nReizen 100 100 90\n"
             "Voor het plan 2028 zijn dezelfde uitgangspunten gekozen als in het plan voor 2027.")
    meta = {"title": "Plan 2028", "year": 2028, "section": "3 Geld > 3.2 Lasten"}
    assert check("Dienst Alfa rekent voor 2028 met lagere salarissen dan in het jaar daarvoor.", table,
                 **meta).verdict == "supported"
    result = check("Dienst Alfa trekt in 2028 minder uit voor onderhoud van gebouwen dan in 2027.", table, **meta)
    assert result.verdict == "contradicted"
    assert result.citations[0].quote.startswith("Onderhoud gebouwen 640 600")


def test_a_different_name_in_the_same_place_contradicts():
    text = "Het schoonmaakcontract van Dienst Alfa is sinds 2022 gegund aan Omega Advies B.V."
    result = check("Het schoonmaakcontract van Dienst Alfa is sinds 2022 gegund aan Sigma Consult.",
                   text)
    assert result.verdict == "contradicted"
    assert "Omega" in result.citations[0].quote
    assert any(d.kind == "organisation" and d.status == "mismatch" for d in result.details)


def test_a_name_nobody_mentions_is_not_found():
    text = "Dienst Alfa brengt zijn archief in 2024 onder bij een andere opslagdienst."
    result = check("Dienst Alfa brengt zijn archief in 2024 onder bij de opslagdienst van Sigma Cloud.", text)
    assert result.verdict == "not_found"


def test_stopped_against_continues_contradicts():
    text = "Dienst Alfa blijft de proef met het nachtloket in Noordstad draaien."
    result = check("Dienst Alfa heeft de proef met het nachtloket in Noordstad beëindigd.", text)
    assert result.verdict == "contradicted"
    assert any(d.kind == "polarity" and d.status == "mismatch" for d in result.details)


def test_a_statement_without_values_needs_nearly_all_its_words():
    text = "Het gelijktijdig bijhouden van twee roosters kost Dienst Alfa extra planners."
    assert check("Het gelijktijdig bijhouden van twee roosters kost Dienst Alfa extra planners.",
                 text).verdict == "supported"
    assert check("Dienst Alfa schaft in 2025 het oude systeem volledig af.", text).verdict == "not_found"


def test_a_wrong_date_for_the_same_event_contradicts_but_another_event_does_not():
    text = "Op 1 maart 2026 is het archief van Dienst Alfa verhuisd."
    assert check("Het archief van Dienst Alfa is op 1 september 2026 verhuisd.", text).verdict == "contradicted"
    text = "Dienst Alfa begint in 2027 met de bouw van het depot."
    assert check("Dienst Alfa verwacht de bouw van het depot in 2030 af te ronden.", text).verdict == "not_found"


def test_an_english_claim_with_an_english_figure():
    result = check("Dienst Alfa handled more than 130 objections in 2022.")
    assert result.verdict in ("supported", "not_found")  # never contradicted: 137 is more than 130


def test_no_candidates_is_not_found():
    result = CHECKER.check("Dienst Alfa handelde 137 bezwaren af.", [])
    assert result.verdict == "not_found" and result.citations == ()


# -- records ----------------------------------------------------------------------------------------

def test_json_shape_and_reference():
    result = check("Dienst Alfa handelde in 2022 ruim 130 bezwaren af.")
    out = result.to_json()
    assert list(out) == ["claim", "verdict", "confidence", "probability", "details", "citations", "notices", "hits"]
    assert out["probability"] is None and out["confidence"] in ("hoog", "middel", "laag")
    citation = out["citations"][0]
    assert set(citation) == {"n", "chunk_id", "doc", "title", "organisation", "year", "section", "page",
                             "line_start", "line_end", "quote", "reference"}
    assert citation["reference"] == "Dienst Alfa, Jaarverslag 2022, § 2.1 Dienstverlening, r. 10-14"
    assert set(out["details"][0]) == {"kind", "claim_value", "source_value", "status"}


def test_quotes_are_verbatim_with_white_space_collapsed():
    text = "Dienst Alfa handelde in 2022\n137   bezwaren af. Dat waren er meer dan verwacht."
    result = check("Dienst Alfa handelde in 2022 137 bezwaren af.", text)
    c = result.citations[0]
    assert c.quote == " ".join(text[c.span[0]:c.span[1]].split())
    assert c.quote == "Dienst Alfa handelde in 2022 137 bezwaren af."


def test_reference_leaves_out_a_year_already_in_the_title():
    p = FakePassage("x:1", "tekst", page=4)
    assert reference(p).startswith("Dienst Alfa, Jaarverslag 2022, § 2.1 Dienstverlening")


def test_to_text_names_verdict_details_and_citation():
    text = check("Dienst Alfa handelde in 2022 ruim 180 bezwaren af.").to_text()
    assert "klopt niet volgens de bron" in text and "wijkt af" in text and "[1]" in text
    assert "klopt volgens de bron" in check("Dienst Alfa handelde in 2022 ruim 130 bezwaren af.").to_text()


def test_records_and_settings_validate():
    with pytest.raises(ValueError, match="verdict"):
        ClaimCheck("x", "maybe", "hoog", None, (), ())
    with pytest.raises(ValueError, match="support_topic"):
        ClaimSettings(support_topic=1.5)
    with pytest.raises(ValueError, match="windows"):
        ClaimSettings(windows=0)
    with pytest.raises(ValueError, match="min_alignment"):
        ClaimSettings(min_alignment=-1)
    with pytest.raises(ValueError, match="claim"):
        CHECKER.check("   ", [])


# -- the parts ---------------------------------------------------------------------------------------

def test_claim_analysis():
    a = analyse_claim("Het aantal ZZP'ers bij Dienst Alfa daalde in 2021 naar 940, zo meldt het Bureau Delta.")
    assert a.direction == "down"
    assert {n.text for n in a.names} >= {"ZZP", "Dienst Alfa", "Bureau Delta"}
    assert "ers" not in a.topic and "aantal" in a.topic
    assert [v.kind for v in a.values] == ["year", "number"]


def test_direction_words_and_bounds():
    assert direction_of("Het verzuim is gestegen.") == ("up", "gestegen")
    assert direction_of("Er waren minder meldingen dan vorig jaar.")[0] == "down"
    assert direction_of("Er kwamen meer dan 5.000 meldingen.")[0] is None  # a bound, not a direction
    # a separable verb split around the clause
    assert direction_of("Het aantal meldingen nam in 2031 met 12 procent toe.") == ("up", "nam ... toe")
    assert direction_of("De kosten liepen in de tweede helft flink terug.")[0] == "down"
    assert direction_of("Alfa nam een toets af bij dertig mensen.")[0] is None
    assert polarity_of("Wij blijven in gesprek.") == ("continue", False)
    assert polarity_of("Dienst Alfa is gestopt en voldoet niet.") == ("stop", True)


def test_changes_in_sentences_and_tables():
    (c,) = sentence_changes("In 2028 kregen 512 huurders een woning, tegenover 468 in 2027.")
    assert (c.later, c.earlier, c.direction) == (512, 468, "up")
    (c,) = sentence_changes("De kosten waren € 2,4 miljoen (eerste helft van 2021: € 0,8 miljoen).")
    assert c.later / c.earlier == pytest.approx(3.0)
    (c,) = sentence_changes("Het aandeel daalde van 44,5% naar 29%.")
    assert c.direction == "down"
    table = "Stand Eind juni 2025 Eind 2023 Verschil\nWachtlijst keuringen 2.610 2.385 225\n"
    ((label, change),) = table_changes(table, ())
    assert label == "Wachtlijst keuringen" and change.direction == "up"


def test_sentence_spans_keep_table_rows_apart_but_not_prose_with_two_numbers():
    text = ("Dienst Alfa scoorde in 2025 een 6,4 tegen de 6,1 van\n2024 in het onderzoek.\n"
            "Salarissen 9.100 9.400\nReizen 640 600")
    spans = [text[a:b] for a, b in sentence_spans(text)]
    assert spans[-2:] == ["Salarissen 9.100 9.400", "Reizen 640 600"]
    assert spans[0].startswith("Dienst Alfa") and spans[0].endswith("onderzoek.")


def test_a_target_met_or_missed():
    from docqa.qa.claims import target_of

    assert target_of("Alfa haalde de norm van 90%.") == "met"
    assert target_of("Ons streven van 90% hebben we niet gehaald.") == "missed"
    assert target_of("Alfa haalde de norm dit jaar niet.") == "missed"
    assert target_of("De norm is 90%.") is None
    passage = "In 2022 werd 81% van de bezwaren op tijd afgehandeld; de norm van 90% hebben we niet gehaald."
    assert check("Dienst Alfa haalde in 2022 de norm van 90% tijdige afhandeling van bezwaren.", passage).verdict == "contradicted"
    assert check("Dienst Alfa haalde in 2022 de norm van 90% tijdige afhandeling van bezwaren niet.", passage).verdict == "supported"


def test_the_direction_of_a_figure_is_read_in_its_own_sentence():
    passage = ("Het aantal bezwaren bij Alfa daalde licht. We behandelden 20% meer klachten dan in 2021 "
               "(1.200 tegenover 1.000).")
    result = check("Het aantal klachten bij Dienst Alfa daalde in 2022 met een vijfde.", passage)
    assert result.verdict != "supported"


def test_a_direction_in_the_next_sentence_about_the_claims_year():
    passage = ("Alfa voerde in 2022 veel wijzigingen door in de rekenmodule voor toeslagen. "
               "In 2023 worden er minder wijzigingen verwacht.")
    result = check("Dienst Alfa verwacht in 2023 meer wijzigingen in de rekenmodule voor toeslagen dan in 2022.", passage)
    assert result.verdict == "contradicted"


def test_a_date_in_a_passage_about_something_else_does_not_contradict():
    passage = ("Alfa betaalde in 2022 de toeslagen op tijd uit. We hebben in maart 2021 een eerste analyse "
               "van de toeslagen uitgevoerd.")
    result = check("Dienst Alfa gaat de toeslagen vanaf 2025 wekelijks in plaats van maandelijks uitbetalen.", passage)
    assert result.verdict == "not_found"


def test_a_date_line_of_prose_is_not_a_table_row():
    text = "Ruim 80 bezoekers kwamen op 14 maart 2022 langs\nbij de open dag van Alfa."
    assert len(sentence_spans(text)) == 1


def test_abbreviations_do_not_end_a_sentence():
    text = "Alfa gaf ca. € 3 mln. uit, o.a. aan huisvesting. Het verzuim daalde."
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Alfa gaf ca. € 3 mln. uit, o.a. aan huisvesting.",
                                                             "Het verzuim daalde."]


def test_a_figure_of_another_thing_does_not_contradict():
    passage = "De aanvraag bij Alfa kost inwoners in 2022 naar schatting ongeveer 25 minuten per keer."
    result = check("Dienst Alfa verwacht dat in 2022 zo'n driehonderd gemeenten de aanvraag gebruiken.", passage)
    assert result.verdict == "not_found"


def test_another_year_with_another_figure_is_not_a_contradiction():
    passage = "In 2024 gaven gebruikers de dienstverlening van Dienst Alfa een 7,2."
    result = check("Gebruikers gaven de dienstverlening van Dienst Alfa in 2023 een 7,9.", passage)
    assert result.verdict == "not_found"
    result = check("Gebruikers gaven de dienstverlening van Dienst Alfa in 2024 een 7,9.", passage)
    assert result.verdict == "contradicted"


def test_an_english_claim_reads_its_topic_from_the_dense_similarity():
    passage = "De servicedesk van Dienst Alfa is op werkdagen bereikbaar met een norm van 95%."
    hit = FakeHit(1, FakePassage("alfa:1", passage))
    near = [ClaimCandidate(hit, 0, len(passage), 0.9, {"dense": 0.90})]
    far = [ClaimCandidate(hit, 0, len(passage), 0.9, {"dense": 0.80})]
    claim = "Dienst Alfa's service desk should be reachable 95 percent of the time on working days."
    assert CHECKER.check(claim, near).verdict == "supported"
    assert CHECKER.check(claim, far).verdict == "not_found"
    words_only = ClaimChecker(ClaimSettings(english_dense_span=0))
    assert words_only.check(claim, near).verdict == "not_found"


# -- times, actors and counts that do not decide (2026-12-07) ------------------------------------------

def test_a_whole_year_is_not_stated_by_a_figure_for_part_of_it():
    text = "In de eerste drie maanden van 2022 kwamen bij Dienst Alfa 12% meer klachten binnen dan een jaar eerder."
    assert check("Dienst Alfa kreeg in 2022 12% meer klachten.", text).verdict == "supported"
    whole = check("Dienst Alfa kreeg over heel 2022 12% meer klachten.", text)
    assert whole.verdict == "not_found"


def test_a_relative_year_is_not_a_detail_to_check():
    text = "In 2022 maakten 214 gemeenten gebruik van de rekenhulp van Dienst Alfa."
    result = check("Afgelopen jaar gebruikten 214 gemeenten de rekenhulp van Dienst Alfa.", text)
    assert result.verdict == "supported"
    assert not [d for d in result.details if d.kind == "period"]


def test_a_fuzzy_part_of_the_year_matches_a_span_that_starts_with_it():
    text = "In de eerste drie maanden van 2022 was 91% van de aanvragen bij Dienst Alfa op tijd afgehandeld."
    assert check("Begin 2022 handelde Dienst Alfa 91% van de aanvragen op tijd af.", text).verdict == "supported"


def test_how_often_is_no_count_of_the_claims_things():
    text = "Gemeenten gebruikten de rekenhulp van Dienst Alfa 48.512 keer om de vrije voet te bepalen."
    result = check("Zo'n driehonderd gemeenten gebruiken de rekenhulp van Dienst Alfa.", text)
    assert result.verdict != "contradicted"


def test_the_documents_own_organisation_is_not_the_actor_when_the_sentence_names_another():
    text = "Op 3 mei 2022 is de Tweede Kamer geïnformeerd dat de Raad Omega het contract voor het loketsysteem heeft opgezegd."
    result = check("Dienst Alfa zegde in 2022 het contract voor het loketsysteem op.", text)
    assert result.verdict != "supported"
    # a party named beside others is no actor: the document's organisation still holds
    text = "Met Stichting Kappa en Lambda zijn doorlopende contracten gesloten voor het berichtenverkeer, voor ongeveer € 120.000 per jaar."
    assert check("Dienst Alfa betaalt Stichting Kappa jaarlijks circa 120.000 euro voor het berichtenverkeer.",
                 text).verdict == "supported"


def test_a_date_that_differs_decides_nothing_when_a_name_of_the_claim_is_absent():
    text = "Op 6 juni 2022 kwamen 130 medewerkers bijeen voor de relatiedag van Dienst Alfa in Zwolle."
    result = check("Dienst Alfa verhuist in 2024 van Zwolle naar Deventer.", text)
    assert result.verdict == "not_found"


def test_the_direction_of_a_claim_without_figures_is_read_where_its_date_matched():
    text = ("In de eerste drie maanden van 2022 vonden 4.100 klanten van Dienst Alfa werk, tegenover 3.800 in de "
            "eerste drie maanden van 2021.")
    result = check("In de eerste drie maanden van 2022 vonden minder klanten van Dienst Alfa werk dan in dezelfde "
                   "periode van 2021.", text)
    assert result.verdict == "contradicted"


# -- a figure stands with its own time ---------------------------------------------------------------

def whole(*passages, **meta):
    """One candidate window per passage, all of it: windows that hold more than one sentence."""
    return [ClaimCandidate(FakeHit(rank, FakePassage(f"alfa:{rank}", text, **meta)), 0, len(text), 1.0 - rank / 10,
                           {"dense": 0.9, "lexical": 0.5}) for rank, text in enumerate(passages, 1)]


def test_value_times_binds_a_figure_to_its_label_the_time_after_it_or_its_sentence():
    from docqa.qa.claims import value_times
    from docqa.qa.values import extract_values

    def bound(text):
        values = extract_values(text, "nl")
        return {values[k].text: [t.text for t in ts] for k, ts in value_times(text, values).items()}

    assert bound("In 2030 legde Dienst Alfa boetes op voor € 81.000 (2029: € 64.000).") == {
        "€ 81.000": ["2030"], "€ 64.000": ["2029"]}
    assert bound("Alfa streeft naar 35% vrouwen in 2028 en 45% in 2031.") == {"35%": ["2028"], "45%": ["2031"]}
    assert bound("Het oude plan voor 2029 ging uit van 88 fte.") == {"88": ["voor 2029"]}
    assert bound("Sinds 2019 heeft Alfa 12 loketten.") == {}  # since when, not of which year
    # the time after "meer dan" is what the figure is compared with: the figure is of the sentence's other time
    assert bound("In 2031 kreeg Alfa 7.400 meldingen, 18% meer dan in 2030.") == {"7.400": ["2031"], "18%": ["2031"]}


def test_a_change_in_percent_of_the_same_thing_contradicts_another_change():
    text = ("In de eerste helft van 2031 kreeg Dienst Alfa 7.400 bezwaren binnen, 18% meer dan in de eerste "
            "helft van 2030.")
    result = check("Dienst Alfa kreeg in de eerste helft van 2031 7.400 bezwaren, 30 procent meer dan een jaar eerder.",
                   text)
    assert result.verdict == "contradicted"
    assert "18%" in result.citations[0].quote
    assert check("Dienst Alfa kreeg in de eerste helft van 2031 7.400 bezwaren, 18 procent meer dan een jaar eerder.",
                 text).verdict == "supported"


def test_a_figure_labelled_with_another_year_neither_supports_nor_is_the_claims():
    text = "In 2030 legde Dienst Alfa boetes op voor een bedrag van € 81.000 (2029: € 64.000)."
    result = check("Dienst Alfa legde in 2030 voor € 64.000 aan boetes op.", text)
    assert result.verdict == "contradicted"
    assert [d.source_value for d in result.details if d.status == "mismatch"] == ["€ 81.000"]
    assert check("Dienst Alfa legde in 2029 voor € 64.000 aan boetes op.", text).verdict == "supported"


def test_a_target_for_another_year_in_the_same_sentence_is_not_the_claims():
    text = "Voor de directie van Dienst Alfa geldt een streefcijfer van 35% vrouwen in 2028 en 45% in 2031."
    result = check("Dienst Alfa wil dat in 2028 45% van de directie vrouw is.", text)
    assert result.verdict == "contradicted" and "35%" in result.citations[0].quote


def test_a_figure_in_a_sentence_about_another_years_plan_is_not_the_claims():
    text = ("De begrote formatie van Dienst Alfa is voor 2030 gelijk aan die van 2029: 81 fte. "
            "In het eerste plan voor 2029 ging Alfa uit van 88 fte.")
    assert check("Dienst Alfa begroot voor 2030 een formatie van 88 fte.", text).verdict != "supported"


def test_the_first_figure_of_a_change_in_the_claim_is_of_the_earlier_time():
    text = ("Op 31 december 2029 was het aandeel tijdelijke krachten bij Dienst Alfa 27,4%. "
            "Op 31 december 2030 was dat aandeel gedaald tot 14%.")
    result = CHECKER.check("Het aandeel tijdelijke krachten bij Dienst Alfa daalde in 2030 van ruim 27 naar 14 procent.",
                           whole(text))
    assert result.verdict == "supported"


def test_the_words_of_the_next_sentence_say_nothing_about_a_figure():
    # the claim's words stand with 35% only; the 50% of the next sentence is about another group
    text = ("Voor de directie van Dienst Alfa geldt een streefcijfer van 35% vrouwen in 2028. "
            "Voor de afdelingshoofden geldt de 50%-norm al in 2028.")
    result = CHECKER.check("Dienst Alfa wil dat in 2028 de helft van de directie vrouw is.", whole(text))
    assert result.verdict == "contradicted" and "35%" in result.citations[0].quote


def test_a_short_word_ending_in_e_takes_n_for_plural_and_past():
    from docqa.qa.claims import _Text

    assert _Text("in 2030 legden zij boetes op").has("legde")
    assert _Text("de boeten").has("boete")
    assert not _Text("de legenda").has("legde")


def test_a_time_range_in_words_is_compared_with_the_times_of_day_not_with_other_figures():
    text = ("Dienst Alfa is 24 uur per dag beschikbaar en de helpdesk van Alfa is op werkdagen bereikbaar tussen "
            "8.30 en 17.00 (norm van 98%).")
    assert check("De helpdesk van Dienst Alfa is op werkdagen bereikbaar van half negen tot vijf uur.", text).verdict \
        == "supported"
    result = check("De helpdesk van Dienst Alfa is op werkdagen bereikbaar van negen tot vijf uur.", text)
    assert result.verdict == "contradicted" and "8.30" in result.citations[0].quote


def test_another_agent_of_the_claims_passive_verb_contradicts():
    text = "Voor het programma Sigma wordt het loketsysteem gebouwd en beheerd door het Rekencentrum Kappa."
    result = check("Het loketsysteem voor het programma Sigma wordt beheerd door Bureau Delta.", text)
    assert result.verdict == "contradicted"
    assert "Rekencentrum Kappa" in result.citations[0].quote
    assert [d.source_value for d in result.details if d.status == "mismatch"] == ["Rekencentrum Kappa"]
    # the claim's agent among the agents named: no contradiction
    text = "Het loketsysteem wordt beheerd door het Rekencentrum Kappa en Bureau Delta."
    assert check("Het loketsysteem wordt beheerd door Bureau Delta.", text).verdict != "contradicted"


def test_a_figure_in_the_table_row_of_another_name_is_not_the_claims_names():
    text = "Budget Dienst Alfa 2031 (x1000)\n2031 2032\nKappa 5.412 5.412\nLambda 2.950 2.950\n"
    cands = [ClaimCandidate(FakeHit(1, FakePassage("alfa:1", text)), 0, len(text), 0.9, {})]
    result = CHECKER.check("In het budget 2031 van Dienst Alfa komt ruim 5,4 miljoen euro van Lambda.", cands)
    assert result.verdict == "contradicted"
    assert result.citations[0].quote.startswith("Kappa 5.412")
    assert CHECKER.check("In het budget 2031 van Dienst Alfa komt ruim 5,4 miljoen euro van Kappa.",
                         cands).verdict == "supported"
