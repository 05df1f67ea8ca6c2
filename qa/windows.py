"""Answer windows: a unit of a retrieved passage (sentence, table row, list item) plus the units
right after it, up to `window_chars`, scored as an answer to the question. The signals, all
explainable:

- `dense`: cosine between the question and the unit (unit vectors are computed at build time, so a
  question costs no encoding beyond its own vector);
- `lexical`: the idf-weighted share of the question's BM25 terms in the unit and its neighbours;
- `type`: the question asks for a number, percentage, amount, date or name, and the unit (or the
  window) holds one that the question itself does not contain;
- `defines`: the question asks what something is and the window defines it ("X is ...", "X: ...",
  "Dat zijn ..." after a sentence naming X; for an acronym, its expansion in brackets).

The window's score does not depend on the passage's rank, so a window scored for the rerank is the
same window the answer picks from, whatever rank its passage ends at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from docqa.errors import SettingsError
from docqa.qa.question import YEAR_RE, DefinedSubject, Question
from docqa.qa.values import NL_NUMBER_WORD


@dataclass(frozen=True)
class WindowSettings:
    """Weights of the window signals, chosen by 5-fold cross-validation on dev (eval/RESULTS.md)."""

    window_chars: int = 300  # the unit plus the units after it, up to this length: a quote, not a passage (CV: 250 -> 300)
    claim_window_chars: int = 250  # a claim's windows: 300 called a false dev claim supported, 250 none
    list_window_chars: int = 300  # for a question after several things: tuned with window_chars; 350-600 no better
    w_dense: float = 1.0  # the e5 cosine carries most of the signal
    w_lexical: float = 0.5  # idf-weighted share of the question's terms around the unit
    w_type: float = 0.1  # the unit holds a new value of the expected type
    w_type_window: float = 0.1  # ... or its window does
    w_definition: float = 0.3  # "wat is X": the window defines X; any weight 0.05-1 gave the same answers
    w_enumeration: float = 0.1  # a question after several things: the window names several ("A, B en C"); CV 0.687 -> 0.700
    idf_floor: float = 0.1  # a term in nearly every passage still counts a little
    unknown_term_weight: float = 3.0  # a term the corpus never uses: no window can hold it, so it weighs as rare

    def __post_init__(self):
        for name in ("window_chars", "list_window_chars", "claim_window_chars"):
            if not 50 <= getattr(self, name) <= 800:
                raise SettingsError(f"{name}={getattr(self, name)}: must be between 50 and 800")
        for name in ("w_dense", "w_lexical", "w_type", "w_type_window", "w_definition", "w_enumeration",
                     "idf_floor", "unknown_term_weight"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name}={getattr(self, name)}: must be >= 0")


# -- values of the expected type ---------------------------------------------------------------------

_MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
# A number, not a label: "Bijlage 6a", "2e" and "3D" are no figures ("16.395K" and "4,9mln" are).
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![a-jl-wyzA-JL-WYZ](?![a-zA-Z]))")
# a written number, compounds too ("driehonderd", "veertien", "vijfentwintig"); "een" alone is an article
_NUMBER_WORD_RE = re.compile(rf"\b(?:{NL_NUMBER_WORD}|tweemaal|driemaal|viermaal|helft|kwart|dubbel)\b", re.I)
_PERCENT_RE = re.compile(r"\d\s*(?:%|procent)", re.I)
_MONEY_RE = re.compile(r"€|\beuro\b|\bmln\b|\bmiljoen\b|\bmiljard\b|\d\s*k\b", re.I)


# A number that names rather than counts: "fase 4", "Doel 3", "bijlage 2", "hoofdstuk 5".
_LABEL_BEFORE_RE = re.compile(r"\b(?:fase|stap|doel|hoofdstuk|paragraaf|bijlage|tabel|figuur|pijler|thema|artikel|"
                              r"lid|niveau|nr|nummer|deel|prioriteit|actie|speerpunt|chapter|section|table|"
                              r"figure|annex|phase|step|goal)\.?\s*$", re.I)
# A section number ("3.2", "4.1.3"): dots between groups of one or two digits (a thousands dot has three).
_SECTION_NUMBER_RE = re.compile(r"\d{1,2}(?:\.\d{1,2})+")
_SHARE_AFTER_RE = re.compile(r"\s*(?:%|procent\b|percent\b)", re.I)
# a decimal is no count of things ("een 8,2"), unless a scale word makes it one ("4,9 miljoen")
_DECIMAL_RE = re.compile(r"\d+,\d+")
_SCALE_AFTER_RE = re.compile(r"\s*(?:fte|duizend|miljoen|miljard|mln|mld|mrd|thousand|million|billion)\b", re.I)


def _values(text: str, counts: bool = False) -> list[str]:
    """Numbers in the text that can be an answer: not years, not the day of a date, not a label or
    section number; for a count (`counts`) not a percentage or a decimal either."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        if _LABEL_BEFORE_RE.search(text, max(0, m.start() - 14), m.start()) or \
                _SECTION_NUMBER_RE.fullmatch(m.group(0)):
            continue
        if counts and (_SHARE_AFTER_RE.match(text, m.end()) or
                       (_DECIMAL_RE.fullmatch(m.group(0)) and not _SCALE_AFTER_RE.match(text, m.end()))):
            continue
        digits = m.group(0)
        # "20212023": the years of a table's header run together by the PDF extraction
        years_run = len(digits) in (8, 12) and all(YEAR_RE.fullmatch(digits[i:i + 4]) for i in range(0, len(digits), 4))
        if YEAR_RE.fullmatch(digits) or years_run or re.match(rf"\s*(?:{_MONTHS})", text[m.end():m.end() + 12], re.I):
            continue
        out.append(re.sub(r"\D", "", m.group(0)))
    return out


