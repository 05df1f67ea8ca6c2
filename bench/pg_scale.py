"""The PostgreSQL store at 10k, 100k and 1M passages beside the folder store.

    python -m bench.pg_scale [--out bench/out] [--index var/index] [--sizes 10000,100000,1000000]
                             [--bm25-only 1000000] [--server DIR --keep]
    python -m bench.pg_scale _pg_compare FOLDER_INDEX STORE_URL QUERIES [1]   # in turn, same load

Starts its own PostgreSQL 18 + pgvector (docqa/pgserver.py) in a temporary folder. Per size, the
synthetic index of bench/scale.py (`write_synthetic_index`: real sentences, real unit vectors,
random passage vectors) is written by the folder store and by the PostgreSQL store (each in a
child process), then opened in a fresh child and asked the dev questions with their query vectors
given: size, build, open time, hybrid search (with the answer-window rerank) and ask p50/p95,
HNSW recall@10 against exact search in SQL, resident memory of the docqa process and of the server
(sum of the RSS and of the PSS of its processes: RSS counts shared buffers once per process that
touched them). At the sizes of --bm25-only the PostgreSQL side is only the folder index's BM25
tables, their rankings timed and checked against the folder's (step_pg_bm25). Writes
bench/out/pg-scale.json and bench/out/pg-scale.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.benchmark import ROOT, _child, _dir_mb, _pct, _peak_rss_mb, _questions, open_engine, read_queries
from bench.benchmark import write_queries

# the server of the benchmark (24 GiB of RAM, 2 cores here): shared buffers that hold the 1M
# passages' vectors with their HNSW graph (about 3.5 GiB; a scan that leaves them reads every graph
# page it visits from the kernel's cache), the planner told how much more the kernel caches, and room
# for the HNSW build (the store sets its own maintenance_work_mem per build, PgStoreSettings)
SERVER_SETTINGS = {"shared_buffers": "6GB", "effective_cache_size": "16GB", "maintenance_work_mem": "2GB",
                   "max_parallel_maintenance_workers": "1", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}


# above this many passages the exact scan in SQL (recall's reference) runs for the first
# EXACT_LARGE dev questions only: at 1M it takes about a second a question on 2 shared cores
EXACT_ALL_MAX = 200_000
EXACT_LARGE = 50
EF_SWEEP = (100, 200, 400)  # recall@10 and latency of the HNSW scan at these ef_search values


def _pg_child(args: list[str], timeout: float = 4 * 3600) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.pg_scale", *args], capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"pg_scale step {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def server_memory_mb(pgdata: Path) -> dict:
    """Sum of RSS and of PSS over the server's processes (the postmaster of `pgdata` and its children)."""
    postmaster = int((Path(pgdata) / "postmaster.pid").read_text().split()[0])
    rss = pss = 0
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if int(proc.name) != postmaster and ppid != postmaster:
                continue
            rollup = (proc / "smaps_rollup").read_text()
        except (OSError, StopIteration, ValueError):
            continue
        fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.split()[1:]}
        rss, pss, count = rss + fields.get("Rss", 0), pss + fields.get("Pss", 0), count + 1
    return {"server_rss_mb": round(rss / 1024), "server_pss_mb": round(pss / 1024), "server_processes": count}


def _database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


# -- child steps ---------------------------------------------------------------------------------

def step_pg_build(n: str, index: str, url: str, tmp: str) -> dict:
    from bench.scale import write_synthetic_index
    from docqa.index.pgstore import PgStoreSettings

    # the HNSW graph of 1M passages (about 2.5 GB) must fit for a fast build; the default fits 100k
    settings = PgStoreSettings(maintenance_work_mem="4GB") if int(n) > 200_000 else PgStoreSettings()
    started = time.perf_counter()
    row = write_synthetic_index(Path(index), int(n), Path(tmp) / "scratch", store=url, pg_settings=settings)
    return {**row, "build_s": round(time.perf_counter() - started, 1), "peak_rss_mb": _peak_rss_mb()}


