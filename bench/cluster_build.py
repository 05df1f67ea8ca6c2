"""`make bench`: a build's embedding on this machine (plain) against `--cluster local:1` and `local:2`.

    python -m bench.cluster_build [--out bench/out] [--corpus DIR] [--texts 300] [--runs 3] [--model e5-small]

The same first `--texts` distinct texts (passages and answer units, as a build embeds them) of the
corpus are embedded through the build's own cached path (index/store.py _embed_with_cache) with an
empty cache each run. Reported per mode: medians over the runs of the cluster's start (LocalCluster
up, every worker's model loaded), the embedding, and texts per second of the embedding and of the
whole (start included); and whether every run's vectors equal the plain run's bit for bit.
Writes DIR/cluster-build.json and prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from docqa import config

MODES = ("plain", "local:1", "local:2")


def corpus_texts(corpus: Path, count: int) -> list[str]:
    """The first `count` distinct texts a build of `corpus` embeds (passages, then answer units)."""
    from docqa.index.store import IndexSettings, indexed_text, passage_units, unit_texts
    from docqa.ingest.pipeline import ingest_corpus

    settings = IndexSettings()
    _, passages, _ = ingest_corpus(corpus, settings.chunk)
    texts = [indexed_text(p, settings) for p in passages] + unit_texts(passages, passage_units(passages))
    return list(dict.fromkeys(texts))[:count]


def run_once(mode: str, texts: list[str], spec: str | None) -> tuple[dict, np.ndarray]:
    from docqa.index.cache import EmbeddingCache
    from docqa.index.cluster import cluster_encoder
    from docqa.index.encoders import make_encoder
    from docqa.index.store import _embed_with_cache

    started = time.perf_counter()
    opened = nullcontext(make_encoder(spec)) if mode == "plain" else cluster_encoder(mode, spec)
    with opened as encoder, tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter() - started
        cache = EmbeddingCache(Path(cache_dir), encoder.encoder_id, encoder.dim)
        t0 = time.perf_counter()
        vectors, embedded = _embed_with_cache(cache, encoder, texts, lambda _msg: None)
        embed = time.perf_counter() - t0
    assert embedded == len(texts)
    return {"start_s": start, "embed_s": embed, "total_s": start + embed}, vectors


def measure(texts: list[str], runs: int, spec: str | None) -> list[dict]:
    from docqa.index.encoders import make_encoder

    make_encoder(spec)  # the plain encoder loaded once beforehand, as a build's process has it
    rows, reference = [], None
    for mode in MODES:
        samples, equal = [], True
        for _ in range(runs):
            sample, vectors = run_once(mode, texts, spec)
            if reference is None:
                reference = vectors
            equal = equal and vectors.dtype == np.float32 and np.array_equal(vectors, reference)
            samples.append(sample)
            print(f"{mode}: {sample}", file=sys.stderr, flush=True)
        med = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
        rows.append({"mode": mode, "texts": len(texts), "runs": runs, **{k: round(v, 2) for k, v in med.items()},
                     "embed_texts_per_s": round(len(texts) / med["embed_s"], 1),
                     "total_texts_per_s": round(len(texts) / med["total_s"], 1), "vectors_equal": equal})
    return rows


def markdown(rows: list[dict]) -> str:
    plain = rows[0]["embed_texts_per_s"]
    lines = ["| mode | texts | start s | embed s | texts/s (embed) | texts/s (with start) | vs plain (embed) | vectors equal |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['texts']} | {r['start_s']:.2f} | {r['embed_s']:.2f} | {r['embed_texts_per_s']} "
                     f"| {r['total_texts_per_s']} | {r['embed_texts_per_s'] / plain:.2f}x | {'yes' if r['vectors_equal'] else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--corpus", help="corpus folder (env DOCQA_CORPUS; default ../shared/corpus)")
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", help="encoder spec (env DOCQA_MODEL; default e5-small)")
    args = parser.parse_args(argv)
    texts = corpus_texts(config.corpus_dir(args.corpus), args.texts)
    rows = measure(texts, args.runs, config.model_spec(args.model))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster-build.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(markdown(rows))
    return 0 if all(r["vectors_equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
