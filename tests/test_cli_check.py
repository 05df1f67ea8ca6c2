"""`docqa check` and `docqa eval --claims` end to end on the tiny invented corpus (hash encoder)."""
import json

import pytest

from conftest import build_small_hash_index
from docqa.cli import main


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build_small_hash_index(tmp_path_factory.mktemp("cli-check"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_contradicted_claim_in_words_names_both_values(index, capsys):
    code, out, _ = run(capsys, "check", "--index", str(index), "Beta had eind 2023 in totaal 90 medewerkers in dienst.")
    assert code == 0
    assert "-> klopt niet volgens de bron" in out
    assert "count: 90 / bron: 87 (wijkt af)" in out
    assert '[1] "2.1 Personeel Beta had eind 2023 in totaal 87 medewerkers in dienst."' in out


def test_the_json_has_the_documented_fields_and_the_true_value_first(index, capsys):
    code, out, _ = run(capsys, "check", "--index", str(index), "--json", "--k", "3",
                       "Het ziekteverzuim bij Beta was 6 procent.")
    row = json.loads(out)
    assert code == 0 and list(row) == ["claim", "verdict", "confidence", "probability", "details", "citations",
                                       "notices", "hits"]
    assert row["verdict"] == "contradicted"
    assert "4,1 procent" in row["citations"][0]["quote"]
    assert {"n", "chunk_id", "doc", "title", "page", "line_start", "line_end", "quote", "reference"} <= set(row["citations"][0])
    assert [d["status"] for d in row["details"] if d["kind"] == "percentage"] == ["mismatch"]
    assert len(row["hits"]) == 3


def test_a_claim_the_documents_do_not_hold_is_not_found(index, capsys):
    code, out, _ = run(capsys, "check", "--index", str(index), "Gamma kocht in 2021 drie schepen.")
    assert code == 0 and "-> niet gevonden in de documenten" in out and "Dichtstbijzijnde passage" in out


def test_a_claim_file_gives_one_line_per_claim_and_names_bad_lines(index, capsys, tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text('{"id": "c1", "claim": "Beta had eind 2023 in totaal 87 medewerkers in dienst."}\n'
                    '{"id": "c2", "claim": "   "}\n'
                    'geen json\n'
                    '{"id": "c3", "question": "verkeerd veld"}\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--index", str(index), "--claims", str(path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["c1", "c2"]
    assert rows[0]["verdict"] == "supported"
    assert rows[1]["verdict"] == "not_found" and rows[1]["error"].startswith("empty claim")
    assert f"{path}:3: skipped" in err and f"{path}:4: skipped" in err


def test_check_needs_a_claim(index, capsys):
    with pytest.raises(SystemExit):
        main(["check", "--index", str(index)])
    assert "give a claim" in capsys.readouterr().err


def test_eval_claims_scores_the_checker_and_the_anchor(index, capsys, tmp_path):
    path = tmp_path / "labelled.jsonl"
    rows = [
        {"id": "e1", "claim": "Beta had eind 2023 in totaal 87 medewerkers in dienst.", "verdict": "supported",
         "kind": "number", "source_value": "87", "evidence": [{"doc": "beta-verslag-2023", "quote": "87 medewerkers"}]},
        {"id": "e2", "claim": "Het ziekteverzuim bij Beta was 6 procent.", "verdict": "contradicted",
         "kind": "percentage", "source_value": "4,1 procent",
         "evidence": [{"doc": "beta-verslag-2023", "quote": "Het ziekteverzuim was 4,1 procent."}]},
        {"id": "e3", "claim": "Gamma kocht in 2021 drie schepen.", "verdict": "not_found", "kind": "number",
         "source_value": "", "evidence": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out, err = run(capsys, "eval", "--index", str(index), "--claims", str(path), "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "docqa check" in out and "naive anchor" in out
    report = json.loads((tmp_path / "out" / "claims-report.json").read_text(encoding="utf-8"))
    assert report["checker"]["overall"]["accuracy"] == 1.0
    assert report["checker"]["overall"]["false_supported"] == 0.0
    run_lines = (tmp_path / "out" / "claims-run.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in run_lines] == ["e1", "e2", "e3"]
