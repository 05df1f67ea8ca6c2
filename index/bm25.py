"""Sparse BM25 engine whose scores equal `rank_bm25.BM25Okapi.get_scores`, built for ~1M passages.

rank-bm25 recomputes every term weight for every passage on every query (O(N) Python work per
query term). Here the BM25 weight of each (term, passage) pair is computed once at build time,
exactly as rank-bm25 would compute it, and stored in a term-major CSR matrix:

    row t = one vocabulary term, its non-zeros = the passages containing t,
    value  = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))

A query is then the sum of the rows of its tokens, so it costs O(postings of its terms) in numpy,
plus a few vectorised O(N) passes (zeroed accumulator, mask) that take about a millisecond at 1M.

Faithfulness to rank-bm25 0.2.2 (BM25Okapi):
  * idf = log(N - n + 0.5) - log(n + 0.5); terms with idf < 0 (n > N/2) get
    epsilon * average_idf, where the average is over the raw idf of the whole vocabulary.
    A term with idf exactly 0 (n == N/2) keeps 0.
  * Repeated query tokens count once per occurrence; unknown tokens contribute nothing.
  * If the average idf is itself negative (tiny corpora where most terms are in most passages),
    epsilon * average_idf is negative and rank-bm25 produces negative scores; so do we.
Known, deliberate deviations (rank-bm25 returns NaN or raises in these degenerate cases):
  * k1 == 0, or b == 1 with an empty passage: rank-bm25 evaluates 0/0 = NaN for passages lacking
    a query term; here a passage lacking a term simply gets 0 from it.
  * An empty corpus or a corpus of only empty passages (rank-bm25 raises ZeroDivisionError)
    builds an index on which every query scores 0.
Weights are stored as float32 (half the memory of float64) and summed in float64, so scores agree
with rank-bm25 to about 1e-7 relative to the largest term weight involved.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from itertools import chain
from pathlib import Path

import numpy as np

_REBUILD_HINT = "rebuild the index with `docqa ingest`"
# Block size for top_k's threshold search; 256 keeps the block-max pass at ~0.4 ms per 1M scores.
_BLOCK = 256


class BM25Index:
    PARAMS_VERSION = 1

    # Files written by save() / read by load(); the folder is expected to belong to this index.
    VOCAB_FILE = "vocab.json"  # {token: row of the term-major matrix}
    DATA_FILE = "data.npy"  # float32 BM25 weight per posting
    INDICES_FILE = "indices.npy"  # int32 passage index per posting
    INDPTR_FILE = "indptr.npy"  # int64, length vocab_size + 1: row t = data[indptr[t]:indptr[t+1]]
    DOC_LEN_FILE = "doc_len.npy"  # int64 token count per passage
    IDF_FILE = "idf.npy"  # float64 idf per term (after the epsilon floor)
    PARAMS_FILE = "params.json"

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
        self.k1 = _check_param("k1", k1, low=0.0)
        self.b = _check_param("b", b, low=0.0, high=1.0)
        self.epsilon = _check_param("epsilon", epsilon, low=0.0)
        # An empty index until build()/load() fills it in.
        self.vocab: dict[str, int] = {}
        self.avgdl = 0.0
        self._n_docs = 0
        self._data = np.zeros(0, dtype=np.float32)
        self._indices = np.zeros(0, dtype=np.int32)
        self._indptr = np.zeros(1, dtype=np.int64)
        self.doc_len = np.zeros(0, dtype=np.int64)
        self.idf = np.zeros(0, dtype=np.float64)

    def __len__(self) -> int:
        return self._n_docs

    def __repr__(self) -> str:
        return (f"BM25Index(n_docs={self._n_docs}, vocab_size={len(self.vocab)}, "
                f"postings={len(self._data)}, k1={self.k1}, b={self.b}, epsilon={self.epsilon})")

    # ------------------------------------------------------------------ build

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.5, b: float = 0.75,
              epsilon: float = 0.25) -> "BM25Index":
        """Index pre-analysed passages (one list of string tokens per passage)."""
        from scipy import sparse  # build-time only; the query/load path is numpy-only

        self = cls(k1=k1, b=b, epsilon=epsilon)
        if isinstance(corpus_tokens, (str, bytes)):
            raise TypeError("corpus_tokens must be a list of token lists, not a string")
        corpus_tokens = corpus_tokens if isinstance(corpus_tokens, list) else list(corpus_tokens)
        for i, doc in enumerate(corpus_tokens):  # cheap per-passage check; catches "list of str"
            if isinstance(doc, (str, bytes)):
                raise TypeError(f"corpus_tokens[{i}] is a string; expected a list of tokens")
        n_docs = len(corpus_tokens)
        doc_len = np.fromiter(map(len, corpus_tokens), dtype=np.int64, count=n_docs)
        total = int(doc_len.sum())

        # Token -> term id in a single C-level pass: a defaultdict whose factory is its own
        # __len__ gives each new token the next id, so ids follow first appearance and a build
        # is deterministic. This one dict lookup per token is most (~75%) of the build time at
        # 1M passages; everything after it is numpy/scipy.
        ids_of: defaultdict[str, int] = defaultdict()
        ids_of.default_factory = ids_of.__len__
        term_ids = np.fromiter(map(ids_of.__getitem__, chain.from_iterable(corpus_tokens)),
                               dtype=np.int32, count=total)
        vocab = dict(ids_of)
        del ids_of
        bad = next((t for t in vocab if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"tokens must be str, got {type(bad).__name__} {bad!r}")
        n_terms = len(vocab)

        # Passage-major matrix with one entry per token occurrence; converting it to term-major
        # (CSC of passages x terms == CSR of terms x passages) is a linear-time counting sort that
        # keeps passages in ascending order within each term, so equal (term, passage) entries
        # are adjacent and sum_duplicates turns them into term frequencies without a sort.
        doc_indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(doc_len, out=doc_indptr[1:])
        by_doc = sparse.csr_matrix((np.ones(total, dtype=np.int32), term_ids, doc_indptr),
                                   shape=(n_docs, n_terms))
        del term_ids
        by_term = by_doc.tocsc()
        del by_doc
        by_term.sum_duplicates()
        indptr = by_term.indptr.astype(np.int64, copy=False)
        indices = by_term.indices.astype(np.int32, copy=False)
        tf = by_term.data
        del by_term

        df = np.diff(indptr)
        avgdl = total / n_docs if n_docs else 0.0
        if n_terms:
            # Same expression as rank-bm25 (two logs, not the log of a ratio).
            idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
            # rank-bm25 averages over the raw idf of every term, before the epsilon floor.
            average_idf = math.fsum(idf.tolist()) / n_terms
            idf[idf < 0] = self.epsilon * average_idf
        else:
            idf = np.zeros(0, dtype=np.float64)

        # Per-passage length normalisation, written exactly as rank-bm25 writes it.
        norm = self.k1 * (1 - self.b + self.b * doc_len / avgdl) if avgdl else np.zeros(n_docs)
        data = np.empty(len(tf), dtype=np.float32)
        # Computed in float64 chunks (bounded temporaries at 1M passages), then stored as float32.
        term_of = np.repeat(np.arange(n_terms, dtype=np.int32), df)
        chunk = 1 << 23
        for start in range(0, len(tf), chunk):
            sl = slice(start, start + chunk)
            f = tf[sl].astype(np.float64)
            data[sl] = idf[term_of[sl]] * (f * (self.k1 + 1) / (f + norm[indices[sl]]))
        del term_of, tf

        self.vocab = vocab
        self.avgdl = float(avgdl)
        self._n_docs = n_docs
        self._data, self._indices, self._indptr = data, indices, indptr
        self.doc_len = doc_len
        self.idf = idf
        return self

    # ------------------------------------------------------------------ query

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage, float64 of shape (N,); equals rank-bm25's get_scores."""
        return self._accumulate(self._query_terms(query_tokens), self._n_docs)

    def top_k(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None,
              also: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages as (indices int64, scores float64), best first.

        Only passages with score > 0 are hits; ties are broken by lower passage index. `allowed`
        is an optional boolean mask of length N; passages where it is False are never returned.
        `also` holds (index, tokens, weight) triples: BM25 indexes of the same passages (another
        field of them) whose weighted scores for their tokens are added.
        """
        allowed = check_top_k(self._n_docs, k, allowed, also)
        terms = self._query_terms(query_tokens)
        others = []
        for other, tokens, weight in also:
            other_terms = other._query_terms(tokens)
            if other_terms and weight > 0:
                others.append((other, other_terms, weight))
        return ranked(self._n_docs, k, self._postings(terms),
                      [(other._postings(other_terms), weight) for other, other_terms, weight in others], allowed)

    def _postings(self, terms: list[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """(passage rows, float32 weights, occurrence count) of each of `terms`, in their order."""
        out = []
        for term, count in terms:
            start, end = self._indptr[term], self._indptr[term + 1]
            out.append((self._indices[start:end], self._data[start:end], count))
        return out

    def _accumulate(self, terms: list[tuple[int, int]], size: int) -> np.ndarray:
        return accumulate(self._postings(terms), size)

    def _query_terms(self, query_tokens: list[str]) -> list[tuple[int, int]]:
        """(term row, occurrence count) for the query tokens that are in the vocabulary."""
        if isinstance(query_tokens, (str, bytes)):
            raise TypeError("query_tokens must be a list of tokens, not a string")
        counts = Counter(self.vocab.get(tok) for tok in query_tokens)
        counts.pop(None, None)
        return list(counts.items())

    # ------------------------------------------------------------------ persistence

    def save(self, folder) -> None:
        """Write the index as plain .npy/.json files into `folder` (created if needed).

        Each file is written to a temporary name and renamed into place, so a process that has
        the previous index memory-mapped keeps reading the old (unlinked) file instead of
        crashing on a file truncated under it. params.json is written last.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            self.DATA_FILE: self._data,
            self.INDICES_FILE: self._indices,
            self.INDPTR_FILE: self._indptr,
            self.DOC_LEN_FILE: self.doc_len,
            self.IDF_FILE: self.idf,
        }
        for name, arr in arrays.items():
            _atomic_write(folder / name, lambda f, a=arr: np.save(f, np.ascontiguousarray(a),
                                                                   allow_pickle=False))
        _atomic_write(folder / self.VOCAB_FILE, lambda f: f.write(
            json.dumps(self.vocab, ensure_ascii=False, separators=(",", ":")).encode("utf-8")))
        params = {"k1": self.k1, "b": self.b, "epsilon": self.epsilon, "avgdl": self.avgdl,
                  "n_docs": self._n_docs, "params_version": self.PARAMS_VERSION}
        _atomic_write(folder / self.PARAMS_FILE,
                      lambda f: f.write(json.dumps(params, indent=2).encode("utf-8")))

    @classmethod
    def load(cls, folder, mmap: bool = True) -> "BM25Index":
        """Load an index written by save(). The postings are memory-mapped read-only by default.

        Raises ValueError naming the offending file if a file is missing, unreadable, or
        inconsistent with the others.
        """
        folder = Path(folder)
        params_path = folder / cls.PARAMS_FILE
        params = _read_json(params_path)
        try:
            version = params["params_version"]
            n_docs = params["n_docs"]
            avgdl = float(params["avgdl"])
            k1, b, epsilon = params["k1"], params["b"], params["epsilon"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _damaged(params_path, f"bad or missing field: {exc}") from exc
        if version != cls.PARAMS_VERSION:
            raise _damaged(params_path, f"params_version {version!r}, this code reads "
                                        f"{cls.PARAMS_VERSION}")
        if isinstance(n_docs, bool) or not isinstance(n_docs, int) or n_docs < 0:
            raise _damaged(params_path, f"n_docs must be a non-negative int, got {n_docs!r}")
        try:
            self = cls(k1=k1, b=b, epsilon=epsilon)
        except (TypeError, ValueError) as exc:
            raise _damaged(params_path, str(exc)) from exc

        vocab_path = folder / cls.VOCAB_FILE
        vocab = _read_json(vocab_path)
        if not isinstance(vocab, dict):
            raise _damaged(vocab_path, "expected a JSON object {token: row}")
        n_terms = len(vocab)
        rows = np.fromiter((v if type(v) is int else -1 for v in vocab.values()),
                           dtype=np.int64, count=n_terms)
        # Rows must be a permutation of 0..n_terms-1.
        if n_terms and (rows.min() < 0 or rows.max() >= n_terms
                        or np.count_nonzero(np.bincount(rows, minlength=n_terms)) != n_terms):
            raise _damaged(vocab_path, "rows are not the integers 0..vocab_size-1")

        mode = "r" if mmap else None
        data = _load_array(folder / cls.DATA_FILE, (np.float32,), mode)
        indices = _load_array(folder / cls.INDICES_FILE, (np.int32, np.int64), mode)
        indptr = _load_array(folder / cls.INDPTR_FILE, (np.int64,), None)
        doc_len = _load_array(folder / cls.DOC_LEN_FILE, (np.int64,), None)
        idf = _load_array(folder / cls.IDF_FILE, (np.float64,), None)

        def check(ok: bool, path: Path, what: str) -> None:
            if not ok:
                raise _damaged(path, what)

        check(len(indptr) == n_terms + 1, folder / cls.INDPTR_FILE,
              f"length {len(indptr)} but {cls.VOCAB_FILE} has {n_terms} terms (expected "
              f"{n_terms + 1})")
        check(indptr[0] == 0 and bool(np.all(indptr[1:] >= indptr[:-1])),
              folder / cls.INDPTR_FILE, "offsets are not non-decreasing from 0")
        check(int(indptr[-1]) == len(data), folder / cls.DATA_FILE,
              f"{len(data)} postings but {cls.INDPTR_FILE} ends at {int(indptr[-1])}")
        check(len(indices) == len(data), folder / cls.INDICES_FILE,
              f"{len(indices)} postings but {cls.DATA_FILE} has {len(data)}")
        check(len(idf) == n_terms, folder / cls.IDF_FILE,
              f"length {len(idf)} but {cls.VOCAB_FILE} has {n_terms} terms")
        check(len(doc_len) == n_docs, folder / cls.DOC_LEN_FILE,
              f"length {len(doc_len)} but {cls.PARAMS_FILE} says n_docs={n_docs}")
        expected_avgdl = float(doc_len.sum()) / n_docs if n_docs else 0.0
        check(math.isclose(avgdl, expected_avgdl, rel_tol=1e-9, abs_tol=1e-12), params_path,
              f"avgdl {avgdl} but {cls.DOC_LEN_FILE} gives {expected_avgdl}")
        # A full range check of `indices` would read every posting (slow with mmap); checking the
        # first and last posting catches most mismatched files, and an out-of-range passage
        # index fails loudly with IndexError at query time rather than returning wrong results.
        if len(indices):
            check(0 <= int(indices[0]) < n_docs and 0 <= int(indices[-1]) < n_docs,
                  folder / cls.INDICES_FILE, f"passage index out of range for n_docs={n_docs}")

        self.vocab = vocab
        self.avgdl = avgdl
        self._n_docs = n_docs
        self._data, self._indices, self._indptr = data, indices, indptr
        self.doc_len = doc_len
        self.idf = idf
        return self


# ---------------------------------------------------------------------- scoring
# Shared by BM25Index and by the PostgreSQL store's reader (index/pgstore.py), which fetches the same
# postings from the server: the same additions in the same order give the same scores bit for bit.

def check_top_k(n_docs: int, k, allowed, also) -> np.ndarray | None:
    """top_k's arguments checked; `allowed` as an array."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {k!r}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if allowed is not None:
        allowed = np.asarray(allowed)
        if allowed.dtype != np.bool_ or allowed.shape != (n_docs,):
            raise ValueError(f"allowed must be a boolean mask of shape ({n_docs},), "
                             f"got dtype {allowed.dtype} shape {allowed.shape}")
    for other, _, weight in also:
        if len(other) != n_docs:
            raise ValueError(f"also: an index of {len(other)} passages, not {n_docs}")
        if weight < 0:
            raise ValueError(f"also: weight {weight} must be >= 0")
    return allowed


def accumulate(postings, size: int) -> np.ndarray:
    """Sum postings, (passage rows, weights, occurrence count) per query term in the query's order,
    into a zeroed float64 array of length `size` >= N."""
    acc = np.zeros(size, dtype=np.float64)
    for rows, weights, count in postings:
        # Passages are unique within a row, so buffered fancy-index += is exact (no add.at
        # needed) and, for frequent terms, faster than bincount over concatenated postings.
        # A token repeated c times contributes c times its weight, as in rank-bm25.
        acc[rows] += weights if count == 1 else weights * np.float64(count)
    return acc


def ranked(n_docs: int, k: int, postings, others=(), allowed: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """top_k's ranking from the postings of the query's terms (see `accumulate`) and of other BM25
    indexes' terms with their weights (`others`: (postings, weight) pairs, the weights > 0)."""
    if k == 0 or not (postings or others):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    # The accumulator is padded to whole blocks (padding stays 0, so it is never a hit).
    n_blocks = -(-n_docs // _BLOCK)
    acc = accumulate(postings, n_blocks * _BLOCK)
    for other_postings, weight in others:
        acc += weight * accumulate(other_postings, n_blocks * _BLOCK)
    if allowed is not None:
        view = acc[:n_docs]
        np.multiply(view, allowed, out=view)  # disallowed -> 0, i.e. not a hit

    # Frequent terms make nearly every passage a hit, and partitioning ~N scores costs far
    # more than the scoring itself. Instead find a threshold cheaply: the k-th largest of
    # the per-block maxima. k blocks reach it, so at least k scores are >= it, so every
    # top-k score (and every passage tied with the k-th) is >= it. That leaves a tiny exact
    # candidate set. If fewer than k blocks have a positive maximum, all hits fit in fewer
    # than k blocks anyway and we take them all.
    threshold = 0.0
    if n_blocks > k:
        block_max = acc.reshape(n_blocks, _BLOCK).max(axis=1)
        threshold = float(np.partition(block_max, n_blocks - k)[n_blocks - k])
    cand = np.flatnonzero(acc >= threshold) if threshold > 0 else np.flatnonzero(acc > 0)
    cand_scores = acc[cand]  # cand is in ascending passage order
    if len(cand) > k:
        # k-th largest score; keep everything above it, then fill with the lowest-index
        # passages that tie with it (argpartition alone would pick tied ones arbitrarily).
        kth = np.partition(cand_scores, len(cand) - k)[len(cand) - k]
        keep = cand_scores > kth
        tied = np.flatnonzero(cand_scores == kth)[: k - int(keep.sum())]
        keep[tied] = True
        cand, cand_scores = cand[keep], cand_scores[keep]
    order = np.lexsort((cand, -cand_scores))  # primary: score desc, secondary: index asc
    return cand[order].astype(np.int64, copy=False), cand_scores[order]


# ---------------------------------------------------------------------- helpers

def _check_param(name: str, value, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


def _damaged(path: Path, cause: str) -> ValueError:
    return ValueError(f"{path}: damaged index file ({cause}); {_REBUILD_HINT}")


def _load_array(path: Path, dtypes: tuple, mmap_mode: str | None) -> np.ndarray:
    if not path.is_file():
        raise _damaged(path, "file is missing")
    try:
        arr = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except Exception as exc:  # truncated/garbled files raise ValueError, EOFError, OSError, ...
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from exc
    if arr.ndim != 1 or arr.dtype not in [np.dtype(d) for d in dtypes]:
        raise _damaged(path, f"expected a 1-D {'/'.join(np.dtype(d).name for d in dtypes)} "
                             f"array, got {arr.ndim}-D {arr.dtype}")
    return arr


def _read_json(path: Path):
    if not path.is_file():
        raise _damaged(path, "file is missing")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from exc


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)