def step_pg_load(url: str, queries: str, pgdata: str) -> dict:
    import psycopg

    from bench.scale import measure_engine, rss_mb, rss_parts_mb
    from docqa.engine import Engine
    from docqa.index import pgstore
    from docqa.index.search import Searcher

    questions, vectors = read_queries(queries)
    exact_n = len(vectors) if int(pgstore.read_manifest(url)["passage_count"]) <= EXACT_ALL_MAX else EXACT_LARGE
    texts = [q["text"] for q in questions]
    base = rss_mb()
    started = time.perf_counter()
    server = pgstore.load_index(url)
    engine = Engine(Searcher(server))
    open_s = time.perf_counter() - started
    opened_rss = rss_mb()
    row = measure_engine(engine, texts, vectors)
    # the dense side alone: HNSW (the store's path) against exact search in SQL, and recall@10 with
    # latency at other ef_search values (the store's setting, PgStoreSettings.ef_search)
    hnsw_times, exact_times, exact_top = [], [], []
    for n, v in enumerate(vectors):
        t0 = time.perf_counter()
        server.dense_search(v, 100, None)
        hnsw_times.append(time.perf_counter() - t0)
        if n < exact_n:
            t0 = time.perf_counter()
            exact = server.query(f"SELECT row FROM {server.t('vectors')} ORDER BY (embedding <#> %s::vector) + 0 "
                                 "LIMIT 10", (pgstore._vector_text(v),))
            exact_times.append(time.perf_counter() - t0)
            exact_top.append({r for (r,) in exact})
    sweep = {}
    for ef in sorted({*EF_SWEEP, server.settings.ef_search}):
        times, recall = [], []
        for v, exact in zip(vectors, exact_top):
            t0 = time.perf_counter()
            rows = server.query(f"SELECT row FROM {server.t('vectors')} ORDER BY embedding <#> %s::vector LIMIT 100",
                                (pgstore._vector_text(v),), set_local=f"hnsw.ef_search = {ef}")
            times.append(time.perf_counter() - t0)
            recall.append(len({r for (r,) in rows[:10]} & exact) / 10)
        sweep[str(ef)] = {**_pct(times), "recall@10": round(float(np.mean(recall)), 4)}
    bm25_times = []
    for q in questions:
        t0 = time.perf_counter()
        server.bm25.top_k(q["terms"], 100)
        bm25_times.append(time.perf_counter() - t0)
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = dict(conn.execute(
            "SELECT substr(relname, %s), pg_total_relation_size(oid) FROM pg_class WHERE relname LIKE %s "
            "AND relkind = 'r'", (len(f"docqa_{server.build}_") + 1, f"docqa_{server.build}_%")).fetchall())
    hnsw = {**_pct(hnsw_times), "ef_search": server.settings.ef_search,
            "recall@10": sweep[str(server.settings.ef_search)]["recall@10"]}
    return {**row, "questions": len(questions), "open_s": round(open_s, 2), "hnsw": hnsw, "ef_sweep": sweep,
            "exact_questions": exact_n,
            "exact_sql": _pct(exact_times), "bm25": _pct(bm25_times),
            "database_mb": round(size / 2**20), "tables_mb": {k: round(int(v) / 2**20) for k, v in tables.items()},
            "rss_mb": round(rss_mb()), **rss_parts_mb(), "rss_added_mb": round(opened_rss - base),
            **server_memory_mb(Path(pgdata))}


