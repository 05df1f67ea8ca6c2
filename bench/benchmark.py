"""`make bench`: speed and memory of docqa on the corpus, at scale, and against a peer.

    python -m bench.benchmark [--out bench/out] [--index DIR] [--corpus DIR] [--searcher 10000,100000,1000000]
                              [--scale 10000,100000,1000000] [--skip-peer] [--quick]

Run from the project root (bench/ is not installed). Writes DIR/bench.json, DIR/bench.md (the
tables, also printed) and DIR/scale.png. Every number is a median or a 95th percentile over the dev
questions, measured on a shared 2-core machine: compare ratios measured in the same run, not
absolute numbers across runs. Heavy parts run in child processes so that their peak memory can be
read separately. Questions go through `docqa.engine.Engine`, opened as the CLI opens it (`--index`,
else DOCQA_INDEX; the encoder of DOCQA_MODEL, else the index's own).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from docqa import config

ROOT = Path(__file__).resolve().parents[1]  # the checkout bench/ runs from
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def _pct(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def _child(args: list[str], timeout: float = 3600) -> tuple[dict, float]:
    """Run `python -m bench.benchmark <args>` in a child process: (its JSON, wall seconds)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.benchmark", *args], capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"benchmark step {args[0]} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)


def open_engine(index):
    """The engine over `index` as the CLI opens it (DOCQA_MODEL honoured)."""
    from docqa.engine import Engine

    return Engine.open(index)


def query_encoder(engine):
    """The encoder the engine queries with. `make_encoder` builds one instance per spec and process,
    and the engine took its own by the same spec (DOCQA_MODEL, else the index's encoder id), so this
    is that instance, not a second model."""
    from docqa.index.encoders import make_encoder

    return make_encoder(config.model_spec() or engine.manifest["encoder"]["id"])


def write_queries(engine, questions: list[str], folder: Path) -> Path:
    """The dev questions as the engine sees them, for the child steps: their BM25 terms and their
    query vectors (encoded once, by the engine's encoder)."""
    folder.mkdir(parents=True, exist_ok=True)
    analysed = [engine.analyse(q) for q in questions]
    (folder / "questions.json").write_text(json.dumps([{"text": q.text, "terms": list(q.terms)} for q in analysed]),
                                           encoding="utf-8")
    np.save(folder / "query_vectors.npy", query_encoder(engine).encode_queries([q.text for q in analysed]),
            allow_pickle=False)
    return folder


def read_queries(folder: str | Path) -> tuple[list[dict], np.ndarray]:
    folder = Path(folder)
    return (json.loads((folder / "questions.json").read_text(encoding="utf-8")),
            np.load(folder / "query_vectors.npy", allow_pickle=False))


# -- child steps ---------------------------------------------------------------------------------

def step_build(corpus: str, index: str, cache: str) -> dict:
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    started = time.perf_counter()
    encoder = make_encoder(config.model_spec())  # DOCQA_MODEL, else the default encoder
    load = time.perf_counter() - started
    result = build_index(Path(corpus), Path(index), encoder, cache_dir=Path(cache))
    return {"seconds": {k: round(v, 2) for k, v in result.seconds.items()}, "model_load_s": round(load, 2),
            "embedded": result.embedded, "passages": result.manifest["passage_count"]}


def step_cold_start(index: str) -> dict:
    started = time.perf_counter()
    engine = open_engine(Path(index))
    loaded = time.perf_counter() - started
    engine.ask(_questions()[0])
    return {"load_s": round(loaded, 2), "first_answer_s": round(time.perf_counter() - started, 2)}


def step_scale(n: str, index: str, queries: str) -> dict:
    from bench.scale import index_settings, measure_size
    from docqa.index.analyzer import Analyzer, AnalyzerSettings
    from docqa.index.store import indexed_text, load_index

    real = load_index(Path(index))
    analyzer = Analyzer(AnalyzerSettings.from_json(real.manifest["settings"]["analyzer"]))
    settings = index_settings(real.manifest)
    tokens = [analyzer(indexed_text(p, settings)) for p in real.passages]
    del real
    questions, vectors = read_queries(queries)
    return measure_size(int(n), tokens, [q["terms"] for q in questions], vectors, hnsw=int(n) <= 100_000)


