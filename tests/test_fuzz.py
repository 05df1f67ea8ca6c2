"""Fuzzing the readers and the cleaning: whatever bytes a file holds, reading it gives a document
or an UnreadableFileError with a one-line reason, within the budget; cleaning never fails.

`make fuzz` runs many more cases (DOCQA_FUZZ_EXAMPLES, default there 2,000) under a time bound;
`make test` runs a few hundred.
"""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docqa.ingest.budget import BudgetedReader, ReadBudget
from docqa.ingest.clean import clean_pdf_pages, clean_text_file
from docqa.ingest.readers import UnreadableFileError, read_document
from tests import pdf_factory

EXAMPLES = int(os.environ.get("DOCQA_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# text with the characters that trouble cleaning: line ends, hyphens, lone numbers, invisible
# and private-use characters, right-to-left marks, NULs, escape codes
TRICKY = st.text(alphabet=st.sampled_from(list("ab Z-\n\r\t.,0123456789") + ["\u00ad", "\u200b", "\u2060",
                                                                               "\u202e", "\uf0b7", "\x00", "\x1b",
                                                                               "é", "ﬁ", "\ufeff"]), max_size=3000)


@FUZZ
@given(TRICKY)
def test_cleaning_any_text_gives_lines_without_control_or_format_characters(text):
    for lines in (clean_text_file(text), clean_pdf_pages([text, text[::-1]])):
        for line in lines:
            assert line.text == line.text.strip() and "\n" not in line.text
            assert not any(ch in line.text for ch in "\x00\x1b\u200b\u2060\u202e\uf0b7\ufeff")
            assert line.src_first <= line.src_last


def _mutations():
    base = [pdf_factory.text_pdf(["Dienst Alfa\nverwerkt 12.000 aanvragen", "Tweede pagina"]), b"Gewone tekst.\n"]
    return st.tuples(st.sampled_from(base), st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=8)),
                                                      max_size=6), st.integers(0, 4000))


@FUZZ
@given(_mutations(), st.sampled_from([".pdf", ".txt"]))
def test_reading_mutated_files_gives_a_document_or_a_reason(tmp_path_factory, case, suffix):
    base, edits, cut = case
    data = bytearray(base)
    for at, chunk in edits:
        at = at % (len(data) + 1)
        data[at:at + len(chunk)] = chunk
    data = bytes(data[: max(1, len(data) - cut % max(1, len(data)))])
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(data)
    try:
        doc = read_document(str(path))
    except UnreadableFileError as exc:
        assert exc.reason and "\n" not in exc.reason
    else:
        assert doc.pages


def test_random_files_through_the_budgeted_reader(tmp_path):
    import random

    rng = random.Random(11)
    for n in range(12):
        suffix = ".pdf" if n % 2 else ".txt"
        data = b"%PDF-1.4\n" + rng.randbytes(rng.randint(0, 3000)) if suffix == ".pdf" else rng.randbytes(200)
        (tmp_path / f"r{n}{suffix}").write_bytes(data)
    with BudgetedReader(tmp_path, ReadBudget(seconds=20)) as reader:
        for path in sorted(tmp_path.iterdir()):
            try:
                reader.read(path)
            except UnreadableFileError as exc:
                assert exc.reason and "\n" not in exc.reason
