"""The benchmark's scale step at a tiny size: the report has every number, and they are sane.
(No timing is asserted: `make bench` measures, tests do not.)"""
import numpy as np

from docqa.eval.benchmark import markdown
from docqa.eval.scale import measure_size, random_unit_vectors, synthetic_tokens


def test_scale_step_reports_every_measure():
    real = [["norm", "beschik", "suwinet"], ["budget", "2024", "kost"], ["medewerk", "fte", "norm", "budget"]]
    queries = [["norm", "budget"], ["suwinet"], ["onbekend"]]
    row = measure_size(2000, real, queries, random_unit_vectors(3, seed=5), hnsw=True, ivf=True)
    assert row["passages"] == 2000
    for key in ("bm25", "flat", "hnsw", "ivf", "hybrid"):
        assert row[key]["p50_ms"] >= 0 and row[key]["p95_ms"] >= row[key]["p50_ms"]
    for key in ("hnsw", "ivf"):
        assert 0.0 <= row[key]["recall@10"] <= 1.0
    assert row["hybrid_index"] == "flat" and row["rss_mb"] > 0
    table = markdown({"scale": [{**row, "peak_rss_mb": row["rss_mb"]}]})
    assert "| 2,000 |" in table


def test_synthetic_passages_keep_the_real_vocabulary_and_vectors_are_unit_length():
    real = [["a", "b", "c"], ["d", "e"]]
    passages = synthetic_tokens(real, 50)
    assert len(passages) == 50 and {t for p in passages for t in p} <= set("abcde")
    vectors = random_unit_vectors(10)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_synthetic_index_loads_like_a_real_one_and_is_measured(small_index, tmp_path):
    from docqa.eval.scale import measure_searcher, write_synthetic_index
    from docqa.index.search import Searcher

    real = Searcher.load(small_index)
    row = write_synthetic_index(small_index, 300, tmp_path / "synthetic")
    assert row["passages"] == 300 and row["units"] >= 300
    synthetic = Searcher.load(tmp_path / "synthetic")  # checksums and counts verified
    assert len(synthetic.passages) == 300
    assert {p.doc_id for p in synthetic.passages} <= set(real.documents)
    # every passage is made of real sentences, and its units point into its own text
    sentences = {" ".join(p.text.split()) for p in real.passages}
    first = synthetic.passages[0]
    assert any(s.startswith(first.text[:20]) or first.text[:20] in s for s in sentences)
    vectors = random_unit_vectors(4, seed=3, dim=real.vectors.shape[1])
    measured = measure_searcher(tmp_path / "synthetic", ["budget", "archief", "norm", "huisvesting"], vectors)
    assert measured["passages"] == 300 and measured["dense_index"] == "flat"
    assert measured["search_with_units"]["p50_ms"] > 0 and measured["rss_mb"] > 0
