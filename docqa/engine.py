"""The one way in: open an index with an encoder, then search, ask, read context, list documents.

    import docqa
    engine = docqa.open_engine()                      # DOCQA_INDEX / DOCQA_MODEL, or pass them
    engine.ask("welke norm geldt voor beschikbaarheid Suwinet").answer

Every face (CLI, app, HTTP API, evaluation, benchmarks) goes through `Engine` and nothing else.
The path of a question: analyse it once (`qa/question.py`) -> retrieve and fuse (`index/search.py`)
-> rerank by answer windows (`qa/rerank.py`) -> windows of the top passages (`qa/windows.py`) ->
answer, abstention and confidence (`qa/answer.py`). Settings are passed in (`EngineSettings`);
`with_settings` gives another engine over the same loaded index, so nothing is ever patched.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path

from docqa import config
from docqa.errors import QueryError, SettingsError
from docqa.index.search import FusionSettings, Hit, Searcher, prepare_query
from docqa.qa.answer import Answer, AnswerSettings, choose_answer, rebind
from docqa.qa.claims import ClaimCandidate, ClaimCheck, ClaimChecker, ClaimSettings
from docqa.qa.question import Question, analyse
from docqa.qa.rerank import RerankSettings, WindowRerank
from docqa.qa.windows import WindowScorer, WindowSettings


@dataclass(frozen=True)
class EngineSettings:
    """Every tunable of a question's way, by stage; `docqa eval --tune stage.field=...` names them."""

    fusion: FusionSettings = field(default_factory=FusionSettings)
    rerank: RerankSettings = field(default_factory=RerankSettings)
    windows: WindowSettings = field(default_factory=WindowSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    claims: ClaimSettings = field(default_factory=ClaimSettings)

    STAGES = ("fusion", "rerank", "windows", "answer", "claims")

    def replace(self, name: str, value) -> "EngineSettings":
        """A copy with one setting changed: `replace("rerank.weight", 1.0)`."""
        stage, dot, attr = name.partition(".")
        if stage not in self.STAGES or not dot:
            raise SettingsError(f"setting {name!r}: write STAGE.FIELD with STAGE one of {', '.join(self.STAGES)}")
        holder = getattr(self, stage)
        fields = [f.name for f in dataclasses.fields(holder)]
        if attr not in fields:
            raise SettingsError(f"setting {name!r}: {stage} has no field {attr!r}; it has {', '.join(sorted(fields))}")
        return dataclasses.replace(self, **{stage: dataclasses.replace(holder, **{attr: value})})

    def get(self, name: str):
        stage, _, attr = name.partition(".")
        return getattr(getattr(self, stage), attr)

    def to_json(self) -> dict:
        return {stage: dataclasses.asdict(getattr(self, stage)) for stage in self.STAGES}


@dataclass(frozen=True)
class SearchResult:
    query: str
    notices: tuple[str, ...]
    hits: tuple[Hit, ...]

    def to_json(self) -> dict:
        return {"query": self.query, "notices": list(self.notices), "hits": [h.to_json() for h in self.hits]}


@dataclass(frozen=True)
class Context:
    passage: object  # docqa.ingest.records.Passage
    before: str
    text: str
    after: str

    def to_json(self) -> dict:
        return {"chunk_id": self.passage.chunk_id, "before": self.before, "text": self.text, "after": self.after}


@dataclass(frozen=True)
class PageView:
    """A page of a passage's PDF as a PNG, with the quote marked when it stands on that page."""

    chunk_id: str
    page: int  # 1-based
    page_count: int
    quote: str  # what was looked for on this page ("" on a page outside the passage)
    found: bool
    png: bytes
    width: int
    height: int
    boxes: tuple[tuple[int, int, int, int], ...]  # the marked lines, (left, top, right, bottom) in pixels
    quote_pages: tuple[int, ...] = ()  # the pages the quote is marked on: two when it runs over a page break


@dataclass(frozen=True)
class SourceLine:
    number: int  # 1-based line of the source file, as the citation's "r. N" counts
    text: str
    in_passage: bool


def _reopens(method):
    """A question to a PostgreSQL store whose build this engine opened was dropped by two newer builds
    (index/pgstore.py): open the current build and ask once more."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        from docqa.index.pgstore import StoreBuildGoneError

        try:
            return method(self, *args, **kwargs)
        except StoreBuildGoneError:
            if self._searcher.reopen is None:
                raise
            self._use(self._searcher.reopen(self._searcher.encoder_if_loaded))
            return method(self, *args, **kwargs)
    return wrapper


class Engine:
    """A loaded index with its encoder and settings. Thread-safe: queries change nothing (but a store
    on a server whose build is gone is opened again, in one assignment)."""

    def __init__(self, searcher: Searcher, settings: EngineSettings = EngineSettings(), calibration=None):
        self.settings = settings
        self._use(searcher)
        self._claims = ClaimChecker(settings.claims)
        self._calibration = calibration if calibration is not None else _shipped_calibration()
        self._claim_calibration = _shipped_calibration(claims=True)

    def _use(self, searcher: Searcher) -> None:
        # the fusion settings are the searcher's; another value gets its own view of the same index
        if searcher.fusion != self.settings.fusion:
            searcher = searcher.with_fusion(self.settings.fusion)
        windows = WindowScorer(searcher, self.settings.windows)
        # a claim is compared with shorter windows: the answers' 300 characters called one false dev
        # claim supported (a figure of the next sentence), 250 none
        cw = self.settings.windows.claim_window_chars
        claim_windows = WindowScorer(searcher, dataclasses.replace(self.settings.windows, window_chars=cw,
                                                                  list_window_chars=cw))
        self._searcher, self._windows, self._claim_windows = searcher, windows, claim_windows

    # -- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, index: str | Path | None = None, *, model: str | None = None,
             settings: EngineSettings | None = None, verify: bool = True, store: str | None = None) -> "Engine":
        """Open the index folder (`index`, else DOCQA_INDEX, else var/index), or the PostgreSQL store
        (`store`, else DOCQA_STORE: a postgresql:// URL). `model` (else DOCQA_MODEL) must be the
        encoder the index was built with; by default that one is loaded."""
        store = config.store_url(store)
        if store:
            searcher = _store_searcher(store)
        else:
            searcher = Searcher.load(config.index_dir(str(index) if index else None), verify=verify)
        spec = config.model_spec(model)
        if spec:
            from docqa.index.encoders import make_encoder

            searcher.use_encoder(make_encoder(spec), spec)
        return cls(searcher, settings or EngineSettings())

    def with_settings(self, settings: EngineSettings) -> "Engine":
        """Another engine with these settings over the same loaded index and encoder."""
        return Engine(self._searcher, settings, self._calibration)

    def with_calibration(self, calibration) -> "Engine":
        """Another engine whose answers take their probability from this calibration (or none: False)."""
        return Engine(self._searcher, self.settings, calibration)

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        self._searcher.encoder.encode_queries(["opwarmen"])

    # -- questions -----------------------------------------------------------------------------------
    def analyse(self, question: str, what: str = "question") -> Question:
        """Clean and analyse a question (or a claim: `what="claim"`) once; raises QueryError for an empty one."""
        text, notices = prepare_query(question, what)
        return analyse(text, notices, self._searcher.analyzer, self._searcher.organisations())

    def _capped(self, q: Question, k) -> tuple[Question, int]:
        """k checked, and capped at the passage count with a notice: a k of two billion would
        otherwise allocate for two billion results before anything is found."""
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise QueryError(f"k={k!r}: must be a whole number >= 1")
        n = len(self._searcher.passages)
        if k > n:
            notice = f"k={k} is more than the {n} passages of the index; all {n} are ranked"
            return dataclasses.replace(q, notices=q.notices + (notice,)), n
        return q, k

    @_reopens
    def search(self, question: str | Question, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(),
               years=(), query_vector=None) -> SearchResult:
        q = question if isinstance(question, Question) else self.analyse(question)
        q, k = self._capped(q, k)
        hits, _ = self._retrieve(q, k, mode, docs, orgs, years, query_vector)
        return SearchResult(q.text, q.notices, tuple(hits))

    @_reopens
    def ask(self, question: str | Question, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(),
            years=(), query_vector=None) -> Answer:
        q = question if isinstance(question, Question) else self.analyse(question)
        q, k = self._capped(q, k)
        if query_vector is None:
            query_vector = self._searcher.query_vector(q.text)
        hits, rerank = self._retrieve(q, k, mode, docs, orgs, years, query_vector)
        top = hits[:self.settings.answer.passages]
        scored = rerank.windows if rerank is not None else {}
        unseen = [h for h in top if h.passage.chunk_id not in scored]
        windows = [w for h in top for w in scored.get(h.passage.chunk_id, [])]
        windows = rebind(windows, top) + self._windows.windows(q, query_vector, unseen)
        return choose_answer(q, hits, windows, self.settings.answer, self._calibration or None)

    @_reopens
    def check(self, claim: str, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(), years=(),
              query_vector=None) -> ClaimCheck:
        """Does the source say what the claim says? Retrieval as for a question (the claim is its
        own query), then every answer window of the top `k` passages is compared with the claim
        detail by detail (`qa/claims.py`). The verdict is supported, contradicted or not_found."""
        q = self.analyse(claim, "claim")
        q, k = self._capped(q, k)
        if query_vector is None:
            query_vector = self._searcher.query_vector(q.text)
        hits, _ = self._retrieve(q, k, mode, docs, orgs, years, query_vector, self._claim_windows)
        candidates = [ClaimCandidate(w.hit, w.start, w.end, w.score, dict(w.features))
                      for w in self._claim_windows.windows(q, query_vector, hits)]
        result = self._claims.check(q.text, candidates)
        probability = None
        if self._claim_calibration:
            from docqa.qa.calibration import claim_features

            probability = self._claim_calibration.probability(claim_features(result))
        return dataclasses.replace(result, probability=probability, hits=tuple(hits), notices=q.notices)

    def _retrieve(self, q: Question, k, mode, docs, orgs, years, query_vector, scorer=None):
        rerank = None
        if mode == "hybrid" and self.settings.rerank.weight > 0 and self.settings.rerank.depth > 0:
            rerank = WindowRerank(q, scorer or self._windows, self.settings.rerank)
            if query_vector is None:
                query_vector = self._searcher.query_vector(q.text)
        hits = self._searcher.search(q.text, k=k, mode=mode, docs=docs, orgs=orgs, years=years,
                                     query_vector=query_vector, rerank=rerank, cross_language=q.english)
        return hits, rerank

    # -- the index -----------------------------------------------------------------------------------
    @_reopens
    def passage(self, chunk_id: str):
        row = self._searcher.row_of(chunk_id)
        if row is None:
            raise QueryError(f"no passage {chunk_id!r} in the index; take a chunk_id from `docqa search --json`")
        return self._searcher.passages[row]

    @_reopens
    def context(self, chunk_id: str, chars: int = 600) -> Context:
        """The passage with up to `chars` characters of its cleaned document before and after it."""
        if not isinstance(chars, int) or isinstance(chars, bool) or not 0 <= chars <= 100_000:
            raise QueryError(f"chars={chars!r}: must be a whole number from 0 to 100000")
        p = self.passage(chunk_id)
        text = self._searcher.document_text(p.doc_id)
        start, end = max(0, p.char_start - chars), min(len(text), p.char_end + chars)
        # whole words only: a context that opens with "...n professionele" reads as a misquote
        if start > 0 and not text[start - 1].isspace():
            cut = text.find(" ", start, p.char_start)
            start = cut + 1 if cut >= 0 else p.char_start
        if end < len(text) and not text[end].isspace():
            cut = text.rfind(" ", p.char_end, end)
            end = cut if cut >= 0 else p.char_end
        return Context(p, text[start:p.char_start], text[p.char_start:p.char_end], text[p.char_end:end])

    def page_view(self, chunk_id: str, quote: str | None = None, page: int | None = None, *,
                  corpus: str | Path | None = None, settings=None) -> PageView:
        """A page of the PDF a passage comes from, rendered, with `quote` marked (by default the
        passage's first sentence) on the first of the passage's pages that holds it (a passage may
        run over a page break), else on its first page with `found` False. A quote that itself runs
        over a page break is marked on both pages: its start on the first, the rest on the next
        (`quote_pages`). Another `page` is shown with its part of the quote marked, or unmarked
        (quote ""): paging through the document from the cited page. The file must lie inside
        `corpus` (else DOCQA_CORPUS); PageViewError otherwise or for a page out of range."""
        from docqa.pageview import PageViewError, PageViewSettings, quote_over_break, render_page

        p = self.passage(chunk_id)
        if p.page is None or not str(p.source_path).lower().endswith(".pdf"):
            raise PageViewError(f"{chunk_id}: not a passage of a PDF; it is cited by lines")
        corpus = config.corpus_dir(str(corpus) if corpus else None)
        settings = settings or PageViewSettings()
        quote = " ".join((quote if quote is not None else self._first_sentence(p.text)).split())
        last_page = p.page_end or p.page
        marks: dict[int, tuple[str, bool]] = {}  # page -> (what to mark there, look for its last occurrence)
        for candidate in range(p.page, last_page + 1):
            if render_page(p.source_path, candidate, quote, corpus_dir=corpus, settings=settings).found:
                marks = {candidate: (quote, False)}
                break
        if not marks:
            for candidate in range(p.page, last_page):
                parts = quote_over_break(p.source_path, candidate, quote, corpus_dir=corpus)
                if parts is not None:
                    marks = {candidate: (parts[0], True), candidate + 1: (parts[1], False)}
                    break
        shown = page if page is not None else (min(marks) if marks else p.page)
        if shown in marks:
            mark, last = marks[shown]
        elif not marks and shown == p.page:  # found nowhere: its first page, the quote looked for (found False)
            mark, last = quote, False
        else:  # a page the quote is not on
            mark, last = "", False
        view = render_page(p.source_path, shown, mark, corpus_dir=corpus, settings=settings, last_match=last)
        return PageView(chunk_id, view.page, view.page_count, mark, view.found, view.png, view.width,
                        view.height, view.boxes, tuple(sorted(marks)) if view.found else ())

    @staticmethod
    def _first_sentence(text: str) -> str:
        from docqa.ingest.chunk import split_units

        units = split_units(text)
        return text[units[0][0]:units[0][1]] if units else text

    def source_lines(self, chunk_id: str, around: int = 3, *, corpus: str | Path | None = None) -> list[SourceLine]:
        """The source lines of a text passage with `around` lines before and after, numbered as
        the citation counts them. The file must lie inside `corpus` (else DOCQA_CORPUS) and still
        hold the passage; QueryError otherwise (the context view then shows the indexed text)."""
        from docqa.config import safe_corpus_file
        from docqa.ingest.readers import UnreadableFileError, read_document
        from docqa.pageview import normalise_with_map

        if not isinstance(around, int) or isinstance(around, bool) or not 0 <= around <= 200:
            raise QueryError(f"around={around!r}: must be a whole number from 0 to 200")
        p = self.passage(chunk_id)
        if p.page is not None:
            raise QueryError(f"{chunk_id}: a passage of a PDF; it is cited by page")
        try:
            path = safe_corpus_file(config.corpus_dir(str(corpus) if corpus else None), p.source_path)
            lines = read_document(path).pages[0].split("\n")
        except (ValueError, UnreadableFileError) as exc:  # UnreadableFileError is a ValueError too
            raise QueryError(f"{chunk_id}: the source file cannot be read ({exc})") from None
        held = normalise_with_map("\n".join(lines[p.line_start - 1:p.line_end]))[0]
        if normalise_with_map(p.text)[0][:40] not in held:
            raise QueryError(f"{chunk_id}: {path.name} changed since it was indexed; run `docqa ingest`")
        first, last = max(1, p.line_start - around), min(len(lines), p.line_end + around)
        return [SourceLine(n, lines[n - 1], p.line_start <= n <= p.line_end) for n in range(first, last + 1)]

    @_reopens
    def documents(self) -> list[dict]:
        """The indexed documents with their metadata and passage counts, by id."""
        counts = self._searcher.passage_counts()
        return [{**meta.to_json(), "passages": counts.get(doc_id, 0)}
                for doc_id, meta in sorted(self._searcher.documents.items())]

    @_reopens
    def document_text(self, doc_id: str) -> str:
        """The whole cleaned text of a document, as its passages' offsets index it."""
        try:
            return self._searcher.document_text(doc_id)
        except KeyError:
            raise QueryError(f"no document {doc_id!r} in the index; see `docqa docs`") from None

    @property
    def document_meta(self) -> dict:
        """doc_id -> DocumentMeta."""
        return self._searcher.documents

    def organisations(self) -> list[str]:
        return self._searcher.organisations()

    def info(self) -> dict:
        """What a health check or a report says about the index: build, encoder, counts, settings."""
        m = self._searcher.manifest
        return {"built": m.get("created"), "fingerprint": m.get("fingerprint"), "encoder": m.get("encoder"),
                "documents": len(self._searcher.documents), "passages": len(self._searcher.passages),
                "docqa": m.get("versions", {}).get("docqa"), "settings": self.settings.to_json()}

    @property
    def manifest(self) -> dict:
        return self._searcher.manifest

    @property
    def passage_count(self) -> int:
        return len(self._searcher.passages)

    def highlight(self, text: str, question: str) -> list[tuple[int, int]]:
        """Spans of the words of `text` that the question matched (through stems and compound parts)."""
        from docqa.highlight import term_spans

        return term_spans(text, question, self._searcher.analyzer, self._searcher.bm25.vocab)

    def check_encoder(self, spec: str) -> None:
        """Refuse an encoder the index was not built with (IndexMismatchError with what to do)."""
        from docqa.index.encoders import make_encoder

        self._searcher.use_encoder(make_encoder(spec), spec)


def _store_searcher(store: str, encoder=None) -> Searcher:
    """A searcher over the current build of a PostgreSQL store, which opens the store again when that
    build is gone (index/pgstore.py keeps a build until the second switch after it)."""
    from docqa.index import pgstore

    searcher = Searcher(pgstore.load_index(store), encoder=encoder)
    searcher.reopen = functools.partial(_store_searcher, store)
    return searcher


def _shipped_calibration(claims: bool = False):
    """The calibration that ships with docqa (qa/calibration.json for answers, qa/claim_calibration.json
    for claim verdicts), or False when there is none yet: answers then carry no probability and their
    confidence comes from the score alone; verdicts carry no probability."""
    from docqa.qa.calibration import CLAIM_FEATURES, CLAIM_MODEL_FILE, FEATURES, MODEL_FILE, Calibration

    path, expected = (CLAIM_MODEL_FILE, CLAIM_FEATURES) if claims else (MODEL_FILE, FEATURES)
    return Calibration.load(path, expected) if path.exists() else False


def open_engine(index: str | Path | None = None, *, model: str | None = None,
                settings: EngineSettings | None = None, verify: bool = True, store: str | None = None) -> Engine:
    """Open an index for questions; see `Engine.open`."""
    return Engine.open(index, model=model, settings=settings, verify=verify, store=store)
