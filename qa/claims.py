"""Claim checking: do the documents support a journalist's claim, contradict it, or not say?

No reader model runs offline, so the verdict comes from explainable rules over the answer windows
that retrieval proposes (`ClaimCandidate`), compared detail by detail with the claim:

1. The claim is read once (`analyse_claim`): its checkable values (`qa/values.py`: numbers, counts,
   percentages, amounts, years, dates, periods), the names it uses (organisations, places,
   programmes, acronyms such as "ZZP" in "ZZP'ers"), its direction ("gedaald", "minder ... dan",
   "hoger", "toegenomen"), its polarity ("gestopt" against "blijven"; "niet") and its topic words
   (what is left: the words that say what the values are about).
2. Every candidate window gets a topic score: the share of the claim's topic words it holds (the
   window with its section heading and, for a table row, the table's caption), inflections and
   compound parts included. A window that is not about the claim's subject decides nothing.
3. Each detail of the claim is compared with the window: a value with the values of the same kind
   there (`same_value`: rounding to the claim's precision, the tolerance of its approximation
   word); a year, period or the claim's organisation also with the passage and its document's
   metadata; a direction with the direction words of the window or with two figures of one table
   row or sentence (later against earlier); a name with the passage text and metadata, and
   otherwise with a different name in the same place ("opleidingsprogramma van X").
4. Verdict: `supported` only when every detail matches in one window on the claim's topic;
   `contradicted` when a window on the topic holds a different value, date, direction, name or
   polarity for a detail of the claim (its first citation is the sentence with the source's value);
   otherwise `not_found`. When unsure the checker says not_found: a false "supported" is the worst
   error a journalist can be handed.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from docqa.errors import SettingsError
from docqa.qa.answer import Citation, reference
from docqa.qa.values import (WHOLE_YEAR, Value, ValueSettings, comparable, compare_values, compatible, detect_language, extract_values,
                             parse_figure)

VERDICTS = ("supported", "contradicted", "not_found")
STATUSES = ("match", "mismatch", "absent")
VERDICT_TEXT = {"supported": "klopt volgens de bron", "contradicted": "klopt niet volgens de bron",
                "not_found": "niet gevonden in de documenten"}
STATUS_TEXT = {"match": "klopt", "mismatch": "wijkt af", "absent": "niet gevonden"}
_TIME_KINDS = ("year", "date", "period")


@dataclass(frozen=True)
class ClaimSettings:
    """The checker's tunables; the values were set by measurement on the dev claims (see the report)."""

    windows: int = 40  # windows read per claim, best retrieval score first: the evidence was within the top 40 for all dev claims
    support_topic: float = 0.5  # a window supports only when it holds at least half of the claim's topic words
    contradict_topic: float = 0.5  # ... and contradicts only when it is as much on the claim's topic
    # A claim with no value, direction or name to compare ("... kost extra planners") is a
    # statement: it is supported only by a window that holds nearly all its words.
    statement_topic: float = 0.85
    # A claim whose only details are names ("op advies van de Raad Omega ...") names things that
    # many passages name: the window must also hold most of its other words.
    name_topic: float = 0.75
    # Prefer the supporting window unless a contradicting one is clearly more on the topic: a
    # different figure near the right one ("gemiddeld 40" beside "61.000") must not outvote it.
    contradict_margin: float = 0.15
    # A different value contradicts only when it is about the same thing: its alignment (2 for the same
    # noun after it, 1 for each claim word around it, 1 for the same bound word) must reach this. At 1, one
    # shared common word ("gemeenten") made any figure nearby a contradiction.
    min_alignment: float = 2.0
    # A date or year is tied to its event more tightly than a figure to its noun ("opende in mei 2025 de
    # balie" / "de balie ging in maart 2025 open"): one claim word around it, or the same
    # bound ("sinds"), is enough; a start where the claim has an end never aligns (`event_of`).
    min_time_alignment: float = 1.0
    # ... except for a claim with one such word: in a window this much on its topic, that word suffices
    sole_context_topic: float = 0.9
    context_words: int = 5  # claim words each side of a value that say what it is about
    context_cap: int = 2  # ... of which at most this many count: a long shared context is one topic, not proof
    match_bonus: float = 1.0  # a figure equal to the claim's is more likely about the same thing than another figure
    topic_weight: float = 1.0  # relevance of a window = retrieval score + topic_weight x topic share
    name_weight: float = 1.5  # a name the claim uses says more about its topic than a common word
    context_chars: int = 300  # text after a window searched for the name in the claim's place
    high_topic: float = 0.75  # confidence "hoog": every detail decided in a window this much on topic
    # An English claim against Dutch passages: its topic share is read from the window's dense similarity,
    # (dense - floor) / span, where words cannot say it (multilingual-e5's cosines: about 0.84 for a Dutch
    # window on another matter, 0.87 for the one that states the claim). span 0: words only.
    english_dense_floor: float = 0.82
    english_dense_span: float = 0.10
    values: ValueSettings = field(default_factory=ValueSettings)

    def __post_init__(self):
        if not isinstance(self.windows, int) or isinstance(self.windows, bool) or self.windows < 1:
            raise SettingsError(f"windows={self.windows!r}: must be a whole number >= 1")
        for name in ("support_topic", "contradict_topic", "statement_topic", "name_topic", "high_topic",
                     "sole_context_topic"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise SettingsError(f"{name}={value!r}: must be between 0 and 1")
        for name in ("contradict_margin", "topic_weight", "name_weight", "min_alignment", "min_time_alignment",
                     "context_cap", "match_bonus", "context_words", "english_dense_floor", "english_dense_span"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise SettingsError(f"{name}={value!r}: must be >= 0")
        if not isinstance(self.context_chars, int) or not 0 <= self.context_chars <= 2000:
            raise SettingsError(f"context_chars={self.context_chars!r}: must be a whole number from 0 to 2000")
        if not isinstance(self.values, ValueSettings):
            raise SettingsError(f"values={self.values!r}: must be a ValueSettings")


# -- records ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimCandidate:
    """One answer window proposed by retrieval."""

    hit: object  # docqa.index.search.Hit: .rank, .score, .passage
    start: int  # offsets of the window in hit.passage.text
    end: int
    score: float  # the window's relevance score (higher is better)
    features: dict = field(default_factory=dict, compare=False)  # e.g. {"dense": cosine, "lexical": share}


@dataclass(frozen=True)
class Detail:
    """One checkable detail of the claim and what the source makes of it."""

    kind: str  # number, count, percentage, amount, year, date, period, organisation, direction, polarity
    claim_value: str  # as the claim writes it
    source_value: str | None  # as the source writes it; None when absent
    status: str  # match, mismatch, absent

    def to_json(self) -> dict:
        return {"kind": self.kind, "claim_value": self.claim_value, "source_value": self.source_value,
                "status": self.status}


@dataclass(frozen=True)
class ClaimCheck:
    claim: str
    verdict: str  # supported, contradicted, not_found
    confidence: str  # hoog, middel, laag
    probability: float | None  # of the verdict being right, from a calibration; None without one
    details: tuple[Detail, ...]
    citations: tuple[Citation, ...]
    signals: dict = field(default_factory=dict, compare=False)  # why: topic share, window rank, rule (not in to_json)
    hits: tuple = ()  # the passages retrieval found for the claim, as `docqa search` gives them
    notices: tuple[str, ...] = ()  # what was done to the claim on the way in (cut, cleaned)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r}: must be one of {', '.join(VERDICTS)}")
        if self.confidence not in ("hoog", "middel", "laag"):
            raise ValueError(f"confidence={self.confidence!r}: must be hoog, middel or laag")

    def to_json(self) -> dict:
        return {"claim": self.claim, "verdict": self.verdict, "confidence": self.confidence,
                "probability": None if self.probability is None else round(self.probability, 4),
                "details": [d.to_json() for d in self.details], "citations": [c.to_json() for c in self.citations],
                "notices": list(self.notices), "hits": [h.to_json() for h in self.hits]}

    def to_text(self) -> str:
        lines = [f"{self.claim}", f"-> {VERDICT_TEXT[self.verdict]} (zekerheid: {self.confidence})"]
        for d in self.details:
            source = f" / bron: {d.source_value}" if d.source_value else ""
            lines.append(f"   - {d.kind}: {d.claim_value}{source} ({STATUS_TEXT[d.status]})")
        for c in self.citations:
            lead = "Dichtstbijzijnde passage" if self.verdict == "not_found" else f"[{c.n}]"
            lines.append(f"{lead} \"{c.quote}\"")
            lines.append(f"    {c.reference()}  ({c.hit.passage.doc_id})")
        return "\n".join(lines)


# -- claim analysis ----------------------------------------------------------------------------------

_STOPWORDS = frozenset("""
de het een en van in op te voor met aan bij door naar om uit over tot als dan dat die dit deze is zijn was waren
wordt worden werd werden heeft hebben had hadden er ook nog al niet wel of maar zo per zich zijn haar hun wij we
ze zij hij men hier daar waar wat wie welke welk hoe toe af mee na onder tussen tegen sinds vanaf binnen zonder
jaar jaren maand maanden eerste tweede keer zou zal zullen kan kunnen moet moeten wil willen gaat gaan ging
iets veel weer nu pas eerder later reeds al alle elk elke ieder iedere geen nog steeds zelf ons onze mijn
verder ruim bijna circa ongeveer vond vonden plaats gaf gaven kreeg kregen kwam kwamen maakt maakte maken
gemaakt doet deed doen gedaan staat stond ligt lag houdt hield zet zette neemt nam
volgens namens dankzij ondanks tijdens zoals omdat doordat hoewel toen nadat daarnaast bovendien inmiddels echter
opzichte vergeleken vergelijking dezelfde periode voorgaande vorige ten ter licht lichte fors forse flink flinke
sterk sterke enigszins
the a an of to in on for with by from at as than that this these those is are was were be been being has have
had and or not its it their there which who what when where will would should can could into about after
before since until also only its his her our they them one
""".split())
_UP = ("stijging", "stijgen", "stijgt", "steeg", "stegen", "gestegen", "toename", "toegenomen", "toenemen",
       "neemt toe", "nam toe", "namen toe", "groei", "groeit", "groeide", "gegroeid", "hoger", "meer",
       "opgelopen", "oploopt", "liep op", "liepen op", "verhoogd", "verhoging", "verdubbeld", "omhoog",
       "increase", "increased", "increases", "rose", "risen", "rising", "higher", "more", "grew", "grown", "up")
_DOWN = ("daling", "dalen", "daalt", "daalde", "daalden", "gedaald", "afname", "afgenomen", "afnemen",
         "neemt af", "nam af", "namen af", "lager", "minder", "halveerde", "halveerden", "gehalveerd", "halvering", "gezakt", "verlaagd", "verlaging",
         "teruggelopen", "liep terug", "gekrompen", "krimp", "omlaag", "vermindering", "verminderd",
         "decrease", "decreased", "decreases", "fell", "fallen", "falling", "lower", "less", "fewer",
         "declined", "dropped", "down", "reduced")
_STOP = ("gestopt", "stopt", "stoppen", "stopte", "beëindigd", "beëindigt", "beëindigen", "afgeschaft",
         "gestaakt", "opgeheven", "stopped", "ended", "quit", "terminated", "halted", "abolished")
_CONTINUE = ("blijven", "blijft", "bleef", "bleven", "doorgaan", "gaat door", "voortgezet", "voortzetten",
             "continueren", "gecontinueerd", "remain", "remains", "continue", "continues", "keeps", "still")
_NEGATION = ("niet", "geen", "nooit", "not", "no", "never", "nergens")
# a target met or missed ("de norm van 90% hebben we niet gehaald"); a negation near the verb turns it
_TARGET_VERBS = ("gehaald", "haalde", "haalden", "haalt", "halen", "behaald", "behaalde", "behaalt", "bereikt",
                 "bereikte", "bereikten", "gerealiseerd", "realiseerde", "realiseerden", "voldaan", "voldeed",
                 "voldoet", "achieved", "reached", "attained", "met")
_TARGET_MISSED = ("onder de norm", "onder het streven", "niet op schema", "missed", "failed to", "fell short", "short of")
# when the claim says something starts and the source that it ends (or the other way), their dates
# are of different events: "in 2027 te beginnen" says nothing about "in 2030 af te ronden"
_START = ("start", "starten", "gestart", "begint", "beginnen", "begonnen", "aanvang", "van start", "starts",
          "begin", "begins", "started", "opgestart")
_END = ("af te ronden", "rondt af", "ronden af", "afronden", "afgerond", "afronding", "voltooid", "voltooien", "klaar", "gereed", "opgeleverd",
        "afgesloten", "gerealiseerd", "realiseren", "completed", "finished", "finish", "complete", "ready")
# words after a figure that do not say what is counted ("twee extra regelingen", "137 nieuwe meldingen")
_NOT_NOUNS = _STOPWORDS | frozenset("""extra nieuwe nieuw andere overige vaste tijdelijke kleine grote totale
verschillende diverse eigen verdere ruim bijna ongeveer circa mogelijke lopende new other additional more total
aannemen binnen uit""".split())
# "40.000 keer": how often something happened, never a count of the claim's things
_TIMES_NOUNS = frozenset({"keer", "maal", "times"})
_COMPARATIVE_GUARD = re.compile(r"\s+(?:dan|than)\s+(?:[€$]\s?)?\d", re.I)  # "meer dan 5.000": a bound, not a direction
_MONTH_WORDS = frozenset("januari februari maart april mei juni juli augustus september oktober november december "
                         "january february march may june july august october".split())
_EN_CAPITALISED = frozenset("i according the a an in on at by for of to from with it its this that these those "
                            "ukrainian dutch english european".split())


def fold(word: str) -> str:
    """Lower case without accents: "financiële" -> "financiele"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[re.Match]:
    return list(re.finditer(r"[^\W\d_]+", text))


def _has_phrase(text_folded: str, phrases: Sequence[str]) -> list[str]:
    found = []
    for ph in phrases:
        if re.search(rf"(?<![^\W\d_]){re.escape(fold(ph))}(?![^\W\d_])", text_folded):
            found.append(ph)
    return found


def direction_of(text: str) -> tuple[str | None, str]:
    """"up", "down" or None for the direction words of a text, and the word that decided it.
    "meer dan 5.000" and "minder dan" before a figure are bounds, not directions."""
    folded = fold(text)
    ups, downs = [], []
    for word in _UP:
        for m in re.finditer(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", folded):
            if word in ("meer", "more") and _COMPARATIVE_GUARD.match(folded, m.end()):
                continue
            ups.append((m.start(), word))
    for word in _DOWN:
        for m in re.finditer(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", folded):
            if word in ("minder", "less", "fewer") and _COMPARATIVE_GUARD.match(folded, m.end()):
                continue
            downs.append((m.start(), word))
    # a Dutch separable verb split around the rest of the clause: "nam in 2025 met 12 procent toe",
    # "liepen de kosten flink op"; the particle ends the clause
    for m in re.finditer(r"(?<![^\W\d_])(nam|namen|neemt|nemen|liep|liepen|loopt|lopen)\s+(?:[^\W_][\w%,.'’-]*\s+){1,12}?"
                         r"(toe|af|op|terug)(?=\s*(?:[.,;:!?)]|$|\s+(?:en|maar|dan|tot|naar|ten|tegenover)\b))", folded):
        verb, particle = m.group(1), m.group(2)
        if verb.startswith(("nam", "neem", "nem")) and particle in ("toe", "af"):
            (ups if particle == "toe" else downs).append((m.start(), f"{verb} ... {particle}"))
        elif verb.startswith(("liep", "loop", "lop")) and particle in ("op", "terug"):
            (ups if particle == "op" else downs).append((m.start(), f"{verb} ... {particle}"))
    if ups and not downs:
        return "up", min(ups)[1]
    if downs and not ups:
        return "down", min(downs)[1]
    return None, ""


def polarity_of(text: str) -> tuple[str | None, bool]:
    """("stop" | "continue" | None, negated) of a text."""
    folded = fold(text)
    stop, cont = _has_phrase(folded, _STOP), _has_phrase(folded, _CONTINUE)
    kind = "stop" if stop and not cont else "continue" if cont and not stop else None
    return kind, bool(_has_phrase(folded, _NEGATION))


def target_of(text: str, lang: str = "nl") -> str | None:
    """"met", "missed" or None: does the text say a target or norm was met? A negation within four
    words of the verb ("niet gehaald", "haalde het doel niet") makes it missed."""
    folded = fold(text)
    if _has_phrase(folded, _TARGET_MISSED):
        return "missed"
    verdicts = set()
    for clause in re.split(r"[.;:!?]\s|,\s(?:maar|want|en|terwijl|but)\s", folded):
        words = [m.group(0) for m in re.finditer(r"[^\W\d_]+", clause)]
        for i, w in enumerate(words):
            if w not in _TARGET_VERBS or (w == "met" and lang != "en"):
                continue
            # Dutch puts "niet" late: "haalde de norm van dit jaar niet"
            near = words[max(0, i - 4):i] + words[i + 1:i + 5] + words[-2:]
            verdicts.add("missed" if any(n in _NEGATION for n in near) else "met")
    return verdicts.pop() if len(verdicts) == 1 else None


def event_of(text: str) -> str | None:
    folded = fold(text)
    start, end = _has_phrase(folded, _START), _has_phrase(folded, _END)
    return "start" if start and not end else "end" if end and not start else None


@dataclass(frozen=True)
class Name:
    text: str  # as written, possessive dropped ("Alfa's" -> "Alfa")
    start: int
    end: int
    parts: tuple[str, ...]  # folded words ("raad", "voor", "omega")


def _names(text: str, value_spans: list[tuple[int, int]]) -> list[Name]:
    """Names in a text: runs of capitalised words (joined by "en", "van", "&" inside a name) and
    acronyms, also at the head of a compound ("ZZP'ers", "AOW-aanvragen"). The first word of a
    sentence counts only when it is an acronym or occurs capitalised elsewhere too."""
    out: list[Name] = []
    tokens = list(re.finditer(r"[^\W\d_][\w&]*(?:['’]s)?", text))
    i = 0
    while i < len(tokens):
        m = tokens[i]
        word = re.sub(r"['’]s$", "", m.group(0)).rstrip(".")
        is_acronym = sum(ch.isupper() for ch in word) >= 2 and len(word) <= 10
        capital = word[:1].isupper()
        inside_value = any(a <= m.start() < b for a, b in value_spans)
        sentence_start = not text[:m.start()].strip() or re.search(r"[.!?:]\s*$", text[:m.start()])
        compound_head = text[m.end():m.end() + 1] in ("-", "'", "’") and is_acronym
        # a capitalised first word of a sentence is a name only when a capitalised word follows ("Dienst Alfa")
        next_capital = i + 1 < len(tokens) and tokens[i + 1].group(0)[:1].isupper() and \
            re.fullmatch(r"\s+", text[m.end():tokens[i + 1].start()] or "x") is not None
        if not capital or inside_value or fold(word) in _MONTH_WORDS or fold(word) in _STOPWORDS or (
                fold(word) in _EN_CAPITALISED) or (sentence_start and not is_acronym and not next_capital):
            i += 1
            continue
        if compound_head:
            out.append(Name(word, m.start(), m.start() + len(word), (fold(word),)))
            i += 1
            continue
        j, end, parts = i, m.end(), [fold(word)]
        while j + 1 < len(tokens):
            nxt = tokens[j + 1]
            gap = text[end:nxt.start()]
            if not re.fullmatch(r"\s+", gap) and gap not in (" & ",):
                break
            w = nxt.group(0)
            if w[:1].isupper() and fold(w) not in _MONTH_WORDS:
                parts.append(fold(re.sub(r"['’]s$", "", w).rstrip(".")))
                end, j = nxt.end(), j + 1
                continue
            # "Raad voor Omega", "Bureau Wonen en Werk": a joining word
            if w in ("en", "van", "voor", "of", "and") and j + 2 < len(tokens) and tokens[j + 2].group(0)[:1].isupper() \
                    and re.fullmatch(r"\s+", text[nxt.end():tokens[j + 2].start()]) and w != "en":
                parts.append(fold(tokens[j + 2].group(0)))
                end, j = tokens[j + 2].end(), j + 2
                continue
            if w == "en" and j + 2 < len(tokens) and tokens[j + 2].group(0)[:1].isupper() and len(parts) >= 1 \
                    and i > 0 and text[tokens[i - 1].start():tokens[i - 1].end()][:1].isupper():
                parts.append(fold(tokens[j + 2].group(0)))
                end, j = tokens[j + 2].end(), j + 2
                continue
            break
        name_text = re.sub(r"['’]s$", "", text[m.start():end])
        out.append(Name(name_text, m.start(), m.start() + len(name_text), tuple(parts)))
        i = j + 1
    return out


@dataclass(frozen=True)
class ClaimAnalysis:
    text: str
    lang: str
    values: tuple[Value, ...]
    names: tuple[Name, ...]
    direction: str | None  # up, down
    direction_word: str
    polarity: str | None  # stop, continue
    negated: bool
    event: str | None  # start, end
    target: str | None  # met, missed: a target or norm the claim says was (not) reached
    topic: tuple[str, ...]  # folded topic words, in order, no repeats
    topic_names: frozenset[str]  # the topic words that belong to names (they weigh more)


def analyse_claim(claim: str) -> ClaimAnalysis:
    """The one reading of a claim that every window is compared with."""
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim={claim!r}: must be a non-empty sentence")
    text = " ".join(unicodedata.normalize("NFC", claim).split())
    lang = detect_language(text)
    values = extract_values(text, lang)
    spans = [(v.start, v.end) for v in values]
    names = _names(text, spans)
    direction, direction_word = direction_of(text)
    polarity, negated = polarity_of(text)
    skip = set(_STOPWORDS) | {fold(w) for w in _UP + _DOWN + _STOP + _CONTINUE + _NEGATION + _TARGET_VERBS
                              if " " not in w}
    topic, name_words = [], set()
    for m in _words(text):
        if any(a <= m.start() < b for a, b in spans) or text[m.start() - 1:m.start()] in ("'", "’"):
            continue  # a value, or the tail of "ZZP'ers", "Alfa's"
        w = fold(m.group(0))
        is_acronym = sum(ch.isupper() for ch in m.group(0)) >= 2
        if w in skip or (len(w) < 3 and not is_acronym) or w in ("s",):
            continue
        if w not in topic:
            topic.append(w)
        if any(n.start <= m.start() < n.end for n in names):
            name_words.add(w)
    return ClaimAnalysis(text, lang, values, tuple(names), direction, direction_word, polarity, negated,
                         event_of(text), target_of(text, lang), tuple(topic), frozenset(name_words))


# -- matching words ---------------------------------------------------------------------------------

def _stem(word: str) -> str:
    """A prefix that survives Dutch inflection and compounding: "beveiligingsincidenten" ->
    "beveiligingsinciden", "gemeenten" -> "gemeen", "regular" -> "regul"."""
    return word if len(word) <= 5 else word[:max(5, len(word) - 3)]


class _Text:
    """A text prepared for word look-ups: folded words, and the folded text for compound parts."""

    def __init__(self, text: str):
        self.raw = text
        self.folded = fold(text)
        self.words = set(re.findall(r"[^\W\d_]+", self.folded))

    def has(self, word: str) -> bool:
        if word in self.words:
            return True
        stem = _stem(word)
        if len(word) <= 5:  # a short word only with an inflection: "werk" in "werken", not in "werkoriëntatie"
            # after a final e the plural or past tense adds only n: "legde" / "legden", "boete" / "boeten"
            tail = "|n" if word.endswith("e") else ""
            return bool(re.search(rf"(?<![^\W\d_]){re.escape(word)}(?:e|en|s|t|te|ten|er|ers|je|jes{tail})?(?![^\W\d_])",
                                  self.folded))
        if len(stem) >= 6:  # long enough to find inside a compound: "kosten" in "uitvoeringskosten"
            return stem in self.folded
        return bool(re.search(rf"(?<![^\W\d_]){re.escape(stem)}", self.folded))


def _name_in(name: Name, text: _Text) -> bool:
    return all(text.has(p) or (len(p) <= 5 and p in text.words) for p in name.parts)


# -- passages: sentences, tables, pairs ----------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9€•▪(“\"‘'])|\n(?=\s*[•▪●◦\-–])|(?<=[.!?:;])\n")


def _is_table_row(line: str) -> bool:
    """A line of a table: two figures or more and few words beside them ("Salarissen 9.100 9.400",
    "Stand Eind juni 2025 Eind 2023 Verschil"), not a line of prose that happens to hold two numbers."""
    # a date ("14 maart 2022") is one figure of prose, not two of a table
    dated = re.sub(r"\b\d{1,2}\s+(?:" + "|".join(sorted(_MONTH_WORDS)) + r")\s+\d{4}\b", " datum ", line, flags=re.I)
    figures = len(re.findall(r"(?<![\w.,])-?\d[\d.,]*", dated))
    words = len(re.findall(r"[^\W\d_]{2,}", line))
    function_words = sum(w.lower() in _STOPWORDS for w in re.findall(r"[^\W\d_]+", line))
    if function_words > 2:  # "scoorde 6,4 in 2025 tegen de 6,1 van het jaar ervoor": prose
        return False
    # a line that ends a sentence is the tail of prose broken by the PDF extraction ("2021: € 0,8 miljoen).")
    return (figures >= 2 and words <= 2 * figures + 2 and not re.search(r"[a-z]\.\s+[A-Z]", line)
            and not line.rstrip().endswith((".", ",", ";", ":")))


# Abbreviations that end in a full stop but (almost) never end a sentence: "ca. € 3 mln." is one
# sentence. ("mln." and "etc." do end sentences, and are not here.) A lone initial ("J. de Vries") too.
_NO_END = re.compile(r"(?:\b(?:ca|o\.a|bijv|nr|art|resp|incl|excl|t\.o\.v|m\.b\.t|i\.v\.m|d\.w\.z|zgn|blz|vs|"
                     r"e\.g|i\.e|dhr|mevr|mr|dr|drs|ir|prof)|(?<![\w.])[A-Z])\.$", re.IGNORECASE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences, list items and table rows of a passage: a table row (a line with two figures or more)
    is a unit of its own."""
    spans, start = [], 0
    cuts = [m.start() for m in _SENTENCE_END.finditer(text)
            if "\n" in m.group() or not _NO_END.search(text[max(0, m.start() - 8):m.start()])] + [len(text)]
    for cut in cuts:
        chunk = text[start:cut]
        # table rows inside the chunk: lines with 2+ figures stand alone
        pos = start
        lines = chunk.split("\n")
        buf_start = pos
        for k, line in enumerate(lines):
            line_start = pos
            pos += len(line) + (1 if k < len(lines) - 1 else 0)
            if _is_table_row(line):
                if text[buf_start:line_start].strip():
                    spans.append((buf_start, line_start))
                spans.append((line_start, line_start + len(line)))
                buf_start = pos
        if text[buf_start:cut].strip():
            spans.append((buf_start, cut))
        start = cut
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _sentence_span(text: str, at: int) -> tuple[int, int]:
    """The span of the sentence (or table row) of `text` that holds offset `at`; all of it if none does."""
    for a, b in sentence_spans(text):
        if a <= at < b:
            return a, b
    return 0, len(text)


def _sentence_of(text: str, at: int) -> str:
    """The sentence (or table row) of `text` that holds offset `at`."""
    for a, b in sentence_spans(text):
        if a <= at < b:
            return text[a:b]
    return ""


def _figures(line: str) -> list[tuple[float, int, int]]:
    out = []
    for m in re.finditer(r"(?<![\w.,])(-?\d+(?:[.,]\d+)*)(?![\w])", line):
        try:
            out.append((parse_figure(m.group(1).lstrip("-"))[0] * (-1 if m.group(1).startswith("-") else 1),
                        m.start(), m.end()))
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class Change:
    """Two figures for one thing at two times, from a table row or a sentence."""

    later: float
    earlier: float
    span: tuple[int, int]  # the row or sentence in the passage text
    text: str

    @property
    def direction(self) -> str | None:
        return "up" if self.later > self.earlier else "down" if self.later < self.earlier else None


def _times(values: Sequence[Value]) -> list[Value]:
    return [v for v in values if v.kind in ("year", "date") and v.unit != "md"]


def table_changes(text: str, claim_times: Sequence[Value]) -> list[tuple[str, Change]]:
    """(row label, change) for every table row under a header of years or dates: the figure in the
    column the claim's later time names against the one its earlier time names (else the first
    two columns, which tables here order newest first or oldest first by their header)."""
    out = []
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    header: list[Value] | None = None
    for start, line in lines:
        figs = _figures(line)
        vals = extract_values(line, "nl")
        times = _times(vals)
        non_time = [f for f in figs if not any(t.start <= f[1] < t.end for t in times)]
        if len(times) >= 2 and len(non_time) <= 1:
            header = times
            continue
        if header is None or len(non_time) < 2:
            continue
        label = line[:non_time[0][1]].strip()
        if not re.search(r"[^\W\d_]{3}", label):
            continue
        cols = [f[0] for f in non_time]
        idx = _time_columns(header, claim_times)
        if idx is None or max(idx) >= len(cols):
            continue
        later, earlier = idx
        out.append((label, Change(cols[later], cols[earlier], (start, start + len(line)), line.strip())))
    return out


def _time_columns(header: Sequence[Value], claim_times: Sequence[Value]) -> tuple[int, int] | None:
    """Which header columns are the claim's later and earlier time."""
    def col_of(t: Value) -> int | None:
        for k, h in enumerate(header):
            if compare_values(t, h) in ("match", "vague") or compare_values(h, t) == "match":
                return k
        return None

    named = [c for c in (col_of(t) for t in claim_times) if c is not None]
    named = list(dict.fromkeys(named))
    if len(named) >= 2:
        a, b = named[:2]
    elif len(named) == 1:
        a = named[0]
        others = [k for k in range(len(header)) if k != a]
        if not others:
            return None
        # "dan het vorige jaar": the column of the time just before the claim's
        before = [k for k in others if header[k].hi < header[a].lo]
        b = max(before, key=lambda k: header[k].hi) if before else others[0]
    else:
        a, b = 0, 1
    return (a, b) if header[a].lo >= header[b].lo else (b, a)


# a time that opens or closes a span ("sinds 2015", "vanaf 1 maart", "tot 2026") says since when, not of
# which time a figure is: it binds no figure
_OPEN_BOUND = re.compile(r"(?:sinds|vanaf|since|from|tot(?:\s+en\s+met)?|until|na|after|vóór|before|uiterlijk|by)\s+$", re.I)
# between a figure and the time it stands with: at most two words and a preposition ("45% vrouwen in
# 2027", "1.200 in het eerste kwartaal van 2030", "€ 2,4 miljoen (2021)")
_TIME_AFTER = re.compile(r"\s*(?:\(\s*)?(?:[^\W\d_]+\s+){0,2}?(?:(?:in|voor|over|op|per|eind|begin|medio|ultimo|during|for|at)\s+)?",
                         re.I)


# the agent of a passive: "wordt beheerd door (het) X", "uitgevoerd door X"; group 1 is the participle
_PASSIVE_AGENT = re.compile(r"([^\W\d_]+)\s+(?:door|by)\s+(?:de\s+|het\s+|the\s+)?$", re.I)


def _change_after(text: str, end: int) -> str | None:
    """"up" / "down" when a percentage is the size of a change: "12% meer", "8 procent lager"."""
    m = re.match(r"\s*(meer|hoger|groter|more|higher|larger|minder|lager|kleiner|less|fewer|lower|smaller)(?![^\W\d_])",
                 text[end:end + 20], re.I)
    if m is None:
        return None
    return "up" if m.group(1).lower() in ("meer", "hoger", "groter", "more", "higher", "larger") else "down"


# between a figure and a time: the time is the one the figure is compared with, not the figure's own
_COMPARED_WITH = re.compile(r"(?<![^\W\d_])(?:dan|than|tegenover|opzichte|vergeleken|t\.o\.v\.|compared)(?![^\W\d_])", re.I)


def value_times(text: str, values: Sequence[Value]) -> dict[int, list[Value]]:
    """The time each figure of a text stands with, by its index in `values` (figures without one are
    left out): the time that labels it ("(2023: € 468.000)"), else the time right after it ("45% in
    2027 en 50% in 2030"), else the times of its sentence that no other figure took, when its
    sentence names one ("In het plan over 2023 gingen we uit van 99 fte"). A figure of another time
    than the claim's states nothing about the claim's time."""
    times = [(k, t) for k, t in enumerate(values) if t.kind in ("year", "date") and t.unit != "md"
             and t.approx not in ("sinds", "vanaf", "tot", "tot en met", "since", "from", "until")
             and not _OPEN_BOUND.search(text[max(0, t.start - 12):t.start])]
    figures = [(k, v) for k, v in enumerate(values) if v.kind in ("number", "count", "amount", "percentage")]
    bound: dict[int, list[Value]] = {}
    taken: set[int] = set()
    for k, v in figures:
        for j, t in times:
            label = t.end <= v.start and re.fullmatch(r"\s*:\s*", text[t.end:v.start])  # "(2023: 1.200)"
            after = t.start >= v.end and t.start - v.end <= 30 and _TIME_AFTER.fullmatch(text[v.end:t.start]) \
                and not re.match(r"\s*:", text[t.end:t.end + 3])  # a time before ":" labels the next figure
            if after and _COMPARED_WITH.search(text[v.end:t.start]):
                # "62% meer dan in 2023": 2023 is what the figure is compared with, the time of no figure
                taken.add(j)
                continue
            if label or after:
                bound[k] = [t]
                taken.add(j)
                break
    for k, v in figures:
        if k in bound:
            continue
        s0, s1 = _sentence_span(text, v.start)
        own = [t for j, t in times if j not in taken and s0 <= t.start < s1]
        if own and not _is_table_row(text[s0:s1]):
            bound[k] = own
    return bound


_REFERENCE_MARKERS = r"tegenover|ten opzichte van|t\.o\.v\.|vergeleken met|in vergelijking met|versus|vs\.?|compared (?:to|with)|against"


def sentence_changes(sentence: str, offset: int = 0) -> list[Change]:
    """Two figures for one thing at two times in a sentence: "512 ..., tegenover 468 in 2025",
    "€ 2,4 miljoen (eerste helft van 2021: € 0,8 miljoen)", "van 44,5% naar 29%",
    "een score van 6,4 in 2025 ten opzichte van 6,1 in 2024"."""
    vals = [v for v in extract_values(sentence, "nl") if v.kind in ("number", "count", "amount", "percentage")]
    out = []
    for a, b in zip(vals, vals[1:]):
        if not compatible(a.kind, b.kind) or (a.unit != b.unit and a.kind == "amount"):
            continue
        between = sentence[a.end:b.start]
        if re.search(rf"(?<!\w)(?:{_REFERENCE_MARKERS})(?!\w)", between, re.I) or \
                re.search(r"\((?:[^()]*\b(?:19|20)\d\d\b[^()]*):\s*$", between):
            out.append(Change(a.value, b.value, (offset, offset + len(sentence)), sentence))
        elif re.fullmatch(r"\s*(?:naar|to)\s+(?:\w+\s+)?", between, re.I) and \
                re.search(r"(?<!\w)(?:van|from)\s+(?:\w+\s+)?$", sentence[:a.start], re.I):
            out.append(Change(b.value, a.value, (offset, offset + len(sentence)), sentence))
        elif re.match(r"\s*(?:en|and)\s*$", between) and re.search(r"respectievelijk|respectively", sentence, re.I):
            times = _times(extract_values(sentence[:a.start], "nl"))
            if len(times) >= 2 and times[-2].lo != times[-1].lo:
                first_later = times[-2].lo > times[-1].lo
                out.append(Change(a.value if first_later else b.value, b.value if first_later else a.value,
                                  (offset, offset + len(sentence)), sentence))
    return out


# -- the checker ------------------------------------------------------------------------------------

@dataclass
class _Window:
    candidate: ClaimCandidate
    topic: float
    relevance: float
    details: list[Detail] = field(default_factory=list)
    # mismatches with where the source's value stands and how surely it is about the same thing
    decisive: list[tuple[Detail, tuple[int, int], float]] = field(default_factory=list)
    matched_at: list[tuple[int, tuple[int, int]]] = field(default_factory=list)  # (priority, span) of matches
    support: list[float] = field(default_factory=list)  # alignment of each matching figure

    @property
    def support_strength(self) -> float:
        return min(self.support, default=0.0)

    @property
    def strength(self) -> float:
        return max((x[2] for x in self.decisive), default=0.0)


class _Weights:
    """The claim's topic words with their weights: names weigh `name_weight`, other words 1. A name
    that no candidate passage holds ("Sigma" where the source says "Omega") is a detail to
    check, not the topic, so it is left out. (Weights by an idf over the candidate passages were
    measured and not adopted: they sank the topic share of paraphrased claims, whose own wording no
    passage uses, below that of windows about something else.)"""

    def __init__(self, a: ClaimAnalysis, passages: Sequence[str], name_weight: float):
        texts = [_Text(t) for t in passages]
        self.weights: dict[str, float] = {}
        for t in a.topic:
            if t in a.topic_names and not any(x.has(t) for x in texts):
                continue
            self.weights[t] = name_weight if t in a.topic_names else 1.0
        self.total = sum(self.weights.values())

    def share(self, text: _Text, meta: _Text | None = None, names=frozenset()) -> float:
        if not self.total:
            return 0.0
        got = sum(w for t, w in self.weights.items() if text.has(t) or (meta is not None and t in names and meta.has(t)))
        return got / self.total


class ClaimChecker:
    """Decides a claim's verdict from the candidate windows retrieval proposes for it."""

    def __init__(self, settings: ClaimSettings = ClaimSettings()):
        if not isinstance(settings, ClaimSettings):
            raise ValueError(f"settings={settings!r}: must be a ClaimSettings")
        self.settings = settings

    # -- public ------------------------------------------------------------------------------------
    def check(self, claim: str, candidates: Sequence[ClaimCandidate]) -> ClaimCheck:
        """The verdict on `claim` from the windows retrieval proposed (any order; the best
        `settings.windows` by score are read)."""
        a = analyse_claim(claim)
        s = self.settings
        ranked = sorted(candidates, key=lambda c: -c.score)[:s.windows]
        unique, seen = [], set()
        for cand in ranked:
            key = (cand.hit.passage.chunk_id, cand.start, cand.end)
            if key not in seen:
                seen.add(key)
                unique.append(cand)
        if not unique:
            return ClaimCheck(a.text, "not_found", "hoog", None, self._absent_details(a), (),
                              {"rule": "no candidate windows"})
        passages = list({c.hit.passage.chunk_id: c.hit.passage.text for c in unique}.values())
        weights = _Weights(a, passages, s.name_weight)
        windows = [self._window(a, cand, weights) for cand in unique]
        supporting = [w for w in windows if self._supports(a, w)]
        contradicting = [w for w in windows if self._contradicts(w)]
        best_sup = max(supporting, key=lambda w: (w.topic, w.relevance), default=None)
        # of the contradicting windows about as much on the topic as the best one, the surest contradiction
        top_con = max((w.topic for w in contradicting), default=0.0)
        best_con = max((w for w in contradicting if w.topic >= top_con - s.contradict_margin),
                       key=lambda w: (w.strength, w.topic, w.relevance), default=None)
        # The supporting window wins unless a contradicting one is clearly more on the topic, or states a
        # figure more surely about the same thing ("4.100 aanvragen" against an equal but unrelated "26.000")
        if best_sup is not None and (best_con is None or (
                best_con.topic <= best_sup.topic + s.contradict_margin
                and not (best_con.strength > best_sup.support_strength and best_sup.support
                         and best_con.topic >= best_sup.topic - s.contradict_margin))):
            return self._result(a, "supported", best_sup, windows, "every detail matches")
        # a window that states the claim's figures on the topic, where only a time or name of the claim is
        # missing: the source does not say it of that time, and another figure elsewhere does not contradict it
        partial = max((w for w in windows if w.support and not w.decisive and w.topic >= s.support_topic
                       and all(d.status == "match" for d in w.details if d.kind not in _TIME_KINDS + ("organisation",))),
                      key=lambda w: (w.topic, w.relevance), default=None)
        if best_con is not None and partial is not None and partial.topic >= best_con.topic - s.contradict_margin \
                and best_con.strength <= partial.support_strength:
            return self._result(a, "not_found", partial, windows, "the figure is stated, not for the claim's time or name")
        if best_con is not None:
            return self._result(a, "contradicted", best_con, windows, "a detail differs")
        nearest = max(windows, key=lambda w: (w.topic, w.relevance))
        return self._result(a, "not_found", nearest, windows, "no window on topic holds every detail")

    # -- per window --------------------------------------------------------------------------------
    @staticmethod
    def _topic_text(cand: ClaimCandidate) -> str:
        p = cand.hit.passage
        text = p.text[cand.start:cand.end]
        extra = [p.section.split(" > ")[-1] if p.section else ""]
        # a table row's caption says what its figures are: the short lines above it
        if len(_figures(text)) >= 2:
            above = p.text[max(0, cand.start - 300):cand.start].split("\n")
            caption = []
            for line in reversed(above[:-1] if above and above[-1].strip() == "" else above):
                if len(line.split()) > 12:  # a line of prose: the table starts below it
                    break
                caption.append(line)
            extra.extend(caption[:8])
        return " ".join([text] + extra)

    def _window(self, a: ClaimAnalysis, cand: ClaimCandidate, weights: _Weights) -> _Window:
        s = self.settings
        p = cand.hit.passage
        wtext = p.text[cand.start:cand.end]
        meta = _Text(" ".join(str(x) for x in (p.organisation, p.title, p.year or "", p.section)))
        topic = weights.share(_Text(self._topic_text(cand)), meta, a.topic_names)
        dense = cand.features.get("dense")
        if a.lang == "en" and s.english_dense_span > 0 and isinstance(dense, (int, float)):
            # an English claim shares few words with a Dutch passage: the encoder, which reads both
            # languages, says how much the window is about it
            topic = max(topic, min(1.0, max(0.0, (dense - s.english_dense_floor) / s.english_dense_span)))
        w = _Window(cand, topic, cand.score + s.topic_weight * topic)
        self._values(a, w, wtext, p)
        self._name_details(a, w, wtext, p, meta)
        if any(d.status == "absent" and d.kind == "organisation" for d in w.details):
            # a name of the claim nowhere in the passage: a date that differs is another event's
            w.decisive = [x for x in w.decisive if x[0].kind not in _TIME_KINDS]
        if any(d.status == "absent" and d.kind not in ("organisation",) for d in w.details):
            # another name where a figure of the claim is nowhere in the window: likely another thing
            # of the same kind ("de dienst Parkeren" beside a claim on another service), not a contradiction
            w.decisive = [x for x in w.decisive if x[0].kind != "organisation"]
        if a.direction is not None:
            self._direction_detail(a, w, cand, weights, meta)
        if a.target is not None:
            self._target_detail(a, w, cand)
        if a.polarity is not None:
            kind, _ = polarity_of(wtext)
            if kind is None:
                w.details.append(Detail("polarity", a.polarity, None, "absent"))
            else:
                d = Detail("polarity", a.polarity, kind, "match" if kind == a.polarity else "mismatch")
                w.details.append(d)
                if d.status == "mismatch":
                    w.decisive.append((d, (cand.start, cand.end), 1.0))
        if a.negated:
            _, neg = polarity_of(wtext)
            w.details.append(Detail("polarity", "niet", "niet" if neg else None, "match" if neg else "absent"))
        return w

    # values
    def _values(self, a: ClaimAnalysis, w: _Window, wtext: str, p) -> None:
        s = self.settings
        cand = w.candidate
        src = extract_values(wtext, "nl")
        events_differ = a.event is not None and event_of(wtext) not in (None, a.event)
        claim_times = _times(a.values)
        own_times = value_times(wtext, src) if claim_times else {}
        claim_own = value_times(a.text, a.values) if claim_times else {}

        def of_claim_time(k: int, j: int) -> bool:
            """The window's figure j is not bound to a time other than claim figure k's ("€ 468.000" of
            "(2023: € 468.000)" for a claim on 2024 is the figure of another year: it neither states
            nor contradicts the claim). The first figure of a change in the claim ("daalde in 2023 van
            31 naar 17") is of an earlier time than the claim names: any time goes."""
            cv = a.values[k]
            if j not in own_times or (re.search(r"(?<!\w)(?:van|from)\s+$", a.text[max(0, cv.start - 6):cv.start], re.I)
                                      and re.match(r"\s*(?:naar|tot|to)\b", a.text[cv.end:cv.end + 6], re.I)):
                return True
            return any(compare_values(c, t) in ("match", "vague") or compare_values(t, c) == "match"
                       for c in claim_own.get(k, claim_times) for t in own_times[j])
        results: dict[int, Detail] = {}
        used: set[int] = set()
        # pass 1: the claim values the window states (best aligned first); pass 2: the others against
        # the window's values not already taken by a match ("van bijna 42 naar 23 procent")
        for k, cv in enumerate(a.values):
            if cv.unit == "x":
                results[k] = self._ratio_detail(cv, p.text, cand)
                continue
            scored = self._scored(a, cv, [(j, v) for j, v in enumerate(src) if comparable(cv, v)
                                          and (cv.kind in _TIME_KINDS or of_claim_time(k, j))], wtext, p.organisation)
            top = scored[0] if scored else None
            if top is not None and top[2] == "match":  # a better aligned different value is taken up in pass 2
                results[k] = Detail(cv.kind, cv.text, top[3].text, "match")
                if cv.kind not in _TIME_KINDS:
                    w.support.append(top[0])
                used.add(top[1])
                priority = 0 if cv.kind not in _TIME_KINDS else 2
                w.matched_at.append((priority, (cand.start + top[3].start, cand.start + top[3].end)))
        for k, cv in enumerate(a.values):
            if k in results:
                continue
            if cv.kind in _TIME_KINDS and self._in_context(cv, p):
                results[k] = Detail(cv.kind, cv.text, cv.text, "match")
                continue
            if events_differ and cv.kind in _TIME_KINDS:
                results[k] = Detail(cv.kind, cv.text, None, "absent")
                continue
            free = [(j, v) for j, v in enumerate(src) if comparable(cv, v) and j not in used
                    and (cv.kind in _TIME_KINDS or of_claim_time(k, j))]
            need = s.min_time_alignment if cv.kind in _TIME_KINDS else s.min_alignment
            # a short claim has one word to say what its figure is about ("het verzuim was 6 procent"):
            # that word beside a figure of a window that holds (nearly) all the claim's topic is alignment enough
            if (cv.kind not in _TIME_KINDS and w.topic >= s.sole_context_topic
                    and len(set(self._claim_context(a, cv, p.organisation))) == 1):
                need = min(need, 1.0)
            scored = [x for x in self._scored(a, cv, free, wtext, p.organisation) if x[2] == "mismatch" and x[0] >= need]
            if scored:
                score, _, _, v = scored[0]
                d = Detail(cv.kind, cv.text, v.text, "mismatch")
                results[k] = d
                if not (cv.kind == "period" and cv.approx == "per"):  # "jaarlijks" beside "maandelijks": too loose to contradict
                    w.decisive.append((d, (cand.start + v.start, cand.start + v.end), score))
            else:
                results[k] = Detail(cv.kind, cv.text, None, "absent")
        # a year or date that differs while another value of the claim is nowhere in the window is
        # likely the date of another event ("vanaf 2025 wekelijks" against "in het eerste kwartaal
        # van 2022"): it does not decide the verdict on its own
        if any(d.status == "absent" for d in results.values()):
            w.decisive = [x for x in w.decisive if x[0].kind not in _TIME_KINDS]
        # another year and another figure: the window gives the figure of another year (or of another
        # thing), not the claim's; it states nothing about the claim's year, so it contradicts nothing
        mismatched = {("time" if d.kind in _TIME_KINDS else "figure") for d in results.values() if d.status == "mismatch"}
        if mismatched == {"time", "figure"}:
            w.decisive = []
        w.details.extend(results[k] for k in sorted(results))

    def _scored(self, a: ClaimAnalysis, cv: Value, values: list[tuple[int, Value]], wtext: str, organisation: str = ""):
        """(alignment, index, comparison, value) of the window's values of the claim value's kind, best
        first. Alignment: the same noun after them ("vier loketten" / "zes loketten") counts 2, each
        claim word around the claim value found around the source value 1, the same bound before a
        year ("sinds") 1, and a value equal to the claim's 1 (equal figures are usually the same thing)."""
        s = self.settings
        claim_ctx = self._claim_context(a, cv, organisation)
        out = []
        for j, v in values:
            comparison = compare_values(cv, v, s.values)
            if comparison == "incomparable":
                continue
            score = 0.0
            claim_nouns = [n for n in fold(cv.noun).split() if n not in _NOT_NOUNS]
            if claim_nouns and v.noun and any(_Text(v.noun).has(n) for n in claim_nouns):
                score += 2
            elif comparison == "mismatch" and claim_nouns and (
                    [n for n in fold(v.noun).split() if n not in _NOT_NOUNS] or fold(v.noun) in _TIMES_NOUNS):
                continue  # "driehonderd gemeenten" and "25 minuten" (or "196.000 keer") count different things
            if cv.kind in _TIME_KINDS and cv.approx and v.approx and fold(cv.approx) == fold(v.approx):
                score += 1
            if cv.kind == "percentage" and (change := _change_after(a.text, cv.end)) is not None \
                    and change == _change_after(wtext, v.end):
                score += 1  # "45 procent meer" / "62% meer dan in 2023": both the size of the same change
            s0, s1 = _sentence_span(wtext, v.start)
            if cv.kind in _TIME_KINDS or not _is_table_row(wtext[s0:s1]):
                # a value belongs to its own sentence: the words of the next sentence say nothing about it
                # ("... toeslagen. We hebben in maart 2021 ...", "... 45% in 2027. Voor de subtop geldt
                # 50%"); a table row's figure is about its caption and header too, so it keeps the words around
                near = _Text(" ".join(self._context_words(wtext[s0:s1], v.start - s0, v.end - s0, 8)))
            else:
                near = _Text(" ".join(self._context_words(wtext, v.start, v.end, 8)))
            context = sum(1 for t in set(claim_ctx) if near.has(t))
            # the subject of a figure may stand at the far end of a long source sentence; not so for a
            # date, which opens many sentences as an aside ("sinds mei ...")
            if cv.kind not in _TIME_KINDS:
                sentence = _Text(_sentence_of(wtext, v.start))
                context = max(context, sum(1 for t in set(claim_ctx) if sentence.has(t)))
            score += min(s.context_cap, context)
            if comparison == "match":
                score += s.match_bonus
            if comparison == "vague":  # "2023" for "eind 2023": says less, decides nothing
                continue
            out.append((score, j, comparison, v))
        # ties: a match before a mismatch, then the nearer value
        out.sort(key=lambda x: (-x[0], x[2] != "match", x[3].start))
        return out

    def _claim_context(self, a: ClaimAnalysis, cv: Value, organisation: str) -> list[str]:
        """The claim's topic words around a claim value that say what it is about. The noun is scored on
        its own; the document's own organisation is near every figure it has."""
        ctx = [t for t in self._context_words(a.text, cv.start, cv.end, self.settings.context_words) if t in a.topic]
        own = set(re.findall(r"[^\W\d_]+", fold(organisation)))
        return [t for t in ctx if t not in {fold(x) for x in cv.noun.split()} and t not in own]

    def _in_context(self, cv: Value, p) -> bool:
        """A year, period or part of a year the claim names that the passage or its document is about."""
        s = self.settings
        if not (cv.kind in ("year", "period") or cv.unit in ("part", "quarter", "half", "span")):
            return False
        if cv.approx in WHOLE_YEAR:  # "over heel 2024" must be the figure's own time, not the report's year
            return False
        for text in (p.text, f"{p.title} {p.section} {p.year or ''}"):
            if any(compare_values(cv, v, s.values) == "match" for v in extract_values(text, "nl")
                   if comparable(cv, v)):
                return True
        if cv.kind == "period" or cv.unit == "span":
            return self._period_in_title(cv, p.title, p.year)
        return False

    @staticmethod
    def _period_in_title(cv: Value, title: str, year) -> bool:
        """"de eerste drie maanden (van 2025)" in "Driemaandenrapport 2025": number and unit as one word."""
        words = {1: "een", 2: "twee", 3: "drie", 4: "vier", 6: "zes", 8: "acht", 9: "negen"}
        if cv.kind == "period":
            n, unit = int(cv.lo), cv.unit
        else:
            a, b = date.fromordinal(int(cv.lo)), date.fromordinal(int(cv.hi))
            if a.month != 1 or a.day != 1 or a.year != b.year or (year and int(year) != a.year):
                return False
            n, unit = b.month, "maand"
        word = words.get(n)
        return bool(word) and f"{word}{unit}" in fold(title or "").replace(" ", "")

    @staticmethod
    def _context_words(text: str, start: int, end: int, n: int = 5) -> list[str]:
        """The `n` content words before and after a span (function words skipped, not counted)."""
        def content(part: str) -> list[str]:
            return [w for w in (fold(m.group(0)) for m in _words(part)) if w not in _STOPWORDS and len(w) > 2]
        return content(text[max(0, start - 150):start])[-n:] + content(text[end:end + 150])[:n]

    # names
    def _name_details(self, a: ClaimAnalysis, w: _Window, wtext: str, p, meta: _Text) -> None:
        s = self.settings
        cand = w.candidate
        window, passage = _Text(wtext), _Text(p.text)
        after = p.text[cand.end:cand.end + s.context_chars]
        for name in a.names:
            agent = self._passive_agent(a, name, wtext, cand.start) or self._other_row(name, w, p.text)
            if agent is not None:
                d = Detail("organisation", name.text, agent[0], "mismatch")
                w.details.append(d)
                w.decisive.append((d, agent[1], 2.0))
                continue
            if _name_in(name, window) or _name_in(name, passage) or _name_in(name, meta):
                where = "window" if _name_in(name, window) else "passage" if _name_in(name, passage) else "meta"
                if where != "window" and self._other_actor(a, wtext):
                    # the window's sentence names someone else ("de Kiesraad heeft ... ontbonden") where the
                    # claim names the document's own organisation: the source does not say it of them
                    w.details.append(Detail("organisation", name.text, None, "absent"))
                    continue
                w.details.append(Detail("organisation", name.text, name.text if where != "meta" else p.organisation,
                                        "match"))
                continue
            other = self._name_in_place(a, name, wtext + " " + after, cand.start)
            if other is not None:
                d = Detail("organisation", name.text, other[0], "mismatch")
                w.details.append(d)
                w.decisive.append((d, other[1], other[2]))
            else:
                w.details.append(Detail("organisation", name.text, None, "absent"))

    @staticmethod
    def _other_row(name: Name, w: _Window, text: str):
        """The claim's figure matched in a table row labelled with another name, where the claim's name
        labels a row of its own in the window ("SZW 6.731" / "VNG 3.878" for "6,7 miljoen van de VNG"):
        (the other row's name, its span). The figure is the other one's, not the claim's name's."""
        cand = w.candidate
        rows = [(r0, r1) for r0, r1 in sentence_spans(text) if r1 > cand.start and r0 < cand.end
                and _is_table_row(text[r0:r1])]

        def label(r0: int, r1: int) -> str:
            figures = _figures(text[r0:r1])
            return text[r0:r0 + figures[0][1]] if figures else ""

        if not any(_name_in(name, _Text(label(*r))) for r in rows):
            return None
        for priority, (s0, _) in w.matched_at:
            row = next((r for r in rows if r[0] <= s0 < r[1]), None)
            if priority != 0 or row is None or _name_in(name, _Text(label(*row))):
                continue
            # the label opens its line, so it is read as a name when it is capitalised ("Kappa", "2. SZW")
            lab = label(*row)
            head = re.match(r"[\s\d.)•▪-]*", lab).end()
            other = lab[head:].strip()
            if other[:1].isupper():
                return other, (row[0] + head, row[0] + head + len(other))
        return None

    @staticmethod
    def _passive_agent(a: ClaimAnalysis, name: Name, wtext: str, offset: int):
        """Another agent of the claim's passive verb: the claim has "beheerd door X" and the window
        "beheerd door (het) Y" -> (Y, its span). None when the window names no such agent or names X
        among them ("uitgevoerd door Y en X")."""
        m = _PASSIVE_AGENT.search(a.text[:name.start])
        if m is None or fold(m.group(1)) in _STOPWORDS:
            return None
        verb = fold(m.group(1))
        for other in _names(wtext, []):
            before = _PASSIVE_AGENT.search(wtext[max(0, other.start - 60):other.start])
            if before is None or _stem(fold(before.group(1))) != _stem(verb):
                continue
            agents = _Text(wtext[other.start:other.end + 40])
            if _name_in(name, agents) or _name_in(other, _Text(a.text)):
                return None  # the claim's own agent (or one of them)
            return other.text, (offset + other.start, offset + other.end)
        return None

    @staticmethod
    def _other_actor(a: ClaimAnalysis, wtext: str) -> str | None:
        """A name in the window that the claim does not have, standing where a sentence's actor stands:
        before "heeft/hebben/is/zijn/wil/gaat ..." or after "dat/door"."""
        claim_text = _Text(a.text)
        for other in _names(wtext, []):
            if _name_in(other, claim_text) or len(other.text) < 3:
                continue
            after = wtext[other.end:other.end + 40]
            before = wtext[max(0, other.start - 12):other.start]
            if re.search(r"\b(?:met|van|aan|voor|bij|en|of|and|with|to)\s+(?:de\s+|het\s+|the\s+)?$", before, re.I):
                continue  # "met Stichting A en B zijn contracten gesloten": a party, not the actor
            if re.match(r"\s+(?:heeft|hebben|had|wil|gaat|ging|zal|zegt|stelt|besloot|"
                        r"has|have|had|will|decided)\b", after, re.I) or re.search(r"\b(?:dat|door|by)\s+(?:de\s+|het\s+|the\s+)?$", before, re.I):
                return other.text
        return None

    def _name_in_place(self, a: ClaimAnalysis, name: Name, text: str, offset: int):
        """A different name where the claim has its name: after the same words ("opleidingsprogramma van
        X"), or a pair of names where the claim has a pair ("in A en B" / "met C en D")."""
        before = [fold(m.group(0)) for m in _words(a.text[:name.start])]
        # words that say which place the name fills; "nieuw", "extra" and the like fill every place
        anchors = [t for t in before[-5:] if t not in _NOT_NOUNS and len(t) > 2 and t not in a.topic_names][-2:]
        claim_text = _Text(a.text)
        others = [n for n in _names(text, []) if not _name_in(n, claim_text)]
        best, best_score = None, 0
        for other in others:
            lead = _Text(" ".join(m.group(0) for m in _words(text[:other.start])[-8:]))
            score = sum(1 for t in anchors if lead.has(t))
            if score > best_score:
                best, best_score = other, score
        pair = re.match(r"\s+(?:en|and)\s+[A-Z]", a.text[name.end:name.end + 8]) or \
            re.search(r"[A-Z]\w*\s+(?:en|and)\s+$", a.text[:name.start])
        if best is None and pair:
            for x, y in zip(others, others[1:]):
                if re.fullmatch(r"\s+(?:en|and)\s+", text[x.end:y.start]):
                    best, best_score = Name(text[x.start:y.end], x.start, y.end, x.parts + y.parts), 1
                    break
        if best is None:
            return None
        return best.text, (offset + best.start, offset + best.end), float(best_score)

    # ratios and directions
    def _ratio_detail(self, cv: Value, text: str, cand: ClaimCandidate) -> Detail:
        """"bijna twee keer zo groot als het jaar ervoor": the later figure over the earlier one."""
        for a, b in sentence_spans(text):
            if b <= cand.start or a >= cand.end:
                continue
            for ch in sentence_changes(text[a:b], a):
                if ch.earlier:
                    ratio = ch.later / ch.earlier
                    src = Value("number", ratio, ratio, "x", text=f"{ratio:.1f} x", step=0.1)
                    same = compare_values(cv, src, self.settings.values) == "match"
                    return Detail("number", cv.text, " ".join(ch.text.split()), "match" if same else "mismatch")
        return Detail("number", cv.text, None, "absent")

    @staticmethod
    def _next_sentence_change(text: str, s0: int, s1: int) -> list[Change]:
        """A figure and, in the next sentence, the same figure for an earlier time: "... uit op € 7,2
        miljoen. In de eerste helft van 2024 was dat € 5,1 miljoen." """
        nxt = re.match(r"\s*([^.!?]*?\b(?:was|waren|bedroeg|bedroegen)\s+(?:dat|het|er|deze|die)\b[^.!?]*[.!?]?)",
                       text[s1:s1 + 250], re.I)
        if not nxt:
            return []
        kinds = ("number", "count", "amount", "percentage")
        first = [v for v in extract_values(text[s0:s1], "nl") if v.kind in kinds]
        second = [v for v in extract_values(nxt.group(1), "nl") if v.kind in kinds]
        times_first, times_second = _times(extract_values(text[s0:s1], "nl")), _times(extract_values(nxt.group(1), "nl"))
        if not (first and second and times_first and times_second) or not compatible(first[-1].kind, second[0].kind):
            return []
        if times_second[0].hi >= times_first[0].lo:  # the second sentence must be about an earlier time
            return []
        return [Change(first[-1].value, second[0].value, (s0, s1 + nxt.end()), text[s0:s1 + nxt.end()])]

    def _direction_detail(self, a: ClaimAnalysis, w: _Window, cand: ClaimCandidate, weights: _Weights,
                          meta: _Text) -> None:
        p = cand.hit.passage
        text = p.text
        claim_times = _times(a.values)
        found = None
        # the table row in the window whose label names the claim's subject best
        # (of the whole table: a window that shows only the "AOW" row must not stand in for the "ZZP" row)
        rows = [(weights.share(_Text(label)), change) for label, change in table_changes(text, claim_times)
                if change.direction is not None]
        rows = [r for r in rows if r[0] > 0]
        if rows:
            _, change = max(rows, key=lambda r: r[0])
            if change.span[1] > cand.start and change.span[0] < cand.end:
                found = (change.direction, change.text, change.span)
        if found is None:
            # the sentence of the figure the window matched with the claim's: its direction is the figure's
            # ("20% meer klachten" is no fall, whatever another sentence of the window says)
            for s0, s1 in self._figure_sentences(w, text) or self._figure_sentences(w, text, priority=2):
                # no figure of the claim matched: the sentence of its matched date ("in het eerste
                # kwartaal van 2026 ... 1.200, tegenover 950 in ... 2025")
                sentence = text[s0:s1]
                changes = [c for c in sentence_changes(sentence, s0) if c.direction]
                d = changes[0].direction if changes else direction_of(sentence)[0]
                if d is not None:
                    found = (d, sentence, (s0, s1))
                    break
        if found is None:
            # the sentence of the window most about the claim's topic that has two figures over time
            # or a direction word; it must be about the topic itself ("de wachttijd aan de
            # telefoon is afgenomen" says nothing about "de tevredenheid over het loket")
            best = None
            spans = sentence_spans(text)  # once per passage: the next-sentence look-up below reuses them
            for s0, s1 in spans:
                if s1 <= cand.start or s0 >= cand.end:
                    continue
                sentence = text[s0:s1]
                share = weights.share(_Text(sentence + " " + (p.section or "").split(" > ")[-1]), meta, a.topic_names)
                if share < self.settings.support_topic or not any(
                        _Text(sentence).has(t) for t in weights.weights if t not in a.topic_names):
                    continue  # about the topic, and not only through the names ("AOW-uitkeringen" for "wachtlijst voor AOW-...")
                changes = [c for c in sentence_changes(sentence, s0) + self._next_sentence_change(text, s0, s1)
                           if c.direction]
                d = changes[0].direction if changes else direction_of(sentence)[0]
                span = (s0, s1)
                if d is None:
                    # "X deed in 2023 veel wijzigingen. In 2024 worden er minder voorzien.": the next
                    # sentence carries the direction when it names a year or date of the claim
                    nxt = next(((n0, n1) for n0, n1 in spans if n0 >= s1), None)
                    if nxt is not None and any(t.text in text[nxt[0]:nxt[1]] for t in claim_times):
                        d = direction_of(text[nxt[0]:nxt[1]])[0]
                        if d is not None:
                            sentence, span = text[s0:nxt[1]], (s0, nxt[1])
                if d is not None and (best is None or share > best[0]):
                    best = (share, (d, sentence, span))
            if best is not None:
                found = best[1]
        if found is None:
            w.details.append(Detail("direction", a.direction_word, None, "absent"))
            return
        direction, source, span = found
        status = "match" if direction == a.direction else "mismatch"
        d = Detail("direction", a.direction_word, " ".join(source.split())[:200], status)
        w.details.append(d)
        if status == "mismatch":
            w.decisive.append((d, span, 1.0))
        else:
            w.matched_at.append((1, span))

    @staticmethod
    def _figure_sentences(w: _Window, text: str, priority: int = 0) -> list[tuple[int, int]]:
        """The sentences of the passage that hold the figures (priority 0) or the dates (2) the window
        matched with the claim's."""
        spans = [span for p, span in w.matched_at if p == priority]
        return [(s0, s1) for s0, s1 in sentence_spans(text) if any(s0 <= a < s1 for a, _ in spans)]

    def _target_detail(self, a: ClaimAnalysis, w: _Window, cand: ClaimCandidate) -> None:
        """Met or missed: read in the sentence of the matched figure ("de norm van 90% hebben we niet
        gehaald"), else in the window."""
        text = cand.hit.passage.text
        found = None
        for s0, s1 in self._figure_sentences(w, text) or [(cand.start, cand.end)]:
            t = target_of(text[s0:s1])
            if t is not None:
                found = (t, (s0, s1))
                break
        if found is None:
            w.details.append(Detail("target", a.target, None, "absent"))
            return
        t, span = found
        d = Detail("target", a.target, " ".join(text[span[0]:span[1]].split())[:200], "match" if t == a.target else "mismatch")
        w.details.append(d)
        if d.status == "mismatch":
            w.decisive.append((d, span, 1.0))

    # -- verdict rules ------------------------------------------------------------------------------
    def _supports(self, a: ClaimAnalysis, w: _Window) -> bool:
        s = self.settings
        if not w.details or any(d.status != "match" for d in w.details):
            return w.topic >= s.statement_topic and not w.details
        if any(d.kind not in ("organisation", "polarity") for d in w.details):
            return w.topic >= s.support_topic
        # names only ("op advies van de Raad Omega ..."): the window must be about the claim itself
        return w.topic >= s.name_topic

    def _contradicts(self, w: _Window) -> bool:
        return bool(w.decisive) and w.topic >= self.settings.contradict_topic

    # -- the result ---------------------------------------------------------------------------------
    def _absent_details(self, a: ClaimAnalysis) -> tuple[Detail, ...]:
        out = [Detail(v.kind, v.text, None, "absent") for v in a.values]
        out += [Detail("organisation", n.text, None, "absent") for n in a.names]
        if a.direction:
            out.append(Detail("direction", a.direction_word, None, "absent"))
        return tuple(out)

    def _result(self, a: ClaimAnalysis, verdict: str, w: _Window, windows: list[_Window], rule: str) -> ClaimCheck:
        s = self.settings
        cand = w.candidate
        text = cand.hit.passage.text
        if verdict == "contradicted":
            focus = max(w.decisive, key=lambda x: x[2])[1]
        elif w.matched_at:
            focus = min(w.matched_at)[1]
        else:
            focus = (cand.start, cand.end)
        span = self._quote_span(text, cand, focus)
        citations = [Citation(1, cand.hit, " ".join(text[span[0]:span[1]].split()), span)]
        if verdict != "not_found":
            # a second citation from another passage on the same topic, for the reader to compare
            for other in sorted(windows, key=lambda x: (-x.topic, -x.relevance)):
                oc = other.candidate
                if oc.hit.passage.chunk_id != cand.hit.passage.chunk_id and other.topic >= s.support_topic:
                    osp = self._quote_span(oc.hit.passage.text, oc, (oc.start, oc.end))
                    citations.append(Citation(2, oc.hit, " ".join(oc.hit.passage.text[osp[0]:osp[1]].split()), osp))
                    break
        details = tuple(w.details) or self._absent_details(a)
        decided = all(d.status != "absent" for d in w.details)
        if verdict == "not_found":
            best = max(x.topic for x in windows)
            confidence = "hoog" if best < s.support_topic / 2 else "middel" if best < s.support_topic else "laag"
        else:
            confidence = "hoog" if (w.topic >= s.high_topic and decided) else "middel" if decided else "laag"
        signals = {"rule": rule, "topic": round(w.topic, 3), "window_score": round(cand.score, 4),
                   "passage_rank": getattr(cand.hit, "rank", None), "windows_read": len(windows), "language": a.lang}
        return ClaimCheck(a.text, verdict, confidence, None, details, tuple(citations), signals)

    @staticmethod
    def _quote_span(text: str, cand: ClaimCandidate, focus: tuple[int, int]) -> tuple[int, int]:
        """The sentence (or table row) that holds the deciding value, cut to 500 characters around it."""
        for a, b in sentence_spans(text):
            if a <= focus[0] < b:
                if b - a > 500:  # a list without full stops: stay near the value
                    a, b = max(a, focus[0] - 200), min(b, max(focus[1], focus[0]) + 250)
                return a, max(b, min(focus[1], len(text)))
        return cand.start, cand.end


__all__ = ["ClaimCandidate", "ClaimChecker", "ClaimCheck", "ClaimSettings", "Detail",
           "VERDICTS", "analyse_claim", "reference", "sentence_spans", "table_changes", "sentence_changes",
           "direction_of", "polarity_of"]
