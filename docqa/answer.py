"""Cited, extractive answers with abstention: `docqa ask`.

No reader model or LLM runs offline here, so the answer is the answer window (a sentence, table
row or list item, plus what directly follows it, up to 250 characters) of the top passages that
scores best on the explainable signals of `index/units.py`: e5 similarity to the question, the
share of the question's terms around it, and whether it holds a value of the type the question
asks for.

The answer is abstained on ("Geen antwoord gevonden in de documenten") when the best window does
not carry what the question asks for: the question asks for a number, amount, percentage, date
or name and the window holds none that the question does not already contain, or the question
names a year that neither the passage nor its document is about. Plain similarity thresholds do
not separate answerable from unanswerable questions on dev; these checks do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.search import Hit, prepare_query
from index.units import YEAR_RE, UnitCandidate, expected_type

NOT_FOUND = "Geen antwoord gevonden in de documenten"
NOT_FOUND_EN = "No answer found in these documents"


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 5  # answers are taken from this many top passages
    # The hybrid ranking already weighs each passage's best answer window, so the answer favours
    # the first passages: a window competes with score + rank_prior / passage rank.
    rank_prior: float = 0.2
    low_score: float = 1.0  # below this score the answer is shown with confidence "laag"
    high_score: float = 1.35  # "hoog" from here, when the runner-up is a clear margin behind
    high_margin: float = 0.03

    def __post_init__(self):
        if self.passages < 1:
            raise ValueError(f"passages={self.passages}: must be >= 1")
        if self.rank_prior < 0:
            raise ValueError(f"rank_prior={self.rank_prior}: must be >= 0")
        if not self.low_score <= self.high_score:
            raise ValueError(f"low_score={self.low_score} must not exceed high_score={self.high_score}")


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

class Answerer:
    def __init__(self, searcher, settings: AnswerSettings = AnswerSettings()):
        self.searcher = searcher
        self.settings = settings

    def ask(self, question: str, *, k: int = 10, mode: str = "hybrid", docs=(), orgs=(), years=()) -> Answer:
        question, notices = prepare_query(question)
        hits, candidates = self.searcher.search_with_units(question, k=k, mode=mode, docs=docs, orgs=orgs,
                                                           years=years, unit_passages=self.settings.passages)
        return self._decide(question, hits, candidates, tuple(notices))

    def _decide(self, question: str, hits: list[Hit], candidates: list[UnitCandidate], notices) -> Answer:
        s = self.settings
        english = _is_english(question)
        kind = expected_type(question)
        if not candidates:
            return self._abstain(question, hits, {"reason": "no passages"}, notices, english)
        candidates = sorted(candidates, key=lambda c: -(c.score + s.rank_prior / c.hit.rank))
        best = candidates[0]
        best_text = " ".join(best.hit.passage.text[best.start:best.end].split())
        # overlapping passages hold the same sentence: the runner-up is the best *other* text
        runner_up = next((c for c in candidates[1:]
                          if " ".join(c.hit.passage.text[c.start:c.end].split()) != best_text), None)
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
        citation = Citation(1, best.hit, best_text, (best.start, best.end))
        if best.score >= s.high_score and margin > s.high_margin:
            confidence = "hoog"
        else:
            confidence = "laag" if best.score < s.low_score else "middel"
        lead = "The documents say (in Dutch): " if english else ""
        return Answer(question, f"{lead}{best_text} [1]", False, confidence, signals, (citation,), tuple(hits), notices)

    def _abstain(self, question, hits, signals, notices, english) -> Answer:
        return Answer(question, "", True, "laag", {**signals, "message": NOT_FOUND_EN if english else NOT_FOUND},
                      (), tuple(hits), notices)


def _missing_specifics(question: str, hit: Hit) -> list[str]:
    """Years the question names that neither the passage nor its document's year mention."""
    p = hit.passage
    text = p.text + " " + p.section
    missing = []
    for year in set(YEAR_RE.findall(question)):
        if year not in text and str(p.year) != year:
            missing.append(year)
    return sorted(missing)


def surrounding_text(searcher, passage, chars: int = 600) -> tuple[str, str, str]:
    """The passage with up to `chars` characters of the cleaned document before and after it."""
    text = searcher.document_text(passage.doc_id)
    before = text[max(0, passage.char_start - chars):passage.char_start]
    after = text[passage.char_end:passage.char_end + chars]
    return before, text[passage.char_start:passage.char_end], after
