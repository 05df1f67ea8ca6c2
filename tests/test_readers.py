"""ingest.readers: every kind of file a user may drop in the corpus folder, good and bad."""
from __future__ import annotations

import builtins
import codecs
import logging
import os
import random
import tempfile
import time
from pathlib import Path

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf.errors import DependencyError

from docqa.ingest.readers import (
    DEFAULT_MAX_FILE_BYTES,
    RawDocument,
    UnreadableFileError,
    read_document,
)
from tests import pdf_factory

SHARED_PDFS = Path("/work/shared/pdf")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def reason_for(path: Path, **kwargs) -> str:
    with pytest.raises(UnreadableFileError) as caught:
        read_document(path, **kwargs)
    assert caught.value.path == str(path)
    assert str(caught.value) == f"{path}: {caught.value.reason}"
    assert "\n" not in caught.value.reason
    return caught.value.reason


def refuse_open(monkeypatch, target: Path, error: OSError) -> None:
    """Make opening `target` fail as it would for another user: tests run as root, where chmod cannot."""
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if os.fspath(file) == str(target):
            raise error
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)


# --- text: encodings ---------------------------------------------------------------------------


def test_utf8_text_is_returned_untouched_as_one_page(tmp_path):
    text = "Jaarplan 2024\n\n  Één  regel\tmet tab; coördinatie ✓\n"
    doc = read_document(write(tmp_path, "plan.txt", text.encode("utf-8")))
    assert doc == RawDocument(
        path=str(tmp_path / "plan.txt"), kind="txt", pages=(text,), encoding="utf-8", warnings=()
    )


def test_utf8_bom_is_stripped(tmp_path):
    doc = read_document(write(tmp_path, "bom.txt", codecs.BOM_UTF8 + "café".encode("utf-8")))
    assert doc.pages == ("café",)
    assert doc.encoding == "utf-8"


def test_cp1252_text_is_read_with_a_warning(tmp_path):
    text = "Het budget – € 5 mln – voor “digitale” dienstverlening, café"
    doc = read_document(write(tmp_path, "oud.txt", text.encode("cp1252")))
    assert doc.pages == (text,)
    assert doc.encoding == "cp1252"
    assert doc.warnings == ("not UTF-8; read as cp1252",)