def step_searcher_build(n: str, index: str, out: str) -> dict:
    from bench.scale import write_synthetic_index

    started = time.perf_counter()
    row = write_synthetic_index(Path(index), int(n), Path(out) / "index")
    return {**row, "build_s": round(time.perf_counter() - started, 1), "index_size_mb": _dir_mb(Path(out) / "index")}


def step_searcher_load(out: str, queries: str) -> dict:
    from bench.scale import measure_searcher

    questions, vectors = read_queries(queries)
    return measure_searcher(Path(out) / "index", [q["text"] for q in questions], vectors)


STEPS = {"_build": step_build, "_cold_start": step_cold_start, "_scale": step_scale,
         "_searcher_build": step_searcher_build, "_searcher_load": step_searcher_load}


def measure_searcher_at(n: int, index: Path, queries: Path, tmp: str) -> dict:
    """A complete index of n passages, written in one child and loaded in another (its memory is
    what a `docqa` process serving it holds)."""
    out = Path(tmp) / f"searcher-{n}"
    out.mkdir(parents=True, exist_ok=True)
    built, build_wall = _child(["_searcher_build", str(n), str(index), str(out)])
    loaded, _ = _child(["_searcher_load", str(out), str(queries)])
    return {"passages": n, "build": {**built, "wall_s": round(build_wall, 1)}, **loaded}


# -- measurements in this process ------------------------------------------------------------------

def measure_queries(engine) -> dict:
    questions = _questions()
    for q in questions[:3]:  # warm-up: model, caches
        engine.ask(q)
    encoder = query_encoder(engine)
    out: dict = {}
    samples = []
    for q in questions:
        t0 = time.perf_counter()
        encoder.encode_queries([q])
        samples.append(time.perf_counter() - t0)
    out["encode"] = _pct(samples)
    for mode in ("bm25", "dense", "hybrid"):
        samples = []
        for q in questions:
            t0 = time.perf_counter()
            engine.search(q, k=10, mode=mode)
            samples.append(time.perf_counter() - t0)
        out[f"search_{mode}"] = _pct(samples)
    samples = []
    for q in questions:
        t0 = time.perf_counter()
        engine.ask(q)
        samples.append(time.perf_counter() - t0)
    out["ask"] = _pct(samples)
    out["hybrid_over_encode"] = round(out["search_hybrid"]["p50_ms"] / out["encode"]["p50_ms"], 2)
    out["ask_over_search"] = round(out["ask"]["p50_ms"] / out["search_hybrid"]["p50_ms"], 2)
    return out


