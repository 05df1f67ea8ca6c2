"""Cost of the search engine as the corpus grows: 10k, 100k, 1M passages.

Passages are made from the real ones by shuffling their analysed tokens between passages (so the
vocabulary and its frequencies stay realistic); vectors are random unit vectors, since cost, not
quality, is measured here. Measured per size: BM25 build time, BM25 latency for the searcher's
candidates (top 100), exact FAISS (flat inner product), HNSW and the store's IVF index
(`docqa.index.store`) with their recall@10 against exact search, hybrid latency (both sides' top
100 fused by the searcher's own fusion, `docqa.index.search`) and resident memory.
"""
from __future__ import annotations

import gc
import resource
import time

import numpy as np

from docqa.index.search import FusionSettings, Searcher

DIM = 384


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def rss_parts_mb() -> dict:
    """Resident memory split into the process's own (anonymous) pages and mapped file pages, which
    the kernel can drop and read again."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 0)
    return {"anon_mb": out.get("RssAnon"), "file_mb": out.get("RssFile")}


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


def random_unit_vectors(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: a float64 draw of 1M x 384 would need 3 GB
        block = rng.standard_normal((min(100_000, n - start), dim), dtype=np.float32)
        out[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _percentiles(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


FUSION = FusionSettings()  # the searcher's defaults: convex fusion, 100 candidates a side


def fuse(bm25: tuple[np.ndarray, np.ndarray], dense: tuple[np.ndarray, np.ndarray], k: int = 10,
         settings: FusionSettings = FUSION) -> list[tuple[int, float]]:
    """The top k of two (ids, scores) rankings fused as `Searcher.search` fuses them, in its order."""
    from docqa.index.search import fuse as product_fuse

    def side(ids, scores):
        return {int(i): (r, float(s)) for r, (i, s) in enumerate(zip(ids, scores), 1)}

    fused = product_fuse(side(*bm25), side(*dense), settings)
    fused.sort(key=lambda item: (-item[1], item[0]))
    return fused[:k]


def ivf_index(vectors: np.ndarray):
    """The store's IVF index (8-bit codes, `ivf_params`, its training sample) at any size: the store
    builds it above EXACT_SEARCH_MAX only, and the benchmark compares it with exact search below
    that too."""
    from docqa.index.store import ivf_index as store_ivf_index

    return store_ivf_index(vectors)


def index_settings(manifest: dict):
    """The IndexSettings an index was built with, as far as they shape the indexed text."""
    from docqa.index.store import IndexSettings

    built_with = manifest["settings"]
    return IndexSettings(with_title=built_with["with_title"], with_section=built_with["with_section"])


def measure_size(n: int, real_tokens: list[list[str]], query_tokens: list[list[str]], query_vectors: np.ndarray,
                 hnsw: bool = True, ivf: bool = True, hnsw_ef: int = 64) -> dict:
    import faiss

    from docqa.index.bm25 import BM25Index

    gc.collect()
    base = rss_mb()
    row: dict = {"passages": n}
    n_candidates, dim = FUSION.candidates, int(query_vectors.shape[1])
    tokens = synthetic_tokens(real_tokens, n)
    t0 = time.perf_counter()
    bm25 = BM25Index.build(tokens)
    row["bm25_build_s"] = round(time.perf_counter() - t0, 2)
    del tokens
    gc.collect()
    times = []
    for q in query_tokens:
        t0 = time.perf_counter()
        bm25.top_k(q, n_candidates)
        times.append(time.perf_counter() - t0)
    row["bm25"] = _percentiles(times)

    vectors = random_unit_vectors(n, dim=dim)
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    times, exact_ids = [], []
    for v in query_vectors:
        t0 = time.perf_counter()
        _, ids = flat.search(v.reshape(1, -1), n_candidates)
        times.append(time.perf_counter() - t0)
        exact_ids.append(ids[0][:10])
    row["flat"] = _percentiles(times)
    approximate = {}
    if hnsw:
        t0 = time.perf_counter()
        graph = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 80
        graph.add(vectors)
        graph.hnsw.efSearch = hnsw_ef
        approximate["hnsw"] = (graph, time.perf_counter() - t0, {"ef_search": hnsw_ef})
    if ivf:
        t0 = time.perf_counter()
        inverted = ivf_index(vectors)
        approximate["ivf"] = (inverted, time.perf_counter() - t0,
                              {"nlist": inverted.nlist, "nprobe": inverted.nprobe})
    for name, (index, build_s, params) in approximate.items():
        times, recall = [], []
        for v, exact in zip(query_vectors, exact_ids):
            t0 = time.perf_counter()
            _, ids = index.search(v.reshape(1, -1), n_candidates)
            times.append(time.perf_counter() - t0)
            recall.append(len(set(ids[0][:10]) & set(exact)) / 10)
        row[name] = {**_percentiles(times), "recall@10": round(float(np.mean(recall)), 4),
                     "build_s": round(build_s, 1), **params}
    # hybrid with the dense index the store would pick at this size
    from docqa.index.store import EXACT_SEARCH_MAX

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
        b = bm25.top_k(q, n_candidates)
        scores, ids = dense_index.search(v.reshape(1, -1), n_candidates)
        keep = ids[0] >= 0
        fuse(b, (ids[0][keep], scores[0][keep]))
        times.append(time.perf_counter() - t0)
    row["hybrid"] = _percentiles(times)
    row["hybrid_index"] = chosen
    row["rss_mb"] = round(rss_mb(), 0)
    row["rss_added_mb"] = round(rss_mb() - base, 0)
    del bm25, dense_index, approximate
    gc.collect()
    return row


def plot(rows: list[dict], path, searcher_rows: list[dict] = ()) -> None:
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
    right.plot(sizes, [r["rss_mb"] / 1024 for r in rows], marker="o", label="engine (BM25 + vectors)")
    if searcher_rows:
        right.plot([r["passages"] for r in searcher_rows], [r["rss_mb"] / 1024 for r in searcher_rows], marker="s",
                   linestyle="none", label="whole index loaded (Engine)")
        left.plot([r["passages"] for r in searcher_rows], [r["ask"]["p50_ms"] for r in searcher_rows],
                  marker="s", linestyle="none", label="Engine.ask (hybrid + answer windows)")
        left.legend()
    right.axhline(4.0 * 1e9 / 2**30, color="grey", linestyle=":", label="4 GB target")
    right.set(xscale="log", xlabel="passages", ylabel="resident memory (GiB)", title="Memory")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the whole index at scale ---------------------------------------------------------------------------
# The engine figures above leave out what a loaded index also holds: every passage record with its
# text, the unit arrays, the filters' codes. Here a complete index folder of n passages is written
# by the store's own writer, loaded by `Searcher.load` and asked through `Engine`, as the CLI and
# the app do.

def write_synthetic_index(real_index, n: int, out_index, seed: int = 0, store: str | None = None,
                          pg_settings=None) -> dict:
    """An index of n passages made from the real index's sentences: each passage strings together
    as many real sentence units of one document, drawn at random, as a real passage holds. Its BM25
    tokens are the analysed tokens of those units, so vocabulary and term frequencies stay
    realistic; unit vectors are the real units' vectors; passage vectors are random unit vectors.
    Written by the folder store's writer into `out_index`, or with `store` (a postgresql:// URL) by
    the PostgreSQL store's (`out_index` then only holds a temporary file)."""
    from dataclasses import replace
    from pathlib import Path

    from docqa.index.analyzer import Analyzer, AnalyzerSettings
    from docqa.index.bm25 import BM25Index
    from docqa.index.store import build_lock, indexed_head, load_index, write_build
    from docqa.index.store import unit_texts as real_unit_texts

    real = load_index(Path(real_index))
    analyzer = Analyzer(AnalyzerSettings.from_json(real.manifest["settings"]["analyzer"]))
    unit_texts = real_unit_texts(real.passages, real.units)
    unit_tokens = [analyzer(t) for t in unit_texts]
    unit_compound_tokens = [analyzer.with_parts(t) for t in unit_texts]
    settings = index_settings(real.manifest)
    heads = [indexed_head(p, settings) for p in real.passages]
    head_tokens = [analyzer(h) for h in heads]
    head_compound_tokens = [analyzer.with_parts(h) for h in heads]
    units_of_doc: dict[str, list[int]] = {}
    for row, (i, _, _) in enumerate(real.units.tolist()):
        units_of_doc.setdefault(real.passages[i].doc_id, []).append(row)
    units_per_passage = np.bincount(real.units[:, 0], minlength=len(real.passages)).clip(min=1)
    rng = np.random.default_rng(seed)
    real_unit_vectors = real.unit_vectors.read_all().astype(np.float32, copy=False)

    passages, tokens, compound_tokens, unit_rows, unit_sources = [], [], [], [], []
    sources = rng.integers(0, len(real.passages), size=n)
    for i, src in enumerate(sources.tolist()):
        base = real.passages[src]
        pool = units_of_doc[base.doc_id]
        parts, toks, offset = [], list(head_tokens[src]), 0
        compound_toks = list(head_compound_tokens[src])
        for u in rng.choice(pool, size=units_per_passage[src]).tolist():
            text = unit_texts[u]
            if parts:
                offset += 1  # the joining space
            unit_rows.append((i, offset, offset + len(text)))
            unit_sources.append(u)
            parts.append(text)
            toks.extend(unit_tokens[u])
            compound_toks.extend(unit_compound_tokens[u])
            offset += len(text)
        text = " ".join(parts)
        passages.append(replace(base, chunk_id=f"{base.doc_id}:s{i:09d}", text=text,
                                char_start=base.char_start, char_end=base.char_start + len(text)))
        tokens.append(toks)
        compound_tokens.append(compound_toks)
    bm25 = BM25Index.build(tokens)
    del tokens
    compound_bm25 = BM25Index.build(compound_tokens)
    del compound_tokens
    units = np.array(unit_rows, dtype=np.int32).reshape(-1, 3)
    # gathered into a file in blocks: at a million passages they are ten gigabytes in float32
    out_index = Path(out_index)
    out_index.mkdir(parents=True, exist_ok=True)
    sources_array = np.array(unit_sources, dtype=np.int64)
    del unit_rows, unit_sources
    unit_vectors = np.lib.format.open_memmap(out_index.parent / "unit_vectors.tmp.npy", mode="w+",
                                             dtype=np.float32, shape=(len(sources_array), real_unit_vectors.shape[1]))
    for start in range(0, len(sources_array), 500_000):
        unit_vectors[start:start + 500_000] = real_unit_vectors[sources_array[start:start + 500_000]]
    vectors = random_unit_vectors(n, seed, dim=real_unit_vectors.shape[1])
    documents = [{"meta": meta.to_json(), "text": real.texts[doc_id]} for doc_id, meta in real.documents.items()]
    manifest = {k: v for k, v in real.manifest.items()
                if k not in ("files", "fingerprint", "passage_count", "unit_count", "dense_index")}
    manifest["synthetic"] = {"from": str(real.build_dir), "passages": n, "seed": seed}
    if store:
        from docqa.index import pgstore

        with pgstore.build_lock(store):
            _, written = pgstore.write_build(store, manifest, passages, documents, vectors, units, unit_vectors, bm25,
                                             compound_bm25, settings=pg_settings)
    else:
        with build_lock(out_index):
            _, written = write_build(out_index, manifest, passages, documents, vectors, units, unit_vectors, bm25,
                                     compound_bm25)
    del unit_vectors
    (out_index.parent / "unit_vectors.tmp.npy").unlink()
    hnsw = ({"hnsw_build_s": written["hnsw"]["build_s"], "hnsw_notices": written["hnsw"].get("notices", [])}
            if store else {})
    return {"passages": n, "units": int(len(units)), **hnsw}