def step_pg_bm25(folder: str, url: str, queries: str) -> dict:
    """BM25 alone, for sizes where the whole PostgreSQL build does not fit the run: the folder index's
    two BM25 indexes written into the database as the store writes them, then each question's BM25
    ranking (Searcher.bm25_ranking: the searcher's 100 candidates, compound parts added as it adds
    them) from the folder's arrays and from the database, checked equal bit for bit."""
    import types

    import psycopg

    from docqa.index import pgstore
    from docqa.index.search import Searcher

    local = Searcher.load(Path(folder))
    idx, settings, build = local._idx, pgstore.PgStoreSettings(), pgstore._new_build_id()
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for prefix, bm25 in (("bm25", idx.bm25), ("compound", idx.compound_bm25)):
            pgstore._write_bm25(conn, build, prefix, bm25, settings)
            for name in ("terms", "postings"):
                conn.execute(f"ANALYZE {pgstore.table(build, f'{prefix}_{name}')}")
    write_s = time.perf_counter() - started
    manifest = {"passage_count": len(idx.bm25), "bm25": pgstore._bm25_params(idx.bm25),
                "bm25_compounds": pgstore._bm25_params(idx.compound_bm25), "organisations": []}
    server = pgstore.ServerIndex(url, build, manifest, settings, pgstore._Pool(url, 1, lambda conn: None), {}, ())
    # the searcher's own ranking code over the server's BM25 tables
    remote = types.SimpleNamespace(_idx=server, analyzer=local.analyzer, fusion=local.fusion)
    questions, _ = read_queries(queries)
    for q in questions[:3]:  # warm-up, as measure_engine
        Searcher.bm25_ranking(remote, q["text"], 100, None)
    times: dict[str, list[float]] = {"folder": [], "postgresql": []}
    unequal = 0
    for q in questions:
        t0 = time.perf_counter()
        want = Searcher.bm25_ranking(local, q["text"], 100, None)
        times["folder"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = Searcher.bm25_ranking(remote, q["text"], 100, None)
        times["postgresql"].append(time.perf_counter() - t0)
        unequal += got[0].tolist() != want[0].tolist() or got[1].tolist() != want[1].tolist()
    with psycopg.connect(url) as conn:
        tables = dict(conn.execute(
            "SELECT substr(relname, %s), pg_total_relation_size(oid) FROM pg_class WHERE relname LIKE %s "
            "AND relkind = 'r'", (len(f"docqa_{build}_") + 1, f"docqa_{build}_%")).fetchall())
    server.close()
    return {"questions": len(questions), "write_s": round(write_s, 1), "unequal_rankings": int(unequal),
            "bm25": {name: _pct(t) for name, t in times.items()},
            "tables_mb": {k: round(int(v) / 2**20) for k, v in tables.items()}}


def step_pg_compare(folder: str, url: str, queries: str, prewarm: str = "0") -> dict:
    """Hybrid search (Engine.search, query vectors given) over a kept folder index and a kept store
    of the same size, asked in turn question by question, so both see the same load: the folder,
    the store as configured (concurrent_queries) and the store one statement after another. With
    prewarm "1" the HNSW index and the vectors are first read into the server's shared buffers
    (pg_prewarm), as a server that has answered for a while holds them."""
    from docqa.engine import Engine
    from docqa.index import pgstore
    from docqa.index.search import Searcher

    questions, vectors = read_queries(queries)
    engines = {"folder": Engine(Searcher.load(Path(folder))),
               "postgresql": Engine(Searcher(pgstore.load_index(url))),
               "postgresql_sequential": Engine(Searcher(pgstore.load_index(
                   url, pgstore.PgStoreSettings(concurrent_queries=False))))}
    warmed = {}
    if prewarm == "1":
        server = engines["postgresql"]._searcher._idx
        with pgstore.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            for name, relation in (("hnsw_index", f"{server.t('vectors')}_embedding_idx"),
                                   ("vectors", server.t("vectors"))):
                t0 = time.perf_counter()
                blocks = conn.execute("SELECT pg_prewarm(%s::regclass)", (relation,)).fetchone()[0]
                warmed[name] = {"blocks": blocks, "s": round(time.perf_counter() - t0, 1)}
    for engine in engines.values():
        for q, v in zip(questions[:3], vectors[:3]):
            engine.search(q["text"], query_vector=v)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for n, (q, v) in enumerate(zip(questions, vectors)):
        order = list(engines) if n % 2 == 0 else list(engines)[::-1]
        for name in order:
            t0 = time.perf_counter()
            engines[name].search(q["text"], query_vector=v)
            times[name].append(time.perf_counter() - t0)
    out = {name: _pct(t) for name, t in times.items()}
    return {"questions": len(questions), "search": out, "prewarm": warmed, "load_average": os.getloadavg(),
            "ratio_p50": round(out["postgresql"]["p50_ms"] / out["folder"]["p50_ms"], 2)}


STEPS = {"_pg_build": step_pg_build, "_pg_load": step_pg_load, "_pg_bm25": step_pg_bm25, "_pg_compare": step_pg_compare}


def markdown(report: dict) -> str:
    lines = ["| passages | store | size | build (HNSW) | open | search p50/p95 | ask p50/p95 | HNSW recall@10 "
             "(p50) | exact SQL p50 | BM25 p50 | docqa RSS | server RSS (PSS) |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in report["sizes"]:
        loc, pg = r.get("local"), r.get("postgresql")
        if loc:
            lines.append(f"| {r['passages']:,} | folder | {loc['build']['index_size_mb'] / 1024:.2f} GiB | "
                         f"{loc['build']['build_s']} s | {loc['load_s']} s | {loc['search']['p50_ms']}/"
                         f"{loc['search']['p95_ms']} ms | {loc['ask']['p50_ms']}/{loc['ask']['p95_ms']} ms | "
                         f"({loc['dense_index']}) | | | {loc['rss_mb'] / 1024:.2f} GiB | |")
        if pg:
            lines.append(f"| {r['passages']:,} | PostgreSQL | {pg['database_mb'] / 1024:.2f} GiB | "
                         f"{pg['build']['build_s']} s ({pg['build']['hnsw_build_s']} s) | {pg['open_s']} s | "
                         f"{pg['search']['p50_ms']}/{pg['search']['p95_ms']} ms | {pg['ask']['p50_ms']}/"
                         f"{pg['ask']['p95_ms']} ms | {pg['hnsw']['recall@10']} ({pg['hnsw']['p50_ms']} ms) | "
                         f"{pg['exact_sql']['p50_ms']} ms | {pg['bm25']['p50_ms']} ms | "
                         f"{pg['rss_mb'] / 1024:.2f} GiB | {pg['server_rss_mb'] / 1024:.2f} "
                         f"({pg['server_pss_mb'] / 1024:.2f}) GiB |")
        bm25 = r.get("postgresql_bm25")
        if bm25:
            pg, folder = bm25["bm25"]["postgresql"], bm25["bm25"]["folder"]
            lines.append(f"| {r['passages']:,} | PostgreSQL, BM25 tables only | "
                         f"{sum(bm25['tables_mb'].values()) / 1024:.2f} GiB | {bm25['write_s']} s | | | | | | "
                         f"{pg['p50_ms']}/{pg['p95_ms']} ms (folder {folder['p50_ms']}/{folder['p95_ms']} ms; "
                         f"{bm25['unequal_rankings']} unequal) | | |")
    sweeps = [(r["passages"], r["postgresql"]["ef_sweep"]) for r in report["sizes"]
              if "ef_sweep" in r.get("postgresql", {})]
    if sweeps:
        efs = list(sweeps[0][1])
        lines += ["", "| passages | " + " | ".join(f"ef_search {ef}: recall@10, HNSW p50" for ef in efs) + " |",
                  "| ---: |" + " ---: |" * len(efs)]
        for n, sweep in sweeps:
            cells = " | ".join(f"{v['recall@10']}, {v['p50_ms']} ms" for v in sweep.values())
            lines.append(f"| {n:,} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in STEPS:
        print(json.dumps(STEPS[argv[0]](*argv[1:])))
        return 0
    from bench.benchmark import measure_searcher_at
    from docqa import config, pgserver

    parser = argparse.ArgumentParser(prog="python -m bench.pg_scale")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--index")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated passage counts")
    parser.add_argument("--skip-local", action="store_true", help="the PostgreSQL store only")
    parser.add_argument("--server", help="the benchmark server's folder, kept afterwards (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep each size's database (bench_N) in --server's "
                        "server, to time its reading again with `python -m bench.pg_scale _pg_load URL QUERIES PGDATA`")
    parser.add_argument("--bm25-only", default="", help="comma-separated passage counts at which the "
                        "PostgreSQL side is the folder index's BM25 tables only (no HNSW build: 35 min at 1M)")
    args = parser.parse_args(argv)
    index = config.index_dir(args.index)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
                    "server_settings": SERVER_SETTINGS, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="docqa-pg-bench-") as tmp:
        root = Path(args.server).resolve() if args.server else Path(tmp) / "pg"
        url = pgserver.start(root)
        try:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                for name, value in SERVER_SETTINGS.items():
                    conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            pgserver.stop(root)
            url = pgserver.start(root)
            engine = open_engine(index)
            queries = write_queries(engine, _questions(), Path(tmp) / "queries")
            del engine
            bm25_only = {int(s) for s in args.bm25_only.split(",") if s.strip()}
            for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
                row: dict = {"passages": n}
                store = _database(url.rsplit("/", 1)[0] + "/postgres", f"bench_{n}")
                with tempfile.TemporaryDirectory(dir=tmp) as local_tmp:
                    if not args.skip_local or n in bm25_only:
                        row["local"] = measure_searcher_at(n, index, queries, local_tmp)
                        print(f"folder store {n}: {row['local']['search']}", file=sys.stderr)
                    if n in bm25_only:
                        folder = Path(local_tmp) / f"searcher-{n}" / "index"
                        row["postgresql_bm25"], _ = _pg_child(["_pg_bm25", str(folder), store, str(queries)])
                        print(f"PostgreSQL BM25 {n}: {row['postgresql_bm25']['bm25']}", file=sys.stderr)
                if n not in bm25_only:
                    built, wall = _pg_child(["_pg_build", str(n), str(index), store, tmp])
                    loaded, _ = _pg_child(["_pg_load", store, str(queries), str(root / "data")])
                    row["postgresql"] = {"build": {**built, "wall_s": round(wall, 1)}, **loaded}
                    print(f"PostgreSQL store {n}: {loaded['search']} hnsw {loaded['hnsw']}", file=sys.stderr)
                report["sizes"].append(row)
                (out_dir / "pg-scale.json").write_text(json.dumps(report, indent=2))
                (out_dir / "pg-scale.md").write_text(markdown(report))
                if not args.keep:
                    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                        conn.execute(f"DROP DATABASE bench_{n}")  # the disk: 1M passages take many GB
        finally:
            pgserver.stop(root)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
