"""The judging rule of /work/shared/eval/README.md (eval.judging)."""
from __future__ import annotations

import unicodedata

from docqa.eval.judging import SHOWN_ANSWER_CHARS, SHOWN_PASSAGE_CHARS, is_correct, is_relevant, norm


def test_norm_lowercases_and_keeps_only_letters_and_digits():
    assert norm("De norm is 7,2 (zeven-twee)!\n") == "denormis72zeventwee"
    assert norm(" \t\n.,;:-–—’\"()") == ""


def test_norm_keeps_non_ascii_letters_without_folding_accents():
    assert norm("Financiële middelen, coördinatie & één café") == "financiëlemiddelencoördinatieééncafé"
    assert norm("financiële") != norm("financiele")  # letters are kept as they are, not folded


def test_norm_treats_composed_and_decomposed_letters_alike():
    decomposed = unicodedata.normalize("NFD", "financiële")
    assert decomposed != "financiële"
    assert norm(decomposed) == norm("financiële") == "financiële"


def test_norm_drops_private_use_bullets_from_pdf_fonts():
    assert norm("\uf0b7 eerste punt") == "eerstepunt"


def test_relevance_ignores_line_breaks_and_repaired_hyphenation():
    quote = "het informatiebeveiligingsbeleid wordt ieder jaar vastgesteld"
    assert is_relevant("Het informatie-\nbeveiligingsbeleid wordt ieder\njaar vastgesteld.", [quote])
    assert is_relevant("HET INFORMATIEBEVEILIGINGSBELEID   WORDT IEDER JAAR VASTGESTELD", [quote])
    assert not is_relevant("Het beveiligingsbeleid wordt ieder jaar vastgesteld.", [quote])


def test_relevance_is_judged_on_the_first_1000_characters_shown():
    quote = "de raad van toezicht vergaderde zes keer"
    filler = "x" * (SHOWN_PASSAGE_CHARS - len(quote))
    assert is_relevant(filler + quote + " daarna meer tekst", [quote])  # ends exactly at 1,000
    assert not is_relevant(filler + "." + quote, [quote])  # one character too late
    straddling = "y" * (SHOWN_PASSAGE_CHARS - 10) + quote
    assert not is_relevant(straddling, [quote])


def test_any_one_of_several_quotes_makes_a_passage_relevant():
    quotes = ["Gamma werkt samen met drie waterschappen", "een gezamenlijk loket met de waterschappen"]
    assert is_relevant("Sinds 2025 Gamma werkt samen met drie waterschappen.", quotes)  # first quote
    assert is_relevant("Er komt een gezamenlijk loket met de waterschappen.", quotes)  # second quote
    assert not is_relevant("Sinds 2025 werkt Gamma samen met drie waterschappen.", quotes)  # word order
    assert not is_relevant("Gamma werkt alleen.", quotes)
    assert not is_relevant("Gamma werkt samen met drie waterschappen.", [])


def test_a_quote_without_letters_or_digits_never_matches():
    assert not is_relevant("Elke tekst bevat dit.", ["...", " - "])


def test_answer_correct_on_normalised_substring_of_first_500_characters():
    assert is_correct("7,4", "De norm is een 7.4 voor klanttevredenheid")  # punctuation does not matter
    assert is_correct("Drie waterschappen", "met drie\nwaterschappen")
    assert not is_correct("7,4", "De norm is een 7,5")
    late = "z" * SHOWN_ANSWER_CHARS + " 7,4"
    assert not is_correct("7,4", late)
    assert is_correct("7,4", "z" * (SHOWN_ANSWER_CHARS - 3) + "7,4")


def test_an_empty_expected_answer_is_never_correct():
    assert not is_correct("", "wat dan ook")
    assert not is_correct("—", "wat dan ook")
