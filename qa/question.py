"""Question analysis, done once per question into one frozen record that every later stage reads:
language, the expected kind of answer, the definition subject, the BM25 terms, and the
organisations, years and period the question names. Nothing downstream looks at the raw string
again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.qa.values import WHOLE_YEAR, extract_values

# -- language --------------------------------------------------------------------------------------

# Function words that occur in only one of the two languages. "is", "in", "of", "was" and the like
# are words in both, so they count for neither: with them, Dutch questions were taken for English.
_ENGLISH_ONLY = frozenset("""
the what which how does did do are for many much when who whom whose will would should have has had
its their there these those this that been be an and to with from by on at about according were than
why where into can could year years per cent percent between
""".split()) - {"per"}
_DUTCH_ONLY = frozenset("""
de het een en van voor welke welk wat hoe hoeveel wie wanneer waar waarom zijn worden wordt werd heeft
hebben op met bij aan te die dat niet ook om naar uit tot als er nog deze dit jaar moet kan welke
hoelang hoeverre volgens binnen tussen sinds onder over door per
""".split()) - {"over", "per"}


def detect_language(text: str) -> str:
    """"en" when the question has more English-only than Dutch-only function words, else "nl"
    (the documents' language, and the safe default for a question of names and numbers only)."""
    words = re.findall(r"[a-zà-ÿ']+", text.lower())
    english = sum(w in _ENGLISH_ONLY for w in words)
    dutch = sum(w in _DUTCH_ONLY for w in words)
    return "en" if english > dutch else "nl"


# -- expected answer type ----------------------------------------------------------------------------

YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")

_TYPE_PATTERNS = [
    ("percent", re.compile(r"percentage\b|\bhoeveel procent\b|\bwhat percentage\b|\bhow many percent\b", re.I)),
    ("money", re.compile(r"\bhoeveel (geld|euro)\b|\bbedrag\b|\bbudget\b|\b(?:ge)?kost(en|te)?\b|\bbezoldiging\b|"
                         r"\bsalaris\b|\bhuur\b|\bhow much (money|does)\b|\brent\b|\bcost\b", re.I)),
    # how often: a frequency ("drie keer per maand", "maandelijks"), or for a bare "hoe vaak" a count of times
    ("frequency", re.compile(r"\bhoe vaak\b|\bhoeveel keer per\b|\bmet welke (?:frequentie|regelmaat)\b|"
                             r"\bhow often\b|\bhow frequently\b", re.I)),
    ("number", re.compile(r"\bhoeveel\b|\bhoe (groot|hoog|lang|ver|oud)\b|\baantal\b|\bnorm\b|"
                          r"\brapportcijfer\b|\bcijfer\b|\bhow (many|much|long)\b|\btarget\b", re.I)),
    ("date", re.compile(r"\bwanneer\b|\bin welk jaar\b|\bsinds welk jaar\b|\bvanaf wanneer\b|\bwelke datum\b|"
                        r"\bwhen\b|\bwhich year\b|\bwhat year\b|\bsince when\b", re.I)),
    ("name", re.compile(r"\bwie\b|\bwelke (organisatie|partij|instantie|gemeente|minister|afdeling)\b|"
                        r"\bwho\b|\bwhich organi[sz]ation\b", re.I)),
]


# A question after several things: "welke <plural>", "wat zijn de ...", "noem ...", "which/what are".
# Dutch plurals end in -en, -s or -'s; "welk" (singular neuter) never asks for a list.
_LIST_RE = re.compile(r"\bwelke\s+(?:(?:twee|drie|vier|vijf|zes|zeven|acht|negen|tien)\s+)?(?:\w+e\s+)?\w+(?:en|s|'s)\b|"
                      r"^\s*(?:wat|wie|welke) zijn\b|^\s*noem\b|\b(?:which|what) (?:are|were)\b|\bwhich \w+s\b",
                      re.I)


# "wie is de directeur van ...", "who is the CIO": the answer is a person. Roles an organisation
# holds as often as a person ("wie is verantwoordelijk", "eigenaar", "opdrachtgever") are left out.
_PERSON_RE = re.compile(r"^\s*(?:wie|who)\s+(?:is|was|are|were)\s+(?:(?:de|het|the|nu|op dit moment)\s+)*"
                        r"(?!(?:verantwoordelijk|bevoegd|betrokken|eigenaar|opdrachtgever|uitvoerder|leverancier|"
                        r"beheerder|responsible|in charge|owner|involved)\b)\w", re.I)
def asks_person(question: str) -> bool:
    """The question asks who holds a role: its answer names a person."""
    return bool(_PERSON_RE.search(question))


def asks_whole_year(question: str) -> bool:
    """The question asks about a whole year ("in heel 2023", "the whole of 2023": the claim check's
    whole-year bounds), so a figure for part of one does not answer it."""
    return any(v.kind == "year" and v.approx in WHOLE_YEAR for v in extract_values(question))


# "hoeveel gemeenten", "het aantal meldingen", "how many staff": a count of things, which a percentage
# ("60% van de gemeenten") does not answer; "hoeveel procent", "hoeveel geld" and "hoe groot" are no counts.
# Measures come in decimals and durations are no counts: "hoeveel fte", "het aantal uren".
_MEASURES = r"procent|geld|euro|keer|maal|tijd|jaar|jaren|dagen|weken|maanden|uur|uren|fte\S*|percent|times|years|days|weeks|months|hours"
_COUNT_RE = re.compile(rf"\b(?:hoeveel|aantal|how many)\b(?!\s+(?:\w+\s+)?(?:{_MEASURES})\b)", re.I)


def asks_count(question: str, kind: str | None) -> bool:
    """The question, whose expected type is `kind`, asks how many things there are (not a share,
    amount or duration)."""
    return kind == "number" and bool(_COUNT_RE.search(question))


def asks_list(question: str) -> bool:
    """The question asks for several things (a list), so the answer may need a longer quote."""
    return bool(_LIST_RE.search(question))


# A question about more than one document: "beide", "zowel X als Y", "het verschil tussen", "welke ... en
# welke", "wat hebben X en Y gemeen", and the English ways of saying so. Naming two organisations counts too
# (in `analyse`, which knows the indexed organisations).
_ACROSS_RE = re.compile(r"\b(?:beide|beiden|allebei|zowel\b.+?\bals|verschil(?:len)?\s+tussen|vergelijk\w*|"
                        r"gemeen\b|gemeenschappelijk\w*|welke\b.+?\ben\s+welke|"
                        r"both|differ\w*\s+between|compar\w*|in\s+common|which\b.+?\band\s+which)\b", re.I)


def asks_across(question: str) -> bool:
    """The question asks about several documents at once (two organisations, a comparison)."""
    return bool(_ACROSS_RE.search(question))


def expected_type(question: str) -> str | None:
    """What kind of value the question asks for: percent, money, frequency, number, date, name, or None."""
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return name
    return None


# -- definition questions ------------------------------------------------------------------------------

_DEFINITION_QUESTION_RES = [re.compile(p, re.I) for p in (
    r"^\s*wat (?:is|zijn|betekent|betekenen|houdt|houden|wordt bedoeld met|verstaat \w+ onder|bedoelt .+? met)\s+"
    r"(?:(?:de|het|een)\s+)?(?P<subject>.+?)(?:\s+in)?\s*\??\s*$",
    r"^\s*waar staat (?:de afkorting\s+)?(?P<subject>.+?)\s+voor\b",
    r"^\s*what (?:is|are|does)(?: meant by)?\s+(?:(?:the|an?)\s+)?(?P<subject>.+?)(?:\s+mean)?\s*\??\s*$",
)]
# where the subject ends: "<term> | bij <organisation>", "<term> | (<acronym>)"
_SUBJECT_END_RE = re.compile(r"\s+(?:bij|in|volgens|binnen|voor|onder|at|for)\s|\s*[(,]", re.I)


@dataclass(frozen=True)
class DefinedSubject:
    pattern: re.Pattern  # finds the subject in a text, its words separated by any non-word characters
    acronym: bool  # an acronym: what defines it is its expansion, "Gemeentelijk Knooppunt (GK)"


def defined_subject(question: str) -> DefinedSubject | None:
    """For a question asking what something is ("wat zijn <term>", "waar staat <acronym> voor"),
    what to look for in a window that defines it; None for other questions."""
    m = next((m for m in (p.match(question) for p in _DEFINITION_QUESTION_RES) if m), None)
    if not m:
        return None
    words = re.findall(r"\w+", _SUBJECT_END_RE.split(m.group("subject"), maxsplit=1)[0])
    if not words:
        return None
    acronym = len(words) == 1 and len(words[0]) <= 8 and sum(ch.isupper() for ch in words[0]) >= 2
    return DefinedSubject(re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", re.I), acronym)


# -- the record ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """A question as every stage of answering sees it."""

    text: str  # cleaned: NFC, one line, at most MAX_QUERY_CHARS
    notices: tuple[str, ...]  # for the user ("de vraag is ingekort ...")
    language: str  # "nl" or "en"
    expected_type: str | None  # percent, money, frequency, number, date, name, or None
    definition: DefinedSubject | None  # the subject of "wat is X", else None
    terms: tuple[str, ...]  # the BM25 analyser's terms, in order, repeats kept
    years: tuple[str, ...]  # years the question names, sorted
    organisations: tuple[str, ...]  # indexed organisations the question names (full names)
    numbers: frozenset[str]  # digit runs of the question: a sentence repeating them answers nothing
    wants_list: bool = False  # asks for several things ("welke organisaties", "wat zijn de ...")
    wants_person: bool = False  # asks who holds a role ("wie is de voorzitter van ...")
    wants_count: bool = False  # asks how many things ("hoeveel gemeenten"): a percentage is no answer
    whole_year: bool = False  # asks about a whole year ("in heel 2023")
    across_documents: bool = False  # asks about several documents ("zowel X als Y", two organisations named)

    @property
    def joins(self) -> str | None:
        """Whether an answer may join quotes of several passages: "documents" (each from another
        document), "passages" (each from another passage), or None (one quote)."""
        if self.across_documents:
            return "documents"
        return "passages" if self.wants_list or self.expected_type == "list" else None

    @property
    def english(self) -> bool:
        return self.language == "en"


def organisation_names(organisation: str) -> tuple[str, ...]:
    """The names a text uses for an indexed organisation: its short form and, for "BKWI (Bureau
    Keteninformatisering Werk en Inkomen)", the part in brackets."""
    short = organisation.split(" (")[0]
    bracketed = organisation.rstrip().endswith(")") and " (" in organisation
    long = organisation.rsplit(" (", 1)[1].rstrip(") ") if bracketed else ""
    return tuple(n for n in (short, long) if n)


def mentions_organisation(text: str, organisation: str) -> bool:
    """The text names the organisation; a name of three letters or less only as written ("IB", not "ib")."""
    return any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.I if len(n) > 3 else 0)
               for n in organisation_names(organisation))


def analyse(text: str, notices=(), analyzer=None, organisations=()) -> Question:
    """The one analysis of a cleaned question. `analyzer` gives the BM25 terms; `organisations` are
    the indexed organisations' full names, matched by their short form or abbreviation."""
    named = [org for org in organisations if mentions_organisation(text, org)]
    kind = expected_type(text)
    return Question(
        text=text, notices=tuple(notices), language=detect_language(text), expected_type=kind,
        definition=defined_subject(text), terms=tuple(analyzer(text)) if analyzer else (),
        years=tuple(sorted(set(YEAR_RE.findall(text)))), organisations=tuple(named),
        numbers=frozenset(re.findall(r"\d+", text)), wants_list=asks_list(text),
        wants_person=asks_person(text), wants_count=asks_count(text, kind), whole_year=asks_whole_year(text),
        across_documents=len(named) >= 2 or asks_across(text))
