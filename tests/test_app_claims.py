"""The app's "Bewering controleren" mode: its pure helpers, and the page through AppTest on the
tiny invented corpus (hash encoder) and on the real index."""
from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docqa.app_claims import CLAIM_TEXTS, MAX_SENTENCES, quote_html, split_claims, verdict_badge_html  # noqa: E402
from docqa.qa.claims import Detail  # noqa: E402
from tests.test_app import XSS, app_at, markdown_values  # noqa: E402

NL = CLAIM_TEXTS["nl"] | {"conf_hoog": "hoog"}


def test_a_paragraph_is_split_into_sentences_without_cutting_abbreviations_or_amounts():
    text = "Beta gaf in 2023 ca. € 3,4 mln. uit aan huisvesting. Het verzuim daalde.\nAlfa verwerkt 12.000 aanvragen."
    sentences, cut = split_claims(text)
    assert not cut and len(sentences) == 3
    assert sentences[0].startswith("Beta gaf") and "3,4 mln." in sentences[0]
    assert sentences[2] == "Alfa verwerkt 12.000 aanvragen."
    assert split_claims("   \n ") == ([], False)
    assert split_claims("Alfa groeide.") == (["Alfa groeide."], False)  # one short claim is still a claim
    many, cut = split_claims(" ".join(f"Alfa had in jaar {i} precies {i} medewerkers." for i in range(30)))
    assert cut and len(many) == MAX_SENTENCES


def test_the_differing_source_value_is_marked_with_the_claim_value_beside_it():
    details = (Detail("count", "90", "87", "mismatch"), Detail("date", "eind 2023", "eind 2023", "match"))
    out = quote_html(NL, "Beta had eind 2023 in totaal 87 medewerkers.", details, "contradicted")
    assert 'class="dq-source-value"' in out and ">87</mark>" in out
    assert "(bewering&#58; 90)" in out
    assert out.count("<mark") == 1  # a matching detail is not marked on a contradiction


def test_matching_values_are_marked_on_support_and_text_stays_inert():
    details = (Detail("percentage", "4,1%", "4,1 procent", "match"),)
    out = quote_html(NL, f"Het verzuim {XSS} was 4,1 procent.", details, "supported")
    assert "<script>" not in out and "&#60;script&#62;" in out
    assert ">4,1 procent</mark>" in out
    badge = verdict_badge_html(NL, "supported", "hoog")
    assert 'data-verdict="supported"' in badge and "klopt volgens de bron" in badge


def claim_page(monkeypatch, index, corpus):
    at = app_at(monkeypatch, index, corpus)
    at.sidebar.radio(key="page").set_value("check").run()
    assert not at.exception, at.exception
    return at


def paste(at, text: str):
    at.text_area(key="claim_text").set_value(text)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def verdicts(at) -> list[str]:
    import re

    return re.findall(r'data-verdict="(\w+)"', "".join(markdown_values(at)))


def test_check_page_gives_a_verdict_per_sentence(monkeypatch, small_index, small_corpus):
    at = claim_page(monkeypatch, small_index, small_corpus)
    assert at.title[0].value == "Bewering controleren"
    paste(at, "Beta had eind 2023 in totaal 90 medewerkers in dienst. Het ziekteverzuim was 4,1 procent.\n"
              "Gamma kocht in 2021 drie schepen.")
    assert verdicts(at) == ["contradicted", "supported", "not_found"]
    text = html.unescape("".join(markdown_values(at)))
    assert ">87</mark>" in text and "(bewering: 90)" in text
    assert any("Beta, Jaarverslag 2023" in c.value for c in at.code)  # the citation to copy
    assert "Dichtstbijzijnde passages" in text  # for the claim nothing supports


def test_check_page_escapes_the_claim_and_warns_on_empty_input(monkeypatch, small_index, small_corpus):
    at = claim_page(monkeypatch, small_index, small_corpus)
    paste(at, "   ")
    assert any("Lege invoer" in w.value for w in at.warning)
    paste(at, f"Beta had {XSS} eind 2023 in totaal 90 medewerkers in dienst.")
    text = "".join(markdown_values(at))
    assert "<script>" not in text and verdicts(at) == ["contradicted"]


def test_check_page_in_english(monkeypatch, small_index, small_corpus):
    at = claim_page(monkeypatch, small_index, small_corpus)
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert at.title[0].value == "Check a claim"
    paste(at, "Beta had eind 2023 in totaal 90 medewerkers in dienst.")
    assert "contradicted by the source" in "".join(markdown_values(at))


@pytest.mark.slow
def test_check_page_on_the_real_index(monkeypatch, real_index_dir, corpus_dir):
    at = claim_page(monkeypatch, real_index_dir, corpus_dir)
    paste(at, "De norm voor de beschikbaarheid van Suwinet is volgens BKWI 90%.")
    assert verdicts(at) == ["contradicted"]
    text = html.unescape("".join(markdown_values(at)))
    assert "99,0%</mark>" in text and "(bewering: 90%)" in text
