"""`docqa eval --tune`: cross-validated choice of a setting (eval/tune.py)."""
import pytest

from docqa.eval import EvalError
from docqa.eval.tune import cross_validate, parse_grid

from conftest import DEV_QUESTIONS


def scores(*columns):
    """{value: {qid: {"mrr@10": x}}} from one list of per-question scores per value."""
    return {value: {f"q{i}": {"mrr@10": x} for i, x in enumerate(column)} for value, column in enumerate(columns)}


def test_a_value_best_on_every_question_is_always_chosen():
    cv = cross_validate(scores([1, 1, 1, 1], [0, 1, 0, 1]), "mrr@10", folds=2, repeats=3)
    assert cv["full_set"] == {0: 1.0, 1: 0.5}
    assert cv["chosen"] == {0: 6, 1: 0} and cv["cross_validated"] == 1.0


def test_a_grid_that_only_fits_single_questions_scores_zero_held_out():
    # each value is right on one question only: tuning on all four reports 0.25, but a value
    # chosen without its question can never be right on it
    per_value = scores([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])
    cv = cross_validate(per_value, "mrr@10", folds=4, repeats=2)
    assert max(cv["full_set"].values()) == 0.25
    assert cv["cross_validated"] == 0.0


def test_ties_go_to_the_value_listed_first():
    cv = cross_validate(scores([0.5, 0.5], [0.5, 0.5]), "mrr@10", folds=2, repeats=1)
    assert cv["chosen"] == {0: 2, 1: 0}


@pytest.mark.parametrize("spec, message", [
    ("rerank_weight=1,2", "SETTING=V1,V2"),
    ("fusion.nope=1,2", "fusion has no setting 'nope'; it has candidates, compound_weight, cross_language_dense_weight, dense_weight"),
    ("rerank.weight=-1,2", "bad value '-1' for rerank.weight"),
    ("fusion.method=rrf,bm42", "bad value 'bm42'"),
    ("windows.window_chars=250", "at least two different values"),
])
def test_bad_grids_are_refused_naming_the_problem(spec, message):
    with pytest.raises(EvalError, match=message.replace("(", r"\(")):
        parse_grid(spec)


def test_grid_values_take_the_setting_type():
    grid = parse_grid("windows.window_chars=200, 250,250")
    assert grid.name == "windows.window_chars" and grid.values == (200, 250)


def test_switches_joined_by_a_plus_are_tuned_as_one():
    from docqa.engine import EngineSettings

    grid = parse_grid("answer.check_person+answer.check_whole_year=false,true")
    assert grid.names == ("answer.check_person", "answer.check_whole_year") and grid.values == (False, True)
    on = grid.apply(EngineSettings(), True)
    assert on.get("answer.check_person") is True and on.get("answer.check_whole_year") is True
    with pytest.raises(EvalError, match="answer has no setting 'nope'"):
        parse_grid("answer.check_person+answer.nope=false,true")


def test_tuning_the_rerank_on_dev_chooses_it_in_every_fold(real_engine, capsys):
    from argparse import Namespace

    from docqa.eval.cli import run_eval_command

    args = Namespace(compare=None, questions=str(DEV_QUESTIONS), tune="rerank.weight=0,3", metric="mrr@10",
                     folds=5, repeats=2, k=10, out=None, modes="hybrid", no_ask=False)
    assert run_eval_command(args, lambda: real_engine) == 0
    out = capsys.readouterr().out
    assert "| 3.0 (default) |" in out and "| 0.0 |" in out
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.splitlines() if line.startswith("| 0.0") or line.startswith("| 3.0")}
    assert rows["3.0 (default)"][-2].strip() == "10" and rows["0.0"][-2].strip() == "0"
    # chosen in every fold, so the held-out score is the full-set score of 3.0
    full = float(rows["3.0 (default)"][4])
    assert f"held out (5 folds x 2 shuffles): {full:.4f}" in out
    assert real_engine.settings.rerank.weight == 3.0  # each value had an engine of its own
