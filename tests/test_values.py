"""qa/values.py: every Dutch (and English) form of a checkable value, and when two values are the same.

All sentences are invented (organisations such as "Dienst Alfa" do not exist)."""
from datetime import date

import pytest

from docqa.qa.values import (Value, ValueSettings, compare_values, extract_values, parse_figure,
                             parse_number_word, same_value, table_scale)


def one(text, kind=None, lang=None):
    values = [v for v in extract_values(text, lang) if kind is None or v.kind == kind]
    assert len(values) == 1, f"{text!r}: {values}"
    return values[0]


def day(y, m, d):
    return date(y, m, d).toordinal()


# -- figures -------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, value, decimals", [
    ("14.600", 14600, 0), ("3,7", 3.7, 1), ("2.417.560", 2417560, 0), ("2.417.560,50", 2417560.5, 2),
    ("26,000", 26000, 0), ("2,417,560.50", 2417560.5, 2), ("0,900", 0.9, 3), ("99,0", 99.0, 1), ("7", 7, 0),
    ("2.417.560,-", 2417560, 0),
])
def test_figures_read_dutch_thousands_dots_and_decimal_commas(written, value, decimals):
    assert parse_figure(written) == (pytest.approx(value), decimals)


def test_not_a_figure_is_refused_by_name():
    with pytest.raises(ValueError, match="1.2.3"):
        parse_figure("1.2.3")


@pytest.mark.parametrize("word, value", [("zevenhonderd", 700), ("vijftig", 50), ("elf", 11), ("één", 1),
                                         ("tweeëntwintig", 22), ("tweehonderdvijftigduizend", 250000)])
def test_written_dutch_numbers(word, value):
    assert parse_number_word(word) == value


def test_written_english_numbers_and_non_numbers():
    assert parse_number_word("eighteen", "en") == 18
    assert parse_number_word("en") is None and parse_number_word("tiende") is None


# -- amounts, percentages, counts ------------------------------------------------------------------

@pytest.mark.parametrize("text, value, step", [
    ("Dienst Alfa kreeg € 3,7 mln voor de verbouwing.", 3.7e6, 1e5),
    ("De begroting van Dienst Alfa is EUR 14.700.", 14700, 1),
    ("Het project kostte zo'n 8 miljoen euro.", 8e6, 1e6),
    ("Er was € 2.417.560,- in het fonds.", 2417560, 1),
    ("De bijdrage was €27.310K.", 27.31e6, 1e3),
    ("Jaarlijks € 615k extra.", 615e3, 1e3),
    ("The grant was EUR 5 million.", 5e6, 1e6),
])
def test_amounts(text, value, step):
    v = one(text, "amount")
    assert (v.lo, v.hi, v.unit, v.step) == (pytest.approx(value), pytest.approx(value), "EUR", pytest.approx(step))


def test_a_scale_word_without_currency_is_a_number():
    v = one("Dienst Alfa verwacht 5 miljard te besteden.")
    assert v.kind == "number" and v.value == 5e9 and v.scale == 1e9


@pytest.mark.parametrize("text, value, approx", [
    ("De norm is ≥ 98,5% beschikbaarheid.", 98.5, "≥"),
    ("97 procent van de aanvragen", 97, ""),
    ("bijna een kwart van de gemeenten", 25, "bijna"),
    ("twee op de drie inwoners", 200 / 3, ""),
    ("ruim een op de vijf betalingen", 20, "ruim"),
    ("de helft van de dossiers", 50, ""),
    ("Dienst Beta scoorde minimaal 90 procent.", 90, "minimaal"),
])
def test_percentages_and_shares(text, value, approx):
    v = one(text, "percentage")
    assert v.value == pytest.approx(value) and v.approx == approx and v.unit == "%"


def test_counts_carry_the_noun_and_approximation():
    v = one("Er kwamen ruim 40.000 aanvragen binnen.")
    assert (v.kind, v.value, v.approx, v.noun.split()[0]) == ("count", 40000, "ruim", "aanvragen")
    v = one("Dienst Alfa registreerde elf storingen.")
    assert (v.kind, v.value, v.noun) == ("count", 11, "storingen")


def test_the_article_een_is_not_one():
    assert extract_values("Dienst Alfa heeft een nieuw plan.") == ()


def test_ranges_share_their_unit():
    v = one("tussen 10 tot 15 procent", "percentage")
    assert (v.lo, v.hi, v.is_range) == (10, 15, True)
    v = one("10-15 dossiers")
    assert (v.lo, v.hi, v.kind) == (10, 15, "count")


def test_from_to_figures_share_the_percent_sign():
    first, second = extract_values("Het verzuim daalde van bijna 42 naar 23 procent.")
    assert (first.kind, first.value, first.approx) == ("percentage", 42, "bijna")
    assert (second.kind, second.value) == ("percentage", 23)


