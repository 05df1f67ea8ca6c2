"""`make bench`: speed and memory of docqa on the corpus, at scale, and against a peer.

    python -m docqa.eval.benchmark [--out bench/out] [--index DIR] [--corpus DIR] [--searcher 10000,100000,1000000]
                             [--scale 10000,100000,1000000] [--skip-peer] [--quick]

Writes DIR/bench.json, DIR/bench.md (the tables, also printed) and DIR/scale.png. Every number is a
median or a 95th percentile over the dev questions, measured on a shared 2-core machine: compare
ratios measured in the same run, not absolute numbers across runs. Heavy parts run in child
processes so that their peak memory can be read separately.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from docqa import config

DEV = config.PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"


def _pct(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def _child(args: list[str], timeout: float = 3600) -> tuple[dict, float]:
    """Run `python -m docqa.eval.benchmark <args>` in a child process: (its JSON, wall seconds)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "eval.benchmark", *args], capture_output=True, text=True,
                         timeout=timeout, cwd=config.PROJECT_ROOT)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"benchmark step {args[0]} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)


# -- child steps ---------------------------------------------------------------------------------

def step_build(corpus: str, index: str, cache: str) -> dict:
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    started = time.perf_counter()
    encoder = make_encoder("e5-small")
    load = time.perf_counter() - started
    result = build_index(Path(corpus), Path(index), encoder, cache_dir=Path(cache))
    return {"seconds": {k: round(v, 2) for k, v in result.seconds.items()}, "model_load_s": round(load, 2),
            "embedded": result.embedded, "passages": result.manifest["passage_count"]}


def step_cold_start(index: str) -> dict:
    started = time.perf_counter()
    from docqa.answer import Answerer
    from docqa.index.search import Searcher

    searcher = Searcher.load(Path(index))
    answerer = Answerer(searcher)
    loaded = time.perf_counter() - started
    answerer.ask(_questions()[0])
    return {"load_s": round(loaded, 2), "first_answer_s": round(time.perf_counter() - started, 2)}


def step_scale(n: int, index: str) -> dict:
    from docqa.eval.scale import measure_size
    from docqa.index.search import Searcher
    from docqa.index.store import IndexSettings, indexed_text

    searcher = Searcher.load(Path(index))
    real = [searcher.analyzer(indexed_text(p, IndexSettings())) for p in searcher.passages]
    questions = _questions()
    vectors = searcher.encoder.encode_queries(questions)
    tokens = [searcher.analyzer(q) for q in questions]
    del searcher
    return measure_size(n, real, tokens, vectors, hnsw=n <= 100_000)


def step_searcher_build(n: int, index: str, out: str) -> dict:
    from docqa.eval.scale import write_synthetic_index

    started = time.perf_counter()
    row = write_synthetic_index(Path(index), n, Path(out) / "index")
    return {**row, "build_s": round(time.perf_counter() - started, 1), "index_size_mb": _dir_mb(Path(out) / "index")}


def step_searcher_load(out: str) -> dict:
    from docqa.eval.scale import measure_searcher

    vectors = np.load(Path(out) / "query_vectors.npy", allow_pickle=False)
    return measure_searcher(Path(out) / "index", _questions(), vectors)


def measure_searcher_at(n: int, index: Path, tmp: str) -> dict:
    """A complete index of n passages, written in one child and loaded in another (its memory is
    what a `docqa` process serving it holds)."""
    from docqa.index.search import Searcher

    out = Path(tmp) / f"searcher-{n}"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "query_vectors.npy", Searcher.load(index).encoder.encode_queries(_questions()),
            allow_pickle=False)
    built, build_wall = _child(["_searcher_build", str(n), str(index), str(out)])
    loaded, _ = _child(["_searcher_load", str(out)])
    return {"passages": n, "build": {**built, "wall_s": round(build_wall, 1)}, **loaded}


# -- measurements in this process ------------------------------------------------------------------

def measure_queries(index: Path) -> dict:
    from docqa.answer import Answerer
    from docqa.index.search import Searcher

    searcher = Searcher.load(index)
    answerer = Answerer(searcher)
    questions = _questions()
    for q in questions[:3]:  # warm-up: model, caches
        answerer.ask(q)
    out: dict = {}
    samples = []
    for q in questions:
        t0 = time.perf_counter()
        searcher.encoder.encode_queries([q])
        samples.append(time.perf_counter() - t0)
    out["encode"] = _pct(samples)
    for mode in ("bm25", "dense", "hybrid"):
        samples = []
        for q in questions:
            t0 = time.perf_counter()
            searcher.search(q, k=10, mode=mode)
            samples.append(time.perf_counter() - t0)
        out[f"search_{mode}"] = _pct(samples)
    samples = []
    for q in questions:
        t0 = time.perf_counter()
        answerer.ask(q)
        samples.append(time.perf_counter() - t0)
    out["ask"] = _pct(samples)
    out["hybrid_over_encode"] = round(out["search_hybrid"]["p50_ms"] / out["encode"]["p50_ms"], 2)
    out["ask_over_search"] = round(out["ask"]["p50_ms"] / out["search_hybrid"]["p50_ms"], 2)
    return out


