"""Cited, extractive answers with abstention.

No reader model or LLM runs offline here, so the answer is the answer window of the top passages
that scores best on the explainable signals of `qa/windows.py`, quoted verbatim with its citation.

It is abstained on ("Geen antwoord gevonden in de documenten") when the best window does not carry
what the question asks for: the question asks for a number, amount, percentage, date or name and
the window holds none that the question does not already contain, or the question names a year
that neither the passage nor its document is about. Plain similarity thresholds do not separate
answerable from unanswerable questions on dev; these checks do.

A question after several things, or about several documents (`Question.joins`), may be answered
by the best window joined with windows of other passages that score close to it, each quote with
its own marker [1], [2] and citation; the best quote stays first and the confidence is its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from docqa.errors import SettingsError
from docqa.index.analyzer import DUTCH_STOPWORDS, ENGLISH_STOPWORDS, QUESTION_WORDS
from docqa.qa.calibration import answer_features
from docqa.qa.question import Question, mentions_organisation
from docqa.qa.values import extract_values
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
    # With a calibration (qa/calibration.py) the confidence is a band of the probability of being
    # right: "hoog" from high_probability (chosen so that "hoog" is right 9 times in 10 held out on
    # dev), "laag" below low_probability, else "middel".
    high_probability: float = 0.8
    low_probability: float = 0.4
    abstain_below: float = 0.0  # abstain when the probability is lower (0: never on probability alone)
    # Without a calibration: "laag" below low_score, "hoog" from high_score with a clear margin.
    low_score: float = 1.0
    high_score: float = 1.35
    high_margin: float = 0.03  # overlapping passages hold near-equal windows
    # What the question names, checked against the quote and its passage. The year, whole-year and
    # organisation checks are one method, tuned together: held out 0.68 against 0.66 off (eval/RESULTS.md)
    check_quote_years: bool = True  # the question names a year and the quote names only other years
    check_whole_year: bool = True  # "in heel 2023" answered by a figure for part of a year
    check_person: bool = True  # "wie is de directeur" answered by a quote that names no one
    check_organisation: bool = True  # the question names an organisation; the passage is another's and never names it
    # A list or cross-document question (`Question.joins`) may be answered by quotes of several passages.
    # quotes in such an answer at most; 1 (the default) keeps every answer to one quote: 3 rescued one dev
    # answer and lost none, no gain held out (eval/RESULTS.md, 2026-12-07)
    join_max: int = 1
    join_within: float = 0.9  # a further window joins when it scores (with the rank prior) this share of the best
    join_chars: int = 480  # the joined answer's length at most: the judge and a reader take in the first 500

    def __post_init__(self):
        if not 1 <= self.join_max <= 10:
            raise SettingsError(f"join_max={self.join_max}: must be between 1 and 10")
        if not 0.0 < self.join_within <= 1.0:
            raise SettingsError(f"join_within={self.join_within}: must be above 0 and at most 1")
        if not 100 <= self.join_chars <= 2000:
            raise SettingsError(f"join_chars={self.join_chars}: must be between 100 and 2000")
        if not 0.0 <= self.low_probability <= self.high_probability <= 1.0:
            raise SettingsError(f"low_probability={self.low_probability}, high_probability={self.high_probability}: "
                                f"need 0 <= low <= high <= 1")
        if not 0.0 <= self.abstain_below <= 1.0:
            raise SettingsError(f"abstain_below={self.abstain_below}: must be between 0 and 1")
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
    probability: float | None = None  # of being right, from the calibration; None without one
    features: dict | None = field(default=None, compare=False)  # what the calibration reads (not in the JSON)

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "confidence": self.confidence,
                "probability": None if self.probability is None else round(self.probability, 4),
                "signals": self.signals, "notices": list(self.notices),
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


def quote_years(text: str) -> set[int]:
    """The years a quote's dates and years fall in ("31 december 2022", "eerste kwartaal 2024")."""
    years = set()
    for v in extract_values(text):
        if v.kind in ("year", "date"):
            first, last = date.fromordinal(int(v.lo)).year, date.fromordinal(int(v.hi)).year
            if first >= 1900:  # a day and month without a year ("1 mei") carries none
                years.update(range(first, last + 1))
    return years


def other_years(question: Question, text: str) -> list[int]:
    """The years the quote names when it names some, but none of the question's."""
    years = quote_years(text) if question.years else set()
    return sorted(years) if years and not years & {int(y) for y in question.years} else []


