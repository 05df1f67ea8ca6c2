"""Pages whose extracted text is mostly not words are reported (or left out, by a setting)."""
import pytest

from docqa.ingest.metadata import CorpusManifest
from docqa.ingest.pipeline import load_document
from docqa.ingest.quality import TextQualitySettings, garbage_pages, known_share
from tests.pdf_factory import text_pdf

PROSE = ("De Dienst Alfa levert gegevens aan gemeenten en verwerkt iedere maand veel aanvragen van burgers "
         "die een uitkering krijgen of een toeslag aanvragen bij de gemeente waar zij wonen.")
GLYPHS = " ".join(f"/g{i}/g{i + 1}" for i in range(60))  # what a font without a Unicode map extracts as


def test_known_share_tells_prose_from_glyph_names_and_leaves_tables_alone():
    assert known_share(PROSE)[0] > 0.9
    assert known_share(GLYPHS) == (0.0, 60)
    assert known_share("2023 2024 12.300 10.869 550 500 439")[1] == 0  # figures are not judged
    assert garbage_pages([PROSE, GLYPHS, "Inhoud"]) == [(2, 0.0)]


def test_a_garbage_page_is_indexed_with_a_warning_or_left_out(tmp_path):
    path = tmp_path / "alfa-2022.pdf"
    path.write_bytes(text_pdf([PROSE, GLYPHS]))
    doc, warnings = load_document(path, CorpusManifest.load(tmp_path))
    [warning] = [w for w in warnings if "non-words" in w]
    assert "p. 2 (0%)" in warning and "indexed anyway" in warning
    doc, warnings = load_document(path, CorpusManifest.load(tmp_path), TextQualitySettings(skip_garbage=True))
    assert "g1" not in " ".join(line.text for line in doc.lines) and any("left out" in w for w in warnings)


def test_bad_quality_settings_are_refused():
    with pytest.raises(ValueError, match="min_known_share"):
        TextQualitySettings(min_known_share=2)