def test_negative_figures_and_list_markers():
    assert one("Verschil -318").value == -318
    assert extract_values("De drie doelen:\n1. Betere dienstverlening") == tuple(
        v for v in extract_values("De drie doelen:\n1. Betere dienstverlening") if v.value == 3)


def test_times_as_many():
    v = one("ruim drie keer zo hoog als vorig jaar")
    assert (v.unit, v.value, v.approx) == ("x", 3, "ruim")


def test_table_in_thousands():
    text = ("Kosten Dienst Gamma (x € 1.000)\nBegroting Begroting\n2025 2024\nSalarissen 8.100 8.300\n"
            "Gebouwen 410 390\nDe bedragen zijn afgerond op hele duizenden euro's en zonder btw vermeld.\n"
            "Er werken 40 mensen.")
    assert table_scale(text)
    amounts = [v for v in extract_values(text) if v.kind == "amount"]
    assert [v.value for v in amounts] == [8.1e6, 8.3e6, 410e3, 390e3]
    assert [v.value for v in extract_values(text) if v.kind == "count"] == [40]  # after the table: prose
    assert [v.kind for v in extract_values(text) if v.text in ("2025", "2024")] == ["year", "year"]



def test_table_in_thousands_without_a_currency_sign_is_money_when_its_header_says_so():
    text = "Meerjarenbudget Dienst Delta 2025-2027 (x1000)\n\n2025 2026 2027\n\n1. Rijk 4.215 4.215 4.300\n"
    assert [(v.kind, v.value) for v in extract_values(text) if v.kind in ("amount", "number")] == [
        ("amount", 4_215_000), ("amount", 4_215_000), ("amount", 4_300_000)]
    claim = one("Dienst Delta krijgt in 2025 ruim 4,2 miljoen euro van het Rijk", "amount")
    assert compare_values(claim, next(v for v in extract_values(text) if v.kind == "amount")) == "match"
    v = next(v for v in extract_values("Kosten Dienst Epsilon (x 1.000)\nHuur 310 290\n") if v.text == "310")
    assert (v.kind, v.value, v.unit) == ("amount", 310_000, "EUR")
    # a table of things counted in thousands holds no money
    v = next(v for v in extract_values("Aantal meldingen (x 1.000)\nAlfa 250 260\n") if v.text == "250")
    assert (v.kind, v.value, v.unit) == ("number", 250_000, "")


@pytest.mark.parametrize("text,value", [
    ("Dienst Alfa spent 8 million euros on it.", 8e6),
    ("The plan costs about 2.5 billion euros.", 2.5e9),
    ("a budget of 450 thousand euros", 450e3),
    ("half a million euros went to Dienst Beta", 5e5),
    ("EUR 3 million", 3e6),
])
def test_english_amounts_with_a_scale_word(text, value):
    v = one(text, "amount")
    assert (v.value, v.unit) == (value, "EUR")
    assert compare_values(one("ruim 2,4 miljard euro"), one("2.5 billion euros")) == "match"

# -- years, dates, periods ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, lo, hi", [
    ("Op 1 maart 2027 start het loket.", day(2027, 3, 1), day(2027, 3, 1)),
    ("Het loket is eind 2026 klaar.", day(2026, 10, 1), day(2026, 12, 31)),
    ("Oplevering medio 2027.", day(2027, 5, 1), day(2027, 8, 31)),
    ("Gepland in Q3 2026.", day(2026, 7, 1), day(2026, 9, 30)),
    ("Het overleg was in oktober 2022.", day(2022, 10, 1), day(2022, 10, 31)),
    ("Dat bleek eind maart 2025.", day(2025, 3, 21), day(2025, 3, 31)),
    ("tussen februari en mei 2025", day(2025, 2, 1), day(2025, 5, 31)),
    ("in de eerste drie maanden van 2025", day(2025, 1, 1), day(2025, 3, 31)),
    ("in het tweede kwartaal van 2023", day(2023, 4, 1), day(2023, 6, 30)),
    ("per 31-12-2023", day(2023, 12, 31), day(2023, 12, 31)),
    ("at the end of March 2025", day(2025, 3, 21), day(2025, 3, 31)),
])
def test_dates(text, lo, hi):
    v = one(text, "date", "en" if "the end" in text else None)
    assert (v.lo, v.hi) == (lo, hi)


def test_years_with_their_bounds():
    v = one("Dienst Alfa bestaat sinds 2017.")
    assert (v.kind, v.approx, v.lo) == ("year", "sinds", day(2017, 1, 1))
    v = one("Het contract loopt tot 2029.")
    assert (v.approx, v.hi) == ("tot", day(2029, 12, 31))
    assert [v.kind for v in extract_values("In 2027 en 2028 volgt de rest.")] == ["year", "year"]
    v = one("de periode 2026-2029")
    assert (v.lo, v.hi) == (day(2026, 1, 1), day(2029, 12, 31))


