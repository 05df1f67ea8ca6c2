"""Retrieval: BM25, dense, or both fused, then an optional rerank stage handed in by the caller."""
from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from docqa.errors import QueryError, SettingsError
from docqa.ingest.records import DocumentMeta, Passage
from docqa.index.analyzer import Analyzer, AnalyzerSettings
from docqa.index.store import IndexMismatchError, LoadedIndex, load_index

MODES = ("hybrid", "bm25", "dense")
MAX_QUERY_CHARS = 2000  # longer queries are cut (with a notice): nothing useful lies beyond


@dataclass(frozen=True)
class FusionSettings:
    method: str = "convex"  # "convex" or "rrf": convex measured better on dev (eval/RESULTS.md)
    rrf_k: int = 60  # the usual constant of reciprocal rank fusion
    dense_weight: float = 0.6  # share of the dense side in both methods, chosen on dev
    candidates: int = 100  # per side, before fusion: deeper lists changed no dev ranking in the top 20
    # A question word the documents never write ("loketbezoekcijfer") is looked up by its parts in the
    # BM25 of the passages with compounds split ("loket|bezoek"), with this weight against the
    # whole-word BM25 (index/analyzer.py); 1.5 by cross-validation.
    compound_weight: float = 1.5
    # A question in another language than the documents (English against Dutch text) shares few
    # words with them: BM25 finds 0.27 of English dev questions' passages in its top 10, dense 0.93.
    # The dense share for such a question (0.9: held-out MRR 0.8375 vs 0.8205, RESULTS.md); None keeps dense_weight.
    cross_language_dense_weight: float | None = 0.9

    def dense_share(self, cross_language: bool = False) -> float:
        """The dense side's weight in the fusion of one query."""
        if cross_language and self.cross_language_dense_weight is not None:
            return self.cross_language_dense_weight
        return self.dense_weight

    def __post_init__(self):
        if self.method not in ("rrf", "convex"):
            raise SettingsError(f"fusion method={self.method!r}: use 'rrf' or 'convex'")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise SettingsError(f"dense_weight={self.dense_weight}: must be between 0 and 1")
        if self.cross_language_dense_weight is not None and not 0.0 <= self.cross_language_dense_weight <= 1.0:
            raise SettingsError(f"cross_language_dense_weight={self.cross_language_dense_weight}: must be between "
                                "0 and 1, or None")
        if self.rrf_k < 1:
            raise SettingsError(f"rrf_k={self.rrf_k}: must be >= 1")
        if self.candidates < 1:
            raise SettingsError(f"candidates={self.candidates}: must be >= 1")
        if self.compound_weight < 0:
            raise SettingsError(f"compound_weight={self.compound_weight}: must be >= 0")


class Rerank(Protocol):
    """A stage after fusion (the QA layer's answer-window rerank is one): new scores for the first
    `depth` hits of the fused ranking, in their order."""

    depth: int

    def __call__(self, hits: list["Hit"], query_vector: np.ndarray | None) -> list[float]: ...


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its place in the ranking and the two sides' ranks and scores."""

    rank: int
    passage: Passage
    score: float
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None
    row: int = -1  # the passage's row in the index, for the stages that read its answer units

    def to_json(self) -> dict:
        p = self.passage
        return {
            "rank": self.rank, "chunk_id": p.chunk_id, "doc": p.doc_id, "title": p.title,
            "organisation": p.organisation, "year": p.year, "section": p.section, "page": p.page,
            "page_end": p.page_end, "line_start": p.line_start, "line_end": p.line_end, "char_start": p.char_start,
            "char_end": p.char_end, "text": p.text, "score": round(self.score, 6),
            "bm25_rank": self.bm25_rank, "bm25_score": _round(self.bm25_score),
            "dense_rank": self.dense_rank, "dense_score": _round(self.dense_score),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def prepare_query(query: str, what: str = "question") -> tuple[str, list[str]]:
    """Clean a user query; return it with notices for the user. Raises QueryError when empty.

    NFC first (an NFD "ë" would neither match the index's words nor embed the same); invisible
    format characters (zero-width space, word joiner, bidi controls) are dropped, so they cannot
    split a word; other control characters become spaces."""
    notices = []
    claim = what == "claim"
    if query is None:
        query = ""
    query = unicodedata.normalize("NFC", str(query))
    query = "".join("" if unicodedata.category(ch) == "Cf" else ch if ch.isprintable() else " " for ch in query)
    query = " ".join(query.split())
    if len(query) > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS]
        notices.append(f"de {'bewering' if claim else 'vraag'} is ingekort tot de eerste {MAX_QUERY_CHARS} tekens")
    if not query:
        raise QueryError("empty claim: paste the sentence to check" if claim
                         else "empty question: type a question or a few search words")
    return query, notices