def measure_searcher(index, questions: list[str], query_vectors: np.ndarray, encoder=None) -> dict:
    """Load the index as the CLI does and ask the questions (`Engine.ask`: hybrid search with answer
    windows, as `docqa ask` does), the query vectors given: latency without encoding, memory with
    everything."""
    from pathlib import Path

    from docqa.engine import Engine

    gc.collect()
    base = rss_mb()
    t0 = time.perf_counter()
    engine = Engine(Searcher.load(Path(index), encoder=encoder))
    load_s = time.perf_counter() - t0
    loaded_rss = rss_mb()
    return {**measure_engine(engine, questions, query_vectors), "load_s": round(load_s, 1),
            "rss_mb": round(rss_mb(), 0), **rss_parts_mb(), "rss_added_mb": round(loaded_rss - base, 0)}


def measure_engine(engine, questions: list[str], query_vectors: np.ndarray) -> dict:
    """Hybrid search (with the answer-window rerank) and ask over the questions, query vectors given."""
    for q, v in zip(questions[:3], query_vectors[:3]):  # warm-up
        engine.ask(q, query_vector=v)
    out = {"passages": engine.passage_count, "units": engine.manifest["unit_count"],
           "dense_index": engine.manifest["dense_index"]}
    for name, call in (("search", engine.search), ("ask", engine.ask)):
        times = []
        for q, v in zip(questions, query_vectors):
            t0 = time.perf_counter()
            call(q, query_vector=v)
            times.append(time.perf_counter() - t0)
        out[name] = _percentiles(times)
    return out
