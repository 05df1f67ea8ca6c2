"""Cited, extractive answers with abstention: `docqa ask`.

No reader model or LLM runs offline here, so the answer is the sentence-like unit (a sentence,
a table row, a list item) of the top passages that scores best on a few explainable signals:

- `dense`: cosine between the question and the unit (unit vectors are computed at build time);
- `lexical`: the idf-weighted share of the question's BM25 terms that occur in the unit;
- `context`: the same share over the whole passage the unit sits in;
- `type`: the question asks for a number, percentage, amount, date or name and the unit has one;
- `rank`: the passage's rank in the hybrid search.

The answer is abstained on ("Geen antwoord gevonden in de documenten") when the best unit does
not carry what the question asks for: the question asks for a number, amount, percentage, date
or name and the answer window holds none that the question does not already contain, or the
question names a year that neither the passage nor its document is about. Plain similarity
thresholds do not separate answerable from unanswerable questions on dev; these checks do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from index.search import Hit, prepare_query

NOT_FOUND = "Geen antwoord gevonden in de documenten"
NOT_FOUND_EN = "No answer found in these documents"


@dataclass(frozen=True)
class AnswerSettings:
    """Weights of the answer signals, chosen by 5-fold cross-validation on dev (eval/RESULTS.md)."""

    passages: int = 5  # units are taken from this many top passages
    window_chars: int = 250  # the answer: the best unit plus the units that follow it, up to this length
    w_dense: float = 1.0
    w_lexical: float = 0.5  # idf-weighted share of the question's terms around the unit
    w_type: float = 0.1  # the unit holds a new value of the expected type
    w_type_window: float = 0.1  # ... or the answer window does
    w_rank: float = 0.0
    low_score: float = 1.0  # below this combined score the answer is shown with confidence "laag"
    high_score: float = 1.35  # "hoog" from here, when the runner-up is a clear margin behind
    high_margin: float = 0.03

    def __post_init__(self):
        if self.passages < 1:
            raise ValueError(f"passages={self.passages}: must be >= 1")
        if not 50 <= self.window_chars <= 500:
            raise ValueError(f"window_chars={self.window_chars}: must be between 50 and 500")
        for name in ("w_dense", "w_lexical", "w_type", "w_type_window", "w_rank"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 0")


# -- expected answer type ------------------------------------------------------------------------

_MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER_WORD_RE = re.compile(r"\b(?:één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|"
                             r"veertig|vijftig|honderd|duizend|tweemaal|driemaal|viermaal|helft|kwart|dubbel)\b", re.I)
_PERCENT_RE = re.compile(r"\d\s*(?:%|procent)", re.I)
_MONEY_RE = re.compile(r"€|\beuro\b|\bmln\b|\bmiljoen\b|\bmiljard\b|\d\s*k\b", re.I)

_TYPE_PATTERNS = [
    ("percent", re.compile(r"percentage\b|\bwhat percentage\b|\bhow many percent\b", re.I)),
    ("money", re.compile(r"\bhoeveel (geld|euro)\b|\bbedrag\b|\bbudget\b|\bkost(en|te)?\b|\bbezoldiging\b|"
                         r"\bsalaris\b|\bhuur\b|\bhow much (money|does)\b|\brent\b|\bcost\b", re.I)),
    ("number", re.compile(r"\bhoeveel\b|\bhoe (groot|hoog|vaak|lang|ver|oud)\b|\baantal\b|\bnorm\b|"
                          r"\brapportcijfer\b|\bcijfer\b|\bhow (many|much|often|long)\b|\btarget\b", re.I)),
    ("date", re.compile(r"\bwanneer\b|\bin welk jaar\b|\bsinds welk jaar\b|\bvanaf wanneer\b|\bwelke datum\b|"
                        r"\bwhen\b|\bwhich year\b|\bwhat year\b|\bsince when\b", re.I)),
    ("name", re.compile(r"\bwie\b|\bwelke (organisatie|partij|instantie|gemeente|minister|afdeling)\b|"
                        r"\bwho\b|\bwhich organi[sz]ation\b", re.I)),
]


def expected_type(question: str) -> str | None:
    """What kind of value the question asks for: number, percent, money, date, name, or None."""
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return name
    return None


def _values(text: str) -> list[str]:
    """Numbers in the text that can be an answer: not years, not the day of a date."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        if _YEAR_RE.fullmatch(m.group(0)) or re.match(rf"\s*(?:{_MONTHS})", text[m.end():m.end() + 12], re.I):
            continue
        out.append(re.sub(r"\D", "", m.group(0)))
    return out