_PERIOD = r"(?:dag|week|maand|kwartaal|jaar|half\s+jaar|twee\s+jaar|day|month|quarter|year)"
# "drie keer per maand", "elk kwartaal", "maandelijks", "vier maal", "twice a year", "every month"
_FREQUENCY_RE = re.compile(rf"\b(?:per|elke|elk|iedere|ieder|a|an|every|each)\s+{_PERIOD}\b|"
                           r"\b\w*(?:dage|weke|maande|jaar|kwartaa)lijkse?\b|\b\w+maal\b|"
                           r"\b(?:daily|weekly|monthly|quarterly|annually|yearly|twice|once)\b", re.I)
_TIMES_RE = re.compile(r"\d[\d.]*\s*(?:keer|maal|times)\b", re.I)
_PER_PERIOD_RE = re.compile(rf"\b(?:per|a|every)\s+{_PERIOD}\b", re.I)


def has_new_value(text: str, kind: str | None, question: Question) -> bool:
    """The text holds a value of the expected kind that the question itself does not contain:
    a sentence that only repeats the question's own numbers or names answers nothing."""
    if kind is None:
        return False
    if kind in ("number", "money", "percent"):
        new = [v for v in _values(text, question.wants_count) if v not in question.numbers]
        if kind == "percent":
            return bool(new) and bool(_PERCENT_RE.search(text))
        if kind == "money":
            return bool(new) and bool(_MONEY_RE.search(text))
        return bool(new) or bool(_NUMBER_WORD_RE.search(text))
    if kind == "frequency":
        # "hoe vaak per jaar" wants a frequency; a bare "hoe vaak" is also answered by a count of times
        return bool(_FREQUENCY_RE.search(text)) or (not _PER_PERIOD_RE.search(question.text)
                                                     and bool(_TIMES_RE.search(text)))
    if kind == "date":
        years = [y for y in YEAR_RE.findall(text) if y not in question.numbers]
        return bool(years) or bool(re.search(_MONTHS, text, re.I))
    if kind == "name":
        asked_words = {w.lower() for w in re.findall(r"\w+", question.text)}
        for m in re.finditer(r"\b[A-Z][\w&.-]+", text):
            line_before = text[:m.start()].split("\n")[-1]
            if m.start() == 0 or re.search(r"(?:[.!?:•]\s*|^\s*)$", line_before):
                continue  # capitalised because it starts a sentence or a line
            if m.group(0).lower() not in asked_words:
                return True
        return False
    return False