def test_latin1_text_reads_correctly(tmp_path):
    # Latin-1 letters are the same bytes in cp1252, so cp1252 (tried first) gives the same text.
    text = "Één coördinatie, café, naïef"
    doc = read_document(write(tmp_path, "latin.txt", text.encode("latin-1")))
    assert doc.pages == (text,)
    assert doc.encoding == "cp1252"


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path):
    data = "café ".encode("latin-1") + b"\x81" + " einde".encode("latin-1")
    doc = read_document(write(tmp_path, "latin.txt", data))
    assert doc.pages == ("café \x81 einde",)
    assert doc.encoding == "latin-1"
    assert doc.warnings == ("not UTF-8; read as latin-1",)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    text = "Regel één\nRegel twee ✓"
    bom = {"utf-16": b"", "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[codec]
    doc = read_document(write(tmp_path, "u16.txt", bom + text.encode(codec)))
    assert doc.pages == (text,)
    assert doc.encoding == "utf-16"
    assert doc.warnings == ()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_nul_bytes(tmp_path, codec):
    text = "Informatiebeveiliging in de keten, één plan.\n" * 20
    doc = read_document(write(tmp_path, "u16.txt", text.encode(codec)))
    assert doc.pages == (text,)
    assert doc.encoding == "utf-16"
    assert doc.warnings == (f"no byte order mark; read as {codec.upper()}",)


def test_invalid_bytes_after_a_utf8_bom_are_replaced_with_a_warning(tmp_path):
    doc = read_document(write(tmp_path, "kapot.txt", codecs.BOM_UTF8 + b"goed \xff fout"))
    assert doc.pages == ("goed \ufffd fout",)
    assert doc.encoding == "utf-8"
    assert doc.warnings == ("invalid UTF-8 bytes replaced by \ufffd",)


def test_mixed_line_endings_become_newlines(tmp_path):
    doc = read_document(write(tmp_path, "mixed.txt", b"een\r\ntwee\rdrie\nvier\r\n\r\nvijf\r"))
    assert doc.pages == ("een\ntwee\ndrie\nvier\n\nvijf\n",)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), min_size=1)
    .filter(str.strip),
    codec=st.sampled_from(["utf-8", "utf-16"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_text_round_trips(text, codec, newline):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "t.txt", text.replace("\n", newline).encode(codec))
        assert read_document(path).pages == (text,)


# --- text: refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["leeg.txt", "leeg.pdf"])
def test_zero_bytes_is_an_empty_file(tmp_path, name):
    assert reason_for(write(tmp_path, name, b"")) == "empty file"


@pytest.mark.parametrize("data", [b" \n\t\r\n  ", codecs.BOM_UTF8 + b"\n\n", " \n".encode("utf-16")])
def test_only_white_space_is_an_empty_file(tmp_path, data):
    assert reason_for(write(tmp_path, "wit.txt", data)) == "empty file"


def test_random_bytes_named_txt_are_binary(tmp_path):
    junk = random.Random(7).randbytes(8192)
    assert reason_for(write(tmp_path, "junk.txt", junk)) == "not a text file: binary content"


def test_control_characters_without_nul_are_binary(tmp_path):
    junk = bytes(b for b in random.Random(7).randbytes(8192) if b)  # no NUL, many controls
    assert reason_for(write(tmp_path, "junk.txt", junk)) == "not a text file: binary content"


def test_an_image_named_txt_is_binary(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    assert reason_for(write(tmp_path, "foto.txt", png)) == "not a text file: binary content"


def test_a_few_form_feeds_and_tabs_are_text(tmp_path):
    doc = read_document(write(tmp_path, "pdftotext.txt", b"pagina 1\tregel\n\x0cpagina 2\n"))
    assert doc.pages == ("pagina 1\tregel\n\x0cpagina 2\n",)


def test_text_over_the_size_cap_is_refused(tmp_path):
    path = write(tmp_path, "groot.txt", b"x" * 2000)
    assert reason_for(path, max_bytes=1000).startswith("file too large (")
    assert read_document(path, max_bytes=2000).pages == ("x" * 2000,)


def test_pdf_over_the_size_cap_is_refused(tmp_path):
    path = write(tmp_path, "groot.pdf", pdf_factory.text_pdf(["tekst"] * 5))
    assert reason_for(path, max_bytes=100).startswith("file too large (")


def test_a_50_mb_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "enorm.txt"
    with open(path, "wb") as handle:  # sparse: one line, then a hole up to 50 MB
        handle.write(b"begin\n")
        handle.truncate(50 * 1024 * 1024)
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda file, *a, **k: opened.append(file) or real_open(file, *a, **k))
    started = time.perf_counter()
    reason = reason_for(path)
    assert time.perf_counter() - started < 1  # a stat, no read: microseconds even on a busy machine
    assert reason == "file too large (50.0 MB; the limit is 20.0 MB); split it or raise the limit"
    assert str(path) not in map(os.fspath, opened)
    assert DEFAULT_MAX_FILE_BYTES == 20 * 1024 * 1024


# --- files and names ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Jaarplan café 2024 (concept).txt", "  spaties  .txt", "ÉÉN.TXT", "ß-ü.pdf"])
def test_unusual_names(tmp_path, name):
    data = pdf_factory.text_pdf(["Inhoud"]) if name.endswith(".pdf") else "Inhoud".encode()
    doc = read_document(write(tmp_path, name, data))
    assert doc.path == str(tmp_path / name)
    assert doc.pages[0].strip() == "Inhoud"


def test_relative_path_becomes_absolute(tmp_path, monkeypatch):
    write(tmp_path, "a.txt", b"tekst")
    monkeypatch.chdir(tmp_path)
    assert read_document("a.txt").path == str(tmp_path / "a.txt")


def test_unsupported_suffix(tmp_path):
    path = write(tmp_path, "plan.docx", b"PK\x03\x04")
    assert reason_for(path) == "unsupported file type .docx; only .txt and .pdf are indexed"


def test_missing_file(tmp_path):
    assert reason_for(tmp_path / "weg.txt") == "cannot read file: it does not exist (moved or deleted?)"


def test_folder_named_txt_is_not_a_regular_file(tmp_path):
    (tmp_path / "map.txt").mkdir()
    assert reason_for(tmp_path / "map.txt") == "not a regular file"


@pytest.mark.parametrize("name", ["geheim.txt", "geheim.pdf"])
def test_unreadable_file(tmp_path, monkeypatch, name):
    path = write(tmp_path, name, pdf_factory.text_pdf(["x"]) if name.endswith(".pdf") else b"tekst")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root ignores file modes: simulate what another user would get
            refuse_open(monkeypatch, path, PermissionError(13, "Permission denied", str(path)))
        assert reason_for(path) == "cannot read file: permission denied"
    finally:
        path.chmod(0o644)


# --- PDF ------------------------------------------------------------------------------------


def test_text_pdf_gives_one_string_per_page(tmp_path):
    pages = ["Hoofdstuk 1\nDe eerste regel (met haakjes) en café", "Hoofdstuk 2", "Bijlage \\ A"]
    doc = read_document(write(tmp_path, "plan.pdf", pdf_factory.text_pdf(pages)))
    assert doc.kind == "pdf"
    assert doc.encoding is None
    assert doc.pages == tuple(pages)
    assert doc.warnings == ()


def test_upper_case_pdf_suffix(tmp_path):
    doc = read_document(write(tmp_path, "PLAN.PDF", pdf_factory.text_pdf(["tekst"])))
    assert doc.pages == ("tekst",)


def test_pages_without_text_are_empty_strings_with_a_warning(tmp_path):
    doc = read_document(write(tmp_path, "deels.pdf", pdf_factory.text_pdf(["een", "", "drie"])))
    assert doc.pages == ("een", "", "drie")
    assert doc.warnings == ("page 2 has no text layer",)


def test_many_empty_pages_give_one_warning_with_ranges(tmp_path):
    pages = ["", "", "", "vier", "vijf", "", "zeven", ""]
    doc = read_document(write(tmp_path, "scan.pdf", pdf_factory.text_pdf(pages)))
    assert doc.warnings == ("pages 1-3, 6, 8 have no text layer",)


@pytest.mark.parametrize("data", [pdf_factory.blank_pdf(3), pdf_factory.image_pdf(2), pdf_factory.text_pdf([""])])
def test_image_only_pdf_needs_ocr(tmp_path, data):
    path = write(tmp_path, "scan.pdf", data)
    assert reason_for(path) == "no text layer (image-only or scanned PDF); run OCR first"


def test_truncated_pdf_is_damaged(tmp_path):
    data = pdf_factory.truncated(pdf_factory.text_pdf(["een", "twee", "drie"]))
    assert reason_for(write(tmp_path, "half.pdf", data)).startswith("damaged or not a PDF (")


@pytest.mark.parametrize(
    "data, cause",
    [
        (random.Random(3).randbytes(4096), "no %PDF header"),
        (b"Dit is gewoon tekst met een .pdf naam\n", "no %PDF header"),
        (b"%PDF-1.7\n" + random.Random(3).randbytes(4096), ""),
    ],
)
def test_junk_named_pdf_is_damaged(tmp_path, data, cause):
    reason = reason_for(write(tmp_path, "nep.pdf", data))
    assert reason.startswith("damaged or not a PDF (")
    assert cause in reason


def test_pdf_with_a_user_password_is_refused(tmp_path):
    path = write(tmp_path, "slot.pdf", pdf_factory.encrypted_pdf("geheim"))
    assert reason_for(path) == "encrypted PDF that needs a password; decrypt it first (e.g. qpdf --decrypt)"


def test_pdf_with_an_empty_user_password_is_read(tmp_path):
    path = write(tmp_path, "beveiligd.pdf", pdf_factory.encrypted_pdf("", pages=["Openbaar", "verslag"]))
    assert read_document(path).pages == ("Openbaar", "verslag")


def test_aes_pdf_without_cryptography_says_what_to_install(tmp_path, monkeypatch):
    # cryptography is not installed here, so pypdf cannot even write AES; simulate its read error.
    def needs_cryptography(self, *args, **kwargs):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf.PageObject, "extract_text", needs_cryptography)
    reason = reason_for(write(tmp_path, "aes.pdf", pdf_factory.encrypted_pdf("")))
    assert "'cryptography' package is not installed; pip install cryptography" in reason


