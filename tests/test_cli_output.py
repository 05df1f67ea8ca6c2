"""What a terminal, a script or a spreadsheet makes of docqa's output: no control characters reach
the terminal, query files are read strictly, CSV cells cannot become formulas."""
import csv
import io
import json

import pytest

from conftest import build_small_hash_index
from docqa import app_support as sup
from docqa.cli import main, safe_line


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build_small_hash_index(tmp_path_factory.mktemp("cli-output"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_control_characters_never_reach_the_terminal():
    assert safe_line("titel\x1b[2J\nnog\u202eeen") == "titel\\x1b[2J\\nnog\\u202eeen"
    assert "\x1b" not in safe_line("\x1b]0;hacked\x07")


def test_a_query_file_with_a_bom_duplicate_and_odd_ids(index, tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    lines = [{"id": "a", "question": "budget"}, {"id": "a", "question": "medewerkers"},
             {"id": None, "question": "verzuim"}, {"id": {"x": 1}, "question": "verzuim"},
             {"id": 7, "question": "norm " * 1000}]
    path.write_text("\ufeff" + "\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "search", "--index", str(index), "--queries", str(path), "--k", "2", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "7"]  # the BOM did not eat the first line
    assert f"{path}:2: skipped (id 'a' is already used on line 1)" in err
    assert f"{path}:3: skipped ('id' must be a string or a whole number, not null)" in err
    assert f"{path}:4: skipped" in err
    assert any("ingekort" in n for n in rows[1]["notices"])  # search cuts with the same notice as ask


def test_an_oversized_k_gets_a_notice_not_a_crash(index, capsys):
    code, out, err = run(capsys, "search", "--index", str(index), "--k", "2147483648", "budget")
    assert code == 0 and "more than the" in err and "Traceback" not in err


def test_a_mistyped_document_names_a_few_ids_not_all(index, capsys):
    code, _, err = run(capsys, "search", "--index", str(index), "--doc", "nope", "budget")
    assert code == 1 and err.startswith("docqa: unknown document 'nope'") and len(err.splitlines()) == 1


def test_a_bug_shows_its_traceback_but_a_user_error_does_not(index, capsys, monkeypatch):
    code, _, err = run(capsys, "ask", "--index", str(index), "   ")
    assert code == 1 and "Traceback" not in err
    from docqa import engine

    monkeypatch.setattr(engine.Engine, "ask", lambda *a, **k: (_ for _ in ()).throw(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        main(["ask", "--index", str(index), "budget"])


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\";\"klik\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_look_like_formulas_are_neutralised(cell):
    assert sup.csv_cell(cell) == "'" + cell
    assert sup.csv_cell("gewone tekst") == "gewone tekst" and sup.csv_cell(3) == 3


def test_the_csv_export_of_an_answer_holds_no_formula(index):
    from docqa.engine import Engine

    answer = Engine.open(index).ask("Hoeveel medewerkers had Beta eind 2023?", k=3)
    rows = list(csv.reader(io.StringIO(sup.export_csv(answer))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_one_progress_bar_counts_every_text_a_build_embeds(capsys):
    from docqa.cli import _EmbedBar

    bar = _EmbedBar()
    for done in (16, 64, 100):
        bar(done, 100)
    bar.close()
    err = capsys.readouterr().err
    assert "embedding" in err and "100/100" in err


def test_a_build_announces_passages_and_answer_units_together(tmp_path):
    from conftest import write_small_corpus
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    lines, bars = [], []
    build_index(write_small_corpus(tmp_path / "c"), tmp_path / "i", make_encoder("hash"), progress=lines.append,
                cache_dir=tmp_path / "cache", embed_progress=lambda d, t: bars.append((d, t)))
    [announce] = [line for line in lines if line.startswith("embedding ")]
    assert "passages and" in announce and "answer units" in announce
    assert bars and len({t for _, t in bars}) == 1 and bars[-1][0] == bars[-1][1]  # one total, to the end
