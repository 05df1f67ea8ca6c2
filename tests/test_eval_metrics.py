"""Retrieval metrics (eval.metrics): exact values on a handmade set, and ranx cross-checked against
the plain-Python reference on random runs."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docqa.eval.metrics import (
    ALL_METRICS,
    NO_RELEVANT_PASSAGE,
    aggregate,
    derived_qrels,
    first_relevant_rank,
    reference_scores,
    score_questions,
    unique_run_ids,
)


def _ranks_to_inputs(ranks: dict[str, int | None], length: int = 10):
    """Runs of `length` passages per question with the first relevant passage at the given rank."""
    run_ids = {qid: [f"{qid}-p{i}" for i in range(1, length + 1)] for qid in ranks}
    return run_ids, dict(ranks)


def test_exact_values_on_a_handmade_set():
    # first relevant passage at ranks 1, 3 and nowhere
    run_ids, first = _ranks_to_inputs({"q1": 1, "q2": 3, "q3": None})
    per_question = score_questions(run_ids, first)
    mean = aggregate(per_question, ["q1", "q2", "q3"])
    assert mean["success@1"] == pytest.approx(1 / 3)
    assert mean["success@5"] == pytest.approx(2 / 3)
    assert mean["success@10"] == pytest.approx(2 / 3)
    assert mean["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)
    assert mean["ndcg@10"] == pytest.approx((1 + 0.5) / 3)
    assert per_question["q3"] == {metric: 0.0 for metric in ALL_METRICS}
    assert per_question["q2"]["success@2"] == 0.0 and per_question["q2"]["success@3"] == 1.0


def test_ranks_beyond_10_do_not_count():
    run_ids, first = _ranks_to_inputs({"q1": 11, "q2": 10}, length=12)
    per_question = score_questions(run_ids, first)
    assert per_question["q1"] == {metric: 0.0 for metric in ALL_METRICS}
    assert per_question["q2"]["success@10"] == 1.0
    assert per_question["q2"]["mrr@10"] == pytest.approx(0.1)
    assert per_question["q2"]["ndcg@10"] == pytest.approx(1 / math.log2(11))


def test_only_the_first_relevant_passage_is_in_the_qrels_and_misses_get_a_placeholder():
    run_ids = {"q1": ["a", "b", "c"], "q2": ["a", "b"], "q3": []}
    qrels = derived_qrels(run_ids, {"q1": 2, "q2": None, "q3": None})
    assert qrels == {"q1": {"b": 1}, "q2": {NO_RELEVANT_PASSAGE: 1}, "q3": {NO_RELEVANT_PASSAGE: 1}}
    per_question = score_questions(run_ids, {"q1": 2, "q2": None, "q3": None})
    assert per_question["q2"]["success@10"] == 0.0 and per_question["q3"]["mrr@10"] == 0.0
    assert per_question["q1"]["ndcg@10"] == pytest.approx(1 / math.log2(3))  # ideal DCG is 1


def test_all_questions_missed_score_zero_rather_than_fail():
    per_question = score_questions({"q1": ["a"], "q2": []}, {"q1": None, "q2": None})
    assert aggregate(per_question, ["q1", "q2"]) == {metric: 0.0 for metric in ALL_METRICS}


def test_the_shown_order_counts_not_the_ids_alphabetical_order():
    # ranx breaks score ties its own way; the evaluation gives it strictly decreasing scores.
    run_ids = {"q1": ["zz", "yy", "aa"]}
    assert score_questions(run_ids, {"q1": 3})["q1"]["mrr@10"] == pytest.approx(1 / 3)
    assert score_questions(run_ids, {"q1": 1})["q1"]["mrr@10"] == 1.0


def test_a_repeated_passage_keeps_every_later_rank():
    ids = unique_run_ids(["a", "a", "b", "a"])
    assert ids == ["a", "a#dup2", "b", "a#dup4"]
    assert score_questions({"q1": ids}, {"q1": 3})["q1"]["mrr@10"] == pytest.approx(1 / 3)


def test_first_relevant_rank_judges_the_shown_text():
    texts = ["Gamma beheert het register.", "De doorlooptijd gaat terug naar\nzes weken.", "Zes weken."]
    assert first_relevant_rank(texts, ["doorlooptijd gaat terug naar zes weken"]) == 2
    assert first_relevant_rank(texts, ["zes weken"]) == 2
    assert first_relevant_rank(texts, ["negen weken"]) is None
    assert first_relevant_rank([], ["zes weken"]) is None


def test_aggregate_over_a_subset_for_per_type_scores():
    run_ids, first = _ranks_to_inputs({"q1": 1, "q2": 2, "q3": None})
    per_question = score_questions(run_ids, first)
    assert aggregate(per_question, ["q2", "q3"])["mrr@10"] == pytest.approx(0.25)
    assert aggregate(per_question, []) == {}


# -- ranx against the reference on random runs ----------------------------------------------------

POOL = [f"d{i}" for i in range(15)]
question_strategy = st.tuples(
    st.lists(st.sampled_from(POOL), max_size=14),  # ranked list, repeats allowed, may exceed 10
    st.sets(st.sampled_from(POOL)),  # full relevance judgement
)


@settings(max_examples=150, deadline=None)
@given(st.lists(question_strategy, min_size=1, max_size=8))
def test_ranx_agrees_with_the_reference_on_random_runs(questions):
    run_ids, first, expected = {}, {}, {}
    for index, (ranked, relevant) in enumerate(questions):
        qid = f"q{index}"
        run_ids[qid] = unique_run_ids(ranked)
        first[qid] = next((pos for pos, doc in enumerate(ranked, start=1) if doc in relevant), None)
        expected[qid] = reference_scores(ranked, relevant)
    per_question = score_questions(run_ids, first)
    for qid in run_ids:
        for metric in ALL_METRICS:
            assert per_question[qid][metric] == pytest.approx(expected[qid][metric], abs=1e-9), (qid, metric)
    mean = aggregate(per_question, run_ids)
    for metric in ALL_METRICS:
        reference_mean = sum(expected[qid][metric] for qid in run_ids) / len(run_ids)
        assert mean[metric] == pytest.approx(reference_mean, abs=1e-9)


def test_reference_implementation_on_the_handmade_set():
    assert reference_scores(["a", "b", "c"], {"c", "a"})["mrr@10"] == 1.0
    scores = reference_scores(["a", "b", "c"], {"c"})
    assert scores["success@2"] == 0.0 and scores["success@3"] == 1.0
    assert scores["ndcg@10"] == pytest.approx(0.5)
    assert reference_scores([], {"a"})["success@10"] == 0.0