def measure_app_start(index: Path) -> dict:
    sys.path.insert(0, str(config.PROJECT_ROOT))
    from tests.support.browser import streamlit_server

    started = time.perf_counter()
    with streamlit_server(config.PROJECT_ROOT / "app.py", {"DOCQA_INDEX": str(index)}) as url:
        healthy = time.perf_counter() - started
        import urllib.request

        urllib.request.urlopen(url, timeout=60).read()
        first_page = time.perf_counter() - started
    return {"server_healthy_s": round(healthy, 2), "first_page_s": round(first_page, 2)}


def measure_peer(index: Path, ours_hybrid: dict) -> dict:
    from docqa.index.search import Searcher
    from docqa.index.store import IndexSettings, indexed_text

    subprocess.run(["bash", "scripts/setup-bench-peer.sh", ".venv-bench"], check=True, cwd=config.PROJECT_ROOT,
                   capture_output=True)
    searcher = Searcher.load(index)
    with tempfile.TemporaryDirectory() as tmp:
        passages = Path(tmp) / "passages.jsonl"
        with open(passages, "w", encoding="utf-8") as f:
            for p, v in zip(searcher.passages, np.asarray(searcher.vectors)):
                f.write(json.dumps({"id": p.chunk_id, "text": indexed_text(p, IndexSettings()),
                                    "embedding": v.tolist()}) + "\n")
        out = subprocess.run([str(config.PROJECT_ROOT / ".venv-bench" / "bin" / "python"),
                              str(config.PROJECT_ROOT / "eval" / "bench_peer.py"), str(passages), str(DEV)],
                             capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"peer failed:\n{out.stderr[-2000:]}")
    peer = json.loads(out.stdout.strip().splitlines()[-1])
    peer["ours_hybrid_p50_over_peer"] = round(ours_hybrid["p50_ms"] / peer["hybrid"]["p50_ms"], 2)
    return peer


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 2)


# -- report ----------------------------------------------------------------------------------------

