"""Hostile and odd queries: no exception escapes except a clear QueryError, results stay well-formed."""
import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_small_hash_index
from docqa.answer import Answerer
from index.search import MAX_QUERY_CHARS, QueryError, Searcher, prepare_query


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    root = tmp_path_factory.mktemp("queries")
    return Searcher.load(build_small_hash_index(root, filler="Dit stuk gaat over {topic} en <b>opmaak</b>. "))


def check_hits(searcher, hits, k):
    assert len(hits) <= k
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    ids = {p.chunk_id for p in searcher.passages}
    for h in hits:
        assert h.passage.chunk_id in ids and math.isfinite(h.score)
        json.dumps(h.to_json())


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00\x01\x02", "\u200b"])
def test_empty_queries_get_a_clear_message(searcher, query):
    with pytest.raises(QueryError, match="empty question"):
        searcher.search(query)


@pytest.mark.parametrize("query", [
    "de het een van", "?!...,;", "<script>alert(1)</script>", "'; DROP TABLE passages; --",
    "SELECT * FROM documenten WHERE 1=1", "norm\x07 beschikbaarheid\x1b[31m", "ééé ñ 中文 🙂", "a" * 10_000])
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_odd_queries_return_well_formed_results(searcher, query, mode):
    check_hits(searcher, searcher.search(query, k=5, mode=mode), 5)


def test_a_very_long_query_is_cut_with_a_notice():
    query, notices = prepare_query("norm " * 5000)
    assert len(query) == MAX_QUERY_CHARS and "ingekort" in notices[0]


@pytest.mark.parametrize("filters, message", [
    ({"docs": ["bestaat-niet"]}, "unknown document 'bestaat-niet'"),
    ({"orgs": ["Gemeente Nergens"]}, "unknown organisation 'Gemeente Nergens'"),
    ({"years": ["vorig jaar"]}, "years are whole numbers"),
    ({"orgs": ["beta"], "years": [2024]}, "no passages match these filters"),
    ({"years": [1999]}, "unknown year 1999"),
])
def test_unknown_filter_values_are_named(searcher, filters, message):
    with pytest.raises(QueryError, match=message):
        searcher.search("budget", **filters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300), k=st.integers(1, 30), mode=st.sampled_from(["bm25", "dense", "hybrid"]))
def test_any_text_is_answered_or_refused_as_empty(searcher, query, k, mode):
    try:
        hits = searcher.search(query, k=k, mode=mode)
    except QueryError as error:
        assert "empty question" in str(error)
        return
    check_hits(searcher, hits, k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=1, max_size=200))
def test_any_text_gets_an_answer_or_an_abstention(searcher, query):
    try:
        answer = Answerer(searcher).ask(query)
    except QueryError:
        return
    assert answer.abstained == (answer.answer == "")
    json.dumps(answer.to_json())
    for c in answer.citations:
        assert c.quote in answer.answer


def test_cli_empty_question_is_one_line_without_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "ask", "--index", str(tmp_path / "none"), ""],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