# -- definitions ---------------------------------------------------------------------------------------

# what follows a defined term, or begins the sentence after it
_DEFINES_AFTER_RE = re.compile(r"[\s'‘’\"“”)]*(?::|–|—|\(|=|\b(?:is|zijn|betekent|houdt|omvat|staat voor|wil zeggen|"
                               r"refers to|means)\b)", re.I)
# an acronym beside its expansion: "... (GK)", "GK (...)", "GK staat voor ..."
_OPENS_BRACKET_RE = re.compile(r"\(\s*$")
_EXPANSION_AFTER_RE = re.compile(r"\s*\(\s*\w|\W*(?:staat voor|stands for)\b", re.I)
_DEFINES_NEXT_RE = re.compile(r"\s*(?:dat|dit|deze|die|hiermee|daarmee|hieronder|daaronder|daarbij)\s+"
                              r"(?:zijn|is|wordt|worden|betekent|houdt|gaat)\b", re.I)


def expands(acronym: str, before: str, after: str) -> bool:
    """The words next to an acronym's bracket can spell it out: "Dienst Alfa Beta (DAB)" or
    "DAB (Dienst Alfa Beta)" start with its first letter; "DAB (en DXY)" or "DAB (Alfa-portaal)"
    are an aside, not its expansion. "DAB staat voor ..." always expands it."""
    first = acronym[0].lower()
    if re.match(r"\W*(?:staat voor|stands for)\b", after, re.I):
        return True
    inside = re.match(r"\s*\(\s*(\w+)", after)
    if inside:
        return inside.group(1).lower().startswith(first) and inside.group(1).lower() != acronym.lower()
    # "(DAB" opens after the expansion: one of the capitalised words just before starts with the letter
    words = re.findall(r"\w+", before)[-(len(acronym) + 3):]
    return any(w[0].isupper() and w[0].lower() == first for w in words)


def defines(window: str, before: str, subject: DefinedSubject) -> bool:
    """The window defines the subject: an acronym next to its expansion in brackets ("... (GK)",
    "GK (...)", "GK staat voor"); any other subject followed by "is", "zijn", ":" and the like, or
    named in the unit before a window that opens with "Dat zijn ..."."""
    for m in subject.pattern.finditer(window):
        if subject.acronym:
            if _OPENS_BRACKET_RE.search(window, 0, m.start()) or _EXPANSION_AFTER_RE.match(window, m.end()):
                if expands(m.group(0), window[:m.start()], window[m.end():]):
                    return True
        elif _DEFINES_AFTER_RE.match(window, m.end()):
            return True
    return (not subject.acronym and bool(subject.pattern.search(before))
            and bool(_DEFINES_NEXT_RE.match(window)))


# -- enumerations --------------------------------------------------------------------------------------

# "A, B en C" / "A, B of C": three or more items of one to four words closed by a conjunction; with
# only two commas' worth, items of at most three words (a comma between clauses, "na een kwartaal,
# wordt het plan herzien en vastgesteld", has a longer part)
_ITEM = r"[^\W\d_][\w.'’/-]*(?:\s+[\w.'’/-]+){0,%d}"
_CLOSES = r"\s+(?:en|of|and|or|alsmede|evenals)\s+\w"
_ENUMERATION_RE = re.compile(rf"(?<![\w,])(?:{_ITEM % 3},\s+(?:{_ITEM % 3},\s+)+{_ITEM % 3}|"
                             rf"{_ITEM % 2},\s+{_ITEM % 2}){_CLOSES}", re.I)
