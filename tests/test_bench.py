"""The benchmark's scale step at a tiny size: the report has every number, and they are sane.
(No timing is asserted: `make bench` measures, tests do not.)"""
import numpy as np
import pytest

from bench.benchmark import markdown
from bench.scale import fuse, ivf_index, measure_size, random_unit_vectors, synthetic_tokens


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


def test_the_scale_step_uses_the_stores_ivf_index_and_the_searchers_fusion():
    import faiss

    from docqa.index.store import EXACT_SEARCH_MAX, ivf_params

    vectors = random_unit_vectors(2000, seed=2)
    index = ivf_index(vectors)
    assert isinstance(index, faiss.IndexIVFScalarQuantizer) and index.ntotal == 2000
    assert (index.nlist, index.nprobe) == ivf_params(2000)
    from docqa.index import store

    assert store.EXACT_SEARCH_MAX == EXACT_SEARCH_MAX  # the threshold is back
    # convex fusion, as the searcher ranks: both sides min-max normalised, dense weighted 0.6
    fused = fuse((np.array([1, 2]), np.array([4.0, 2.0])), (np.array([2, 3]), np.array([0.9, 0.5])))
    assert [i for i, _ in fused] == [2, 1, 3]
    assert np.allclose([s for _, s in fused], [0.6, 0.4, 0.0])


def test_synthetic_passages_keep_the_real_vocabulary_and_vectors_are_unit_length():
    real = [["a", "b", "c"], ["d", "e"]]
    passages = synthetic_tokens(real, 50)
    assert len(passages) == 50 and {t for p in passages for t in p} <= set("abcde")
    vectors = random_unit_vectors(10)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_synthetic_index_loads_like_a_real_one_and_is_asked_through_the_engine(small_index, tmp_path):
    from bench.scale import measure_searcher, write_synthetic_index
    from docqa.engine import Engine
    from docqa.index.encoders import make_encoder
    from docqa.index.search import Searcher

    real = Engine.open(small_index, model="hash")
    row = write_synthetic_index(small_index, 300, tmp_path / "synthetic")
    assert row["passages"] == 300 and row["units"] >= 300
    synthetic = Engine(Searcher.load(tmp_path / "synthetic", encoder=make_encoder("hash")))  # checksums verified
    assert synthetic.passage_count == 300
    assert set(synthetic.document_meta) <= set(real.document_meta)
    # every passage is made of real sentences, and its units point into its own text
    first = synthetic.search("budget", k=1).hits[0].passage
    assert first.chunk_id.startswith(f"{first.doc_id}:s")
    sentences = " ".join(real.document_text(first.doc_id).split())
    assert " ".join(first.text.split())[:20] in sentences
    vectors = random_unit_vectors(4, seed=3, dim=real.manifest["encoder"]["dim"])
    measured = measure_searcher(tmp_path / "synthetic", ["budget", "archief", "norm", "huisvesting"], vectors)
    assert measured["passages"] == 300 and measured["dense_index"] == "flat"
    assert measured["ask"]["p50_ms"] > 0 and measured["rss_mb"] > 0


def test_cluster_build_bench_reports_every_mode_with_equal_vectors(tmp_path):
    pytest.importorskip("distributed")
    from bench.cluster_build import MODES, markdown, measure

    rows = measure([f"Dienst Alfa, regel {i} van {i * 3} woorden" for i in range(40)], runs=1, spec="hash")
    assert [r["mode"] for r in rows] == list(MODES)
    assert all(r["vectors_equal"] and r["texts"] == 40 and r["embed_texts_per_s"] > 0 for r in rows)
    assert "| local:2 | 40 |" in markdown(rows)