def has_new_value(text: str, kind: str | None, question: str) -> bool:
    """The text holds a value of the expected kind that the question itself does not contain:
    a sentence that only repeats the question's own numbers or names answers nothing."""
    if kind is None:
        return False
    asked_numbers = set(re.findall(r"\d+", question))
    if kind in ("number", "money", "percent"):
        new = [v for v in _values(text) if v not in asked_numbers]
        if kind == "percent":
            return bool(new) and bool(_PERCENT_RE.search(text))
        if kind == "money":
            return bool(new) and bool(_MONEY_RE.search(text))
        return bool(new) or bool(_NUMBER_WORD_RE.search(text))
    if kind == "date":
        years = [y for y in _YEAR_RE.findall(text) if y not in asked_numbers]
        return bool(years) or bool(re.search(_MONTHS, text, re.I))
    if kind == "name":
        asked_words = {w.lower() for w in re.findall(r"\w+", question)}
        for m in re.finditer(r"\b[A-Z][\w&.-]+", text):
            line_before = text[:m.start()].split("\n")[-1]
            if m.start() == 0 or re.search(r"(?:[.!?:•]\s*|^\s*)$", line_before):
                continue  # capitalised because it starts a sentence or a line
            if m.group(0).lower() not in asked_words:
                return True
        return False
    return False


def _is_english(question: str) -> bool:
    words = re.findall(r"[a-z]+", question.lower())
    english = {"the", "what", "which", "how", "does", "did", "is", "are", "of", "for", "in", "many", "much", "when",
               "who", "year", "will", "have", "its", "their"}
    return sum(w in english for w in words) >= 2


# -- records -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    quote: str  # verbatim from the passage, white space collapsed
    span: tuple[int, int]  # offsets of the quote in hit.passage.text

    def reference(self) -> str:
        p = self.hit.passage
        parts = [p.organisation.split(" (")[0], f"{p.title}"]
        if p.section:
            parts.append(f"§ {p.section.split(' > ')[-1]}")
        parts.append(p.location)
        return ", ".join(x for x in parts if x)

    def to_json(self) -> dict:
        p = self.hit.passage
        return {"n": self.n, "chunk_id": p.chunk_id, "doc": p.doc_id, "title": p.title,
                "organisation": p.organisation, "year": p.year, "section": p.section, "page": p.page,
                "line_start": p.line_start, "line_end": p.line_end, "quote": self.quote,
                "reference": self.reference()}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    confidence: str
    signals: dict
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    notices: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "confidence": self.confidence, "signals": self.signals, "notices": list(self.notices),
                "citations": [c.to_json() for c in self.citations], "hits": [h.to_json() for h in self.hits]}

    def to_text(self) -> str:
        lines = []
        lines.extend(f"({n})" for n in self.notices)
        if self.abstained:
            lines.append(f"{self.answer or NOT_FOUND}.")
            lines.append("Dichtstbijzijnde passages:")
            for h in self.hits[:3]:
                p = h.passage
                lines.append(f"- {p.title} · {p.organisation} · {p.section} · {p.location}: "
                             f"{' '.join(p.text.split())[:200]}…")
        else:
            lines.append(self.answer)
            lines.append(f"Zekerheid: {self.confidence}")
            for c in self.citations:
                lines.append(f"[{c.n}] {c.reference()}  ({c.hit.passage.doc_id})")
        return "\n".join(lines)


# -- answering -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    start: int
    end: int
    features: dict
    score: float


