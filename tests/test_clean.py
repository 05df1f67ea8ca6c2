"""Cleaning of PDF-extracted text: split words, hyphenation, page numbers, headers, headings."""
from docqa.ingest.chunk import ChunkSettings, CleanDocument, chunk_document, split_units
from docqa.ingest.clean import clean_pdf_pages, clean_text_file, find_page_number_lines
from docqa.ingest.records import DocumentMeta
from docqa.ingest.sections import find_headings, section_paths

META = DocumentMeta("doc-2024", "Jaarplan 2024", "Dienst Alfa", 2024, "jaarplan", "/tmp/doc-2024.txt")


def _prose(n: int) -> list[str]:
    return [f"Dit is zin nummer {i} van een gewone alinea over gegevensuitwisseling. " for i in range(n)]


def test_split_word_is_rejoined_when_lines_end_with_a_space():
    # In these extractions a normal line ends with a space; a line cut inside a word does not.
    lines = _prose(25) + ["Wij onder", "steunen gemeenten bij de uitvoerings", "kosten van de regeling. "]
    text = "\n".join(clean.text for clean in clean_text_file("\n".join(lines)))
    assert "Wij ondersteunen gemeenten bij de uitvoeringskosten van de regeling." in text


def test_no_rejoin_where_lines_normally_end_without_a_space():
    lines = [line.rstrip() for line in _prose(25)] + ["Kwaliteit van", "dienstverlening blijft hoog."]
    text = "\n".join(clean.text for clean in clean_text_file("\n".join(lines)))
    assert "Kwaliteit van\ndienstverlening" in text


def test_hyphenated_word_is_rejoined_but_not_before_a_conjunction():
    lines = _prose(25) + ["de informatie-", "beveiliging is op orde. ", "informatie- ", "en communicatietechnologie. "]
    text = "\n".join(clean.text for clean in clean_text_file("\n".join(lines)))
    assert "informatiebeveiliging is op orde." in text
    assert "informatie- en communicatietechnologie." in text


def test_page_numbers_counting_up_are_dropped_but_table_figures_stay():
    lines = []
    for page in range(1, 6):
        lines += _prose(14) + ["", f" {page} ", ""]
    lines += ["Tabel aantallen", "17", "8", "4"]
    found = find_page_number_lines(lines)
    assert [lines[i].strip() for i in sorted(found)] == ["1", "2", "3", "4", "5"]
    text = "\n".join(clean.text for clean in clean_text_file("\n".join(lines)))
    assert "\n17\n8\n4" in text


def test_pdf_running_header_and_page_number_are_dropped_and_pages_kept():
    topics = ["begroting", "personeel", "huisvesting", "informatiebeveiliging"]
    pages = [f"Jaarplan 2024 Dienst Alfa\nOver de {t} van de dienst.\nDe {t} is op orde.\n"
             f"Meer over de {t} volgt.\nEen slotzin over {t}.\n{n}" for n, t in enumerate(topics, 1)]
    lines = clean_pdf_pages(pages)
    assert not any(line.text.startswith("Jaarplan 2024 Dienst Alfa") for line in lines)
    assert not any(line.text.strip().isdigit() for line in lines)
    assert {line.page for line in lines if "huisvesting" in line.text} == {3}


def test_numbered_and_title_headings_give_section_paths():
    lines = clean_text_file("\n".join(
        _prose(3) + ["1. Onze dienstverlening ", "Een zin over de dienst. ", "1.2. Werk en Inkomen ",
                     "Een zin over werk. ", "Beschikbaarheid ", "De norm is hoog. ", "2 Organisatie ",
                     "Een zin over de organisatie. "]))
    headings = [h.label for h in find_headings(lines)]
    assert headings == ["1 Onze dienstverlening", "1.2 Werk en Inkomen", "Beschikbaarheid", "2 Organisatie"]
    paths = section_paths(find_headings(lines), len(lines))
    norm_line = next(i for i, line in enumerate(lines) if line.text == "De norm is hoog.")
    assert paths[norm_line] == "1 Onze dienstverlening > 1.2 Werk en Inkomen > Beschikbaarheid"
    assert paths[-1] == "2 Organisatie"


def test_numbered_list_item_and_year_are_not_headings():
    lines = clean_text_file("\n".join(_prose(3) + ["1. Bescherming van de democratische rechtsstaat en ",
                                                   "investeren in een sterke overheid. ",
                                                   "2023. We zagen het afgelopen jaar veel. "]))
    assert find_headings(lines) == []


def test_passages_are_exact_slices_within_the_limit_with_overlap():
    lines = clean_text_file("\n".join(_prose(60)))
    doc = CleanDocument.from_lines(META, lines)
    passages = chunk_document(doc, ChunkSettings(max_chars=400, overlap_chars=100))
    assert len(passages) > 5
    for p in passages:
        assert len(p.text) <= 400
        assert doc.text[p.char_start:p.char_end] == p.text
        assert p.line_start <= p.line_end
    # consecutive passages overlap, so a quote across their boundary is whole in one of them
    assert all(b.char_start < a.char_end for a, b in zip(passages, passages[1:]))
    assert len({p.chunk_id for p in passages}) == len(passages)