@pytest.mark.parametrize("text, value, unit, approx", [
    ("de eerste drie maanden", 3, "maand", "eerste"),
    ("in het eerste kwartaal", 1, "kwartaal", "eerste"),
    ("de tweede helft", 2, "helft", "nr"),
    ("per maand", 1, "maand", "per"),
    ("per jaar", 1, "jaar", "per"),
    ("Het fonds wordt jaarlijks aangevuld.", 1, "jaar", "per"),
    ("over 7 jaar", 7, "jaar", "over"),
])
def test_periods(text, value, unit, approx):
    v = one(text, "period")
    assert (v.value, v.unit, v.approx) == (value, unit, approx)


def test_english_claim_forms():
    values = extract_values("Dienst Alfa received more than 26,000 requests in the first three months of 2025.")
    count = next(v for v in values if v.kind == "count")
    assert (count.value, count.approx) == (26000, "more than")
    assert any(v.kind == "date" and (v.lo, v.hi) == (day(2025, 1, 1), day(2025, 3, 31)) for v in values)


def test_spans_are_offsets_into_the_text():
    text = "Dienst Alfa kreeg ruim € 2,3 mln."
    v = one(text)
    assert text[v.start:v.end] == v.text == "ruim € 2,3 mln"


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="lang"):
        extract_values("12 dossiers", "de")
    with pytest.raises(ValueError, match="text"):
        extract_values(None)
    with pytest.raises(ValueError, match="kind"):
        Value("money", 1, 1)


# -- comparison --------------------------------------------------------------------------------

def cmp(claim, source):
    return compare_values(one(claim), one(source))


@pytest.mark.parametrize("claim, source, expected", [
    ("zo'n 8 miljoen euro", "circa € 8 mln", "match"),
    ("ruim 2,4 miljoen euro", "€ 2.417.560,-", "match"),  # rounding to the claim's precision
    ("2,4 miljoen euro", "€ 2.480.000", "mismatch"),
    ("ruim 520.000 euro", "€ 520.640", "match"),
    ("ruim 520.000 euro", "€ 509.000", "mismatch"),  # "ruim" is above
    ("bijna zeventig dossiers", "66 dossiers", "match"),
    ("bijna zeventig dossiers", "73 dossiers", "mismatch"),  # "bijna" is below
    ("ruim dertig dossiers", "24 dossiers", "mismatch"),
    ("61.000 inwoners", "61.000 inwoners", "match"),
    ("61.000 inwoners", "61.200 inwoners", "mismatch"),  # no approximation word: exact
    ("ongeveer 250.000 euro", "€ 265.000", "match"),  # within 10%
    ("ongeveer 250.000 euro", "€ 300.000", "mismatch"),
    ("ruim een op de vijf aanvragen", "21% van de aanvragen", "match"),
    ("een 6,9", "een 7,3", "mismatch"),
    ("minimaal 90 procent", "≥ 97%", "mismatch"),  # two norms: the bounds must agree
    ("minimaal 90 procent", "≥ 90%", "match"),
    ("14 procent", "14,3%", "match"),
    ("drie keer", "3 keer", "match"),
])
def test_same_value_by_approximation_word(claim, source, expected):
    assert cmp(claim, source) == expected


def test_more_than_is_a_bound_with_room():
    claim = one("more than 26,000 requests", lang="en")
    assert same_value(claim, one("26.400 aanvragen"))
    assert not same_value(claim, one("4.100 aanvragen"))
    assert not same_value(claim, one("40.000 aanvragen"))  # 54% more: "meer dan" would mislead


def test_dates_match_when_the_source_lies_within_the_claim():
    assert cmp("eind 2022", "31 december 2022") == "match"
    assert cmp("in oktober 2022", "3 mei 2022") == "mismatch"
    assert cmp("eind 2021", "Eind 2018") == "mismatch"
    assert cmp("op 1 maart 2027", "in 2027") == "vague"  # the source says less: not a contradiction
    assert cmp("tussen januari en maart 2025", "in de eerste drie maanden van 2025") == "match"
    assert cmp("sinds 2016", "Sinds 2019") == "mismatch"


def test_periods_compare_by_length_and_rate():
    assert cmp("over zeven jaar", "over 4 jaar") == "mismatch"
    assert cmp("elk jaar", "jaarlijks") == "match"
    assert cmp("over 12 maanden", "over 1 jaar") == "match"  # the same span in other units
    assert compare_values(one("per maand"), one("twee maanden")) == "incomparable"


