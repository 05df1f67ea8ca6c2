"""Cost of the search engine as the corpus grows: 10k, 100k, 1M passages.

Passages are made from the real ones by shuffling their analysed tokens between passages (so the
vocabulary and its frequencies stay realistic); vectors are random unit vectors, since cost, not
quality, is measured here. Measured per size: BM25 build time, BM25 top-100 latency, exact FAISS
(flat inner product), HNSW and IVF latency with their recall@10 against exact search, hybrid latency
(BM25 top-100 + vector top-100 + the convex fusion of index/search.py) and resident memory.
"""
from __future__ import annotations

import gc
import resource
import time

import numpy as np

DIM = 384


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def synthetic_tokens(real_tokens: list[list[str]], n: int, seed: int = 0) -> list[list[str]]:
    """n passages of realistic length whose tokens are drawn from the real passages' token pool."""
    rng = np.random.default_rng(seed)
    pool = np.array([t for tokens in real_tokens for t in tokens], dtype=object)
    lengths = rng.choice([len(t) for t in real_tokens], size=n)
    starts = rng.integers(0, len(pool), size=n)
    out = []
    for start, length in zip(starts, lengths):
        idx = (start + rng.permutation(int(length) * 3)[: int(length)]) % len(pool)
        out.append(pool[idx].tolist())
    return out


def random_unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: a float64 draw of 1M x 384 would need 3 GB
        block = rng.standard_normal((min(100_000, n - start), DIM), dtype=np.float32)
        out[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _percentiles(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def _convex(bm25: tuple[np.ndarray, np.ndarray], dense: tuple[np.ndarray, np.ndarray], w: float = 0.6):
    """The fusion of index/search.py, on arrays."""
    def norm(ids, scores):
        if len(scores) == 0:
            return {}
        lo, hi = float(scores.min()), float(scores.max())
        span = hi - lo if hi > lo else 1.0
        return dict(zip(ids.tolist(), ((scores - lo) / span).tolist()))
    nb, nd = norm(*bm25), norm(*dense)
    fused = {i: (1 - w) * nb.get(i, 0.0) + w * nd.get(i, 0.0) for i in set(nb) | set(nd)}
    return sorted(fused.items(), key=lambda x: -x[1])[:10]


def measure_size(n: int, real_tokens: list[list[str]], query_tokens: list[list[str]], query_vectors: np.ndarray,
                 hnsw: bool = True, ivf: bool = True, hnsw_ef: int = 64) -> dict:
    import faiss

    from index.bm25 import BM25Index

    gc.collect()
    base = rss_mb()
    row: dict = {"passages": n}
    tokens = synthetic_tokens(real_tokens, n)
    t0 = time.perf_counter()
    bm25 = BM25Index.build(tokens)
    row["bm25_build_s"] = round(time.perf_counter() - t0, 2)
    del tokens
    gc.collect()
    times = []
    for q in query_tokens:
        t0 = time.perf_counter()
        bm25.top_k(q, 100)
        times.append(time.perf_counter() - t0)
    row["bm25"] = _percentiles(times)

    vectors = random_unit_vectors(n)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(vectors)
    times, exact_ids = [], []
    for v in query_vectors:
        t0 = time.perf_counter()
        _, ids = flat.search(v.reshape(1, -1), 100)
        times.append(time.perf_counter() - t0)
        exact_ids.append(ids[0][:10])
    row["flat"] = _percentiles(times)
    approximate = {}
    if hnsw:
        t0 = time.perf_counter()
        graph = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 80
        graph.add(vectors)
        graph.hnsw.efSearch = hnsw_ef
        approximate["hnsw"] = (graph, time.perf_counter() - t0, {"ef_search": hnsw_ef})
    if ivf:
        t0 = time.perf_counter()
        from index.store import ivf_params

        nlist, nprobe = ivf_params(n)
        quantizer = faiss.IndexFlatIP(DIM)
        inverted = faiss.IndexIVFFlat(quantizer, DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        inverted.train(vectors[np.random.default_rng(1).choice(n, size=min(n, 40 * nlist), replace=False)])
        inverted.add(vectors)
        inverted.nprobe = nprobe
        approximate["ivf"] = (inverted, time.perf_counter() - t0, {"nlist": nlist, "nprobe": inverted.nprobe})
    for name, (index, build_s, params) in approximate.items():
        times, recall = [], []
        for v, exact in zip(query_vectors, exact_ids):
            t0 = time.perf_counter()
            _, ids = index.search(v.reshape(1, -1), 100)
            times.append(time.perf_counter() - t0)
            recall.append(len(set(ids[0][:10]) & set(exact)) / 10)
        row[name] = {**_percentiles(times), "recall@10": round(float(np.mean(recall)), 4),
                     "build_s": round(build_s, 1), **params}
    # hybrid with the dense index the store would pick at this size
    from index.store import EXACT_SEARCH_MAX

    chosen = "flat" if n <= EXACT_SEARCH_MAX else "ivf" if "ivf" in approximate else "flat"
    dense_index = flat if chosen == "flat" else approximate[chosen][0]
    for name in list(approximate):
        if name != chosen:
            del approximate[name]
    if chosen != "flat":
        del flat
    del vectors
    gc.collect()
    times = []
    for q, v in zip(query_tokens, query_vectors):
        t0 = time.perf_counter()
        b = bm25.top_k(q, 100)
        scores, ids = dense_index.search(v.reshape(1, -1), 100)
        _convex(b, (ids[0], scores[0]))
        times.append(time.perf_counter() - t0)
    row["hybrid"] = _percentiles(times)
    row["hybrid_index"] = chosen
    row["rss_mb"] = round(rss_mb(), 0)
    row["rss_added_mb"] = round(rss_mb() - base, 0)
    del bm25, dense_index, approximate
    gc.collect()
    return row


def plot(rows: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("bm25", "BM25 top-100"), ("flat", "FAISS exact"), ("hnsw", "FAISS HNSW"),
                       ("ivf", "FAISS IVF"), ("hybrid", "hybrid (no encoding)")):
        if all(key in r for r in rows):
            left.plot(sizes, [r[key]["p50_ms"] for r in rows], marker="o", label=label)
    left.set(xscale="log", yscale="log", xlabel="passages", ylabel="p50 latency (ms)", title="Query latency")
    left.legend()
    right.plot(sizes, [r["rss_mb"] / 1024 for r in rows], marker="o")
    right.set(xscale="log", xlabel="passages", ylabel="resident memory (GB)", title="Memory (engine only)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