def test_one_failing_page_does_not_lose_the_others(tmp_path, monkeypatch):
    real_extract = pypdf.PageObject.extract_text

    def fail_on_second_page(self, *args, **kwargs):
        text = real_extract(self, *args, **kwargs)
        if text == "twee":
            raise KeyError("/Font")
        return text

    monkeypatch.setattr(pypdf.PageObject, "extract_text", fail_on_second_page)
    doc = read_document(write(tmp_path, "half.pdf", pdf_factory.text_pdf(["een", "twee", "drie"])))
    assert doc.pages == ("een", "", "drie")
    assert doc.warnings[0] == "page 2: text could not be extracted (KeyError: '/Font')"


def test_pypdf_log_messages_become_warnings_not_console_noise(tmp_path, caplog):
    data = pdf_factory.text_pdf(["een", "twee"]).replace(b"startxref\n", b"startxref\n9")
    with caplog.at_level(logging.DEBUG):
        doc = read_document(write(tmp_path, "scheef.pdf", data))
    assert doc.pages == ("een", "twee")
    assert any(w.startswith("pypdf: incorrect startxref pointer") for w in doc.warnings)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert not logging.getLogger("pypdf").handlers and logging.getLogger("pypdf").propagate


def test_a_1000_page_pdf_reads_in_bounded_time(tmp_path):
    pages = [f"Pagina {n}\nTweede regel van pagina {n}" for n in range(1, 1001)]
    path = write(tmp_path, "dik.pdf", pdf_factory.text_pdf(pages))
    started = time.perf_counter()
    doc = read_document(path)
    assert time.perf_counter() - started < 15  # about 1 s here; the bound catches quadratic behaviour
    assert len(doc.pages) == 1000
    assert doc.pages[999] == pages[999]
    assert doc.warnings == ()


