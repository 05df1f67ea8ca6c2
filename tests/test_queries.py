"""Hostile and odd queries: no exception escapes except a clear QueryError, results stay well-formed."""
import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_small_hash_index
from docqa.engine import Engine
from docqa.errors import QueryError
from docqa.index.search import MAX_QUERY_CHARS, prepare_query


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("queries")
    return Engine.open(build_small_hash_index(root, filler="Dit stuk gaat over {topic} en <b>opmaak</b>. "))


def check_hits(engine, result, k):
    hits = result.hits
    assert len(hits) <= k
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for h in hits:
        assert engine.passage(h.passage.chunk_id) == h.passage and math.isfinite(h.score)
        json.dumps(h.to_json())


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00\x01\x02", "\u200b"])
def test_empty_queries_get_a_clear_message(engine, query):
    with pytest.raises(QueryError, match="empty question"):
        engine.search(query)


@pytest.mark.parametrize("query", [
    "de het een van", "?!...,;", "<script>alert(1)</script>", "'; DROP TABLE passages; --",
    "SELECT * FROM documenten WHERE 1=1", "norm\x07 beschikbaarheid\x1b[31m", "ééé ñ 中文 🙂", "a" * 10_000])
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_odd_queries_return_well_formed_results(engine, query, mode):
    check_hits(engine, engine.search(query, k=5, mode=mode), 5)


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
def test_unknown_filter_values_are_named(engine, filters, message):
    with pytest.raises(QueryError, match=message):
        engine.search("budget", **filters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300), k=st.integers(1, 30), mode=st.sampled_from(["bm25", "dense", "hybrid"]))
def test_any_text_is_answered_or_refused_as_empty(engine, query, k, mode):
    try:
        result = engine.search(query, k=k, mode=mode)
    except QueryError as error:
        assert "empty question" in str(error)
        return
    check_hits(engine, result, k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=1, max_size=200))
def test_any_text_gets_an_answer_or_an_abstention(engine, query):
    try:
        answer = engine.ask(query)
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


def test_an_oversized_k_is_capped_at_the_passage_count_with_a_notice(engine):
    result = engine.search("budget", k=2_147_483_648)
    assert len(result.hits) == engine.passage_count
    assert any("more than the" in n for n in result.notices)
    assert any("more than the" in n for n in engine.ask("budget", k=10**9).notices)


@pytest.mark.parametrize("k", [0, -1, "10", 2.5, True, None])
def test_a_k_that_is_not_a_positive_whole_number_is_refused(engine, k):
    with pytest.raises(QueryError, match="k="):
        engine.search("budget", k=k)


def test_invisible_characters_do_not_split_a_question_word_and_nfd_is_nfc():
    assert prepare_query("infor\u2060matie")[0] == "informatie"
    assert prepare_query("Cre\u0301dit")[0] == "Crédit"


def test_context_is_cut_at_word_boundaries(engine):
    for hit in engine.search("budget medewerkers", k=5).hits:
        text = engine.document_text(hit.passage.doc_id)
        for chars in (5, 17, 40):
            context = engine.context(hit.passage.chunk_id, chars)
            start = hit.passage.char_start - len(context.before)
            end = hit.passage.char_end + len(context.after)
            assert text[start:end] == context.before + context.text + context.after
            assert start == 0 or text[start - 1].isspace() or not context.before
            assert end == len(text) or text[end].isspace() or not context.after