def markdown(report: dict) -> str:
    lines = ["| measure | value |", "| --- | ---: |"]
    b = report.get("build", {})
    for key in ("cold", "warm"):
        if key in b:
            s = b[key]
            other = sum(v for k, v in s["seconds"].items() if not k.startswith("embed"))
            lines.append(f"| index build, {key} embedding cache | {s['wall_s']:.1f} s (embedding "
                         f"{s['seconds'].get('embed', 0) + s['seconds'].get('embed_units', 0):.1f} s, "
                         f"everything else {other:.1f} s, model load {s['model_load_s']:.1f} s; peak RSS "
                         f"{s['peak_rss_mb']:.0f} MB) |")
    if "index_size_mb" in report:
        lines.append(f"| index size on disk | {report['index_size_mb']} MB (embedding cache "
                     f"{report.get('cache_size_mb', 0)} MB) |")
    if "cold_start" in report:
        c = report["cold_start"]
        lines.append(f"| cold start: load index + model | {c['load_s']} s; first answer at {c['first_answer_s']} s "
                     f"(peak RSS {c['peak_rss_mb']:.0f} MB) |")
    if "app_start" in report:
        a = report["app_start"]
        lines.append(f"| app cold start: server healthy / first page | {a['server_healthy_s']} s / "
                     f"{a['first_page_s']} s |")
    q = report.get("queries", {})
    for key, label in (("encode", "query encoding alone (the floor)"), ("search_bm25", "search bm25"),
                       ("search_dense", "search dense"), ("search_hybrid", "search hybrid"), ("ask", "ask")):
        if key in q:
            lines.append(f"| {label} p50 / p95 | {q[key]['p50_ms']} / {q[key]['p95_ms']} ms |")
    if q:
        lines.append(f"| hybrid p50 / encoding p50 | {q['hybrid_over_encode']} |")
        lines.append(f"| ask p50 / search p50 | {q['ask_over_search']} |")
    if "peer" in report:
        p = report["peer"]
        lines.append(f"| peer {p['peer']} hybrid (RRF) p50 / p95 | {p['hybrid']['p50_ms']} / {p['hybrid']['p95_ms']} ms "
                     f"(its encoding {p['encode']['p50_ms']} ms) |")
        lines.append(f"| docqa hybrid p50 / peer p50 | {p['ours_hybrid_p50_over_peer']} |")
    out = "\n".join(lines) + "\n"
    if report.get("scale"):
        out += ("\nScale (engine only: synthetic passages from the real token pool, random unit vectors, "
                "so ANN recall here is a worst case; latency excludes query encoding):\n\n"
                "| passages | BM25 build | BM25 p50/p95 | exact p50 | HNSW p50 (recall@10, build) | "
                "IVF p50 (recall@10, build) | hybrid p50/p95 (dense index) | RSS after / peak |\n"
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        for r in report["scale"]:
            hnsw = (f"{r['hnsw']['p50_ms']} ms ({r['hnsw']['recall@10']}, {r['hnsw']['build_s']} s)"
                    if "hnsw" in r else "not built")
            ivf = f"{r['ivf']['p50_ms']} ms ({r['ivf']['recall@10']}, {r['ivf']['build_s']} s)" if "ivf" in r else "-"
            out += (f"| {r['passages']:,} | {r['bm25_build_s']} s | {r['bm25']['p50_ms']}/{r['bm25']['p95_ms']} ms | "
                    f"{r['flat']['p50_ms']} ms | {hnsw} | {ivf} | {r['hybrid']['p50_ms']}/{r['hybrid']['p95_ms']} ms "
                    f"({r['hybrid_index']}) | {r['rss_mb'] / 1024:.2f} / {r['peak_rss_mb'] / 1024:.2f} GiB |\n")
    if report.get("searcher"):
        out += ("\nThe whole index loaded as `docqa` loads it (`Searcher.load`: passage records and their "
                "text, BM25, dense index, answer units), synthetic passages strung from the real sentences; "
                "latency of hybrid search with answer windows, query vectors given (add the encoding):\n\n"
                "| passages | units | dense index | size on disk | write | load | search p50/p95 | "
                "RSS after the questions (own + mapped files) / peak |\n"
                "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
        for r in report["searcher"]:
            out += (f"| {r['passages']:,} | {r['units']:,} | {r['dense_index']} | "
                    f"{r['build']['index_size_mb'] / 1024:.2f} GiB | {r['build']['build_s']} s | {r['load_s']} s | "
                    f"{r['search_with_units']['p50_ms']}/{r['search_with_units']['p95_ms']} ms | "
                    f"{r['rss_mb'] / 1024:.2f} GiB ({r['anon_mb'] / 1024:.2f} + {r['file_mb'] / 1024:.2f}) / "
                    f"{r['peak_rss_mb'] / 1024:.2f} GiB |\n")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):  # a child step
        steps = {"_build": step_build, "_cold_start": step_cold_start, "_searcher_load": step_searcher_load}
        if argv[0] in steps:
            result = steps[argv[0]](*argv[1:])
        elif argv[0] == "_searcher_build":
            result = step_searcher_build(int(argv[1]), argv[2], argv[3])
        else:
            result = step_scale(int(argv[1]), argv[2])
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb()}))
        return 0
    parser = argparse.ArgumentParser(prog="python -m docqa.eval.benchmark")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--index")
    parser.add_argument("--corpus")
    parser.add_argument("--scale", default="10000,100000,1000000", help="comma-separated sizes, '' for none")
    parser.add_argument("--searcher", default="10000,100000,1000000",
                        help="comma-separated sizes of complete indexes to load and query, '' for none")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--quick", action="store_true", help="skip the cold build (minutes of embedding)")
    args = parser.parse_args(argv)
    index, corpus = config.index_dir(args.index), config.corpus_dir(args.corpus)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(), "build": {}}

    with tempfile.TemporaryDirectory() as tmp:
        kinds = [("warm", str(config.cache_dir()))] + ([] if args.quick else [("cold", f"{tmp}/cold-cache")])
        for kind, cache in kinds:
            data, wall = _child(["_build", str(corpus), f"{tmp}/{kind}-index", cache])
            report["build"][kind] = {**data, "wall_s": round(wall, 2)}
            print(f"build {kind}: {wall:.1f} s", file=sys.stderr)
    from docqa.index.store import current_build

    report["index_size_mb"] = _dir_mb(current_build(index))
    report["cache_size_mb"] = _dir_mb(config.cache_dir())
    report["cold_start"], _ = _child(["_cold_start", str(index)])
    report["app_start"] = measure_app_start(index)
    report["queries"] = measure_queries(index)
    print("queries measured", file=sys.stderr)
    if not args.skip_peer:
        report["peer"] = measure_peer(index, report["queries"]["search_hybrid"])
    sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    report["scale"] = []
    for n in sizes:
        row, wall = _child(["_scale", str(n), str(index)])
        report["scale"].append({**row, "wall_s": round(wall, 1)})
        print(f"scale {n}: {wall:.0f} s", file=sys.stderr)
    report["searcher"] = []
    for n in [int(s) for s in args.searcher.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            report["searcher"].append(measure_searcher_at(n, index, tmp))
        print(f"searcher {n}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if report["scale"]:
        from docqa.eval.scale import plot

        plot(report["scale"], out_dir / "scale.png", report["searcher"])
    (out_dir / "bench.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    table = markdown(report)
    (out_dir / "bench.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
