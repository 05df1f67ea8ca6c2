"""Ingest of the real corpus and the real PDFs (read from ../shared, never copied)."""
import re

import pypdf
import pytest

from conftest import CORPUS, PDF_DIR
from docqa.ingest.pipeline import ingest_corpus


@pytest.fixture(scope="module")
def corpus_ingest():
    return ingest_corpus(CORPUS)


@pytest.fixture(scope="module")
def pdf_ingest():
    return ingest_corpus(PDF_DIR)


def test_all_five_documents_with_manifest_metadata(corpus_ingest):
    documents, passages, report = corpus_ingest
    assert report.skipped == []
    assert {d.meta.doc_id for d in documents} == {
        "bkwi-jaarplan-2024", "bzk-iplan-2024", "ib-jaarplan-2020", "ib-jaarverslag-2023",
        "uwv-viermaandenverslag-2024"}
    bkwi = next(d.meta for d in documents if d.meta.doc_id == "bkwi-jaarplan-2024")
    assert (bkwi.title, bkwi.year) == ("Jaarplan 2024", 2024) and bkwi.organisation.startswith("BKWI")
    assert len(passages) > 500


def test_passages_are_slices_of_the_cleaned_text_and_cite_source_lines(corpus_ingest):
    documents, passages, _ = corpus_ingest
    texts = {d.meta.doc_id: d.text for d in documents}
    source_lines = {d.meta.doc_id: open(d.meta.path, encoding="utf-8").read().split("\n") for d in documents}
    for p in passages:
        assert 0 < len(p.text) <= 1000
        assert texts[p.doc_id][p.char_start:p.char_end] == p.text
        # the first word of the passage stands on its first cited source line
        first_word = re.findall(r"\w+", p.text)[0]
        cited = " ".join(source_lines[p.doc_id][p.line_start - 1:p.line_end])
        assert first_word in cited, (p.chunk_id, first_word, p.line_start)


def test_split_words_of_the_extraction_are_rejoined(corpus_ingest):
    documents, _, _ = corpus_ingest
    ib2020 = next(d.text for d in documents if d.meta.doc_id == "ib-jaarplan-2020")
    raw = open(CORPUS / "ib-jaarplan-2020.txt", encoding="utf-8").read()
    # the raw file has words cut over two lines ("onder" / "steunen"); the cleaned text has them whole
    assert re.search(r"\bonder\n steunen\b|\bonder\nsteunen\b", raw)
    assert "ondersteunen" in ib2020 and "onder\nsteunen" not in ib2020


def test_sections_are_found_in_the_real_documents(corpus_ingest):
    _, passages, _ = corpus_ingest
    uwv_sections = {p.section for p in passages if p.doc_id == "uwv-viermaandenverslag-2024"}
    assert any(s.endswith("1.2 Arbeidsbemiddeling en re-integratie voor WW-gerechtigden") or
               "1.2 Arbeidsbemiddeling" in s for s in uwv_sections)
    with_section = sum(1 for p in passages if p.section)
    assert with_section / len(passages) > 0.9


def test_pdf_passages_cite_the_page_that_holds_their_text(pdf_ingest):
    documents, passages, report = pdf_ingest
    assert report.skipped == [] and len(documents) == 2
    for doc in documents:
        reader = pypdf.PdfReader(doc.meta.path)
        page_words = [set(re.findall(r"\w{6,}", page.extract_text() or "")) for page in reader.pages]
        doc_passages = [p for p in passages if p.doc_id == doc.meta.doc_id]
        covered = {n for p in doc_passages for n in range(p.page, p.page_end + 1)}
        assert covered == set(range(1, len(reader.pages) + 1))
        for p in doc_passages:
            words = re.findall(r"\w{6,}", p.text.split("\n")[0])
            if words:  # the passage's first line is on the cited page
                assert words[0] in page_words[p.page - 1], (p.chunk_id, p.page, words[0])


def test_pdf_running_header_is_removed(pdf_ingest):
    documents, _, _ = pdf_ingest
    for doc in documents:
        reader = pypdf.PdfReader(doc.meta.path)
        first_lines = [(page.extract_text() or "").strip().split("\n")[0] for page in reader.pages]
        header = max(set(first_lines), key=first_lines.count)
        assert first_lines.count(header) >= len(first_lines) // 2
        assert doc.text.count(header.strip()) <= 1
