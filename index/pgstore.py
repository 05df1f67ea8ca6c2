"""The index in PostgreSQL (`--store postgresql://...` or DOCQA_STORE) instead of a folder.

The same build data as the folder store (index/store.py), in tables keyed by a build id:

    docqa_builds(build, manifest)            one row per complete build; the manifest as the folder's
    docqa_current(build)                     one row: the build readers load
    docqa_passages(build, row, data)         each passage with its citation fields (jsonb)
    docqa_documents(build, doc_id, data)     metadata and cleaned text per document (jsonb)
    docqa_arrays(build, name, data)          vectors, answer units and their vectors, both BM25
                                             matrices, as .npy bytes: loaded back bit for bit, so
                                             ranking is the same Python fusion/QA code on the same numbers

A build is written, made current and the previous build deleted in one transaction: a build killed
at any point leaves nothing behind and the old build answering. Readers load inside one REPEATABLE
READ transaction, so they see the old build or the new one whole, never a mix. A build holds a
session advisory lock: a second ingest at the same time refuses at once.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from docqa.index.store import (FORMAT_VERSION, IndexBusyError, IndexDamagedError, IndexMismatchError,
                               IndexMissingError, IndexProblem, LoadedIndex, _dense_index, _passage_from_json)

# pg_try_advisory_lock key: "docqa" in ASCII, so other applications' locks on the server do not collide
BUILD_LOCK_KEY = 0x646F637161

SCHEMA = """
CREATE TABLE IF NOT EXISTS docqa_builds (build text PRIMARY KEY, manifest jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS docqa_current (one boolean PRIMARY KEY DEFAULT true CHECK (one),
                                          build text NOT NULL REFERENCES docqa_builds);
CREATE TABLE IF NOT EXISTS docqa_passages (build text NOT NULL, row integer NOT NULL, data jsonb NOT NULL,
                                           PRIMARY KEY (build, row));
CREATE TABLE IF NOT EXISTS docqa_documents (build text NOT NULL, doc_id text NOT NULL, data jsonb NOT NULL,
                                            PRIMARY KEY (build, doc_id));
CREATE TABLE IF NOT EXISTS docqa_arrays (build text NOT NULL, name text NOT NULL, data bytea NOT NULL,
                                         PRIMARY KEY (build, name));
"""
_BM25_FILES = ("data.npy", "indices.npy", "indptr.npy", "doc_len.npy", "idf.npy", "vocab.json", "params.json")


class StoreUnreachableError(IndexProblem):
    """The PostgreSQL server of --store / DOCQA_STORE cannot be reached or refused the connection."""


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


def connect(url: str, **kwargs):
    try:
        import psycopg
    except ImportError:
        raise StoreUnreachableError("the PostgreSQL store needs psycopg; run `make setup` "
                                    "(or pip install 'docqa[postgres]')") from None
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except (psycopg.Error, ValueError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise StoreUnreachableError(f"cannot connect to the store {_safe(url)} ({detail}); check the URL and that "
                                    "the server runs (`make db` starts a local one, its URL in var/pg/url)") from None


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


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def write_build(url: str, manifest: dict, passages, document_rows, vectors: np.ndarray, units: np.ndarray,
                unit_vectors: np.ndarray, bm25, compound_bm25) -> tuple[str, dict]:
    """Write one build and make it current in a single transaction; the caller holds `build_lock`."""
    build = f"b{time.strftime('%Y%m%d-%H%M%S')}-{np.random.default_rng().integers(1 << 24):06x}"
    arrays = {"vectors.npy": _npy(np.asarray(vectors, dtype=np.float32)), "units.npy": _npy(units),
              "unit_vectors.npy": _npy(np.asarray(unit_vectors, dtype=np.float16))}
    with tempfile.TemporaryDirectory() as tmp:
        for name, index in (("bm25", bm25), ("bm25-compounds", compound_bm25)):
            index.save(Path(tmp) / name)
            for f in _BM25_FILES:
                arrays[f"{name}/{f}"] = (Path(tmp) / name / f).read_bytes()
    manifest = {**manifest, "passage_count": len(passages), "unit_count": len(units), "dense_index": "flat",
                "store": "postgresql", "build": build}
    conn = connect(url)
    try:
        with conn.transaction():
            conn.execute(SCHEMA)
            # rows of builds that are not current (none are left by this design; cheap insurance)
            _delete_builds(conn, "build NOT IN (SELECT build FROM docqa_current)")
            conn.execute("INSERT INTO docqa_builds VALUES (%s, %s)", (build, json.dumps(manifest)))
            with conn.cursor().copy("COPY docqa_passages (build, row, data) FROM STDIN") as copy:
                for i, p in enumerate(passages):
                    copy.write_row((build, i, json.dumps(p.to_json(), ensure_ascii=False)))
            with conn.cursor().copy("COPY docqa_documents (build, doc_id, data) FROM STDIN") as copy:
                for row in document_rows:
                    copy.write_row((build, row["meta"]["doc_id"], json.dumps(row, ensure_ascii=False)))
            with conn.cursor().copy("COPY docqa_arrays (build, name, data) FROM STDIN") as copy:
                for name, data in arrays.items():
                    copy.write_row((build, name, data))
            previous = conn.execute("SELECT build FROM docqa_current FOR UPDATE").fetchone()
            conn.execute("INSERT INTO docqa_current (one, build) VALUES (true, %s) "
                         "ON CONFLICT (one) DO UPDATE SET build = EXCLUDED.build", (build,))
            if previous:  # readers that loaded it keep their copy; their snapshots still see its rows
                _delete_builds(conn, "build = %s", (previous[0],))
    finally:
        conn.close()
    return build, manifest


def _delete_builds(conn, where: str, params=()) -> None:
    for table in ("docqa_passages", "docqa_documents", "docqa_arrays"):
        conn.execute(f"DELETE FROM {table} WHERE {where}", params)
    conn.execute(f"DELETE FROM docqa_builds WHERE {where} AND build NOT IN (SELECT build FROM docqa_current)",
                 params)


def read_manifest(url: str) -> dict | None:
    conn = connect(url)
    try:
        if conn.execute("SELECT to_regclass('docqa_current')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT b.manifest FROM docqa_current c JOIN docqa_builds b USING (build)").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def load_index(url: str) -> LoadedIndex:
    """Load the current build in one REPEATABLE READ transaction: one build, whole."""
    import psycopg

    from docqa.index.analyzer import AnalyzerSettings
    from docqa.index.bm25 import BM25Index
    from docqa.index.rowfile import RowFile
    from docqa.ingest.records import DocumentMeta

    conn = connect(url)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            if conn.execute("SELECT to_regclass('docqa_current')").fetchone()[0] is None:
                raise IndexMissingError(f"no index in the store {_safe(url)}; {_hint(url)}")
            row = conn.execute("SELECT b.build, b.manifest FROM docqa_current c JOIN docqa_builds b "
                               "USING (build)").fetchone()
            if row is None:
                raise IndexMissingError(f"no index in the store {_safe(url)}; {_hint(url)}")
            build, manifest = row
            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexMismatchError(f"the store {_safe(url)} holds index format {manifest.get('format_version')}"
                                         f" but this docqa reads format {FORMAT_VERSION}; {_hint(url)}")
            if manifest.get("settings", {}).get("analyzer", {}).get("version") != AnalyzerSettings().version:
                raise IndexMismatchError(f"the store {_safe(url)} was built with another BM25 analyser; {_hint(url)}")
            passages = [_passage_from_json(data) for (data,) in conn.execute(
                "SELECT data FROM docqa_passages WHERE build = %s ORDER BY row", (build,))]
            documents, texts = {}, {}
            for (data,) in conn.execute("SELECT data FROM docqa_documents WHERE build = %s", (build,)):
                meta = DocumentMeta(**data["meta"])
                documents[meta.doc_id], texts[meta.doc_id] = meta, data["text"]
            arrays = {name: bytes(data) for name, data in conn.execute(
                "SELECT name, data FROM docqa_arrays WHERE build = %s", (build,))}
    except psycopg.Error as exc:
        raise StoreUnreachableError(f"reading the store {_safe(url)} failed ({' '.join(str(exc).split())[:300]})") \
            from None
    finally:
        conn.close()
    tmp = Path(tempfile.mkdtemp(prefix="docqa-pg-"))
    try:
        for name, data in arrays.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        vectors = np.load(tmp / "vectors.npy", allow_pickle=False)
        units = np.load(tmp / "units.npy", allow_pickle=False)
        unit_vectors = RowFile(tmp / "unit_vectors.npy")  # keeps its file open; the name may go
        bm25 = BM25Index.load(tmp / "bm25", mmap=False)
        compound_bm25 = BM25Index.load(tmp / "bm25-compounds", mmap=False)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexDamagedError(f"the store {_safe(url)}: build {build} is damaged ({exc}); {_hint(url)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = {"manifest": manifest.get("passage_count"), "passages": len(passages), "vectors": len(vectors),
              "bm25": len(bm25), "bm25-compounds": len(compound_bm25)}
    if len(set(counts.values())) != 1:
        raise IndexDamagedError(f"the store {_safe(url)}: build {build} disagrees on the passage count {counts}; "
                                f"{_hint(url)}")
    return LoadedIndex(Path(f"postgresql:{build}"), manifest, passages, documents, texts, vectors, units,
                       unit_vectors, _dense_index(vectors), bm25, compound_bm25)