def test_different_kinds_are_incomparable():
    assert cmp("12 procent", "€ 12") == "incomparable"
    assert cmp("2024", "2.024 aanvragen") == "incomparable"


def test_tolerances_are_settings():
    claim, source = one("ongeveer 100 dossiers"), one("114 dossiers")
    assert not same_value(claim, source)
    assert same_value(claim, source, ValueSettings(about_tolerance=0.15))
    with pytest.raises(ValueError, match="about_tolerance"):
        ValueSettings(about_tolerance=1.5)
    with pytest.raises(ValueError, match="bound_tolerance"):
        ValueSettings(bound_tolerance=-0.1)


def test_how_often_is_a_count_not_a_ratio():
    v = one("Alfa verstrekt ruim 40.000 keer een uittreksel")
    assert (v.kind, v.unit, v.value, v.noun) == ("count", "", 40000, "keer")


def test_section_and_page_numbers_opening_a_line_are_no_figures():
    assert extract_values("3 Resultaten en kengetallen\nHet jaar verliep rustig") == ()
    assert extract_values("aan het einde.\n7") == ()
    assert one("Er kwamen\n12 nieuwe aanvragen binnen").value == 12  # a figure of prose stays


def test_rates_on_a_basis_and_across_a_line_break():
    v = one("Op\nweekbasis verwerkt Alfa de meldingen", "period")
    assert (v.unit, v.approx) == ("week", "per")
    claim = one("iedere week", "period")
    assert compare_values(claim, v) == "match"


def test_some_years_neither_state_nor_contradict_a_number_of_years():
    claim = one("de komende drie jaar", "period")
    assert compare_values(claim, one("in de komende jaren", "period")) == "vague"
    assert compare_values(claim, one("de komende vijf jaar", "period")) == "mismatch"


def test_fifths_and_tenths_are_shares():
    assert one("bijna een vijfde van de gemeenten").value == 20
    assert one("een tiende van de aanvragen").value == 10


def test_a_bare_millions_figure_compares_with_an_amount():
    claim = one("ruim 12 miljoen euro")
    assert compare_values(claim, one("Alfa bespaarde 13 miljoen aan kosten")) == "match"
    assert compare_values(claim, one("Alfa bespaarde 9 miljoen aan kosten")) == "mismatch"
    assert compare_values(claim, one("Alfa had 13 medewerkers")) == "incomparable"


def test_half_and_quarter_millions_are_figures():
    v = one("Alfa trekt een half miljoen euro uit")
    assert (v.kind, v.value) == ("amount", 500_000)
    v = one("ruim een kwart miljoen keer")
    assert (v.kind, v.value, v.approx) == ("count", 250_000, "ruim")
    assert compare_values(v, one("Alfa deed dat 183.452 keer")) == "mismatch"


def test_halving_and_doubling_are_changes_in_percent():
    assert one("het aantal klachten halveerde").value == 50
    assert one("de wachtlijst is verdubbeld").value == 100


def test_identifiers_are_no_figures():
    assert extract_values("Kamerstukken II 2021/22, 31234-XV-12") == ()


def test_the_same_unspecified_span_matches_itself():
    assert compare_values(one("de komende jaren", "period"), one("in de komende jaren", "period")) == "match"


# -- times of day -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, minutes", [
    ("De balie van Dienst Alfa is open tussen 9.15 en 17.30.", [555, 1050]),
    ("Alfa is bereikbaar van half tien tot vijf uur.", [570, 300]),
    ("De kantoren sluiten om 16 uur, het loket opent vanaf kwart over acht.", [960, 495]),
    ("Open van 7 tot 19 uur, from 9 am to 4 pm.", [420, 1140, 540, 960]),
])
def test_times_of_day_in_figures_and_words(text, minutes):
    assert [v.lo for v in extract_values(text) if v.kind == "clock"] == minutes


@pytest.mark.parametrize("text", ["Het systeem draait 24 uur per dag.", "Medewerkers werken zes uur per week thuis.",
                                  "tussen 4 en 9 procent", "van 12 tot 20 balies", "tot 2026", "na 3 jaar"])
def test_durations_ranges_and_years_are_no_times_of_day(text):
    assert not [v for v in extract_values(text) if v.kind == "clock"]


def test_an_hour_in_words_is_either_half_of_the_day():
    five = one("tot vijf uur", "clock")
    assert compare_values(five, one("tot 17.00", "clock")) == "match"
    assert compare_values(five, one("tot 5.00 uur", "clock")) == "match"
    assert compare_values(five, one("tot 17.30", "clock")) == "mismatch"
    assert compare_values(one("om 16.00 uur", "clock"), one("om 4 pm", "clock")) == "match"
    assert compare_values(one("om 16.00 uur", "clock"), one("om 17.00 uur", "clock")) == "mismatch"