class Answerer:
    def __init__(self, searcher, settings: AnswerSettings = AnswerSettings()):
        self.searcher = searcher
        self.settings = settings
        units = searcher._idx.units
        # the units of each passage, as rows into the unit arrays
        order = np.argsort(units[:, 0], kind="stable")
        bounds = np.searchsorted(units[order, 0], np.arange(len(searcher.passages) + 1))
        self._unit_rows = [order[bounds[i]:bounds[i + 1]] for i in range(len(searcher.passages))]
        self._passage_index = {p.chunk_id: i for i, p in enumerate(searcher.passages)}

    def ask(self, question: str, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(), years=()) -> Answer:
        question, notices = prepare_query(question)
        query_vector = self.searcher.encoder.encode_queries([question])[0] if mode != "bm25" else None
        hits = self.searcher.search(question, k=k, mode=mode, docs=docs, orgs=orgs, years=years,
                                    query_vector=query_vector)
        if query_vector is None:
            query_vector = self.searcher.encoder.encode_queries([question])[0]
        candidates = self._candidates(question, query_vector, hits)
        return self._decide(question, hits, candidates, tuple(notices))

    def _term_weights(self, question: str) -> dict[str, float]:
        bm25 = self.searcher._idx.bm25
        weights = {}
        for term in self.searcher.analyzer(question):
            col = bm25.vocab.get(term)
            # a term the corpus never uses still counts: the answer cannot contain it
            weights[term] = max(float(bm25.idf[col]), 0.1) if col is not None else 3.0
        return weights

    def _candidates(self, question: str, query_vector: np.ndarray, hits: list[Hit]) -> list[_Candidate]:
        s = self.settings
        weights = self._term_weights(question)
        total = sum(weights.values()) or 1.0
        kind = expected_type(question)
        units = self.searcher._idx.units
        unit_vectors = self.searcher._idx.unit_vectors
        analyzer = self.searcher.analyzer

        def coverage(text: str) -> float:
            terms = set(analyzer(text))
            return sum(w for t, w in weights.items() if t in terms) / total

        out = []
        for hit in hits[:s.passages]:
            rows = self._unit_rows[self._passage_index[hit.passage.chunk_id]]
            if len(rows) == 0:
                continue
            text = hit.passage.text
            spans = [(int(units[r][1]), int(units[r][2])) for r in rows]
            dense = np.asarray(unit_vectors[rows], dtype=np.float32) @ query_vector
            context = coverage(text)
            for j, (a, b) in enumerate(spans):
                # the answer window: this unit and the units after it that fit (a lead-in such as
                # "het aantal fte dat is begroot:" is followed by the figure)
                end, nxt = b, j + 1
                while nxt < len(spans) and spans[nxt][1] - a <= s.window_chars:
                    end, nxt = spans[nxt][1], nxt + 1
                around = coverage(text[spans[j - 1][0] if j else a:end])
                typed = has_new_value(text[a:b], kind, question)
                typed_window = has_new_value(text[a:end], kind, question)
                features = {"dense": round(float(dense[j]), 4), "lexical": round(around, 4),
                            "context": round(context, 4), "type": typed_window, "rank": hit.rank}
                score = (s.w_dense * float(dense[j]) + s.w_lexical * around + s.w_type * typed
                         + s.w_type_window * typed_window + s.w_rank / hit.rank)
                out.append(_Candidate(hit, a, end, features, score))
        out.sort(key=lambda c: -c.score)
        return out

    def _decide(self, question: str, hits: list[Hit], candidates: list[_Candidate], notices) -> Answer:
        s = self.settings
        english = _is_english(question)
        kind = expected_type(question)
        if not candidates:
            return self._abstain(question, hits, {"reason": "no passages"}, notices, english)
        best = candidates[0]
        runner_up = next((c for c in candidates[1:] if c.hit.passage.doc_id != best.hit.passage.doc_id
                          or abs(c.start - best.start) > 0), None)
        margin = best.score - runner_up.score if runner_up else best.score
        missing = _missing_specifics(question, best.hit)
        signals = {**best.features, "score": round(best.score, 4), "margin": round(margin, 4),
                   "expected_type": kind, "missing": missing}
        reasons = []
        if kind and not best.features["type"]:
            reasons.append(f"no {kind} in the best sentence")
        if missing:
            reasons.append(f"the passage does not mention {', '.join(missing)}")
        if reasons:
            signals["reason"] = "; ".join(reasons)
            return self._abstain(question, hits, signals, notices, english)
        quote = " ".join(best.hit.passage.text[best.start:best.end].split())
        citation = Citation(1, best.hit, quote, (best.start, best.end))
        if best.score >= s.high_score and margin > s.high_margin:
            confidence = "hoog"
        else:
            confidence = "laag" if best.score < s.low_score else "middel"
        lead = "The documents say (in Dutch): " if english else ""
        return Answer(question, f"{lead}{quote} [1]", False, confidence, signals, (citation,), tuple(hits), notices)

    def _abstain(self, question, hits, signals, notices, english) -> Answer:
        return Answer(question, "", True, "laag", {**signals, "message": NOT_FOUND_EN if english else NOT_FOUND},
                      (), tuple(hits), notices)


def _missing_specifics(question: str, hit: Hit) -> list[str]:
    """Years the question names that neither the passage nor its document's year mention."""
    p = hit.passage
    text = p.text + " " + p.section
    missing = []
    for year in set(_YEAR_RE.findall(question)):
        if year not in text and str(p.year) != year:
            missing.append(year)
    return sorted(missing)


def surrounding_text(searcher, passage, chars: int = 600) -> tuple[str, str, str]:
    """The passage with up to `chars` characters of the cleaned document before and after it."""
    text = searcher.document_text(passage.doc_id)
    before = text[max(0, passage.char_start - chars):passage.char_start]
    after = text[passage.char_end:passage.char_end + chars]
    return before, text[passage.char_start:passage.char_end], after
