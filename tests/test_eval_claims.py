"""eval/claims.py: loading a claim set, judging a run by the README's rule, the table and the anchor.

Claims and passages are invented ("Dienst Alfa")."""
import json
from dataclasses import dataclass

import pytest

from docqa.eval import EvalError
from docqa.eval.claims import (ClaimSetError, anchor_row, claims_table, judge_claims, load_claims, metrics,
                               parse_claims)

P1 = "In 2022 handelde Dienst Alfa 137 bezwaren af. Het loket van Dienst Alfa opende in maart."
P2 = "De wachttijd bij Dienst Alfa steeg naar negen dagen."


def line(**fields):
    base = {"id": "c-1", "claim": "Dienst Alfa handelde 137 bezwaren af.", "verdict": "supported",
            "evidence": [{"doc": "alfa-2022", "quote": "In 2022 handelde Dienst Alfa 137 bezwaren af"}],
            "source_value": "137 bezwaren", "kind": "number"}
    base.update(fields)
    return json.dumps(base)


SET = [
    line(),
    line(id="c-2", claim="Dienst Alfa handelde 180 bezwaren af.", verdict="contradicted"),
    line(id="c-3", claim="De wachttijd bij Dienst Alfa daalde.", verdict="contradicted", kind="direction",
         evidence=[{"doc": "alfa-2022", "quote": "De wachttijd bij Dienst Alfa steeg naar negen dagen"}],
         source_value="steeg"),
    line(id="c-4", claim="Dienst Alfa opende een loket in Zeeland.", verdict="not_found", evidence=[],
         source_value="", kind="organisation"),
]


class Docs:
    document_meta = {"alfa-2022": object()}

    def document_text(self, doc_id):
        return P1 + "\n" + P2


def claims():
    return parse_claims(SET)[0]


def row(cid, verdict, chunk=None, quote=""):
    hits = [{"chunk_id": "a:1", "text": P1}, {"chunk_id": "a:2", "text": P2}]
    citations = [{"n": 1, "chunk_id": chunk, "quote": quote}] if chunk else []
    return {"id": cid, "verdict": verdict, "citations": citations, "hits": hits}


# -- loading ----------------------------------------------------------------------------------------

def test_a_good_set_loads_without_problems():
    loaded, problems = parse_claims(SET, Docs())
    assert [c.id for c in loaded] == ["c-1", "c-2", "c-3", "c-4"] and problems == []
    assert loaded[0].quotes == ("In 2022 handelde Dienst Alfa 137 bezwaren af",)


def test_bad_lines_are_reported_by_line_number_and_skipped():
    lines = SET + [
        "{not json",
        json.dumps(["a list"]),
        line(id="c-5", verdict="maybe"),
        line(id="c-6", kind="feeling"),
        line(id="c-7", verdict="not_found"),  # not_found with evidence
        line(id="c-8", evidence=[]),  # supported without evidence
        line(id="c-9", source_value=""),
        line(id="c-1"),  # duplicate
        line(id="c 10"),
        json.dumps({"id": "c-11", "claim": "x"}),
        line(id="c-12", extra=1),
    ]
    loaded, problems = parse_claims(lines)
    by_line = {p.line: p.message for p in problems}
    assert [c.id for c in loaded] == ["c-1", "c-2", "c-3", "c-4", "c-12"]
    assert "invalid JSON" in by_line[5] and "JSON object" in by_line[6]
    assert "unknown verdict 'maybe'" in by_line[7] and "unknown kind 'feeling'" in by_line[8]
    assert "not_found claim must have no evidence" in by_line[9]
    assert "needs evidence" in by_line[10] and "needs a source_value" in by_line[11]
    assert "duplicate id 'c-1' (first on line 1)" in by_line[12]
    assert "white space" in by_line[13] and "missing field" in by_line[14]
    assert "unknown field(s) 'extra' ignored" in by_line[15]
    assert all(str(p).startswith(f"line {p.line}: ") for p in problems)


def test_quotes_are_checked_against_the_indexed_documents():
    lines = [line(evidence=[{"doc": "alfa-2022", "quote": "Dit staat nergens in het document"}]),
             line(id="c-2", evidence=[{"doc": "beta-2022", "quote": "In 2022 handelde Dienst Alfa 137 bezwaren af"}]),
             SET[2]]
    loaded, problems = parse_claims(lines, Docs())
    assert [c.id for c in loaded] == ["c-3"]
    assert "quote not found in document 'alfa-2022'" in problems[0].message
    assert "document 'beta-2022' is not indexed" in problems[2].message