def other_organisation(question: Question, hit) -> str | None:
    """The passage's organisation when the question names organisations and the passage is from
    another one's document that names none of them (in its text or section), else None."""
    p = hit.passage
    if not question.organisations or p.organisation in question.organisations:
        return None
    where = p.text + " " + p.section
    return None if any(mentions_organisation(where, org) for org in question.organisations) else p.organisation


def part_of_year(text: str) -> str | None:
    """The span shorter than a year the quote's figures are for ("de eerste drie maanden van 2026",
    "het eerste kwartaal", "de eerste helft van 2023"), or None."""
    for v in extract_values(text):
        if (v.kind == "date" and v.unit in ("span", "half", "quarter", "month")) or \
                (v.kind == "period" and v.unit in ("maand", "kwartaal", "week") and v.approx):
            return v.text
    return None


# A person's name: two or more capitalised words ("Anna de Boer", "J. Smit"), the first no function
# word ("Het Digitaal Stelsel" is no one), or a title before a capitalised word.
_NAME_RE = re.compile(r"(?<![\w.])(?:(?P<first>[A-Z][a-zà-ÿ]+)|[A-Z]\.(?:\s?[A-Z]\.)*)\s+"
                      r"(?:(?:van|de|der|den|ter|ten|te|het|von|le|la)\s+)*[A-Z][a-zà-ÿ]{2,}|"
                      r"(?<!\w)(?:dhr|mevr|drs|dr|ir|mr|prof|de heer|mevrouw)\.?\s+[A-Z]")


_NOT_A_FIRST_NAME = DUTCH_STOPWORDS | ENGLISH_STOPWORDS | QUESTION_WORDS  # capitalised at a sentence's start
# Words of an organisation's or a thing's name, never of a person's: "Centraal Bureau", "Raad van State".
_NOT_IN_A_NAME = frozenset("""
raad bureau zaken dienst ministerie centraal centrale nationaal nationale stichting vereniging autoriteit
inspectie agentschap college commissie bank fonds instituut kamer koninkrijk koninkrijksrelaties
binnenlandse gemeente gemeenten provincie provincies rijk rijksdienst rijksoverheid overheid stelsel
digitaal digitale beroep staat state statistiek onderwijs werk inkomen informatie programma platform
netwerk centrum team afdeling directie unie europese european office officer chief data security
""".split())


def names_person(text: str) -> bool:
    """The text holds a person's name (`_NAME_RE`)."""
    for m in _NAME_RE.finditer(text):
        first = m.group("first")
        if first and first.lower() in _NOT_A_FIRST_NAME:
            continue
        if not any(w.lower() in _NOT_IN_A_NAME for w in re.findall(r"\w+", m.group(0))):
            return True
    return False


def quote_of(window: Window) -> tuple[str, tuple[int, int]]:
    """The quote shown for a window, white space collapsed, and its offsets in the passage."""
    start, end = quote_span(window)
    return " ".join(window.hit.passage.text[start:end].split()), (start, end)


_SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+")


def _sentence_keys(text: str) -> set[str]:
    # letters and digits only: the same sentence cut out of two passages compares equal
    keys = {re.sub(r"\W+", "", part.lower()) for part in _SENTENCE_END_RE.split(text)}
    return {k for k in keys if len(k) >= 12}  # "2." or "Zie ook:" is no sentence worth comparing


def shows_same_sentence(a: Window, b: Window) -> bool:
    """Two windows show the same text: overlapping stretches of one document (overlapping
    passages hold the same sentences), or a sentence both quote (a document repeating another)."""
    pa, pb = a.hit.passage, b.hit.passage
    if pa.doc_id == pb.doc_id and (pa.char_start + a.start < pb.char_start + b.end
                                   and pb.char_start + b.start < pa.char_start + a.end):
        return True
    return bool(_sentence_keys(a.text) & _sentence_keys(b.text))


def joined_windows(question: Question, ranked: list[Window], settings: AnswerSettings, key) -> list[Window]:
    """The best window and, for a list or cross-document question, the windows of other passages
    (of other documents when it asks across documents) that score within `join_within` of it, hold
    what the question asks for, show no sentence already shown, and fit in `join_chars`."""
    best, s = ranked[0], settings
    scope = question.joins
    if scope is None or s.join_max < 2 or key(best) <= 0:
        return [best]
    chosen = [best]
    length = len(quote_of(best)[0]) + 4  # " [1]"
    for w in ranked[1:]:
        if len(chosen) >= s.join_max or key(w) < s.join_within * key(best):
            break  # ranked best first: the rest score lower still
        p = w.hit.passage
        if any(p.chunk_id == c.hit.passage.chunk_id or (scope == "documents" and p.doc_id == c.hit.passage.doc_id)
               for c in chosen):
            continue
        if (question.expected_type and not w.features["type"]) or missing_years(question, w.hit):
            continue  # the checks the best window passed
        if any(shows_same_sentence(w, c) for c in chosen):
            continue
        extra = len(quote_of(w)[0]) + 5  # " ", the quote, " [n]"
        if length + extra > s.join_chars:
            continue  # a shorter one further down may fit
        chosen.append(w)
        length += extra
    return chosen