def some(items, shown: int = 10) -> str:
    """A list for a message, cut after `shown` items: a corpus of 5,000 files names 10 of them."""
    items = list(items)
    head = ", ".join(map(str, items[:shown]))
    return head if len(items) <= shown else f"{head} ... and {len(items) - shown:,} more"


def short_organisation(name: str) -> str:
    """"BKWI (Bureau Keteninformatisering ...)" -> "BKWI"; a name without brackets stays whole."""
    return name.split(" (")[0].strip()


def organisation_names(name: str) -> set[str]:
    """The names a user may filter an organisation by, lower case: the full name, the part before
    the brackets and the abbreviation in them ("Ministerie van ... (BZK)" -> also "bzk")."""
    names = {name.lower().strip(), short_organisation(name).lower()}
    if name.rstrip().endswith(")") and " (" in name:
        names.add(name.rsplit(" (", 1)[1].rstrip(") ").lower())
    return {n for n in names if n}


class Searcher:
    """A loaded index. Thread-safe for queries: nothing is mutated after loading."""

    # for a store on a server: encoder -> a Searcher over the store's current build (docqa/engine.py)
    reopen = None

    def __init__(self, loaded: LoadedIndex, encoder=None, fusion: FusionSettings = FusionSettings()):
        self._idx = loaded
        self.manifest = loaded.manifest
        self.passages: list[Passage] = loaded.passages
        self.documents: dict[str, DocumentMeta] = loaded.documents
        self.fusion = fusion
        self.analyzer = Analyzer(AnalyzerSettings.from_json(loaded.manifest["settings"]["analyzer"]))
        self._encoder = encoder
        self.units = loaded.unit_store(self.analyzer)
        # Filters compare small integer codes per passage: string comparisons over a million
        # passages would cost more than the search itself.
        self._doc_codes_of = {doc_id: n for n, doc_id in enumerate(sorted(self.documents))}
        self._doc_codes, self._org_codes, self._years, self._orgs = loaded.passage_columns()

    @classmethod
    def load(cls, index_dir: Path, encoder=None, fusion: FusionSettings = FusionSettings(),
             verify: bool = True) -> "Searcher":
        return cls(load_index(index_dir, verify=verify), encoder, fusion)

    def with_fusion(self, fusion: FusionSettings) -> "Searcher":
        """The same loaded index ranked with other fusion settings (a shallow copy: nothing is
        loaded again and this searcher is left as it is)."""
        other = copy.copy(self)
        other.fusion = fusion
        return other

    def use_encoder(self, encoder, spec: str) -> None:
        """Query with this encoder; refuse one the index was not built with."""
        built_with = self.manifest["encoder"]["id"]
        if encoder.encoder_id != built_with:
            raise IndexMismatchError(f"the index was built with {built_with}, not {encoder.encoder_id}; "
                                     f"rebuild it with `docqa ingest --model {spec}`")
        self._encoder = encoder

    @property
    def encoder_if_loaded(self):
        return self._encoder

    @property
    def encoder(self):
        if self._encoder is None:
            from docqa.index.encoders import make_encoder

            self._encoder = make_encoder(self.manifest["encoder"]["id"])
        return self._encoder

    def document_text(self, doc_id: str) -> str:
        return self._idx.document_text(doc_id)

    @property
    def vectors(self) -> np.ndarray:
        return self._idx.vectors

    @property
    def bm25(self):
        return self._idx.bm25

    # -- filters ---------------------------------------------------------------------------
    def filter_mask(self, docs=(), orgs=(), years=()) -> np.ndarray | None:
        """Boolean mask of passages allowed by the filters; None when there are none."""
        docs, orgs, years = list(docs or ()), list(orgs or ()), list(years or ())
        if not (docs or orgs or years):
            return None
        mask = np.ones(len(self.passages), dtype=bool)
        if docs:
            unknown = [d for d in docs if d not in self.documents]
            if unknown:
                raise QueryError(f"unknown document {some(map(repr, unknown))}; indexed: "
                                 f"{some(sorted(self.documents))} (see `docqa docs`)")
            mask &= np.isin(self._doc_codes, [self._doc_codes_of[d] for d in docs])
        if orgs:
            wanted = []
            for org in orgs:
                # exact names only, as the app offers them: a substring filter ("UW") would
                # silently take in every organisation that contains it
                needle = " ".join(str(org).lower().split())
                matches = [n for n, name in enumerate(self._orgs) if needle in organisation_names(name)]
                if not matches:
                    raise QueryError(f"unknown organisation {org!r}; indexed: {some(repr(o) for o in self._orgs)}")
                wanted.extend(matches)
            mask &= np.isin(self._org_codes, wanted)
        if years:
            try:
                wanted = [int(y) for y in years]
            except (TypeError, ValueError):
                raise QueryError(f"year filter {years!r}: years are whole numbers such as 2024") from None
            known = sorted({int(y) for y in self._years if y >= 0})
            unknown = [y for y in wanted if y not in known]
            if unknown:
                raise QueryError(f"unknown year {', '.join(map(str, unknown))}; indexed: "
                                 f"{', '.join(map(str, known))}")
            mask &= np.isin(self._years, wanted)
        if not mask.any():
            raise QueryError("no passages match these filters together; widen them")
        return mask

    # -- ranking ---------------------------------------------------------------------------
    def bm25_ranking(self, query: str, n: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        bm25 = self._idx.bm25
        parts = self.analyzer.unknown_compound_parts(query, bm25.vocab) if self.fusion.compound_weight else []
        also = ((self._idx.compound_bm25, parts, self.fusion.compound_weight),) if parts else ()
        return bm25.top_k(self.analyzer(query), n, allowed=mask, also=also)

    def dense_ranking(self, query_vector: np.ndarray, n: int, mask: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray]:
        return self._dense_order(*self._idx.dense_search(query_vector, n, mask))

    @staticmethod
    def _dense_order(ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # ties by lower row, as BM25 breaks them: the folder's FAISS and the server's HNSW each
        # return equal scores in their own order
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def row_of(self, chunk_id: str) -> int | None:
        return self._idx.row_of(chunk_id)

    def passage_counts(self) -> dict[str, int]:
        """doc_id -> how many passages it has in the index."""
        counts = np.bincount(self._doc_codes, minlength=len(self._doc_codes_of)) if len(self._doc_codes) else []
        return {doc_id: int(counts[n]) for doc_id, n in self._doc_codes_of.items() if len(counts) and counts[n]}

    def idf(self, term: str) -> float | None:
        """The BM25 idf of an analysed term; None for a term the corpus never uses."""
        col = self._idx.bm25.vocab.get(term)
        return None if col is None else float(self._idx.bm25.idf[col])

    def organisations(self) -> list[str]:
        return list(self._orgs)

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(), years=(),
               query_vector: np.ndarray | None = None, rerank: Rerank | None = None,
               cross_language: bool = False) -> list[Hit]:
        """The top `k` passages: retrieve (BM25, dense or both) -> fuse -> rerank (a stage handed in,
        hybrid mode only). `query` is taken as given: the caller has cleaned it (`prepare_query`).
        `cross_language`: the query is not in the documents' language (fusion's cross-language weight)."""
        if mode not in MODES:
            raise QueryError(f"mode={mode!r}: use one of {', '.join(MODES)}")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise QueryError(f"k={k!r}: must be a whole number >= 1")
        query, _ = prepare_query(query)  # idempotent: a cleaned query comes back as it was
        mask = self.filter_mask(docs, orgs, years)
        depth = rerank.depth if rerank is not None and mode == "hybrid" else 0
        n = max(self.fusion.candidates, k, depth)
        bm25_ids = bm25_scores = dense_ids = dense_scores = np.zeros(0)
        dense = None
        if mode in ("dense", "hybrid"):
            if query_vector is None:
                query_vector = self.encoder.encode_queries([query])[0]
            # begun before BM25: a store on a server scans its HNSW graph while BM25 is summed here
            dense = self._idx.start_dense_search(query_vector, n, mask)
        if mode in ("bm25", "hybrid"):
            bm25_ids, bm25_scores = self.bm25_ranking(query, n, mask)
        if dense is not None:
            dense_ids, dense_scores = self._dense_order(*dense())
        bm25_side = {int(i): (r, float(s)) for r, (i, s) in enumerate(zip(bm25_ids, bm25_scores), 1)}
        dense_side = {int(i): (r, float(s)) for r, (i, s) in enumerate(zip(dense_ids, dense_scores), 1)}
        if mode == "bm25":
            fused = [(i, s) for i, (_, s) in bm25_side.items()]
        elif mode == "dense":
            fused = [(i, s) for i, (_, s) in dense_side.items()]
        else:
            fused = fuse(bm25_side, dense_side, self.fusion, cross_language)
        fused.sort(key=lambda item: (-item[1], item[0]))

        # the passages (and in a store on a server their answer units) of what is shown or reranked,
        # fetched together rather than one by one
        self._idx.prefetch([i for i, _ in fused[:max(k, depth)]])

        def make_hits(ranked):
            out = []
            for rank, (i, score) in enumerate(ranked, 1):
                b, d = bm25_side.get(i), dense_side.get(i)
                out.append(Hit(rank, self.passages[i], float(score), b[0] if b else None, b[1] if b else None,
                               d[0] if d else None, d[1] if d else None, row=i))
            return out

        if depth:
            head = fused[:depth]
            new_scores = rerank(make_hits(head), query_vector)
            head = sorted(((i, float(s)) for (i, _), s in zip(head, new_scores)), key=lambda item: (-item[1], item[0]))
            fused = head + fused[depth:]
        return make_hits(fused[:k])

    def query_vector(self, query: str) -> np.ndarray:
        return self.encoder.encode_queries([query])[0]


def fuse(bm25_side: dict, dense_side: dict, f: FusionSettings, cross_language: bool = False
         ) -> list[tuple[int, float]]:
    """The fused (row, score) of every candidate; each side maps row -> (rank, score)."""
    ids = set(bm25_side) | set(dense_side)
    w = f.dense_share(cross_language)
    if f.method == "rrf":
        def rrf(side, i):
            return 1.0 / (f.rrf_k + side[i][0]) if i in side else 0.0
        return [(i, (1 - w) * rrf(bm25_side, i) + w * rrf(dense_side, i)) for i in ids]
    # convex: min-max normalised scores over each side's candidates; a missing side counts 0
    def normalised(side):
        if not side:
            return {}
        vals = np.array([s for _, s in side.values()])
        lo, hi = vals.min(), vals.max()
        span = hi - lo if hi > lo else 1.0
        return {i: (s - lo) / span for i, (_, s) in side.items()}
    nb, nd = normalised(bm25_side), normalised(dense_side)
    return [(i, (1 - w) * nb.get(i, 0.0) + w * nd.get(i, 0.0)) for i in ids]
