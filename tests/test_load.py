"""Eight threads asking one engine (as the app shares it between sessions): no errors, and the
same answers as one thread. The full 60-second run with throughput is `python -m bench.loadtest`."""
import json
import os

from conftest import DEV_QUESTIONS

from bench.loadtest import run_load


def test_eight_threads_get_the_sequential_answers_without_errors(real_engine):
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    seconds = float(os.environ.get("DOCQA_LOAD_SECONDS", "15"))
    report = run_load(real_engine, questions[:30], threads=8, seconds=seconds)
    print("load:", report)
    assert report["call"] == "ask"
    assert report["errors"] == 0, report["error_examples"]
    assert report["mismatches"] == 0
    assert report["queries"] > 8