def failed_checks(question: Question, window: Window, settings: AnswerSettings) -> list[str]:
    """Why the window does not answer what the question names (its type, year, period, person,
    organisation); empty when it passes every check."""
    s, text = settings, window.text
    reasons = []
    if question.expected_type and not window.features["type"]:
        reasons.append(f"no {question.expected_type} in the best sentence")
    if missing := missing_years(question, window.hit):
        reasons.append(f"the passage does not mention {', '.join(missing)}")
    elif s.check_quote_years and (others := other_years(question, text)):
        reasons.append(f"the best sentence is about {', '.join(map(str, others))}, not {', '.join(question.years)}")
    if s.check_whole_year and question.whole_year and (part := part_of_year(text)):
        reasons.append(f"the question asks for a whole year, the best sentence gives {part}")
    if s.check_person and question.wants_person and not names_person(text):
        reasons.append("the best sentence names no person")
    if s.check_organisation and (other := other_organisation(question, window.hit)):
        reasons.append(f"the passage is from {other} and does not name {', '.join(question.organisations)}")
    return reasons


def choose_answer(question: Question, hits: list, windows: list[Window],
                  settings: AnswerSettings = AnswerSettings(), calibration=None) -> Answer:
    """The answer to an analysed question from the windows of its top passages (final ranks).
    `calibration` (qa/calibration.py) turns the answer's signals into its probability of being right."""
    s = settings
    if not windows:
        return abstain(question, hits, {"reason": "no passages"})

    def key(w):
        return w.score + s.rank_prior / w.hit.rank

    ranked = sorted(windows, key=lambda w: -key(w))
    best = ranked[0]
    reasons = failed_checks(question, best, s)
    best_text = best.text
    # overlapping passages hold the same sentence: the runner-up is the best *other* text
    runner_up = next((w for w in ranked[1:] if w.text != best_text), None)
    margin = best.score - runner_up.score if runner_up else best.score
    signals = {**best.features, "rank": best.hit.rank, "score": round(best.score, 4), "margin": round(margin, 4),
               "expected_type": question.expected_type, "missing": missing_years(question, best.hit)}
    probability = features = None
    if not reasons:
        features = answer_features(question, best, hits, margin)
    if calibration is not None and features is not None:
        probability = calibration.probability(features)
        signals["probability"] = round(probability, 4)
        if probability < s.abstain_below:
            reasons.append(f"probability {probability:.2f} below {s.abstain_below}")
    if reasons:
        signals["reason"] = "; ".join(reasons)
        return abstain(question, hits, signals, probability, features)
    # the confidence above and below is the best window's; joined quotes only add evidence
    joined = joined_windows(question, ranked, s, key)
    citations = tuple(Citation(n, w.hit, *quote_of(w)) for n, w in enumerate(joined, 1))
    signals["joined"] = len(joined) - 1
    if probability is not None:
        confidence = ("hoog" if probability >= s.high_probability
                      else "laag" if probability < s.low_probability else "middel")
    elif best.score >= s.high_score and margin > s.high_margin:
        confidence = "hoog"
    else:
        confidence = "laag" if best.score < s.low_score else "middel"
    lead = ENGLISH_LEAD if question.english else ""
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question.text, f"{lead}{text}", False, confidence, signals, citations, tuple(hits),
                  question.notices, question.language, probability, features)


def abstain(question: Question, hits, signals: dict, probability: float | None = None, features=None) -> Answer:
    message = NOT_FOUND_EN if question.english else NOT_FOUND
    return Answer(question.text, "", True, "laag", {**signals, "message": message}, (), tuple(hits),
                  question.notices, question.language, probability, features)


def rebind(windows: list[Window], hits: list) -> list[Window]:
    """The windows of these hits, pointing at the hits as finally ranked (a window scored during
    the rerank still holds its passage's rank from before it)."""
    by_id = {h.passage.chunk_id: h for h in hits}
    return [replace(w, hit=by_id[w.hit.passage.chunk_id]) for w in windows if w.hit.passage.chunk_id in by_id]
