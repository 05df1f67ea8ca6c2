"""The index in PostgreSQL (`--store postgresql://...` or DOCQA_STORE) instead of a folder.

Store format 4. Two shared tables name the builds; every build has tables of its own, named by its
id, created, filled and indexed inside the transaction that makes it current:

    docqa_builds(build, manifest)                one row per complete build; the manifest as the folder's
    docqa_current(build)                         one row: the build readers open
    docqa_embedding_cache(encoder, hash, vector) vectors by encoder and text hash (index/cache.py's keys)

    docqa_<build>_passages(row, chunk_id, doc_code, org_code, year, bm25_len, compound_len, data)
                                                 each passage with its citation fields (data, jsonb), the
                                                 filter codes and its token counts for both BM25s
    docqa_<build>_documents(doc_id, meta, text)  metadata and cleaned text per document
    docqa_<build>_vectors(row, embedding vector(d))  passage vectors, HNSW index (inner product)
    docqa_<build>_units(unit, row, start, stop, embedding halfvec(d))  answer units and their vectors
    docqa_<build>_bm25_terms(term, term_id, idf), docqa_<build>_bm25_postings(term_id, rows, weights)
    docqa_<build>_compound_terms / _compound_postings   the same for the BM25 with compounds split

A term's postings are one row: its passage rows (int32, ascending) and their weights (index/bm25.py's
float32 BM25 weights), each as little-endian bytes. A query fetches its terms' rows in one statement
and sums them here with the local index's own code (bm25.ranked), so its scores equal
BM25Index.top_k's bit for bit; summing in SQL cost 0.5-1 µs a posting, 0.85 s a question at 1M.

A reader (`load_index`) pins the current build at open and queries only that build's tables, so it
never mixes builds. A build switch keeps the previous build (readers that opened it go on) and drops
the ones before; a reader whose build was dropped gets StoreBuildGoneError, on which the Engine
opens the current build again. A build is written and switched in one transaction: a build killed
at any point leaves nothing behind and the old build answering. A build holds a session advisory
lock: a second ingest at the same time refuses at once.
"""
from __future__ import annotations

import contextlib
import functools
import json
import queue
import re
import threading
import time
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docqa.errors import SettingsError
from docqa.index.store import (IndexBusyError, IndexDamagedError, IndexMismatchError, IndexMissingError,
                               IndexProblem, LoadedIndex, _passage_from_json)

# pg_try_advisory_lock key: "docqa" in ASCII, so other applications' locks on the server do not collide
BUILD_LOCK_KEY = 0x646F637161
STORE_FORMAT = 4  # 4: a term's BM25 postings in one row (3: a row per posting; 2: .npy bytes in bytea)

SCHEMA = """
CREATE TABLE IF NOT EXISTS docqa_builds (build text PRIMARY KEY, manifest jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS docqa_current (one boolean PRIMARY KEY DEFAULT true CHECK (one),
                                          build text NOT NULL REFERENCES docqa_builds);
CREATE TABLE IF NOT EXISTS docqa_embedding_cache (encoder text NOT NULL, hash text NOT NULL,
                                                  vector bytea NOT NULL, PRIMARY KEY (encoder, hash));
"""
_OLD_FORMAT_TABLES = ("docqa_passages", "docqa_documents", "docqa_arrays")  # store format 2
_BUILD_TABLES = ("passages", "documents", "vectors", "units", "bm25_terms", "bm25_postings", "compound_terms",
                 "compound_postings")
_BUILD_ID = re.compile(r"b\d{8}_\d{6}_[0-9a-f]{6}")


@dataclass(frozen=True)
class PgStoreSettings:
    """How the PostgreSQL store builds its indexes and reads them back."""

    # HNSW graph: pgvector's defaults; at 100k random vectors they give recall@10 0.9+ with ef_search
    # below (bench/README.md), on the real e5 vectors the two stores agree on dev
    hnsw_m: int = 16
    hnsw_ef_construction: int = 64
    # an HNSW scan returns at most ef_search rows: at least the searcher's 100 candidates, and twice
    # that for recall (dev agreement >= 0.95 with both measures, tests/test_pgstore.py)
    ef_search: int = 200
    # a filter that leaves at most this many passages is searched exactly (a scan of 20k vectors takes
    # a few ms); above it the HNSW scan iterates (pgvector 0.8 iterative_scan) until n rows pass it
    exact_filter_max: int = 20_000
    # building an HNSW graph is fast only while it fits in memory (100k passages: about 200 MB)
    maintenance_work_mem: str = "1GB"
    # 2 cores here: one worker beside the leader
    max_parallel_maintenance_workers: int = 1
    fetch_rows: int = 5_000  # passages per round trip when all are read (iteration)
    copy_block_rows: int = 50_000  # rows per binary COPY block when writing (bounded memory at 1M)
    passage_cache: int = 20_000  # passages kept after a fetch: the same ones come back for related questions
    unit_cache: int = 4_096  # passages whose units (spans and vectors) are kept, as UnitStore's lru_cache
    term_cache: int = 100_000  # analysed terms' ids and idf kept (a query looks up its few terms)
    cache_batch: int = 10_000  # hashes per embedding-cache look-up
    pool_size: int = 8  # connections a reader keeps open; more threads than this open and close their own
    # a search sends its independent statements together, each on its own connection: the HNSW scan
    # while BM25's postings are fetched and summed here (at 1M passages both take tens of ms), the
    # hits' answer units beside their passages; False: one after the other, on the caller's thread
    concurrent_queries: bool = True

    def __post_init__(self):
        for name in ("hnsw_m", "hnsw_ef_construction", "ef_search", "fetch_rows", "copy_block_rows",
                     "passage_cache", "unit_cache", "term_cache", "cache_batch", "pool_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name}={value!r}: must be a whole number >= 1")
        if not isinstance(self.concurrent_queries, bool):
            raise SettingsError(f"concurrent_queries={self.concurrent_queries!r}: must be true or false")
        if not 2 <= self.hnsw_m <= 100:
            raise SettingsError(f"hnsw_m={self.hnsw_m}: pgvector takes 2 to 100")
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            raise SettingsError(f"hnsw_ef_construction={self.hnsw_ef_construction}: pgvector needs at least "
                                f"2 * hnsw_m = {2 * self.hnsw_m}")
        if not 1 <= self.ef_search <= 1000:
            raise SettingsError(f"ef_search={self.ef_search}: pgvector takes 1 to 1000")
        if self.exact_filter_max < 0:
            raise SettingsError(f"exact_filter_max={self.exact_filter_max}: must be >= 0")
        if not re.fullmatch(r"\d+\s*(kB|MB|GB)", self.maintenance_work_mem):
            raise SettingsError(f"maintenance_work_mem={self.maintenance_work_mem!r}: write e.g. '512MB' or '1GB'")
        if not 0 <= self.max_parallel_maintenance_workers <= 64:
            raise SettingsError(f"max_parallel_maintenance_workers={self.max_parallel_maintenance_workers}: "
                                "must be 0 to 64")


