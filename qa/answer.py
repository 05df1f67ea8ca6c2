"""Cited, extractive answers with abstention.

No reader model or LLM runs offline here, so the answer is the answer window of the top passages
that scores best on the explainable signals of `qa/windows.py`, quoted verbatim with its citation.

It is abstained on ("Geen antwoord gevonden in de documenten") when the best window does not carry
what the question asks for: the question asks for a number, amount, percentage, date or name and
the window holds none that the question does not already contain, or the question names a year
that neither the passage nor its document is about. Plain similarity thresholds do not separate
answerable from unanswerable questions on dev; these checks do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from docqa.errors import SettingsError
from docqa.qa.question import Question
from docqa.qa.windows import Window

NOT_FOUND = "Geen antwoord gevonden in de documenten"
NOT_FOUND_EN = "No answer found in these documents"
ENGLISH_LEAD = "The documents say (in Dutch): "


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 5  # answers are taken from this many top passages
    # The hybrid ranking already weighs each passage's best answer window, so the answer favours
    # the first passages: a window competes with score + rank_prior / passage rank.
    rank_prior: float = 0.2
    low_score: float = 1.0  # below this score the answer is shown with confidence "laag"
    high_score: float = 1.35  # "hoog" from here, when the runner-up is a clear margin behind
    high_margin: float = 0.03  # ... the margin: overlapping passages hold near-equal windows

    def __post_init__(self):
        if self.passages < 1:
            raise SettingsError(f"passages={self.passages}: must be >= 1")
        if self.rank_prior < 0:
            raise SettingsError(f"rank_prior={self.rank_prior}: must be >= 0")
        if not self.low_score <= self.high_score:
            raise SettingsError(f"low_score={self.low_score} must not exceed high_score={self.high_score}")


# -- records -------------------------------------------------------------------------------------

def reference(passage) -> str:
    """The reference a journalist pastes: organisation, title, year, section, page or lines."""
    parts = [passage.organisation.split(" (")[0], passage.title]
    if passage.year and str(passage.year) not in passage.title:
        parts.append(str(passage.year))
    if passage.section:
        parts.append(f"§ {passage.section.split(' > ')[-1]}")
    parts.append(passage.location)
    return ", ".join(x for x in parts if x)


@dataclass(frozen=True)
class Citation:
    n: int
    hit: object  # docqa.index.search.Hit
    quote: str  # verbatim from the passage, white space collapsed
    span: tuple[int, int]  # offsets of the quote in hit.passage.text

    def reference(self) -> str:
        return reference(self.hit.passage)

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
    hits: tuple
    notices: tuple[str, ...] = field(default_factory=tuple)
    language: str = "nl"

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "confidence": self.confidence, "signals": self.signals, "notices": list(self.notices),
                "citations": [c.to_json() for c in self.citations], "hits": [h.to_json() for h in self.hits]}

    def to_text(self) -> str:
        lines = [f"({n})" for n in self.notices]
        if self.abstained:
            lines.append(f"{self.signals.get('message') or NOT_FOUND}.")
            lines.append("Nearest passages:" if self.language == "en" else "Dichtstbijzijnde passages:")
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


# -- choosing ------------------------------------------------------------------------------------

# a list marker left at a window's end belongs to the next item: "... per jaar. 2." -> "... per jaar."
_DANGLING_MARKER_RE = re.compile(r"(?:\s+(?:\d{1,2}[.)]|[a-z][.)]|[•▪●◦\-–]))+\s*$")


def quote_span(window: Window) -> tuple[int, int]:
    """The window's offsets without a dangling list marker at its end."""
    text = window.hit.passage.text
    m = _DANGLING_MARKER_RE.search(text, window.start, window.end)
    end = m.start() if m and m.end() >= window.end and m.start() > window.start else window.end
    return window.start, end


def missing_years(question: Question, hit) -> list[str]:
    """Years the question names that neither the passage nor its document's year mention."""
    p = hit.passage
    text = p.text + " " + p.section
    return sorted(y for y in question.years if y not in text and str(p.year) != y)


def choose_answer(question: Question, hits: list, windows: list[Window],
                  settings: AnswerSettings = AnswerSettings()) -> Answer:
    """The answer to an analysed question from the windows of its top passages (final ranks)."""
    s = settings
    if not windows:
        return abstain(question, hits, {"reason": "no passages"})
    ranked = sorted(windows, key=lambda w: -(w.score + s.rank_prior / w.hit.rank))
    best = ranked[0]
    best_text = best.text
    # overlapping passages hold the same sentence: the runner-up is the best *other* text
    runner_up = next((w for w in ranked[1:] if w.text != best_text), None)
    margin = best.score - runner_up.score if runner_up else best.score
    missing = missing_years(question, best.hit)
    signals = {**best.features, "rank": best.hit.rank, "score": round(best.score, 4), "margin": round(margin, 4),
               "expected_type": question.expected_type, "missing": missing}
    reasons = []
    if question.expected_type and not best.features["type"]:
        reasons.append(f"no {question.expected_type} in the best sentence")
    if missing:
        reasons.append(f"the passage does not mention {', '.join(missing)}")
    if reasons:
        signals["reason"] = "; ".join(reasons)
        return abstain(question, hits, signals)
    start, end = quote_span(best)
    quote = " ".join(best.hit.passage.text[start:end].split())
    citation = Citation(1, best.hit, quote, (start, end))
    if best.score >= s.high_score and margin > s.high_margin:
        confidence = "hoog"
    else:
        confidence = "laag" if best.score < s.low_score else "middel"
    lead = ENGLISH_LEAD if question.english else ""
    return Answer(question.text, f"{lead}{quote} [1]", False, confidence, signals, (citation,), tuple(hits),
                  question.notices, question.language)


def abstain(question: Question, hits, signals: dict) -> Answer:
    message = NOT_FOUND_EN if question.english else NOT_FOUND
    return Answer(question.text, "", True, "laag", {**signals, "message": message}, (), tuple(hits),
                  question.notices, question.language)


def rebind(windows: list[Window], hits: list) -> list[Window]:
    """The windows of these hits, pointing at the hits as finally ranked (a window scored during
    the rerank still holds its passage's rank from before it)."""
    by_id = {h.passage.chunk_id: h for h in hits}
    return [replace(w, hit=by_id[w.hit.passage.chunk_id]) for w in windows if w.hit.passage.chunk_id in by_id]
