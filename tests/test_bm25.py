"""BM25Index must score exactly like rank_bm25.BM25Okapi and rank/persist robustly."""
from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from docqa.index import bm25 as bm25_module
from docqa.index.bm25 import BM25Index

# "de" is in 5 of 6 passages (negative idf -> epsilon floor), "wet" in exactly half
# (idf exactly 0), the rest are rarer; passage 4 is empty.
CORPUS = [
    ["de", "wet", "regelt", "de", "zorg", "voor", "ouderen"],
    ["de", "gemeente", "voert", "de", "wet", "uit"],
    ["zorg", "en", "de", "zorg", "voor", "jeugd", "zorg"],
    ["de", "minister", "stelt", "regels", "over", "de", "wet"],
    [],
    ["gemeente", "de", "jeugd"],
]

QUERIES = [
    ["de"],  # negative idf, replaced by epsilon * average_idf
    ["wet"],  # idf exactly 0
    ["zorg", "jeugd"],
    ["zorg", "zorg", "de", "zorg"],  # repeated tokens count every time
    ["onbekend", "gemeente", "nergens"],  # unknown tokens contribute nothing
    ["onbekend"],
    [],
]


def assert_same_scores(index: BM25Index, reference: BM25Okapi, query: list[str]) -> None:
    ours = index.scores(query)
    assert ours.shape == (len(index),)
    np.testing.assert_allclose(ours, reference.get_scores(query), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_rank_bm25(query):
    index = BM25Index.build(CORPUS)
    assert_same_scores(index, BM25Okapi(CORPUS), query)


def test_handmade_corpus_exercises_negative_idf_and_empty_query():
    reference = BM25Okapi(CORPUS)
    assert reference.idf["de"] == pytest.approx(0.25 * reference.average_idf)
    index = BM25Index.build(CORPUS)
    assert index.idf[index.vocab["de"]] == pytest.approx(reference.idf["de"])
    assert not index.scores([]).any()
    assert len(index) == len(CORPUS)


def test_non_default_parameters():
    index = BM25Index.build(CORPUS, k1=0.9, b=0.4, epsilon=0.1)
    reference = BM25Okapi(CORPUS, k1=0.9, b=0.4, epsilon=0.1)
    for query in QUERIES:
        assert_same_scores(index, reference, query)


def brute_force_top_k(scores, k, allowed=None):
    ok = scores > 0
    if allowed is not None:
        ok &= allowed
    idx = np.flatnonzero(ok)
    order = sorted(idx.tolist(), key=lambda i: (-scores[i], i))[:k]
    return np.array(order, dtype=np.int64)


token = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])  # tiny alphabet: lots of overlap
corpora = st.lists(st.lists(token, max_size=8), min_size=1, max_size=12).filter(
    lambda docs: any(docs))  # rank-bm25 divides by zero on an all-empty corpus
queries = st.lists(st.one_of(token, st.just("zz-unknown")), max_size=6)


@settings(max_examples=100, deadline=None)
@given(corpus=corpora, query=queries,
       k1=st.floats(0.1, 3.0), b=st.floats(0.0, 0.99), epsilon=st.floats(0.0, 1.0))
def test_scores_match_rank_bm25_property(corpus, query, k1, b, epsilon):
    index = BM25Index.build(corpus, k1=k1, b=b, epsilon=epsilon)
    reference = BM25Okapi(corpus, k1=k1, b=b, epsilon=epsilon)
    np.testing.assert_allclose(index.scores(query), reference.get_scores(query),
                               rtol=1e-5, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(corpus=corpora, query=queries, k=st.integers(0, 15), data=st.data())
def test_top_k_matches_sorted_scores_property(corpus, query, k, data):
    index = BM25Index.build(corpus)
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(corpus),
                                          max_size=len(corpus))), dtype=bool)
    scores = index.scores(query)
    # Tiny block sizes push these small corpora through top_k's block-max threshold path,
    # which the default block size only takes for corpora larger than 256 * k.
    for block in (1, 2, 3, bm25_module._BLOCK):
        with mock.patch.object(bm25_module, "_BLOCK", block):
            for mask in (None, allowed):
                idx, top = index.top_k(query, k, allowed=mask)
                np.testing.assert_array_equal(idx, brute_force_top_k(scores, k, mask))
                np.testing.assert_array_equal(top, scores[idx])


@pytest.mark.parametrize("seed", range(3))
def test_top_k_on_a_larger_corpus_matches_brute_force(seed):
    # Big enough (N > 256 * k) for the default block-max threshold path; identical passages
    # repeated many times make ties at the cut-off likely.
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(60)]
    distinct = [[vocab[j] for j in rng.zipf(1.3, rng.integers(1, 12)) % 60] for _ in range(400)]
    corpus = [distinct[i] for i in rng.integers(0, 400, 6000)]
    index = BM25Index.build(corpus)
    allowed = rng.random(len(corpus)) < 0.5
    for _ in range(10):
        query = [vocab[j] for j in rng.integers(0, 60, rng.integers(1, 5))]
        scores = index.scores(query)
        for k in (1, 5, 20):
            for mask in (None, allowed):
                idx, top = index.top_k(query, k, allowed=mask)
                np.testing.assert_array_equal(idx, brute_force_top_k(scores, k, mask))
                np.testing.assert_array_equal(top, scores[idx])