class StoreUnreachableError(IndexProblem):
    """The PostgreSQL server of --store / DOCQA_STORE cannot be reached or refused the connection."""


class StoreBuildGoneError(IndexProblem):
    """The build a reader opened was dropped by later builds; opening the store again reads the current one."""


class StoreSetupError(IndexProblem):
    """The database lacks what the store needs (the pgvector extension, the right to create tables)."""


def is_store_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("postgresql://", "postgres://"))


def _hint(url: str) -> str:
    return f"build it with `docqa ingest --store {_safe(url)}`"


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _detail(exc) -> str:
    return " ".join(str(exc).split())[:300]


def connect(url: str, **kwargs):
    try:
        import psycopg
    except ImportError:
        raise StoreUnreachableError("the PostgreSQL store needs psycopg; run `make setup` "
                                    "(or pip install 'docqa[postgres]')") from None
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except (psycopg.Error, ValueError) as exc:
        raise StoreUnreachableError(f"cannot connect to the store {_safe(url)} ({_detail(exc)}); check the URL and "
                                    "that the server runs (`make db` starts a local one, its URL in var/pg/url)") from None


@contextmanager
def build_lock(url: str):
    """A session connection holding the build lock; a second build refuses at once."""
    conn = connect(url, autocommit=True)
    try:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()[0]:
            raise IndexBusyError(f"{_safe(url)}: another build is running; wait for it to finish and run "
                                 "the command again")
        yield conn
    finally:
        conn.close()  # ends the session, which releases the lock


def table(build: str, name: str) -> str:
    """The name of one of a build's tables (build ids are checked: they go into SQL text)."""
    if not _BUILD_ID.fullmatch(build) or name not in _BUILD_TABLES:
        raise ValueError(f"not a build table: {build!r} {name!r}")
    return f"docqa_{build}_{name}"


# -- writing ----------------------------------------------------------------------------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _vector_dtype(dim: int, half: bool) -> np.dtype:
    # pgvector's binary form: int16 dimensions, int16 unused, then the values big-endian
    return np.dtype([("dim", ">i2"), ("unused", ">i2"), ("x", ">f2" if half else ">f4", (dim,))])


def _copy_binary(conn, sql: str, columns: list[tuple[np.dtype, np.ndarray]], block: int) -> None:
    """COPY ... FROM STDIN (FORMAT BINARY) of columns given as arrays: each block of rows is one numpy
    structured array laid out as PostgreSQL's binary tuples, so a million vectors cost no Python loop."""
    fields = [("count", ">i2")]
    for i, (dtype, _) in enumerate(columns):
        fields += [(f"len{i}", ">i4"), (f"v{i}", dtype)]
    layout = np.dtype(fields)
    n = len(columns[0][1])
    with conn.cursor().copy(sql) as copy:
        copy.write(_COPY_HEADER)
        for start in range(0, n, block):
            stop = min(n, start + block)
            rows = np.zeros(stop - start, dtype=layout)
            rows["count"] = len(columns)
            for i, (dtype, values) in enumerate(columns):
                rows[f"len{i}"] = dtype.itemsize
                part = values[start:stop]
                if dtype.names:  # a vector: dimensions, then the values
                    rows[f"v{i}"]["dim"] = dtype["x"].shape[0]
                    rows[f"v{i}"]["x"] = part
                else:
                    rows[f"v{i}"] = part
            copy.write(rows.tobytes())
        copy.write(_COPY_TRAILER)


def _new_build_id() -> str:
    return f"b{time.strftime('%Y%m%d_%H%M%S')}_{np.random.default_rng().integers(1 << 24):06x}"