@pytest.mark.parametrize(
    "name, pages, phrase",
    [
        ("bkwi-jaarplan-2024.pdf", 11, "zo hebben we onze ketenpartners nodig"),
        ("bzk-iplan-2024.pdf", 14, "Elke regio telt."),
    ],
)
def test_real_pdfs(name, pages, phrase):
    doc = read_document(SHARED_PDFS / name)
    assert doc.kind == "pdf"
    assert len(doc.pages) == pages > 1
    assert any(phrase in page for page in doc.pages)
    assert all(page.strip() for page in doc.pages)


def test_a_stray_nul_in_a_real_text_is_removed_with_a_warning(tmp_path):
    text = ("Dienst Alfa verwerkt aanvragen van gemeenten. " * 800).encode("utf-8")
    data = text[:20_000] + b"\x00" + text[20_000:]
    from docqa.ingest.readers import read_document

    doc = read_document(str(write(tmp_path, "nul.txt", data)))
    assert "\x00" not in doc.pages[0] and doc.pages[0].startswith("Dienst Alfa")
    assert any("1 NUL byte removed" in w for w in doc.warnings)


@pytest.mark.parametrize("data", [pdf_factory.nested_forms_pdf(1500), pdf_factory.reference_chain_pdf(50)],
                         ids=["forms nested 1,500 deep", "a chain of 50 references"])
def test_text_the_reader_cannot_reach_is_not_sent_to_ocr(tmp_path, data):
    reason = reason_for(write(tmp_path, "verstopt.pdf", data))
    assert "OCR" not in reason.split(";")[0] and reason.startswith("text operators present")


def test_text_in_a_few_nested_forms_is_read(tmp_path):
    doc = read_document(write(tmp_path, "form.pdf", pdf_factory.nested_forms_pdf(3)))
    assert "Verborgen tekst van Dienst Alfa" in doc.pages[0]
