"""Eight threads on one loaded index (as the app shares it between sessions): no errors, and the
same results as one thread. The full 60-second run with throughput is `python -m docqa.eval.loadtest`."""
import json
import os

from conftest import DEV_QUESTIONS
from docqa.eval.loadtest import run_load


def test_eight_threads_get_the_sequential_results_without_errors(real_searcher):
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    seconds = float(os.environ.get("DOCQA_LOAD_SECONDS", "15"))
    report = run_load(real_searcher, questions[:30], threads=8, seconds=seconds)
    print("load:", report)
    assert report["errors"] == 0, report["error_examples"]
    assert report["mismatches"] == 0
    assert report["queries"] > 8