# two names joined ("Alfa en Beta", "UWV and SVB"); case-sensitive, so "werkzoekenden en werkgevers" is none
_NAMES_PAIR_RE = re.compile(r"(?<!^)(?<![.:•]\s)\b[A-Z][\w-]+\s+(?:en|and|of|or)\s+[A-Z][\w-]+")
# "zoals A en B", "waaronder A", "onder andere A": examples named after a cue
_EXAMPLES_RE = re.compile(r"\b(?:zoals|waaronder|onder andere|onder meer|namelijk|such as|including)\s+\w", re.I)
# list items: a bullet or a dash opening a line or following a sentence
_ITEM_RE = re.compile(r"(?:^|\n|[.:;]\s)\s*[•▪◦·●\-–]\s*\w")


def enumerates(text: str) -> bool:
    """The text names several things: "A, B en C", "Alfa en Beta", "zoals A en B", or two or more
    list items."""
    return (bool(_ENUMERATION_RE.search(text) or _NAMES_PAIR_RE.search(text) or _EXAMPLES_RE.search(text))
            or len(_ITEM_RE.findall(text)) >= 2)


# -- windows -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A candidate answer: offsets into `hit.passage.text`, its signals and its score."""

    hit: object  # docqa.index.search.Hit
    start: int
    end: int
    features: dict
    score: float

    @property
    def text(self) -> str:
        """The quote: verbatim from the passage, white space collapsed."""
        return " ".join(self.hit.passage.text[self.start:self.end].split())


class WindowScorer:
    """Scores the answer windows of retrieved passages against an analysed question."""

    def __init__(self, searcher, settings: WindowSettings = WindowSettings()):
        self.settings = settings
        self._units = searcher.units
        self._idf = searcher.idf

    def term_weights(self, question: Question) -> dict[str, float]:
        s = self.settings
        weights = {}
        for term in question.terms:
            idf = self._idf(term)
            weights[term] = max(idf, s.idf_floor) if idf is not None else s.unknown_term_weight
        return weights

    def windows(self, question: Question, query_vector: np.ndarray, hits) -> list[Window]:
        """All answer windows of the given hits (each with its `row`), best first."""
        s = self.settings
        weights = self.term_weights(question)
        total = sum(weights.values()) or 1.0
        kind = question.expected_type
        subject = question.definition if s.w_definition else None
        limit = s.list_window_chars if question.wants_list else s.window_chars
        # a list question that asks for a figure or a date ("hoeveel ... welke gegevens") wants no list
        several = s.w_enumeration > 0 and question.wants_list and question.expected_type is None

        def coverage(terms: set[str]) -> float:
            return sum(w for t, w in weights.items() if t in terms) / total

        out = []
        for hit in hits:
            text = hit.passage.text
            # each unit is analysed once; a window's features are the union of its units'
            spans, unit_terms = self._units.spans_and_terms(hit.row, text)
            if not spans:
                continue
            dense = self._units.vectors(hit.row) @ query_vector
            unit_typed = [has_new_value(text[a:b], kind, question) for a, b in spans]
            for j, (a, b) in enumerate(spans):
                # the window: this unit and the units after it that fit (a lead-in such as
                # "het aantal aanvragen in dat jaar:" is followed by the figure)
                last = j
                while last + 1 < len(spans) and spans[last + 1][1] - a <= limit:
                    last += 1
                around = coverage(set().union(*unit_terms[max(0, j - 1):last + 1]))
                typed_window = any(unit_typed[j:last + 1])
                features = {"dense": round(float(dense[j]), 4), "lexical": round(around, 4), "type": typed_window}
                score = (s.w_dense * float(dense[j]) + s.w_lexical * around + s.w_type * unit_typed[j]
                         + s.w_type_window * typed_window)
                if several:
                    features["enumerates"] = enumerates(text[a:b])
                    score += s.w_enumeration * features["enumerates"]
                if subject is not None:
                    before = text[spans[j - 1][0]:spans[j - 1][1]] if j else ""
                    features["defines"] = defines(text[a:spans[last][1]], before, subject)
                    score += s.w_definition * features["defines"]
                out.append(Window(hit, a, spans[last][1], features, score))
        out.sort(key=lambda w: -w.score)
        return out