def test_top_k_ordering_ties_and_k_larger_than_hits():
    # Passages 1, 2 and 4 are identical, so they tie and must come out in index order.
    corpus = [["x", "y"], ["a", "b"], ["a", "b"], ["a", "a", "a", "b"], ["a", "b"], ["q"]]
    index = BM25Index.build(corpus)
    scores = index.scores(["a"])
    idx, top = index.top_k(["a"], 10)
    assert idx.tolist() == [3, 1, 2, 4]  # passage 3 has the highest tf; 0 and 5 are no hits
    np.testing.assert_array_equal(top, scores[idx])
    assert np.all(np.diff(top) <= 0)
    assert index.top_k(["a"], 2)[0].tolist() == [3, 1]  # tie at the cut: lower index wins
    assert index.top_k(["a"], 3)[0].tolist() == [3, 1, 2]
    assert index.top_k(["a"], 0)[0].tolist() == []
    assert index.top_k(["nope"], 5)[0].tolist() == []
    assert index.top_k([], 5)[0].tolist() == []


def test_top_k_allowed_mask_filters_before_ranking():
    corpus = [["a"], ["a", "b"], ["a", "x"], ["b", "x", "y"], ["p"], ["q"], ["r"], ["s"]]
    index = BM25Index.build(corpus)
    assert index.top_k(["a", "b"], 10)[0].tolist() == [1, 3, 0, 2]
    allowed = np.array([False, False, True, True, True, True, True, True])
    idx, _ = index.top_k(["a", "b"], 1, allowed=allowed)
    assert idx.tolist() == [3]  # best allowed passage, even though k=1
    idx, _ = index.top_k(["a", "b"], 10, allowed=allowed)
    assert idx.tolist() == [3, 2]
    assert index.top_k(["a"], 5, allowed=np.zeros(8, dtype=bool))[0].tolist() == []
    with pytest.raises(ValueError, match="allowed"):
        index.top_k(["a"], 1, allowed=np.ones(7, dtype=bool))
    with pytest.raises(ValueError, match="allowed"):
        index.top_k(["a"], 1, allowed=np.ones(8, dtype=int))


def test_top_k_excludes_non_positive_scores():
    # "de" is in every passage: its idf is floored at epsilon * average_idf > 0 here, but a term
    # with idf exactly 0 ("wet", in half the passages) must not make a hit.
    index = BM25Index.build(CORPUS)
    hits, _ = index.top_k(["wet"], 10)
    assert hits.tolist() == []


@pytest.mark.parametrize("bad", [dict(k1=-1), dict(b=1.5), dict(b=-0.1), dict(epsilon=-0.5),
                                 dict(k1=float("nan"))])
def test_constructor_rejects_bad_parameters(bad):
    (name,) = bad
    with pytest.raises(ValueError, match=name):
        BM25Index(**bad)


def test_constructor_error_names_k1():
    with pytest.raises(ValueError, match="k1"):
        BM25Index(k1=-1)


def test_rejects_strings_where_token_lists_are_expected():
    with pytest.raises(TypeError):
        BM25Index.build(["de wet", "de zorg"])
    with pytest.raises(TypeError):
        BM25Index.build(CORPUS).scores("zorg")


def test_empty_corpus():
    index = BM25Index.build([])
    assert len(index) == 0
    assert index.scores(["a"]).shape == (0,)
    assert index.top_k(["a"], 3)[0].tolist() == []


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path, mmap):
    index = BM25Index.build(CORPUS, k1=1.2, b=0.7, epsilon=0.3)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", mmap=mmap)
    assert len(loaded) == len(index)
    assert (loaded.k1, loaded.b, loaded.epsilon) == (1.2, 0.7, 0.3)
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
        for got, want in zip(loaded.top_k(query, 3), index.top_k(query, 3)):
            np.testing.assert_array_equal(got, want)
    params = json.loads((tmp_path / "bm25" / "params.json").read_text())
    assert params["params_version"] == BM25Index.PARAMS_VERSION
    assert params["n_docs"] == len(CORPUS)
    assert not list((tmp_path / "bm25").glob("*.tmp"))


def test_save_load_empty_index(tmp_path):
    BM25Index.build([]).save(tmp_path)
    assert len(BM25Index.load(tmp_path)) == 0


@pytest.fixture
def saved(tmp_path):
    BM25Index.build(CORPUS).save(tmp_path)
    return tmp_path


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("name", ["data.npy", "indices.npy", "indptr.npy", "idf.npy"])
def test_load_truncated_file_names_it(saved, name, mmap):
    path = saved / name
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 6])
    with pytest.raises(ValueError, match=rf"{name}.*damaged index file.*docqa ingest"):
        BM25Index.load(saved, mmap=mmap)


@pytest.mark.parametrize("name", ["data.npy", "idf.npy", "doc_len.npy", "vocab.json",
                                  "params.json"])
def test_load_missing_file_names_it(saved, name):
    (saved / name).unlink()
    with pytest.raises(ValueError, match=rf"{name}.*damaged index file"):
        BM25Index.load(saved)


def test_load_inconsistent_files_names_the_file(saved):
    np.save(saved / "idf.npy", np.zeros(3))  # vocabulary has more terms than that
    with pytest.raises(ValueError, match="idf.npy"):
        BM25Index.load(saved)


def test_load_n_docs_mismatch_names_the_file(saved):
    params = json.loads((saved / "params.json").read_text())
    params["n_docs"] += 1
    (saved / "params.json").write_text(json.dumps(params))
    with pytest.raises(ValueError, match="doc_len.npy"):
        BM25Index.load(saved)


def test_load_garbled_json_names_the_file(saved):
    (saved / "vocab.json").write_text('{"de": 0, ')
    with pytest.raises(ValueError, match="vocab.json"):
        BM25Index.load(saved)