def test_an_unusable_set_is_refused(tmp_path):
    with pytest.raises(ClaimSetError, match="no usable claim") as err:
        parse_claims(["{bad", ""])
    assert err.value.problems[0].line == 1
    with pytest.raises(EvalError, match="cannot read claim file"):
        load_claims(tmp_path / "missing.jsonl")
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(SET).encode() + b"\n\xff\n")
    loaded, problems = load_claims(path)
    assert len(loaded) == 4 and "not valid UTF-8" in problems[0].message


# -- judging ----------------------------------------------------------------------------------------

def test_judging_by_the_readme_rule():
    run = [row("c-1", "supported", "a:1", "In 2022 handelde Dienst Alfa 137 bezwaren af."),
           row("c-2", "contradicted", "a:1", "In 2022 handelde Dienst Alfa 137 bezwaren af."),
           row("c-3", "contradicted", "a:1", "Het loket van Dienst Alfa opende in maart."),  # wrong passage
           row("c-4", "supported", "a:1", "In 2022 handelde Dienst Alfa 137 bezwaren af.")]  # a false support
    report = judge_claims(claims(), run)
    m = report["overall"]
    assert m["accuracy"] == 0.75
    assert m["supported"] == {"n": 1, "called": 2, "precision": 0.5, "recall": 1.0, "f1": pytest.approx(0.6667, abs=1e-4)}
    assert m["contradicted"]["f1"] == 1.0 and m["not_found"]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx((0.6667 + 1.0 + 0.0) / 3, abs=1e-3)
    assert m["false_supported"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["evidence_at_1"] == pytest.approx(2 / 3, abs=1e-4)  # c-3 cites the wrong passage
    assert m["source_value_shown"] == 0.5  # c-2 shows "137 bezwaren", c-3 does not show "steeg"
    assert set(report["by_kind"]) == {"number", "direction", "organisation"}
    assert report["by_kind"]["organisation"]["false_supported"] == 1.0


def test_a_missing_row_counts_as_not_found_and_unknown_rows_are_refused():
    report = judge_claims(claims(), [row("c-4", "not_found")])
    assert report["overall"]["accuracy"] == 0.25 and report["overall"]["not_found"]["recall"] == 1.0
    with pytest.raises(EvalError, match="not in the claim set: c-99"):
        judge_claims(claims(), [row("c-99", "supported")])
    with pytest.raises(EvalError, match="'id'"):
        judge_claims(claims(), [{"verdict": "supported"}])


def test_a_quote_is_judged_on_its_first_500_characters():
    long_quote = "x " * 300 + "137 bezwaren"
    report = judge_claims(claims()[1:2], [row("c-2", "contradicted", "a:1", long_quote)])
    assert report["overall"]["source_value_shown"] == 0.0


def test_metrics_of_nothing():
    assert metrics([])["accuracy"] is None


def test_table_has_overall_kinds_and_verdicts():
    report = judge_claims(claims(), [row("c-1", "supported", "a:1", "137 bezwaren")])
    table = claims_table(report, "test run")
    assert table.startswith("### test run")
    assert "| overall | 4 | 0.50 |" in table and "| direction |" in table  # c-4: no row, so not_found: right
    assert "| supported | 1 | 1 | 1.00 | 1.00 | 1.00 |" in table


# -- the anchor --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class P:
    chunk_id: str
    text: str


@dataclass(frozen=True)
class H:
    passage: P


def test_anchor_compares_the_figures_of_the_best_sentence():
    hits = [H(P("a:1", P1)), H(P("a:2", P2))]
    assert anchor_row("c-1", "Dienst Alfa handelde in 2022 137 bezwaren af.", hits)["verdict"] == "supported"
    r = anchor_row("c-2", "Dienst Alfa handelde in 2022 180 bezwaren af.", hits)
    assert r["verdict"] == "contradicted" and r["citations"][0]["quote"].startswith("In 2022 handelde")
    assert anchor_row("c-4", "Dienst Alfa opende een loket.", hits)["verdict"] == "not_found"
    assert anchor_row("c-5", "Dienst Alfa handelde 137 bezwaren af.", [])["citations"] == []
    dict_hits = [{"chunk_id": "a:1", "text": P1}]
    assert anchor_row("c-1", "Dienst Alfa handelde in 2022 137 bezwaren af.", dict_hits)["hits"][0]["chunk_id"] == "a:1"