def _bm25_params(index) -> dict:
    return {"k1": index.k1, "b": index.b, "epsilon": index.epsilon, "avgdl": index.avgdl, "n_docs": len(index),
            "n_terms": len(index.vocab), "postings": int(len(index._data))}


def _write_bm25(conn, build: str, prefix: str, index, settings: PgStoreSettings) -> None:
    terms, postings = table(build, f"{prefix}_terms"), table(build, f"{prefix}_postings")
    conn.execute(f"CREATE TABLE {terms} (term text PRIMARY KEY, term_id integer NOT NULL, idf float8 NOT NULL)")
    # one row per term: its passage rows (int32, ascending) and weights (float32), little-endian bytes;
    # stored uncompressed (EXTERNAL): a query reads them whole, and pglz costs more than it saves
    conn.execute(f"CREATE TABLE {postings} (term_id integer PRIMARY KEY, rows bytea NOT NULL, weights bytea NOT NULL)")
    conn.execute(f"ALTER TABLE {postings} ALTER COLUMN rows SET STORAGE EXTERNAL, "
                 "ALTER COLUMN weights SET STORAGE EXTERNAL")
    with conn.cursor().copy(f"COPY {terms} (term, term_id, idf) FROM STDIN") as copy:
        idf = index.idf.tolist()
        for term, term_id in index.vocab.items():
            copy.write_row((term, term_id, idf[term_id]))
    indptr = np.asarray(index._indptr).tolist()
    rows = np.ascontiguousarray(index._indices, dtype="<i4")
    weights = np.ascontiguousarray(index._data, dtype="<f4")
    with conn.cursor(binary=True).copy(f"COPY {postings} (term_id, rows, weights) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "bytea", "bytea"])
        for term_id in range(len(indptr) - 1):
            start, stop = indptr[term_id], indptr[term_id + 1]
            copy.write_row((term_id, rows[start:stop].tobytes(), weights[start:stop].tobytes()))


def write_build(url: str, manifest: dict, passages, document_rows, vectors: np.ndarray, units: np.ndarray,
                unit_vectors: np.ndarray, bm25, compound_bm25,
                settings: PgStoreSettings | None = None) -> tuple[str, dict]:
    """Write one build and make it current in a single transaction; the caller holds `build_lock`."""
    import psycopg

    settings = settings or PgStoreSettings()
    build = _new_build_id()
    dim = int(vectors.shape[1])
    document_rows = list(document_rows)
    doc_code_of = {doc_id: n for n, doc_id in enumerate(sorted(r["meta"]["doc_id"] for r in document_rows))}
    organisations = sorted({p.organisation for p in passages})
    org_code_of = {org: n for n, org in enumerate(organisations)}
    manifest = {**manifest, "passage_count": len(passages), "unit_count": len(units), "dense_index": "hnsw",
                "store": "postgresql", "store_format": STORE_FORMAT, "build": build,
                "hnsw": {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction, "metric": "ip"},
                "bm25": _bm25_params(bm25), "bm25_compounds": _bm25_params(compound_bm25),
                "organisations": organisations}
    conn = connect(url)
    try:
        # a killed ingest: the server stops its statement (an HNSW build may take minutes) within a second
        conn.execute("SET client_connection_check_interval = '1s'")
        conn.commit()
        with conn.transaction():
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise StoreSetupError(f"the store {_safe(url)} has no pgvector extension and it cannot be created "
                                      f"here ({_detail(exc)}); install pgvector 0.8+ on the server and run "
                                      "`CREATE EXTENSION vector` as its owner") from None
            conn.execute(SCHEMA)
            conn.execute(f"SET LOCAL maintenance_work_mem = '{settings.maintenance_work_mem}'")
            conn.execute(f"SET LOCAL max_parallel_maintenance_workers = {settings.max_parallel_maintenance_workers}")
            conn.execute("SET LOCAL synchronous_commit = off")  # the commit is still atomic
            _write_passages(conn, build, passages, document_rows, doc_code_of, org_code_of, bm25, compound_bm25)
            _copy_binary(conn, f"COPY {_create_vectors(conn, build, dim)} (row, embedding) FROM STDIN (FORMAT BINARY)",
                         [(np.dtype(">i4"), np.arange(len(vectors), dtype=np.int32)),
                          (_vector_dtype(dim, half=False), vectors)], settings.copy_block_rows)
            units_table = table(build, "units")
            conn.execute(f"CREATE TABLE {units_table} (unit integer PRIMARY KEY, row integer NOT NULL, "
                         f"start integer NOT NULL, stop integer NOT NULL, embedding halfvec({dim}) NOT NULL)")
            _copy_binary(conn, f"COPY {units_table} (unit, row, start, stop, embedding) FROM STDIN (FORMAT BINARY)",
                         [(np.dtype(">i4"), np.arange(len(units), dtype=np.int32)),
                          (np.dtype(">i4"), units[:, 0]), (np.dtype(">i4"), units[:, 1]),
                          (np.dtype(">i4"), units[:, 2]), (_vector_dtype(dim, half=True), unit_vectors)],
                         settings.copy_block_rows)
            conn.execute(f"CREATE INDEX ON {units_table} (row)")
            _write_bm25(conn, build, "bm25", bm25, settings)
            _write_bm25(conn, build, "compound", compound_bm25, settings)
            started, notices = time.perf_counter(), []
            # pgvector says when the graph outgrew maintenance_work_mem (the build then slows down many
            # times); kept in the manifest, where a slow build's cause can be read
            conn.add_notice_handler(lambda diag: notices.append(diag.message_primary))
            conn.execute(f"CREATE INDEX ON {table(build, 'vectors')} USING hnsw (embedding vector_ip_ops) "
                         f"WITH (m = {settings.hnsw_m}, ef_construction = {settings.hnsw_ef_construction})")
            manifest["hnsw"]["build_s"] = round(time.perf_counter() - started, 1)
            manifest["hnsw"]["notices"] = [n for n in notices if n][:5]
            for name in _BUILD_TABLES:
                conn.execute(f"ANALYZE {table(build, name)}")
            conn.execute("INSERT INTO docqa_builds VALUES (%s, %s)", (build, json.dumps(manifest)))
            previous = conn.execute("SELECT build FROM docqa_current FOR UPDATE").fetchone()
            conn.execute("INSERT INTO docqa_current (one, build) VALUES (true, %s) "
                         "ON CONFLICT (one) DO UPDATE SET build = EXCLUDED.build", (build,))
            # last, so readers wait for the drops' locks only a moment: every build but this one and
            # the previous (readers that opened it go on until the next switch)
            _drop_builds_but(conn, {build, previous[0] if previous else build})
    except psycopg.Error as exc:
        raise StoreUnreachableError(f"writing to the store {_safe(url)} failed ({_detail(exc)})") from None
    finally:
        conn.close()
    return build, manifest


def _create_vectors(conn, build: str, dim: int) -> str:
    name = table(build, "vectors")
    conn.execute(f"CREATE TABLE {name} (row integer PRIMARY KEY, embedding vector({dim}) NOT NULL)")
    return name


def _write_passages(conn, build, passages, document_rows, doc_code_of, org_code_of, bm25, compound_bm25) -> None:
    name, docs = table(build, "passages"), table(build, "documents")
    conn.execute(f"CREATE TABLE {name} (row integer PRIMARY KEY, chunk_id text NOT NULL UNIQUE, "
                 "doc_code integer NOT NULL, org_code integer NOT NULL, year integer, bm25_len integer NOT NULL, "
                 "compound_len integer NOT NULL, data jsonb NOT NULL)")
    with conn.cursor().copy(f"COPY {name} (row, chunk_id, doc_code, org_code, year, bm25_len, compound_len, data) "
                            "FROM STDIN") as copy:
        lengths, compound_lengths = bm25.doc_len.tolist(), compound_bm25.doc_len.tolist()
        for i, p in enumerate(passages):
            copy.write_row((i, p.chunk_id, doc_code_of[p.doc_id], org_code_of[p.organisation], p.year, lengths[i],
                            compound_lengths[i], json.dumps(p.to_json(), ensure_ascii=False)))
    conn.execute(f"CREATE TABLE {docs} (doc_id text PRIMARY KEY, meta jsonb NOT NULL, text text NOT NULL)")
    with conn.cursor().copy(f"COPY {docs} (doc_id, meta, text) FROM STDIN") as copy:
        for row in document_rows:
            copy.write_row((row["meta"]["doc_id"], json.dumps(row["meta"], ensure_ascii=False), row["text"]))


def _drop_builds_but(conn, keep: set[str]) -> None:
    """Drop every build not in `keep`, its tables, the tables no build names (none are left by this design:
    a killed build's transaction never commits; cheap insurance) and store format 2's tables."""
    conn.execute("DELETE FROM docqa_builds WHERE NOT (build = ANY(%s))", (sorted(keep),))
    tables = [name for (name,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'docqa\\_b%%'")]
    for name in tables:
        match = re.fullmatch(r"docqa_(b\d{8}_\d{6}_[0-9a-f]{6})_\w+", name)
        if match and match.group(1) not in keep:
            conn.execute(f"DROP TABLE IF EXISTS {name}")
    for name in _OLD_FORMAT_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def read_manifest(url: str) -> dict | None:
    conn = connect(url)
    try:
        if conn.execute("SELECT to_regclass('docqa_current')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT b.manifest FROM docqa_current c JOIN docqa_builds b USING (build)").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


# -- the embedding cache ----------------------------------------------------------------------------

class EmbeddingCacheTable:
    """index/cache.py's EmbeddingCache in the store's database: vectors by (encoder id, text hash).
    `save` adds the new vectors in its own transaction (they outlive a build killed after embedding),
    skipping hashes another build added meanwhile."""

    def __init__(self, url: str, encoder_id: str, dim: int, settings: PgStoreSettings | None = None):
        self.url, self.encoder_id, self.dim = url, encoder_id, dim
        self.settings = settings or PgStoreSettings()
        self._new: dict[str, np.ndarray] = {}

    def get(self, keys: list[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `keys` (zero rows where missing) and the positions that are missing."""
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        wanted = sorted(set(keys) - set(self._new))
        conn = connect(self.url)
        try:
            with conn.transaction():
                conn.execute(SCHEMA)  # a first ingest into an empty database
            for start in range(0, len(wanted), self.settings.cache_batch):
                for key, data in conn.execute(
                        "SELECT hash, vector FROM docqa_embedding_cache WHERE encoder = %s AND hash = ANY(%s)",
                        (self.encoder_id, wanted[start:start + self.settings.cache_batch])):
                    vector = np.frombuffer(data, dtype="<f4")
                    if len(vector) == self.dim:  # another dimension: a damaged row only costs time
                        found[key] = vector
        finally:
            conn.close()
        missing = []
        for i, key in enumerate(keys):
            vector = self._new.get(key, found.get(key))
            if vector is None:
                missing.append(i)
            else:
                out[i] = vector
        return out, missing

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        for key, vector in zip(keys, np.asarray(vectors, dtype=np.float32)):
            self._new.setdefault(key, vector)

    def save(self) -> None:
        if not self._new:
            return
        conn = connect(self.url)
        try:
            with conn.transaction():
                conn.execute(SCHEMA)
                conn.execute("CREATE TEMP TABLE new_vectors (hash text, vector bytea) ON COMMIT DROP")
                with conn.cursor().copy("COPY new_vectors (hash, vector) FROM STDIN") as copy:
                    for key, vector in self._new.items():
                        copy.write_row((key, vector.astype("<f4").tobytes()))
                conn.execute("INSERT INTO docqa_embedding_cache SELECT %s, hash, vector FROM new_vectors "
                             "ON CONFLICT DO NOTHING", (self.encoder_id,))
        finally:
            conn.close()
        self._new.clear()


# -- reading ----------------------------------------------------------------------------------------

def load_index(url: str, settings: PgStoreSettings | None = None) -> "ServerIndex":
    """Open the current build: its manifest, document metadata and per-passage filter codes are read
    now; passages, vectors, units and BM25 postings are queried when a question needs them."""
    return ServerIndex.open(url, settings or PgStoreSettings())


class _Pool:
    """A few open connections for a reader's threads (psycopg serialises the statements of one)."""

    def __init__(self, url: str, size: int, setup):
        self.url, self._size, self._setup = url, size, setup
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._closed = False

    @contextmanager
    def connection(self):
        import psycopg

        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = connect(self.url, autocommit=True)
            self._setup(conn)
        try:
            yield conn
        except psycopg.OperationalError:
            conn.close()
            raise
        finally:
            if not conn.closed:
                if self._closed or self._idle.qsize() >= self._size or conn.info.transaction_status != 0:
                    conn.close()
                else:
                    self._idle.put(conn)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _loaders(conn) -> None:
    """Binary loaders for pgvector's types straight into numpy (no Python float per value)."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class VectorLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            return np.frombuffer(bytes(data)[4:], dtype=">f4").astype(np.float32)

    class HalfvecLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            return np.frombuffer(bytes(data)[4:], dtype=">f2").astype(np.float32)

    for name, loader in (("vector", VectorLoader), ("halfvec", HalfvecLoader)):
        oid = conn.execute("SELECT to_regtype(%s)::oid", (name,)).fetchone()[0]
        if oid:
            conn.adapters.register_loader(oid, loader)


def _vector_text(vector: np.ndarray) -> str:
    # float32 -> Python float -> text is exact, so the server compares the same float32 values
    return "[" + ",".join(map(repr, np.asarray(vector, dtype=np.float32).tolist())) + "]"


class ServerIndex(LoadedIndex):
    """One build of the store, queried on the server (the interfaces of LoadedIndex the Searcher uses)."""

    def __init__(self, url: str, build: str, manifest: dict, settings: PgStoreSettings, pool: _Pool,
                 documents: dict, columns: tuple):
        self.url, self.build, self.settings, self._pool = url, build, settings, pool
        self._columns = columns
        super().__init__(Path(f"postgresql:{build}"), manifest, [], documents, {}, None, None, None, None, None, None)
        # no arrays in memory: vectors, units and the HNSW graph stay on the server (dense_search, unit_store)
        self.passages, self.texts = ServerPassages(self), ServerTexts(self)
        self.bm25 = ServerBM25(self, "bm25", manifest["bm25"])
        self.compound_bm25 = ServerBM25(self, "compound", manifest["bm25_compounds"])
        self._row_of = functools.lru_cache(maxsize=settings.passage_cache)(self._fetch_row_of)
        self._executor, self._executor_lock = None, threading.Lock()  # _begin's threads, made when first needed

    @classmethod
    def open(cls, url: str, settings: PgStoreSettings) -> "ServerIndex":
        import psycopg

        from docqa.index.analyzer import AnalyzerSettings
        from docqa.ingest.records import DocumentMeta

        def setup(conn):
            _loaders(conn)
            conn.execute(f"SET hnsw.ef_search = {settings.ef_search}")
            conn.execute("SET jit = off")  # compiling a query costs more than running one of these
            conn.execute("SET default_transaction_read_only = on")

        conn = connect(url, autocommit=True)
        try:
            if conn.execute("SELECT to_regclass('docqa_current')").fetchone()[0] is None:
                raise IndexMissingError(f"no index in the store {_safe(url)}; {_hint(url)}")
            row = conn.execute("SELECT b.build, b.manifest FROM docqa_current c JOIN docqa_builds b "
                               "USING (build)").fetchone()
            if row is None:
                raise IndexMissingError(f"no index in the store {_safe(url)}; {_hint(url)}")
            build, manifest = row
            if manifest.get("store_format") != STORE_FORMAT:
                raise IndexMismatchError(f"the store {_safe(url)} holds store format {manifest.get('store_format', 2)}"
                                         f" but this docqa reads format {STORE_FORMAT} (BM25 postings as one row "
                                         f"per term); rebuild it with `docqa ingest --store {_safe(url)}`")
            from docqa.index.store import FORMAT_VERSION

            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexMismatchError(f"the store {_safe(url)} holds index format {manifest.get('format_version')}"
                                         f" but this docqa reads format {FORMAT_VERSION}; rebuild it with "
                                         f"`docqa ingest --store {_safe(url)}`")
            if manifest.get("settings", {}).get("analyzer", {}).get("version") != AnalyzerSettings().version:
                raise IndexMismatchError(f"the store {_safe(url)} was built with another BM25 analyser; rebuild it "
                                         f"with `docqa ingest --store {_safe(url)}`")
            setup(conn)
            documents = {}
            for (meta,) in conn.execute(f"SELECT meta FROM {table(build, 'documents')}"):
                documents[meta["doc_id"]] = DocumentMeta(**meta)
            # the filters' codes per passage as three int32 arrays (a few MB at 1M passages, read as bytes)
            blobs = conn.execute(
                "SELECT string_agg(int4send(doc_code), '' ORDER BY row), string_agg(int4send(org_code), '' ORDER BY "
                "row), string_agg(int4send(coalesce(year, -1)), '' ORDER BY row), count(*) "
                f"FROM {table(build, 'passages')}").fetchone()
        except psycopg.errors.UndefinedTable:
            conn.close()
            raise StoreBuildGoneError(f"the store {_safe(url)}: the current build was replaced while it was "
                                      "opened; open it again") from None
        except psycopg.Error as exc:
            conn.close()
            raise StoreUnreachableError(f"reading the store {_safe(url)} failed ({_detail(exc)})") from None
        except BaseException:
            conn.close()
            raise
        columns = tuple(np.frombuffer(b or b"", dtype=">i4").astype(np.int32) for b in blobs[:3])
        counts = {"manifest": manifest.get("passage_count"), "passages": blobs[3], "bm25": manifest["bm25"]["n_docs"],
                  "bm25-compounds": manifest["bm25_compounds"]["n_docs"]}
        if len(set(counts.values())) != 1:
            conn.close()
            raise IndexDamagedError(f"the store {_safe(url)}: build {build} disagrees on the passage count {counts}; "
                                    f"rebuild it with `docqa ingest --store {_safe(url)}`")
        pool = _Pool(url, settings.pool_size, setup)
        pool._idle.put(conn)
        return cls(url, build, manifest, settings, pool, documents, columns)

    # -- queries -------------------------------------------------------------------------------------
    def query(self, sql: str, params=(), binary: bool = False, set_local: str | None = None) -> list[tuple]:
        """Rows of one statement on this build's tables (after `SET LOCAL set_local` in its own
        transaction, when given); a dropped build raises StoreBuildGoneError."""
        import psycopg

        try:
            with self._pool.connection() as conn:
                with conn.transaction() if set_local else contextlib.nullcontext():
                    if set_local:
                        conn.execute(f"SET LOCAL {set_local}")
                    with conn.cursor(binary=binary) as cur:
                        cur.execute(sql, params)
                        return cur.fetchall()
        except psycopg.errors.UndefinedTable:
            raise StoreBuildGoneError(f"the store {_safe(self.url)}: build {self.build}, which this process opened, "
                                      "was replaced by two newer builds; open the store again") from None
        except psycopg.Error as exc:
            raise StoreUnreachableError(f"reading the store {_safe(self.url)} failed ({_detail(exc)})") from None

    def t(self, name: str) -> str:
        return table(self.build, name)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._pool.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- the hooks the Searcher uses (index/store.py LoadedIndex) ------------------------------------
    def passage_columns(self):
        doc_codes, org_codes, years = self._columns
        return doc_codes, org_codes, years, list(self.manifest["organisations"])

    def row_of(self, chunk_id: str) -> int | None:
        return self._row_of(chunk_id)

    def _fetch_row_of(self, chunk_id: str) -> int | None:
        rows = self.query(f"SELECT row FROM {self.t('passages')} WHERE chunk_id = %s", (chunk_id,))
        return rows[0][0] if rows else None

    def prefetch(self, rows) -> None:
        """Passages and their answer units of these rows, in two statements sent together, before
        they are read one by one."""
        rows = list(rows)
        units = self._begin(self._unit_store.prefetch, rows) if self._unit_store is not None else None
        self.passages.prefetch(rows)
        if units is not None:
            units()

    _unit_store = None

    def unit_store(self, analyzer):
        self._unit_store = ServerUnits(self, analyzer)
        return self._unit_store

    def start_dense_search(self, query_vector: np.ndarray, n: int, mask: np.ndarray | None):
        """The HNSW scan sent now, so the server scans while this process sums BM25's postings."""
        return self._begin(self.dense_search, query_vector, n, mask)

    def _begin(self, call, *args):
        """`call(*args)` on a thread (and so a connection) of its own, when concurrent_queries: the
        thread waits for the server, which releases the GIL; returns what gives its result."""
        if not self.settings.concurrent_queries:
            result = call(*args)
            return lambda: result
        with self._executor_lock:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(self.settings.pool_size, thread_name_prefix="docqa-store")
        return self._executor.submit(call, *args).result

    def dense_search(self, query_vector: np.ndarray, n: int, mask: np.ndarray | None):
        vector = _vector_text(query_vector)
        if mask is None:
            rows = self.query(f"SELECT row, embedding <#> %s::vector FROM {self.t('vectors')} ORDER BY 2 LIMIT %s",
                              (vector, n))
        else:
            allowed = np.flatnonzero(mask).astype(np.int32).tolist()
            if len(allowed) <= self.settings.exact_filter_max:
                # exact: "+ 0" keeps the planner off the HNSW index (the allowed rows are few)
                rows = self.query(f"SELECT row, embedding <#> %s::vector FROM {self.t('vectors')} "
                                  "WHERE row = ANY(%s) ORDER BY (embedding <#> %s::vector) + 0, row LIMIT %s",
                                  (vector, allowed, vector, n))
            else:  # the HNSW scan goes on until n rows pass the filter, in exact distance order
                rows = self.query(f"SELECT row, embedding <#> %s::vector FROM {self.t('vectors')} "
                                  "WHERE row = ANY(%s) ORDER BY 2 LIMIT %s", (vector, allowed, n),
                                  set_local="hnsw.iterative_scan = strict_order")
        ids = np.array([r for r, _ in rows], dtype=np.int64)
        return ids, -np.array([d for _, d in rows], dtype=np.float32)

    def document_text(self, doc_id: str) -> str:
        return self.texts[doc_id]


class _LRU:
    """A bounded dict, thread-safe."""

    def __init__(self, size: int):
        self._size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items


class ServerPassages:
    """The build's passages as a read-only sequence: fetched by row when asked for, kept in an LRU."""

    def __init__(self, index: ServerIndex):
        self._index = index
        self._n = int(index.manifest["passage_count"])
        self._cache = _LRU(index.settings.passage_cache)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, row):
        row = int(row)
        if not 0 <= row < self._n:
            raise IndexError(f"passage row {row} out of range 0..{self._n - 1}")
        passage = self._cache.get(row)
        if passage is None:
            self.prefetch([row])
            passage = self._cache.get(row)
            if passage is None:  # the cache was full of other threads' rows: read it once more
                passage = self._fetch([row])[row]
        return passage

    def _fetch(self, rows) -> dict:
        return {r: _passage_from_json(data) for r, data in self._index.query(
            f"SELECT row, data FROM {self._index.t('passages')} WHERE row = ANY(%s)", (list(rows),))}

    def prefetch(self, rows) -> None:
        wanted = sorted({int(r) for r in rows if int(r) not in self._cache})
        if wanted:
            for r, passage in self._fetch(wanted).items():
                self._cache.put(r, passage)

    def __iter__(self):
        step = self._index.settings.fetch_rows
        for start in range(0, self._n, step):
            rows = self._index.query(f"SELECT data FROM {self._index.t('passages')} WHERE row >= %s AND row < %s "
                                     "ORDER BY row", (start, start + step))
            for (data,) in rows:
                yield _passage_from_json(data)


class ServerTexts:
    """doc_id -> cleaned document text, read when asked for (documents may be megabytes each)."""

    def __init__(self, index: ServerIndex):
        self._index = index
        self._cache = _LRU(64)

    def __getitem__(self, doc_id: str) -> str:
        text = self._cache.get(doc_id)
        if text is None:
            rows = self._index.query(f"SELECT text FROM {self._index.t('documents')} WHERE doc_id = %s", (doc_id,))
            if not rows:
                raise KeyError(doc_id)
            text = rows[0][0]
            self._cache.put(doc_id, text)
        return text


class _Vocab:
    """A BM25 vocabulary on the server: `term in vocab`, `vocab.get(term)` -> term id, looked up when asked."""

    def __init__(self, bm25: "ServerBM25"):
        self._bm25 = bm25

    def __contains__(self, term) -> bool:
        return self.get(term) is not None

    def get(self, term, default=None):
        found = self._bm25.lookup([term]).get(term)
        return default if found is None else found[0]

    def __len__(self) -> int:
        return self._bm25.n_terms

    def __bool__(self) -> bool:
        return self._bm25.n_terms > 0


class _Idf:
    """idf by term id, for the ids `_Vocab.get` returned."""

    def __init__(self, bm25: "ServerBM25"):
        self._bm25 = bm25

    def __getitem__(self, term_id: int) -> float:
        return self._bm25.idf_of_id(int(term_id))


class ServerBM25:
    """BM25Index's query interface (top_k, vocab, idf) over a build's terms and postings tables: the
    query terms' postings are fetched and summed as the local index sums them, so the scores are its."""

    _MISSING = (None, None)

    def __init__(self, index: ServerIndex, prefix: str, params: dict):
        self._index, self.prefix = index, prefix
        self.n_terms, self._n_docs = int(params["n_terms"]), int(params["n_docs"])
        self.k1, self.b, self.epsilon, self.avgdl = params["k1"], params["b"], params["epsilon"], params["avgdl"]
        self.terms, self.postings = index.t(f"{prefix}_terms"), index.t(f"{prefix}_postings")
        self._terms = _LRU(index.settings.term_cache)  # term -> (term id, idf) or _MISSING
        self._idf_by_id = _LRU(index.settings.term_cache)
        self.vocab, self.idf = _Vocab(self), _Idf(self)

    def __len__(self) -> int:
        return self._n_docs

    def lookup(self, terms) -> dict:
        """term -> (term id, idf) for the terms the build knows."""
        wanted = sorted({t for t in terms if self._terms.get(t) is None})
        if wanted:
            found = {term: (term_id, idf) for term, term_id, idf in self._index.query(
                f"SELECT term, term_id, idf FROM {self.terms} WHERE term = ANY(%s)", (wanted,))}
            for term in wanted:
                value = found.get(term, self._MISSING)
                self._terms.put(term, value)
                if value[0] is not None:
                    self._idf_by_id.put(value[0], value[1])
        out = {}
        for t in terms:
            value = self._terms.get(t)
            if value is not None and value[0] is not None:
                out[t] = value
        return out

    def idf_of_id(self, term_id: int) -> float:
        idf = self._idf_by_id.get(term_id)
        if idf is None:
            rows = self._index.query(f"SELECT idf FROM {self.terms} WHERE term_id = %s", (term_id,))
            if not rows:
                raise IndexError(f"term id {term_id} out of range")
            idf = rows[0][0]
        return float(idf)

    def top_k(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None,
              also: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
        """BM25Index.top_k from the query terms' postings, fetched in one statement and summed here as
        the local index sums them (index/bm25.py `ranked`): the same scores bit for bit."""
        from docqa.index.bm25 import check_top_k, ranked

        if isinstance(query_tokens, (str, bytes)):
            raise TypeError("query_tokens must be a list of tokens, not a string")
        allowed = check_top_k(self._n_docs, k, allowed, also)
        also = [(other, tokens, weight) for other, tokens, weight in also if weight > 0]
        if k == 0:
            return ranked(self._n_docs, 0, [])
        fetched = _fetch_postings(self._index, [(self, query_tokens), *((o, t) for o, t, _ in also)])
        others = [(p, weight) for p, (_, _, weight) in zip(fetched[1:], also) if p]
        return ranked(self._n_docs, k, fetched[0], others, allowed)

    def scores_of(self, query_tokens: list[str], rows) -> np.ndarray:
        """BM25 scores of the given passages for the tokens (0 where none of them occurs), as `scores`."""
        from docqa.index.bm25 import accumulate

        rows = np.asarray([int(r) for r in rows], dtype=np.int64)
        return accumulate(_fetch_postings(self._index, [(self, query_tokens)])[0], self._n_docs)[rows]


def _fetch_postings(index: ServerIndex, requests: list[tuple[ServerBM25, list[str]]]) -> list[list]:
    """For each (BM25 table pair, tokens): the postings of the known tokens as BM25Index._postings
    gives them (rows, weights, occurrence count; terms in the order of first occurrence), all in
    one binary statement (bytea comes as the bytes the build wrote, read with no copy)."""
    parts, params, counts = [], [], []
    for n, (bm25, tokens) in enumerate(requests):
        count = Counter(tokens)
        counts.append(count)
        parts.append(f"SELECT {n}, t.term, t.term_id, t.idf, p.rows, p.weights FROM {bm25.terms} t "
                     f"JOIN {bm25.postings} p USING (term_id) WHERE t.term = ANY(%s)")
        params.append(list(count))
    found: list[dict] = [{} for _ in requests]
    if any(params):
        for n, term, term_id, idf, rows, weights in index.query(" UNION ALL ".join(parts), params, binary=True):
            bm25 = requests[n][0]
            bm25._terms.put(term, (term_id, idf))
            bm25._idf_by_id.put(term_id, idf)
            rows, weights = np.frombuffer(rows, dtype="<i4"), np.frombuffer(weights, dtype="<f4")
            if len(rows) != len(weights):
                raise IndexDamagedError(f"the store {_safe(index.url)}: build {index.build}'s {bm25.prefix} postings "
                                        f"of term {term_id} are damaged; rebuild it with `docqa ingest --store "
                                        f"{_safe(index.url)}`")
            found[n][term] = (rows, weights)
    return [[(*found[n][term], c) for term, c in count.items() if term in found[n]] for n, count in enumerate(counts)]


class ServerUnits:
    """UnitStore's interface (index/units.py) over the build's units table, by passage row, cached."""

    def __init__(self, index: ServerIndex, analyzer):
        self._index, self._analyzer = index, analyzer
        self._cache = _LRU(index.settings.unit_cache)  # row -> (spans, vectors float32)
        self._terms = functools.lru_cache(maxsize=index.settings.unit_cache)(self._analyse_units)

    def prefetch(self, rows) -> None:
        wanted = sorted({int(r) for r in rows if int(r) not in self._cache})
        if not wanted:
            return
        found: dict[int, tuple[list, list]] = {r: ([], []) for r in wanted}
        for row, start, stop, vector in self._index.query(
                f"SELECT row, start, stop, embedding FROM {self._index.t('units')} WHERE row = ANY(%s) "
                "ORDER BY unit", (wanted,), binary=True):
            found[row][0].append((int(start), int(stop)))
            found[row][1].append(vector)
        dim = int(self._index.manifest["encoder"]["dim"])
        for row, (spans, vectors) in found.items():
            self._cache.put(row, (tuple(spans), np.stack(vectors) if vectors else np.zeros((0, dim), np.float32)))

    def _units(self, passage_row: int):
        value = self._cache.get(int(passage_row))
        if value is None:
            self.prefetch([passage_row])
            value = self._cache.get(int(passage_row))
        return value

    def _analyse_units(self, passage_row: int, text: str):
        spans = self._units(passage_row)[0]
        return spans, tuple(frozenset(self._analyzer(text[a:b])) for a, b in spans)

    def spans_and_terms(self, passage_row: int, text: str):
        return self._terms(int(passage_row), text)

    def vectors(self, passage_row: int) -> np.ndarray:
        return self._units(passage_row)[1]
