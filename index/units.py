"""Sentence-like units of retrieved passages, scored as answers to a question.

Used twice: by the hybrid search, to rerank its top passages by the best answer they hold, and by
`docqa ask`, to pick the quote. The signals, all explainable:

- `dense`: cosine between the question and the unit (unit vectors are computed at build time, so a
  question costs no encoding beyond its own vector);
- `lexical`: the idf-weighted share of the question's BM25 terms in the unit and its neighbours;
- `type`: the question asks for a number, percentage, amount, date or name, and the unit (or the
  answer window after it) holds one that the question itself does not contain;
- `defines`: the question asks what something is ("wat is X", "waar staat X voor") and the window
  defines X ("X is ...", "X: ...", "Dat zijn ..." after a sentence naming X; for an acronym, its
  expansion in brackets).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UnitSettings:
    """Weights of the unit signals, chosen by 5-fold cross-validation on dev (eval/RESULTS.md)."""

    window_chars: int = 250  # an answer window: the unit plus the units after it, up to this length
    w_dense: float = 1.0
    w_lexical: float = 0.5  # idf-weighted share of the question's terms around the unit
    w_type: float = 0.1  # the unit holds a new value of the expected type
    w_type_window: float = 0.1  # ... or its answer window does
    w_rank: float = 0.0  # prior for the passage's rank (measured: no gain)
    # "wat is X": the window defines X; any weight 0.05-1 gives the same answers on dev
    w_definition: float = 0.3

    def __post_init__(self):
        if not 50 <= self.window_chars <= 500:
            raise ValueError(f"window_chars={self.window_chars}: must be between 50 and 500")
        for name in ("w_dense", "w_lexical", "w_type", "w_type_window", "w_rank", "w_definition"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 0")


# -- expected answer type ------------------------------------------------------------------------

_MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
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


_DEFINITION_QUESTION_RES = [re.compile(p, re.I) for p in (
    r"^\s*wat (?:is|zijn|betekent|betekenen|houdt|houden|wordt bedoeld met|verstaat \w+ onder|bedoelt .+? met)\s+"
    r"(?:(?:de|het|een)\s+)?(?P<subject>.+?)(?:\s+in)?\s*\??\s*$",
    r"^\s*waar staat (?:de afkorting\s+)?(?P<subject>.+?)\s+voor\b",
    r"^\s*what (?:is|are|does)(?: meant by)?\s+(?:(?:the|an?)\s+)?(?P<subject>.+?)(?:\s+mean)?\s*\??\s*$",
)]
# where the subject ends: "PI-dagen | bij BKWI", "federatief datastelsel | (FDS)"
_SUBJECT_END_RE = re.compile(r"\s+(?:bij|in|volgens|binnen|voor|onder|at|for)\s|\s*[(,]", re.I)
# what follows a defined term, or begins the sentence after it
_DEFINES_AFTER_RE = re.compile(r"[\s'‘’\"“”)]*(?::|–|—|\(|=|\b(?:is|zijn|betekent|houdt|omvat|staat voor|wil zeggen|"
                               r"refers to|means)\b)", re.I)
# an acronym beside its expansion: "... (GGk)", "GGk (...)", "GGk staat voor ..."
_OPENS_BRACKET_RE = re.compile(r"\(\s*$")
_EXPANSION_AFTER_RE = re.compile(r"\s*\(\s*\w|\W*(?:staat voor|stands for)\b", re.I)
_DEFINES_NEXT_RE = re.compile(r"\s*(?:dat|dit|deze|die|hiermee|daarmee|hieronder|daaronder|daarbij)\s+"
                              r"(?:zijn|is|wordt|worden|betekent|houdt|gaat)\b", re.I)


@dataclass(frozen=True)
class DefinedSubject:
    pattern: re.Pattern  # finds the subject in a text, its words separated by any non-word characters
    acronym: bool  # "GGk", "ROAM": what defines it is its expansion, "Gemeentelijk Gegevensknooppunt (GGk)"


def defined_subject(question: str) -> DefinedSubject | None:
    """For a question asking what something is ("wat zijn opting-in-inkomsten", "waar staat ROAM
    voor"), what to look for in a window that defines it; None for other questions."""
    m = next((m for m in (p.match(question) for p in _DEFINITION_QUESTION_RES) if m), None)
    if not m:
        return None
    words = re.findall(r"\w+", _SUBJECT_END_RE.split(m.group("subject"), maxsplit=1)[0])
    if not words:
        return None
    acronym = len(words) == 1 and len(words[0]) <= 8 and sum(ch.isupper() for ch in words[0]) >= 2
    return DefinedSubject(re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", re.I), acronym)


def defines(window: str, before: str, subject: DefinedSubject) -> bool:
    """The window defines the subject: an acronym next to its expansion in brackets ("... (GGk)",
    "GGk (...)", "GGk staat voor"); any other subject followed by "is", "zijn", ":" and the like, or
    named in the unit before a window that opens with "Dat zijn ..."."""
    for m in subject.pattern.finditer(window):
        if subject.acronym:
            if _OPENS_BRACKET_RE.search(window, 0, m.start()) or _EXPANSION_AFTER_RE.match(window, m.end()):
                return True
        elif _DEFINES_AFTER_RE.match(window, m.end()):
            return True
    return (not subject.acronym and bool(subject.pattern.search(before))
            and bool(_DEFINES_NEXT_RE.match(window)))


def _values(text: str) -> list[str]:
    """Numbers in the text that can be an answer: not years, not the day of a date."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        if YEAR_RE.fullmatch(m.group(0)) or re.match(rf"\s*(?:{_MONTHS})", text[m.end():m.end() + 12], re.I):
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
        years = [y for y in YEAR_RE.findall(text) if y not in asked_numbers]
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



@dataclass(frozen=True)
class UnitCandidate:
    hit: object  # index.search.Hit
    start: int  # offsets of the answer window in hit.passage.text
    end: int
    features: dict
    score: float


class UnitScorer:
    """Scores the units of a searcher's passages against a question."""

    def __init__(self, loaded, analyzer, settings: UnitSettings = UnitSettings()):
        self.settings = settings
        self._units = loaded.units
        self._unit_vectors = loaded.unit_vectors
        self._bm25 = loaded.bm25
        self._analyzer = analyzer
        # the rows of the unit arrays that belong to passage i: _order[_bounds[i]:_bounds[i + 1]]
        # (two arrays, not a list of a million small ones)
        self._order = np.argsort(loaded.units[:, 0], kind="stable")
        self._bounds = np.searchsorted(loaded.units[self._order, 0], np.arange(len(loaded.passages) + 1))
        # Analysing a passage's units is most of a rerank's cost, and the same passages come back
        # for related questions: keep the analysed terms of recently seen passages. lru_cache is
        # thread-safe, and what it stores depends only on the passage.
        self._passage_unit_terms = functools.lru_cache(maxsize=4096)(self._analyse_units)

    def _unit_rows(self, p_idx: int) -> np.ndarray:
        return self._order[self._bounds[p_idx]:self._bounds[p_idx + 1]]

    def _analyse_units(self, p_idx: int, text: str) -> tuple[tuple[tuple[int, int], ...], tuple[frozenset, ...]]:
        spans = tuple((int(a), int(b)) for _, a, b in self._units[self._unit_rows(p_idx)].tolist())
        return spans, tuple(frozenset(self._analyzer(text[a:b])) for a, b in spans)

    def term_weights(self, question: str) -> dict[str, float]:
        weights = {}
        for term in self._analyzer(question):
            col = self._bm25.vocab.get(term)
            # a term the corpus never uses still counts: no answer can contain it
            weights[term] = max(float(self._bm25.idf[col]), 0.1) if col is not None else 3.0
        return weights

    def candidates(self, question: str, query_vector: np.ndarray, hits, passage_ids) -> list[UnitCandidate]:
        """All answer windows of the given hits, best first. `passage_ids[i]` is hits[i]'s row."""
        s = self.settings
        weights = self.term_weights(question)
        total = sum(weights.values()) or 1.0
        kind = expected_type(question)
        subject = defined_subject(question) if s.w_definition else None

        def coverage(terms: set[str]) -> float:
            return sum(w for t, w in weights.items() if t in terms) / total

        out = []
        for hit, p_idx in zip(hits, passage_ids):
            rows = self._unit_rows(p_idx)
            if len(rows) == 0:
                continue
            text = hit.passage.text
            # each unit is analysed once; a window's features are the union of its units'
            spans, unit_terms = self._passage_unit_terms(int(p_idx), text)
            dense = np.asarray(self._unit_vectors[rows], dtype=np.float32) @ query_vector
            unit_typed = [has_new_value(text[a:b], kind, question) for a, b in spans]
            for j, (a, b) in enumerate(spans):
                # the answer window: this unit and the units after it that fit (a lead-in such as
                # "het aantal fte dat is begroot:" is followed by the figure)
                last = j
                while last + 1 < len(spans) and spans[last + 1][1] - a <= s.window_chars:
                    last += 1
                around = coverage(set().union(*unit_terms[max(0, j - 1):last + 1]))
                typed_window = any(unit_typed[j:last + 1])
                features = {"dense": round(float(dense[j]), 4), "lexical": round(around, 4),
                            "type": typed_window, "rank": hit.rank}
                score = (s.w_dense * float(dense[j]) + s.w_lexical * around + s.w_type * unit_typed[j]
                         + s.w_type_window * typed_window + s.w_rank / hit.rank)
                if subject is not None:
                    before = text[spans[j - 1][0]:spans[j - 1][1]] if j else ""
                    features["defines"] = defines(text[a:spans[last][1]], before, subject)
                    score += s.w_definition * features["defines"]
                out.append(UnitCandidate(hit, a, spans[last][1], features, score))
        out.sort(key=lambda c: -c.score)
        return out