def test_units_split_sentences_and_table_rows_but_not_wrapped_lines():
    text = ("De norm is 95%. Het resultaat was 97%.\nTabel 3\nAantal klachten\n1.234\n"
            "De zin loopt door op\nde volgende regel.")
    units = [text[a:b] for a, b in split_units(text)]
    # a label that runs on into its figure stays with it: the answer shows both
    assert units == ["De norm is 95%.", "Het resultaat was 97%.", "Tabel 3", "Aantal klachten\n1.234",
                     "De zin loopt door op\nde volgende regel."]


def test_chunk_settings_refuse_bad_values():
    import pytest

    with pytest.raises(ValueError, match="max_chars=5000"):
        ChunkSettings(max_chars=5000)
    with pytest.raises(ValueError, match="overlap_chars"):
        ChunkSettings(max_chars=400, overlap_chars=300)


def test_invisible_format_and_private_use_characters_are_cleaned():
    from docqa.ingest.clean import normalise_chars

    assert normalise_chars("infor\u2060matie en ge\u200cgevens") == "informatie en gegevens"
    assert normalise_chars("norm \u202e0021\u202c") == "norm 0021"  # no right-to-left override left
    assert normalise_chars("\uf0b7 eerste punt") == "• eerste punt"
    assert normalise_chars("teken \ue123 weg") == "teken  weg"


def test_cleaning_is_linear_in_the_number_of_lines():
    import time

    cases = {"lone numbers": "\n".join(str(i % 997) for i in range(100_000)),
             "hyphen ends": "\n".join("woord-" for _ in range(100_000)),
             "short lines": "\n".join("kort regeltje" for _ in range(200_000))}
    for name, text in cases.items():
        started = time.perf_counter()
        clean_text_file(text)
        # was 265 s (numbers) and 44 s (hyphens) before; generous for a slow, shared machine
        assert time.perf_counter() - started < 20, name


def test_the_longest_page_number_chain_is_found_among_table_figures():
    lines = []
    for page in range(1, 8):
        lines += ["tekst van de pagina"] * 14 + ["3", "4", "5"] + [str(page)]
    found = find_page_number_lines(lines)
    assert [lines[i] for i in sorted(found)] == [str(p) for p in range(1, 8)]


def test_section_headings_of_the_real_corpus_nest_in_their_own_order_and_are_whole():
    """Over ../shared/corpus: each document's numbered headings follow each other in order, and no
    title is cut mid-way (ends in a function word)."""
    from pathlib import Path

    from docqa.ingest.metadata import CorpusManifest
    from docqa.ingest.pipeline import load_document
    from docqa.ingest.sections import _FUNCTION_WORDS, _follows

    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    files = sorted(corpus.glob("*.txt"))
    assert files
    for path in files:
        doc, _ = load_document(path, CorpusManifest.load(corpus))
        numbered = [h for h in find_headings(list(doc.lines)) if h.number]
        assert len(numbered) >= 3, path.name
        previous = None
        for h in numbered:
            assert _follows(previous, h.number), (path.name, previous, h.label)
            assert h.title.split()[-1].lower().rstrip(".") not in _FUNCTION_WORDS, (path.name, h.label)
            previous = h.number


def test_a_title_over_two_lines_and_a_repeated_chapter_line():
    lines = clean_text_file("\n".join(
        _prose(3) + ["1 Inleiding ", "Een zin over de inleiding. ", "2 Doelen ", "Een zin. ",
                     "2.1 Doel 1: een betrouwbare basis voor ", "identiteit en gegevens ", "Een zin over het doel. ",
                     "2 Doelen ", "Nog een zin over het doel. ", "2.2 Doel 2 ", "Een laatste zin. "]))
    labels = [h.label for h in find_headings(lines) if h.number]
    assert labels == ["1 Inleiding", "2 Doelen", "2.1 Doel 1: een betrouwbare basis voor identiteit en gegevens",
                      "2.2 Doel 2"]  # the repeated "2 Doelen" (a running header) is no new section


def test_a_subsection_is_not_put_under_another_chapter():
    from docqa.ingest.sections import Heading

    headings = [Heading(0, "1", "Inleiding"), Heading(2, "1.1", "Algemeen"), Heading(4, "2.1", "Doelen")]
    paths = section_paths(headings, 6)
    assert paths[3] == "1 Inleiding > 1.1 Algemeen" and paths[5] == "2.1 Doelen"


def test_a_drop_capital_set_apart_is_joined_to_its_word_when_the_document_writes_that_word():
    text = ("H et bureau werkt. Het bureau is klein. Het is zo. Het kan.\n"
            "A en B en C en D blijven apart, en U kunt ook apart blijven.\nZ ijn blijft: de tekst kent het woord niet.")
    lines = [line.text for line in clean_text_file(text)]
    assert lines[0].startswith("Het bureau werkt.")
    assert "A en B en C en D" in lines[1] and "U kunt" in lines[1]
    assert lines[2].startswith("Z ijn")
