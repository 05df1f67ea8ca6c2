"""A time and memory budget per file: a file built to stall the reader is skipped after the
budget, with its name and what to do, and the files beside it are indexed."""
import time

import pytest

from docqa.ingest.budget import BudgetedReader, ReadBudget
from docqa.ingest.pipeline import ingest_corpus
from docqa.ingest.readers import UnreadableFileError
from tests.pdf_factory import inflating_pdf

GOOD = "1 Inleiding\nDe Dienst Alfa verwerkt iedere maand ongeveer 12.000 aanvragen van gemeenten.\n"


def test_a_stalling_pdf_is_skipped_after_the_budget_and_the_good_file_is_indexed(tmp_path):
    (tmp_path / "alfa-2024.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "stil-2024.pdf").write_bytes(inflating_pdf(pages=3, megabytes=10))  # about 30 s to refuse unbudgeted
    lines = []
    started = time.monotonic()
    documents, passages, report = ingest_corpus(tmp_path, budget=ReadBudget(seconds=3, report_after=1),
                                                progress=lines.append)
    took = time.monotonic() - started
    assert [d.meta.doc_id for d in documents] == ["alfa-2024"] and passages
    [(path, reason)] = report.skipped
    assert path.endswith("stil-2024.pdf")
    assert reason.startswith("reading took over 3 s, the budget per file (DOCQA_READ_SECONDS)")
    assert any("still reading stil-2024.pdf" in line for line in lines)
    assert took < 20  # the budget, a worker start and the good file; not the 30 s of the bad one


def test_the_reader_goes_on_after_a_file_over_budget(tmp_path):
    (tmp_path / "a-2024.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "stil.pdf").write_bytes(inflating_pdf(pages=3, megabytes=10))
    (tmp_path / "b-2024.txt").write_text(GOOD.replace("Alfa", "Beta"), encoding="utf-8")
    with BudgetedReader(tmp_path, ReadBudget(seconds=2)) as reader:
        assert reader.read(tmp_path / "a-2024.txt")[0].meta.doc_id == "a-2024"
        with pytest.raises(UnreadableFileError, match="budget per file"):
            reader.read(tmp_path / "stil.pdf")
        assert "Beta" in reader.read(tmp_path / "b-2024.txt")[0].text  # a fresh worker


def test_an_unreadable_file_gives_its_reason_through_the_worker(tmp_path):
    (tmp_path / "leeg.txt").write_bytes(b"")
    with BudgetedReader(tmp_path) as reader:
        with pytest.raises(UnreadableFileError, match="empty file"):
            reader.read(tmp_path / "leeg.txt")


@pytest.mark.parametrize("env, words", [({"DOCQA_READ_SECONDS": "soms"}, "DOCQA_READ_SECONDS='soms'"),
                                        ({"DOCQA_READ_MEMORY_MB": "12"}, "memory_mb=12"),
                                        ({"DOCQA_READ_SECONDS": "0"}, "seconds=0")])
def test_bad_budgets_are_refused_by_name(env, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        ReadBudget.from_env(env)
    assert ReadBudget.from_env({"DOCQA_READ_SECONDS": "30", "DOCQA_READ_MEMORY_MB": "1024"}) == ReadBudget(30, 1024)


def test_a_script_without_a_main_guard_can_build_an_index(tmp_path):
    """The reader is a fresh interpreter: a caller's script is not run again in it."""
    import subprocess
    import sys

    script = tmp_path / "bouw.py"
    script.write_text(
        "from pathlib import Path\n"
        "from docqa.index.encoders import make_encoder\n"
        "from docqa.index.store import build_index\n"
        f"corpus = Path({str(tmp_path / 'corpus')!r}); corpus.mkdir(exist_ok=True)\n"
        f"(corpus / 'alfa-2024.txt').write_text({GOOD!r}, encoding='utf-8')\n"
        f"result = build_index(corpus, Path({str(tmp_path / 'index')!r}), make_encoder('hash'))\n"
        "print('passages', result.report.passages, 'skipped', len(result.report.skipped))\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "passages 1 skipped 0" in out.stdout