@contextlib.contextmanager
def streamlit_app(env: dict, timeout: float = 60):
    """`streamlit run app.py` headless on a free local port, in its own process group; yields the
    base URL once its health check answers, and stops the whole group afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
        cwd=ROOT, env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **env},
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the app did not start (exit {proc.poll()}):\n"
                                   f"{log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def measure_app_start(index: Path) -> dict:
    started = time.perf_counter()
    with streamlit_app({"DOCQA_INDEX": str(index)}) as url:
        healthy = time.perf_counter() - started
        urllib.request.urlopen(url, timeout=60).read()
        first_page = time.perf_counter() - started
    return {"server_healthy_s": round(healthy, 2), "first_page_s": round(first_page, 2)}


def measure_peer(index: Path, ours_hybrid: dict) -> dict:
    """The peer over the same passages: the indexed text and the vectors of the index's build."""
    from bench.scale import index_settings
    from docqa.index.store import indexed_text, load_index

    subprocess.run(["bash", "scripts/setup-bench-peer.sh", ".venv-bench"], check=True, cwd=ROOT,
                   capture_output=True)
    real = load_index(index)
    settings = index_settings(real.manifest)
    with tempfile.TemporaryDirectory() as tmp:
        passages = Path(tmp) / "passages.jsonl"
        with open(passages, "w", encoding="utf-8") as f:
            for p, v in zip(real.passages, np.asarray(real.vectors)):
                f.write(json.dumps({"id": p.chunk_id, "text": indexed_text(p, settings),
                                    "embedding": v.tolist()}) + "\n")
        del real
        out = subprocess.run([str(ROOT / ".venv-bench" / "bin" / "python"), str(ROOT / "bench" / "bench_peer.py"),
                              str(passages), str(DEV)], capture_output=True, text=True, timeout=1800)
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
                "latency of `Engine.ask` (hybrid search with answer windows), query vectors given (add the "
                "encoding):\n\n"
                "| passages | units | dense index | size on disk | write | load | ask p50/p95 | "
                "RSS after the questions (own + mapped files) / peak |\n"
                "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
        for r in report["searcher"]:
            out += (f"| {r['passages']:,} | {r['units']:,} | {r['dense_index']} | "
                    f"{r['build']['index_size_mb'] / 1024:.2f} GiB | {r['build']['build_s']} s | {r['load_s']} s | "
                    f"{r['ask']['p50_ms']}/{r['ask']['p95_ms']} ms | "
                    f"{r['rss_mb'] / 1024:.2f} GiB ({r['anon_mb'] / 1024:.2f} + {r['file_mb'] / 1024:.2f}) / "
                    f"{r['peak_rss_mb'] / 1024:.2f} GiB |\n")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):  # a child step
        result = STEPS[argv[0]](*argv[1:])
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb()}))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.benchmark")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--index")
    parser.add_argument("--corpus")
    parser.add_argument("--scale", default="10000,100000,1000000", help="comma-separated sizes, '' for none")
    parser.add_argument("--searcher", default="10000,100000,1000000",
                        help="comma-separated sizes of complete indexes to load and query, '' for none")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-app", action="store_true", help="skip the app's cold start")
    parser.add_argument("--quick", action="store_true", help="skip the cold build (minutes of embedding)")
    parser.add_argument("--skip-build", action="store_true", help="skip the warm build too")
    args = parser.parse_args(argv)
    index, corpus = config.index_dir(args.index), config.corpus_dir(args.corpus)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(), "build": {}}

    with tempfile.TemporaryDirectory() as tmp:
        kinds = [] if args.skip_build else [("warm", str(config.cache_dir()))]
        kinds += [] if args.quick or args.skip_build else [("cold", f"{tmp}/cold-cache")]
        for kind, cache in kinds:
            data, wall = _child(["_build", str(corpus), f"{tmp}/{kind}-index", cache])
            report["build"][kind] = {**data, "wall_s": round(wall, 2)}
            print(f"build {kind}: {wall:.1f} s", file=sys.stderr)
    from docqa.index.store import current_build

    report["index_size_mb"] = _dir_mb(current_build(index))
    report["cache_size_mb"] = _dir_mb(config.cache_dir())
    report["cold_start"], _ = _child(["_cold_start", str(index)])
    if not args.skip_app:
        report["app_start"] = measure_app_start(index)
    engine = open_engine(index)
    report["engine"] = engine.info()
    report["queries"] = measure_queries(engine)
    print("queries measured", file=sys.stderr)
    if not args.skip_peer:
        report["peer"] = measure_peer(index, report["queries"]["search_hybrid"])
    scale_sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    searcher_sizes = [int(s) for s in args.searcher.split(",") if s.strip()]
    report["scale"], report["searcher"] = [], []
    with tempfile.TemporaryDirectory() as queries_tmp:
        queries = write_queries(engine, _questions(), Path(queries_tmp) / "queries")
        del engine
        for n in scale_sizes:
            row, wall = _child(["_scale", str(n), str(index), str(queries)])
            report["scale"].append({**row, "wall_s": round(wall, 1)})
            print(f"scale {n}: {wall:.0f} s", file=sys.stderr)
        for n in searcher_sizes:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                report["searcher"].append(measure_searcher_at(n, index, queries, tmp))
            print(f"searcher {n}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if report["scale"]:
        from bench.scale import plot

        plot(report["scale"], out_dir / "scale.png", report["searcher"])
    (out_dir / "bench.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    table = markdown(report)
    (out_dir / "bench.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
