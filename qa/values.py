"""Checkable values in Dutch (and English) text: numbers, counts, percentages, amounts, years, dates
and periods, each with its numeric value (or range), unit, scale, approximation word and span.

Pure: no project imports, so the claim checker, the evaluation and the tests share one reading of
"ruim € 2,3 mln" without loading an index. Two entry points:

    extract_values("Er kwamen ruim 40.000 aanvragen binnen.")   # -> (Value(kind="count", lo=40000, ...),)
    same_value(claim_value, source_value)                         # is the source's value the claim's?

How Dutch figures are read (the documents are Dutch; claims may be English):

- "14.600" is 14,600 and "3,7" is 3.7: a separator followed by exactly three digits groups
  thousands, any other separator is the decimal point; when both occur the last one is the decimal
  point ("2.417.560,50", "2,417,560.50"). "0,900" is 0.9: a leading zero is never a thousands group.
- Scale words multiply: "5 miljard", "€ 3,7 mln", "€ 615k", "8 million euros". A table whose header says
  "x € 1.000" or "(bedragen x 1.000)" holds figures in thousands: its bare figures are amounts x 1,000;
  so does "(x1000)" without a € sign when the header's line names money ("Kosten", "Meerjarenbudget").
- Written numbers are parsed by text2num ("zevenhonderd", "vijftig", "eighteen"); "een" alone is the
  article, not one, except in "een op de tien" and before a scale word.
- Shares become percentages: "de helft" 50, "een kwart" 25, "twee op de drie" 66.7, "one in ten" 10.
- A value's precision (`step`) is the last digit it is written with, times its scale: "2,3 miljoen"
  is precise to 100,000, "137" to 1. A claim matches a source that rounds to it (see `same_value`).
- Years (1900-2099) and dates are intervals of days: "eind 2026" is October to December, "medio
  2027" May to August, "Q3 2026" July to September; a date without a year ("eind juni") is kept
  as a day of the year (unit "md").
- Periods are spans and rates: "de eerste drie maanden", "over 7 jaar", "per maand", "jaarlijks".
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date

from text_to_num import text2num

from docqa.errors import SettingsError

KINDS = ("number", "count", "percentage", "amount", "year", "date", "period", "clock")
# kinds that can state the same fact: a count is a number of things, a year is a (long) date
_COMPATIBLE = {"number": {"number", "count"}, "count": {"number", "count"}, "percentage": {"percentage"},
               "amount": {"amount"}, "year": {"year", "date"}, "date": {"year", "date"}, "period": {"period"},
               "clock": {"clock"}}


@dataclass(frozen=True)
class ValueSettings:
    """How close a source value must be to a claim's value to be the same value."""

    # "circa", "ongeveer", "zo'n", "rond", "about": journalists round, so +-10% of the claim's value
    about_tolerance: float = 0.10
    # "ruim" / "bijna" (and "just over", "nearly"): a little above / below, at most 10% away, one-sided
    slight_tolerance: float = 0.10
    # "meer dan" / "minder dan" / "minimaal" (and "more than", "at least"): one-sided, at most 25% away,
    # since "meer dan 5.000" for 50.000 would mislead as much as a wrong figure
    bound_tolerance: float = 0.25

    def __post_init__(self):
        for name in ("about_tolerance", "slight_tolerance", "bound_tolerance"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
                raise SettingsError(f"{name}={value!r}: must be a number from 0 up to (not including) 1")


@dataclass(frozen=True)
class Value:
    """One checkable value found in a text."""

    kind: str  # one of KINDS
    lo: float  # the value (scale applied); lo < hi for a range, an interval of dates, or an imprecise date
    hi: float  # for years and dates: days (date.toordinal) of the first and last day meant
    unit: str = ""  # "%", "EUR", "x" (times); periods: "maand", "jaar", ...; dates: "day", "month", "md" ...
    scale: float = 1.0  # the multiplier written: 1e6 for "miljoen", 1e3 in a "x € 1.000" table
    approx: str = ""  # the approximation or bound word as written, lower case ("ruim", "meer dan", "sinds")
    text: str = ""  # the value as it stands in the text
    start: int = 0  # character span in the text
    end: int = 0
    step: float = 1.0  # the precision it is written with, scale applied ("2,3 miljoen": 100000)
    noun: str = ""  # the word or two right after the value, lower case ("beveiligingsincidenten")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: must be one of {', '.join(KINDS)}")
        if not self.lo <= self.hi:
            raise ValueError(f"lo={self.lo!r} > hi={self.hi!r} for {self.text!r}")

    @property
    def value(self) -> float:
        return self.lo if self.lo == self.hi else (self.lo + self.hi) / 2

    @property
    def is_range(self) -> bool:
        return self.lo != self.hi and self.kind not in ("year", "date")

    def to_json(self) -> dict:
        return asdict(self)


# -- number words and figures ---------------------------------------------------------------------

_NL_MORPHS = ("een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|"
              "zestien|zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|"
              "negentig|honderd|duizend|en|ën")
_NL_WORD = rf"(?:{_NL_MORPHS})+"
# a Dutch written number in one word ("driehonderd", "vijfentwintig") that ends in a number, not in
# "en" ("achten" and "vieren" are verbs) nor is "een" alone (an article)
NL_NUMBER_WORD = (rf"(?!een\b)(?:{_NL_MORPHS})*(?:{'|'.join(m for m in _NL_MORPHS.split('|') if m not in ('en', 'ën'))})"
                  r"(?![a-zà-ÿ])")
_EN_MORPHS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
              "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
              "hundred|thousand")
_EN_WORD = rf"(?:{_EN_MORPHS})(?:[- ](?:{_EN_MORPHS}))*"
_DIGITS = r"\d+(?:[.,]\d+)*"
_SCALES = {"k": 1e3, "duizend": 1e3, "thousand": 1e3, "mln": 1e6, "miljoen": 1e6, "million": 1e6, "m": 1e6,
           "mld": 1e9, "mrd": 1e9, "miljard": 1e9, "billion": 1e9, "bn": 1e9}
_SCALE_RE = r"(?:k|mln\.?|miljoen|million|mld\.?|mrd\.?|miljard|billion|duizend|thousand|bn|m)"


def parse_figure(text: str) -> tuple[float, int]:
    """A figure as written ("14.600", "3,7", "2.417.560,-", "26,000") -> (value, decimals written)."""
    s = text.strip().rstrip("-").rstrip(",.")
    if not s or not re.fullmatch(r"\d+(?:[.,]\d+)*", s):
        raise ValueError(f"not a figure: {text!r}")
    seps = [ch for ch in s if ch in ".,"]
    if not seps:
        return float(s), 0
    if len(set(seps)) == 2:  # both: the last one is the decimal point
        point = s[max(s.rfind("."), s.rfind(","))]
        whole, frac = s.rsplit(point, 1)
        return float(re.sub(r"[.,]", "", whole) + "." + frac), len(frac)
    parts = s.split(seps[0])
    grouped = len(parts) > 2 or (len(parts[1]) == 3 and parts[0] != "0")
    if grouped and all(len(p) == 3 for p in parts[1:]):
        return float("".join(parts)), 0
    if len(parts) > 2:  # "1.2.3": not a number (a section or version number)
        raise ValueError(f"not a figure: {text!r}")
    return float(parts[0] + "." + parts[1]), len(parts[1])


def parse_number_word(word: str, lang: str = "nl") -> float | None:
    """A written number ("zevenhonderd", "eighteen") or None."""
    w = word.lower()
    if w in ("en", "and"):
        return None
    for attempt in (w, w.replace("één", "een")):
        try:
            return float(text2num(attempt.replace("-", " ") if lang == "en" else attempt, lang))
        except ValueError:
            continue
    return None


# -- vocabulary ------------------------------------------------------------------------------------

# approximation classes -> words (longest first when matched); Dutch and English
_APPROX = {
    "about": ["naar schatting", "in de orde van", "ongeveer", "circa", "ca.", "ca", "zo'n", "zo’n", "rond de",
              "rond", "rondom", "omstreeks", "ruwweg", "pakweg", "grofweg", "±", "~", "+/-", "an estimated",
              "approximately", "about", "around", "roughly", "some", "estimated"],
    "above_slight": ["iets meer dan", "ruim", "net boven", "just over", "slightly more than", "a little over",
                     "just above"],
    "above": ["meer dan", "boven de", "boven", "more than", "over", "above", "upwards of", "in excess of", ">"],
    "below_slight": ["iets minder dan", "bijna", "nagenoeg", "vrijwel", "haast", "krap", "net onder", "nearly",
                     "almost", "just under", "slightly less than", "close to"],
    "below": ["minder dan", "onder de", "less than", "fewer than", "under", "below", "<"],
    "at_least": ["niet minder dan", "ten minste", "tenminste", "minimaal", "minstens", "at least", "no less than",
                 "≥", ">="],
    "at_most": ["niet meer dan", "ten hoogste", "maximaal", "hooguit", "hoogstens", "at most", "up to",
                "no more than", "≤", "<="],
}
# Dutch "over vijf jaar" is "in five years", not "more than": "over" is English-only
_NL_NOT = {"over", "some", "about", "under", "below", "above", "around", "estimated"}
# words before a year or date that bound it; kept in `approx`, compared like the date itself
_TIME_BOUNDS = ["tot en met", "tot", "sinds", "vanaf", "uiterlijk", "vóór", "voor", "na", "per", "since", "from",
                "until", "by", "before", "after", "hele jaar", "gehele jaar", "geheel", "heel", "the whole of",
                "all of", "full year", "full-year"]
# bounds that make a year whole: "over heel 2022" is not stated by a figure for its first quarter
WHOLE_YEAR = frozenset({"hele jaar", "gehele jaar", "geheel", "heel", "the whole of", "all of", "full year", "full-year"})

_MONTHS = {"januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
           "september": 9, "oktober": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mrt": 3, "apr": 4,
           "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dec": 12,
           "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# parts of a year or month: (first month, last month) of a year; (first day, last day) of a month
_YEAR_PARTS = {"begin": (1, 3), "begin van": (1, 3), "start": (1, 3), "early": (1, 3), "voorjaar": (3, 6),
               "lente": (3, 6), "spring": (3, 6), "medio": (5, 8), "midden": (5, 8), "half": (5, 8), "mid": (5, 8),
               "halverwege": (5, 8), "zomer": (6, 8), "summer": (6, 8), "najaar": (9, 12), "herfst": (9, 11),
               "autumn": (9, 11), "fall": (9, 11), "eind": (10, 12), "einde": (10, 12), "end of": (10, 12),
               "the end of": (10, 12), "late": (10, 12), "ultimo": (12, 12), "uiterlijk eind": (10, 12)}
_MONTH_PARTS = {"begin": (1, 10), "early": (1, 10), "start": (1, 10), "medio": (11, 20), "midden": (11, 20),
                "half": (11, 20), "mid": (11, 20), "eind": (21, 31), "einde": (21, 31), "end of": (21, 31),
                "the end of": (21, 31), "late": (21, 31), "ultimo": (28, 31)}
_PART_RE = "|".join(sorted((re.escape(p) for p in set(_YEAR_PARTS) | set(_MONTH_PARTS)), key=len, reverse=True))
_ORDINALS = {"eerste": 1, "tweede": 2, "derde": 3, "vierde": 4, "1e": 1, "2e": 2, "3e": 3, "4e": 4, "first": 1,
             "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_ORD_RE = "|".join(sorted(_ORDINALS, key=len, reverse=True))
# period units -> (canonical unit, length in months)
_PERIOD_UNITS = {"dag": ("dag", 1 / 30), "dagen": ("dag", 1 / 30), "day": ("dag", 1 / 30), "days": ("dag", 1 / 30),
                 "week": ("week", 7 / 30), "weken": ("week", 7 / 30), "weeks": ("week", 7 / 30),
                 "maand": ("maand", 1), "maanden": ("maand", 1), "month": ("maand", 1), "months": ("maand", 1),
                 "kwartaal": ("kwartaal", 3), "kwartalen": ("kwartaal", 3), "quarter": ("kwartaal", 3),
                 "quarters": ("kwartaal", 3), "jaar": ("jaar", 12), "jaren": ("jaar", 12), "year": ("jaar", 12),
                 "years": ("jaar", 12)}
_SINGULAR_UNITS = frozenset("dag day week maand month kwartaal quarter jaar year".split())
_UNIT_RE = "|".join(sorted(_PERIOD_UNITS, key=len, reverse=True))
_RATES = {"jaarlijks": "jaar", "jaarlijkse": "jaar", "maandelijks": "maand", "maandelijkse": "maand",
          "wekelijks": "week", "wekelijkse": "week", "dagelijks": "dag", "dagelijkse": "dag",
          "per annum": "jaar", "annually": "jaar", "yearly": "jaar", "monthly": "maand", "weekly": "week",
          "daily": "dag", "op jaarbasis": "jaar", "op maandbasis": "maand", "op weekbasis": "week",
          "op dagbasis": "dag"}
_RATE_RE = "|".join(r.replace(" ", r"\s+") for r in sorted(_RATES, key=len, reverse=True))  # a line may break inside
_SPAN_QUALIFIERS = r"eerste|laatste|afgelopen|komende|volgende|achterliggende|first|last|past|next|coming|previous"
# a span qualifier that points back or ahead from the day of writing, not to a stated time
_RELATIVE = frozenset("afgelopen komende volgende achterliggende last past next coming previous".split())

# shares written in words: (pattern, percentage)
_FRACTION_WORDS = [(r"driekwart|drie kwart|three quarters", 75.0), (r"tweederde|twee derde|two thirds", 200 / 3),
                   (r"(?:de |een )?helft|half", 50.0), (r"(?:een |één |a )kwart|a quarter|one quarter", 25.0),
                   (r"(?:een |één |a |one )derde|a third|one third", 100 / 3),
                   (r"(?:een |één |a |one )vijfde|a fifth|one fifth", 20.0),
                   (r"(?:een |één |a |one )tiende|a tenth|one tenth", 10.0)]
_STOPWORDS = frozenset("""de het een en van in op te voor met aan bij door naar om uit over tot als dan dat die dit
deze is zijn was waren wordt worden werd werden heeft hebben had er ook nog al niet wel of maar zo per the a an
of to in on for with by from at as than that this these is are was were be been has have had and or not per
miljoen miljard procent euro keer jaar jaren maand maanden week weken dag dagen""".split())


# -- extraction ------------------------------------------------------------------------------------

def detect_language(text: str) -> str:
    """"en" when the text has more English than Dutch function words, else "nl"."""
    words = re.findall(r"[a-z']+", text.lower())
    en = sum(w in {"the", "of", "and", "to", "was", "were", "is", "are", "has", "had", "with", "than", "for",
                   "by", "its", "their", "from", "which", "that"} for w in words)
    nl = sum(w in {"de", "het", "een", "en", "van", "is", "zijn", "werd", "heeft", "met", "dan", "voor", "door",
                   "bij", "op", "te", "die", "dat"} for w in words)
    return "en" if en > nl else "nl"


class _Spans:
    """Character ranges already taken by a value: a later, weaker reading may not overlap them."""

    def __init__(self):
        self.taken: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in self.taken)

    def take(self, a: int, b: int) -> None:
        self.taken.append((a, b))


def _approx_before(text: str, start: int, lang: str, classes=None) -> tuple[str, int]:
    """The approximation word right before `start` (its class-independent text) and where it starts."""
    before = text[max(0, start - 30):start]
    best = ("", start)
    for cls, words in _APPROX.items():
        if classes is not None and cls not in classes:
            continue
        for w in words:
            if lang == "nl" and w in _NL_NOT:
                continue
            edge = r"(?<!\w)" if w[0].isalnum() else ""
            m = re.search(rf"{edge}{re.escape(w)}\s*$", before, re.I)
            if m and start - (len(before) - m.start()) < best[1]:
                best = (w.lower(), start - (len(before) - m.start()))
    return best


def approx_class(word: str) -> str:
    """"about", "above_slight", "above", "below_slight", "below", "at_least", "at_most", or "" (exact)."""
    w = word.lower().strip()
    for cls, words in _APPROX.items():
        if w in words:
            return cls
    return ""


def _noun_after(text: str, end: int) -> str:
    """The content word or two after a value ("61.000 nieuwe inwoners" -> "nieuwe inwoners")."""
    words = []
    for m in re.finditer(r"[^\W\d][\w'’-]*|\S", text[end:end + 60]):
        w = m.group(0)
        if not re.match(r"[^\W\d]", w):
            break
        if w.lower() in _STOPWORDS:
            if words:
                break
            return ""  # "137 van de ..." : no noun of its own
        words.append(w.lower())
        if len(words) == 2:
            break
    return " ".join(words)


def _day(y: int, m: int, d: int) -> int:
    last = [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
            31][m - 1]
    return date(y, m, min(d, last)).toordinal()


def _month_span(y: int, m1: int, m2: int) -> tuple[int, int]:
    return _day(y, m1, 1), _day(y, m2, 31)


def _md(m: int, d: int) -> int:
    """A day of a year without its year, as days in the leap year 2000 (so 29 February exists)."""
    return _day(2000, m, d)


# words of a table caption that say its figures are money: "Meerjarenbudget 2020-2024 (x1000)" and
# "Kosten (x 1.000)" hold thousands of euros without a € sign; "Aantal uitkeringen (x 1.000)" does not
_MONEY_HEADER = (r"budget|begroting|kosten|lasten|baten|uitgaven|inkomsten|omzet|bijdrage|subsidie|exploitatie|"
                 r"financiering|bekostiging|dotatie|reserve|costs|expenses|expenditure|revenue|spending|funding")


def table_scale(text: str) -> list[tuple[int, float, str]]:
    """Where a table's figures are in thousands (or millions): [(offset, factor, unit)] for every header
    such as "(x € 1.000)", "bedragen x 1.000", "x 1 mln euro", "in duizenden euro's"; a header without
    a currency is in euros when its line names money ("Kosten (x1000)", see `_MONEY_HEADER`)."""
    out = []
    for m in re.finditer(r"(?:[x×]\s*(?:€|eur(?:o)?)?\s*(1\.000(?:\.000)?|1000|1\s*(?:mln|miljoen))\b"
                         r"(?:\s*(?:euro|eur))?|in duizenden (?:euro|eur)|in miljoenen (?:euro|eur))", text, re.I):
        token = m.group(0).lower()
        factor = 1e6 if ("mln" in token or "miljoen" in token or "1.000.000" in token) else 1e3
        line = text[max(0, m.start() - 80):m.start()].rsplit("\n", 1)[-1]
        euro = "€" in token or "eur" in token or re.search(r"bedragen|€", text[max(0, m.start() - 40):m.start()], re.I) \
            or re.search(_MONEY_HEADER, line, re.I)
        out.append((m.end(), factor, "EUR" if euro else ""))
    return out


def _in_table(text: str, pos: int, scales: list[tuple[int, float, str]]) -> tuple[float, str] | None:
    """The scale of the table `pos` lies in: after a scale header, before the first line of prose."""
    for offset, factor, unit in reversed(scales):
        if offset > pos:
            continue
        between = text[offset:pos]
        for line in between.split("\n")[:-1]:
            words = line.split()
            if len(words) >= 8 and (not re.search(r"\d", line) or line.rstrip().endswith((".", ":"))):
                break  # a line of prose: the table has ended
        else:
            return factor, unit
        return None
    return None


_HOURS_NL = {"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
             "negen": 9, "tien": 10, "elf": 11, "twaalf": 12}
_HOURS_EN = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12}
_HOUR_WORD = "|".join(sorted(set(_HOURS_NL) | set(_HOURS_EN), key=len, reverse=True))
# "8.30", "18:00", "half negen" (8.30), "kwart over tien", "zes" / "6" (an hour: only before "uur" or in a range)
_CLOCK = (rf"(?P<hm>(?:[01]?\d|2[0-4])[.:][0-5]\d)|(?P<part>half|kwart\s+over|kwart\s+voor)\s+(?P<ph>{_HOUR_WORD}|1[0-2]|[1-9])"
          rf"|(?P<h>{_HOUR_WORD}|2[0-4]|1\d|[1-9])")


def _clock_times(text: str, lang: str) -> list[tuple[int, int, float]]:
    """Times of day as (start, end, minutes after midnight). A bare hour ("zes", "9") is a time of day
    only in a range of times ("van 9 tot 17 uur") or before "uur" after a word that places it in
    the day ("om", "tot", "vanaf"): "24 uur per dag" and "zes uur per week" are durations."""
    def minutes(m: re.Match, suffix: str) -> float | None:
        if m.group("hm"):
            h, mi = (int(x) for x in re.split(r"[.:]", m.group("hm")))
        else:
            word = (m.group("ph") or m.group("h")).lower()
            h = int(word) if word.isdigit() else _HOURS_NL.get(word) or _HOURS_EN.get(word)
            mi = 0
            part = re.sub(r"\s+", " ", (m.group("part") or "").lower())
            if part == "half":  # Dutch "half negen" is half an hour before nine
                h, mi = h - 1, 30
            elif part == "kwart over":
                mi = 15
            elif part == "kwart voor":
                h, mi = h - 1, 45
        if suffix.replace(".", "").lower() == "pm" and h < 12:
            h += 12
        return h * 60 + mi if 0 <= h <= 24 and (h < 24 or mi == 0) else None

    out = []
    one = rf"(?:{_CLOCK})"
    pair = re.compile(rf"(?<![\w.,])(?:tussen|van|vanaf|from|between)\s+(?P<a>{one.replace('?P<', '?P<a_')})"
                      rf"(?:\s*(?P<sa>a\.?m\.?|p\.?m\.?))?\s*(?:tot(?:\s+en\s+met)?|en|-|–|to|and|until)\s+"
                      rf"(?P<b>{one.replace('?P<', '?P<b_')})(?:\s*(?P<sb>a\.?m\.?|p\.?m\.?)|\s+uur|\s*u\b)?(?![\w.,]\d)", re.I)

    def sub(m: re.Match, side: str) -> re.Match:
        return re.fullmatch(_CLOCK, m.group(side), re.I)

    for m in pair.finditer(text):
        a, b = sub(m, "a"), sub(m, "b")
        if a.group("h") and b.group("h") and not text[m.end("b"):m.end()].strip():
            continue  # "tussen 8 en 12 procent", "van 10 tot 15 loketten": figures, not hours
        ma, mb = minutes(a, m.group("sa") or ""), minutes(b, m.group("sb") or "")
        if ma is not None and mb is not None:
            out.append((m.start("a"), m.end("a"), ma))
            out.append((m.start("b"), m.end(), mb))
    single = re.compile(rf"(?<![\w.,])(?:(?<=om )|(?<=tot )|(?<=vanaf )|(?<=na )|(?<=at )|(?<=until )|(?<=by ))"
                        rf"(?P<c>{one})(?:\s*(?P<s>a\.?m\.?|p\.?m\.?)|(?P<u>\s+uur|\s*u\b))?(?![\w]|[.,]\d)", re.I)
    for m in single.finditer(text):
        if any(a <= m.start() < b for a, b, _ in out):
            continue
        c = re.fullmatch(_CLOCK, m.group("c"), re.I)
        if c.group("h") and not (m.group("u") or m.group("s")):
            continue  # "tot 2026", "na 9": a bare figure, not an hour
        value = minutes(c, m.group("s") or "")
        if value is not None:
            out.append((m.start(), m.end(), value))
    return sorted(out)


def extract_values(text: str, lang: str | None = None) -> tuple[Value, ...]:
    """Every checkable value of `text`, in order of position. `lang` ("nl"/"en") picks the number
    words and approximation words; None detects it."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text)
    lang = lang or detect_language(text)
    if lang not in ("nl", "en"):
        raise ValueError(f"lang={lang!r}: use 'nl' or 'en'")
    spans = _Spans()
    out: list[Value] = []
    num = rf"{_DIGITS}|{_NL_WORD}" + (rf"|{_EN_WORD}" if lang == "en" else "")

    def number_at(s: str) -> float | None:
        if re.fullmatch(_DIGITS, s):
            try:
                return parse_figure(s)[0]
            except ValueError:
                return None
        return parse_number_word(s, lang)

    def add(v: Value) -> None:
        if v.text.endswith(".") and len(v.text) > 1:  # "€ 8 mln." at the end of a sentence: the full stop is not the value's
            v = Value(v.kind, v.lo, v.hi, v.unit, v.scale, v.approx, v.text[:-1], v.start, v.end - 1, v.step, v.noun)
        if spans.free(v.start, v.end):
            spans.take(v.start, v.end)
            out.append(v)

    def bound_before(start: int) -> tuple[str, int]:
        before = text[max(0, start - 14):start]
        for w in _TIME_BOUNDS:
            m = re.search(rf"(?<!\w){re.escape(w)}\s+$", before, re.I)
            if m:
                return w, start - (len(before) - m.start())
        return "", start

    # 1. dates: "1 maart 2027", "march 1, 2027", "31-12-2026", "eind juni 2027", "Q3 2026", "eerste kwartaal
    #    van 2026", "tussen februari en mei 2026", "eind 2026", "medio 2027", "mid-2027"
    for m in re.finditer(rf"(?<!\w)(?:tussen|between|van|from)\s+({_MONTH_RE})\s+(?:en|and|tot|to|-)\s+"
                         rf"({_MONTH_RE})\s+((?:19|20)\d\d)(?!\d)", text, re.I):
        y, m1, m2 = int(m.group(3)), _MONTHS[m.group(1).lower()], _MONTHS[m.group(2).lower()]
        if m1 <= m2:
            lo, hi = _month_span(y, m1, m2)
            add(Value("date", lo, hi, "month", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<![\w.])(?:({_PART_RE})[\s-]+)?(\d{{1,2}})(?:e|ste|de)?\s+({_MONTH_RE})\.?"
                         rf"(?:\s+((?:19|20)\d\d))?(?!\w)", text, re.I):
        d, mo = int(m.group(2)), _MONTHS[m.group(3).lower()]
        if not 1 <= d <= 31:
            continue
        if m.group(4):
            day = _day(int(m.group(4)), mo, d)
            add(Value("date", day, day, "day", text=m.group(0), start=m.start(), end=m.end()))
        else:
            day = _md(mo, d)
            add(Value("date", day, day, "md", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)({_MONTH_RE})\s+(\d{{1,2}}),\s+((?:19|20)\d\d)(?!\d)", text, re.I):
        day = _day(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
        add(Value("date", day, day, "day", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(r"(?<![\w.-])(\d{1,2})-(\d{1,2})-((?:19|20)\d\d)(?![\w-])", text):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            day = _day(y, mo, d)
            add(Value("date", day, day, "day", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)(?:({_PART_RE})[\s-]+(?:(?:van|of)\s+)?)?({_MONTH_RE})\.?"
                         rf"(?:\s+(?:van\s+|of\s+)?((?:19|20)\d\d))?(?!\w)", text, re.I):
        part, mo, year = (m.group(1) or "").lower(), _MONTHS[m.group(2).lower()], m.group(3)
        if m.group(2).lower() in ("mei", "may", "mar", "jan", "dec", "nov", "aug", "jun", "jul") and not (year or part):
            continue  # "mei" alone is often a name or a verb ("may"); a month needs a year or a part here
        if not (year or part) and m.group(2).lower() not in _MONTHS:
            continue
        d1, d2 = _MONTH_PARTS.get(part, (1, 31))
        if year:
            lo, hi = _day(int(year), mo, d1), _day(int(year), mo, d2)
            add(Value("date", lo, hi, "month" if not part else "part", approx=part, text=m.group(0),
                      start=m.start(), end=m.end()))
        else:
            add(Value("date", _md(mo, d1), _md(mo, d2), "md", approx=part, text=m.group(0), start=m.start(),
                      end=m.end()))
    for m in re.finditer(r"(?<!\w)(?:Q([1-4])|([1-4])e\s+kwartaal)\s*(?:van\s+)?'?((?:19|20)\d\d)(?!\d)", text, re.I):
        q, y = int(m.group(1) or m.group(2)), int(m.group(3))
        lo, hi = _month_span(y, 3 * q - 2, 3 * q)
        add(Value("date", lo, hi, "quarter", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)(?:(?:het|de|the|in)\s+)?({_ORD_RE})\s+(kwartaal|quarter|helft|half)\s+"
                         rf"(?:van\s+|of\s+)?((?:19|20)\d\d)(?!\d)", text, re.I):
        n, y = _ORDINALS[m.group(1).lower()], int(m.group(3))
        if m.group(2).lower() in ("kwartaal", "quarter") and n <= 4:
            lo, hi = _month_span(y, 3 * n - 2, 3 * n)
        elif n <= 2:
            lo, hi = _month_span(y, 6 * n - 5, 6 * n)
        else:
            continue
        add(Value("date", lo, hi, "quarter" if m.group(2).lower() in ("kwartaal", "quarter") else "half",
                  text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)({_PART_RE})[\s-]+(?:(?:van|of)\s+)?((?:19|20)\d\d)(?!\d)", text, re.I):
        part, y = m.group(1).lower(), int(m.group(2))
        if part in _YEAR_PARTS:
            m1, m2 = _YEAR_PARTS[part]
            lo, hi = _month_span(y, m1, m2)
            add(Value("date", lo, hi, "part", approx=part, text=m.group(0), start=m.start(), end=m.end()))

    # "de eerste drie maanden van 2026", "the first two quarters of 2026": a span of dates
    for m in re.finditer(rf"(?<!\w)(?:(?:de|het|the|in)\s+)?(eerste|laatste|first|last)\s+(?:({num})\s+)?"
                         rf"(maanden|maand|kwartalen|kwartaal|months|month|quarters|quarter)\s+(?:(?:van|of)\s+)?"
                         rf"((?:19|20)\d\d)(?!\d)", text, re.I):
        n = number_at(m.group(2)) if m.group(2) else 1.0
        months = int(n or 0) * (3 if m.group(3).lower().startswith(("kwart", "quarter")) else 1)
        if not 1 <= months <= 12:
            continue
        y = int(m.group(4))
        first = m.group(1).lower() in ("eerste", "first")
        lo, hi = _month_span(y, 1, months) if first else _month_span(y, 13 - months, 12)
        add(Value("date", lo, hi, "span", approx=m.group(1).lower(), text=m.group(0), start=m.start(), end=m.end()))

    # 1b. times of day: "tussen 8.30 en 18.00", "van half negen tot zes uur", "om 9 uur", "tot 17.00 uur"
    for a, b, minutes in _clock_times(text, lang):
        add(Value("clock", minutes, minutes, "clock", text=text[a:b], start=a, end=b))

    # 2. periods: "de eerste drie maanden", "het eerste kwartaal", "over 7 jaar", "per maand", "jaarlijks"
    for m in re.finditer(rf"(?<!\w)(?:(?:de|het|the|in)\s+)?({_SPAN_QUALIFIERS})\s+(?:({num})\s+)?({_UNIT_RE})(?!\w)",
                         text, re.I):
        n = number_at(m.group(2)) if m.group(2) else 1.0
        if n is None:
            continue
        if not m.group(2) and m.group(1).lower() in _RELATIVE and m.group(3).lower() in _SINGULAR_UNITS:
            continue  # "het afgelopen jaar", "last year": which year depends on when it was written
        unit = _PERIOD_UNITS[m.group(3).lower()][0]
        # "de komende jaren": some years, how many unsaid; it neither states nor contradicts "vier jaar"
        hi = math.inf if not m.group(2) and m.group(3).lower() not in _SINGULAR_UNITS else n
        add(Value("period", n, hi, unit, approx=m.group(1).lower(), text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)(?:(?:het|de|the)\s+)?({_ORD_RE})\s+(kwartaal|quarter|helft|half)(?!\w)", text, re.I):
        n = _ORDINALS[m.group(1).lower()]
        unit = "kwartaal" if m.group(2).lower() in ("kwartaal", "quarter") else "helft"
        add(Value("period", n, n, unit, approx="nr", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<!\w)(?:per|a|each|every|elk|elke|ieder|iedere)\s+({_UNIT_RE})(?!\w)|(?<!\w)({_RATE_RE})(?!\w)",
                         text, re.I):
        word = " ".join((m.group(1) or m.group(2)).lower().split())
        if m.group(1) and word not in _PERIOD_UNITS:
            continue
        if m.group(1) and m.group(0).lower().startswith(("a ", "each ", "every ")) and lang == "nl":
            continue
        unit = _PERIOD_UNITS[word][0] if m.group(1) else _RATES[word]
        add(Value("period", 1, 1, unit, approx="per", text=m.group(0), start=m.start(), end=m.end()))
    for m in re.finditer(rf"(?<![\w.,])({num})\s+({_UNIT_RE})(?!\w)", text, re.I):
        n = number_at(m.group(1))
        if n is None or (re.fullmatch(r"(?:19|20)\d\d", m.group(1)) and m.group(2).lower() not in ("jaar", "years")):
            continue
        if m.group(1).lower() == "een" and lang == "nl":
            continue
        word, start = _approx_before(text, m.start(), lang)
        if not word:
            w2, s2 = bound_before(m.start())
            word, start = (w2, s2) if w2 in ("na", "over", "binnen", "voor", "after", "within") else ("", m.start())
        for w in ("over", "binnen", "na", "voor de duur van", "within", "in"):
            if not word and re.search(rf"(?<!\w){w}\s+$", text[max(0, m.start() - 20):m.start()], re.I):
                word = w
                break
        if word and start == m.start():
            start = m.start() - len(re.search(r"\S+\s+$", text[:m.start()]).group(0))
        add(Value("period", n, n, _PERIOD_UNITS[m.group(2).lower()][0], approx=word, text=text[start:m.end()],
                  start=start, end=m.end()))

    # 3. shares: "twee op de drie", "one in ten", "de helft", "een kwart"
    for m in re.finditer(rf"(?<!\w)({num})\s+(?:op|in|out of)\s+(?:de\s+|every\s+)?({num})(?!\w)", text, re.I):
        a, b = number_at(m.group(1)), number_at(m.group(2))
        if a is None or b is None or b == 0 or a > b or (re.fullmatch(r"\d{4}", m.group(2)) and b > 1000):
            continue
        word, start = _approx_before(text, m.start(), lang)
        add(Value("percentage", 100 * a / b, 100 * a / b, "%", approx=word, text=text[start:m.end()], start=start,
                  end=m.end(), step=1.0, noun=_noun_after(text, m.end())))
    # "halveerde" is a fall by half, "verdubbelde" a rise by all: the change as a percentage
    for m in re.finditer(r"(?<!\w)(?:(halveerde|halveerden|halveert|halveren|gehalveerd|halvering)|(verdubbelde|"
                         r"verdubbelden|verdubbelt|verdubbelen|verdubbeld|verdubbeling|halved|doubled))(?!\w)", text, re.I):
        pct = 50.0 if m.group(1) or m.group(0).lower() == "halved" else 100.0
        add(Value("percentage", pct, pct, "%", text=m.group(0), start=m.start(), end=m.end(), step=1.0))
    # "een half miljoen euro", "ruim een kwart miljoen keer", "anderhalf miljard": a figure, not a share
    # ("half a million euros" in English)
    for m in re.finditer(r"(?<!\w)(?:(?:een|a)\s+)?(anderhalf|half|halve|kwart|driekwart)\s+(?:a\s+)?"
                         r"(miljoen|miljard|duizend|million|billion|thousand)(?!\w)(?:\s+(euros?|euro's)(?!\w))?", text, re.I):
        scale = _SCALES[m.group(2).lower()]
        value = {"anderhalf": 1.5, "half": 0.5, "halve": 0.5, "kwart": 0.25, "driekwart": 0.75}[m.group(1).lower()] * scale
        currency = bool(m.group(3)) or re.search(r"€\s?$", text[max(0, m.start() - 2):m.start()]) is not None
        word, start = _approx_before(text, m.start(), lang)
        add(Value("amount" if currency else "count", value, value, "EUR" if currency else "", scale, word,
                  text[start:m.end()], start, m.end(), 0.01 * scale, "" if currency else _noun_after(text, m.end())))
    for pattern, pct in _FRACTION_WORDS:
        for m in re.finditer(rf"(?<!\w)(?:{pattern})(?!\w)", text, re.I):
            if re.search(rf"(?:{_ORD_RE})\s+$", text[max(0, m.start() - 10):m.start()], re.I):
                continue  # "de tweede helft": a period
            if m.group(0).lower() in ("half",) and lang == "nl":
                continue
            word, start = _approx_before(text, m.start(), lang)
            add(Value("percentage", pct, pct, "%", approx=word, text=text[start:m.end()], start=start, end=m.end(),
                      step=1.0))

    # 4. amounts, percentages, counts, numbers, and ranges of them
    scales = table_scale(text)
    for offset, _, _ in scales:  # the header "x € 1.000" itself is no value
        head = re.search(r"[x×][^\n]*$", text[max(0, offset - 25):offset])
        spans.take(offset - (len(text[max(0, offset - 25):offset]) - head.start()) if head else offset - 1, offset)
    en_alt = f"|{_EN_WORD}" if lang == "en" else ""
    token_re = re.compile(
        rf"(?<![\w.,/])(?<![^\W\d]-)(?P<cur>(?:€|EUR\b|euro\b)\s?)?(?P<num>{_DIGITS}|{_NL_WORD}{en_alt})"
        rf"(?:\s?(?P<scale>{_SCALE_RE})(?!\w)|(?!\w))(?:\s?(?P<dash>,-))?"
        rf"(?:\s?(?P<unit>%|procentpunt(?:en)?|procent|percentage points?|percent|per cent|pct\.?|euro's|euros|euro|EUR"
        rf"|keer|maal|times)(?!\w))?", re.I)
    tokens = []
    for m in token_re.finditer(text):
        written = m.group("num")
        value = number_at(written)
        if value is None:
            continue
        digits = bool(re.fullmatch(_DIGITS, written))
        if digits and len(written) <= 2 and re.match(r"[.)](?:\s|$)", text[m.end("num"):m.end("num") + 2]) and \
                re.search(r"(?:^|\n|:|[•▪])\s*$", text[max(0, m.start() - 20):m.start()]):
            continue  # a list marker ("1. Onze missie"), not a figure
        if digits and len(written) <= 2 and not (m.group("cur") or m.group("scale") or m.group("unit")) and \
                re.match(r"(?:\.\d{1,2})*(?:\s+[A-Z][a-z]|\s*$)", text[m.end("num"):m.end("num") + 12]) and \
                re.search(r"(?:^|\n)[ \t]*$", text[max(0, m.start() - 20):m.start()]):
            continue  # a section or page number opening a line ("5 Prestatie indicatoren"), not a figure
        if digits and re.match(r"-[^\W\d_]", text[m.end("num"):m.end("num") + 2]):
            continue  # part of an identifier ("31234-XV-12", a parliamentary paper), not a figure
        if not digits and written.lower() in ("een", "één", "a", "one") and not m.group("scale"):
            continue  # the article, not a number
        if digits and re.fullmatch(r"(?:19|20)\d\d", written) and not (m.group("cur") or m.group("scale") or m.group("unit")):
            continue  # a year: step 5
        scale_word = (m.group("scale") or "").lower().rstrip(".")
        unit_low = (m.group("unit") or "").lower()
        if scale_word == "m" and not (m.group("cur") or unit_low in ("euro", "eur")):
            continue  # "5 m" is a length unless it is money
        tokens.append({"m": m, "value": value, "decimals": parse_figure(written)[1] if digits else 0,
                       "scale": _SCALES.get(scale_word, 1.0), "scale_word": scale_word, "unit": unit_low,
                       "cur": bool(m.group("cur")) or unit_low in ("euro", "euro's", "euros", "eur") or bool(m.group("dash")),
                       "start": m.start(), "end": m.end(), "hi": None, "digits": digits})
    # ranges: "10 tot 15", "10-15", "€ 10-15 miljoen"; the first figure takes the unit and scale of the second
    merged = []
    for tok in tokens:
        prev = merged[-1] if merged else None
        if prev is not None and prev["hi"] is None and not prev["unit"] and not prev["scale_word"]:
            between = text[prev["end"]:tok["start"]]
            if re.fullmatch(r"\s?(?:-|–|tot(?: en met)?|à|to)\s?(?:€\s?)?", between, re.I) and tok["value"] > prev["value"]:
                prev.update(hi=tok["value"], end=tok["end"], scale=tok["scale"], scale_word=tok["scale_word"],
                            unit=tok["unit"], cur=prev["cur"] or tok["cur"], decimals=max(prev["decimals"], tok["decimals"]))
                continue
            # "van bijna 42 naar 23 procent": the first figure shares the unit of the second
            if re.fullmatch(r"\s*(?:naar|tot|en|tegenover|to|and)\s+(?:(?:bijna|ruim|circa|nearly|about)\s+)?", between, re.I) \
                    and tok["unit"] and not prev["cur"]:
                prev["unit"] = prev["unit"] or tok["unit"]
        merged.append(tok)
    for tok in merged:
        m, start, end = tok["m"], tok["start"], tok["end"]
        unit_low = tok["unit"]
        percent = unit_low.startswith(("%", "procent", "percent", "per cent", "pct", "percentage"))
        # "twee keer zo groot" is a ratio; "40.000 keer een uittreksel" counts how often something happened
        times = unit_low in ("keer", "maal", "times") and re.match(
            r"\s+(?:zo|zoveel|meer|minder|groter|hoger|kleiner|lager|sneller|as|more|higher|larger|bigger)\b",
            text[end:], re.I) is not None
        currency = tok["cur"]
        scale = tok["scale"]
        table = None if (currency or percent or tok["scale_word"] or times) else _in_table(text, start, scales)
        if table:
            scale, currency = table[0], table[1] == "EUR" or currency
        kind = "amount" if currency else "percentage" if percent else "number"
        unit = ("EUR" if currency else "pp" if unit_low.startswith(("procentpunt", "percentage point")) else
                "%" if percent else "x" if times else "")
        word, a = _approx_before(text, start, lang)
        sign = 1.0
        if not tok["cur"] and re.search(r"(?:^|[\s(])[-−]$", text[max(0, start - 2):start]):
            sign, a = -1.0, min(a, start - 1)
        hi_value = tok["hi"] if tok["hi"] is not None else tok["value"]
        lo, hi = sorted((sign * tok["value"] * scale, sign * hi_value * scale))
        noun = "" if (percent or currency or times) else unit_low if unit_low in ("keer", "maal", "times") \
            else _noun_after(text, end)
        if kind == "number" and noun:
            kind = "count"
        add(Value(kind, lo, hi, unit, scale, word, text[a:end], a, end, (10.0 ** -tok["decimals"]) * scale, noun))

    # 5. years: "2023", "2022/23", "2024-2027", with a bound before them ("sinds 2017", "tot 2029")
    for m in re.finditer(r"(?<![\w.,/-])((?:19|20)\d\d)(?:\s?[/\-–]\s?((?:19|20)?\d\d))?(?![\w,/-]|\.\d|\s?%)", text):
        y1 = int(m.group(1))
        y2 = y1
        if m.group(2):
            y2 = int(m.group(2)) if len(m.group(2)) == 4 else y1 // 100 * 100 + int(m.group(2))
            if y2 < y1:
                continue
        word, start = bound_before(m.start())
        add(Value("year", _day(y1, 1, 1), _day(y2, 12, 31), "year", approx=word.lower(), text=text[start:m.end()],
                  start=start, end=m.end()))
    out.sort(key=lambda v: (v.start, v.end))
    return tuple(out)


# -- comparison ------------------------------------------------------------------------------------

def compatible(claim_kind: str, source_kind: str) -> bool:
    """Can a source value of this kind state (or contradict) a claim value of that kind?"""
    return source_kind in _COMPATIBLE.get(claim_kind, ())


def comparable(claim: Value, source: Value) -> bool:
    """`compatible` for two values: also a bare "13 miljoen" (no currency written, as a report's
    prose often has it) for a claim's "12 miljoen euro"."""
    return compatible(claim.kind, source.kind) or (
        claim.kind == "amount" and source.kind in ("number", "count") and source.scale >= 1e6 and not source.unit)


def _accepted(claim: Value, settings: ValueSettings) -> tuple[float, float]:
    """The interval of source values that state the claim's value."""
    lo, hi = claim.lo, claim.hi
    r = claim.step / 2  # rounding to the claim's precision
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    cls = approx_class(claim.approx)
    mag = max(abs(lo), abs(hi))
    if cls == "about":
        t = max(r, settings.about_tolerance * mag)
        return lo - t - eps, hi + t + eps
    if cls == "above_slight":
        return lo - r - eps, hi + max(r, settings.slight_tolerance * mag) + eps
    if cls in ("above", "at_least"):
        return lo - r - eps, hi + max(r, settings.bound_tolerance * mag) + eps
    if cls == "below_slight":
        return lo - max(r, settings.slight_tolerance * mag) - eps, hi + r + eps
    if cls in ("below", "at_most"):
        return lo - max(r, settings.bound_tolerance * mag) - eps, hi + r + eps
    return lo - r - eps, hi + r + eps


def _days(v: Value) -> tuple[float, float]:
    return v.lo, v.hi


def _as_md(v: Value) -> tuple[float, float] | None:
    """A dated value as days of the year 2000, to compare with a date written without its year."""
    if v.unit == "md":
        return v.lo, v.hi
    a, b = date.fromordinal(int(v.lo)), date.fromordinal(int(v.hi))
    if a.year != b.year:
        return None
    return _md(a.month, a.day), _md(b.month, b.day)


def compare_values(claim: Value, source: Value, settings: ValueSettings = ValueSettings()) -> str:
    """"match" (the source states the claim's value), "mismatch" (it states another value of the same
    kind), "vague" (a year or date that contains the claim's but says less, "2026" for "1 maart 2026"),
    or "incomparable" (different kinds or units)."""
    if not comparable(claim, source):
        return "incomparable"
    if claim.kind in ("year", "date"):
        c, s = _days(claim), _days(source)
        if (claim.unit == "md") != (source.unit == "md"):
            c, s = _as_md(claim), _as_md(source)
            if c is None or s is None:
                return "incomparable"
        if c[0] <= s[0] and s[1] <= c[1]:
            if claim.approx in WHOLE_YEAR and (s[0], s[1]) != (c[0], c[1]):
                return "vague"  # part of the year for "heel 2024": says nothing about the whole
            return "match"
        if claim.unit == "part" and claim.approx in _YEAR_PARTS and s[0] <= c[1] and c[0] <= s[1] \
                and abs(s[0] - c[0]) <= 31 and abs(s[1] - c[1]) <= 62:
            return "match"  # "begin 2022" is fuzzy: "het eerste kwartaal van 2022" says it
        if s[0] <= c[0] and c[1] <= s[1]:
            return "vague"
        if s[1] < c[0] or c[1] < s[0]:
            return "mismatch"
        return "vague"  # overlapping: "medio 2027" and "zomer 2027"
    if claim.kind == "clock":
        # "zes uur" for "18.00": an hour written without a.m./p.m. is either half of the day
        c, s = claim.lo, source.lo
        return "match" if c == s or (min(c, s) < 13 * 60 and (c - s) % (12 * 60) == 0) else "mismatch"
    if claim.kind == "period":
        per_c, per_s = claim.approx == "per", source.approx == "per"
        if per_c != per_s:
            return "incomparable"
        if math.isinf(claim.hi) or math.isinf(source.hi):  # "de komende jaren": how long is not said
            same = claim.hi == source.hi and claim.unit == source.unit and claim.approx == source.approx
            return "match" if same else "vague"
        if claim.unit == "helft" or source.unit == "helft" or (claim.approx == "nr") != (source.approx == "nr"):
            same = claim.unit == source.unit and claim.lo == source.lo and claim.approx == source.approx
            return "match" if same else "mismatch" if claim.unit == source.unit else "incomparable"
        months = {u: m for u, m in _PERIOD_UNITS.values()}
        cm, sm = months.get(claim.unit, 1), months.get(source.unit, 1)
        scaled = Value("number", claim.lo * cm, claim.hi * cm, approx=claim.approx, step=cm)
        lo, hi = _accepted(scaled, settings)
        return "match" if lo <= source.lo * sm and source.hi * sm <= hi else "mismatch"
    if claim.kind == "amount" and claim.unit and source.unit and claim.unit != source.unit:
        return "incomparable"
    if claim.kind == "percentage" and {claim.unit, source.unit} == {"%", "pp"}:
        return "incomparable"
    if (claim.unit == "x") != (source.unit == "x"):
        return "incomparable"
    # a norm against a norm ("minimaal 90%" vs "≥ 97%"): the bounds themselves must agree
    cls_c, cls_s = approx_class(claim.approx), approx_class(source.approx)
    if cls_c in ("at_least", "at_most") and cls_c == cls_s:
        r = claim.step / 2 + 1e-9 * max(1.0, abs(claim.lo))
        return "match" if abs(source.lo - claim.lo) <= r and abs(source.hi - claim.hi) <= r else "mismatch"
    lo, hi = _accepted(claim, settings)
    return "match" if lo <= source.lo and source.hi <= hi else "mismatch"


def same_value(claim_value: Value, source_value: Value, settings: ValueSettings = ValueSettings()) -> bool:
    """True when the source states the claim's value: equal after rounding to the claim's precision,
    within the tolerance of the claim's approximation word (see `ValueSettings`), a year or date
    that lies within the claim's."""
    return compare_values(claim_value, source_value, settings) == "match"


def describe(v: Value) -> str:
    """A short reading of a value for the terminal: "ca. 6.000.000 EUR", "2024-10-01..2024-12-31"."""
    if v.kind in ("year", "date") and v.unit != "md":
        a, b = date.fromordinal(int(v.lo)), date.fromordinal(int(v.hi))
        return a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}"

    def fmt(x: float) -> str:
        return f"{x:,.0f}".replace(",", ".") if float(x).is_integer() else f"{x:,.2f}".rstrip("0")

    body = fmt(v.lo) if v.lo == v.hi else f"{fmt(v.lo)}-{fmt(v.hi)}"
    return " ".join(x for x in (v.approx, body, v.unit) if x)


__all__ = ["KINDS", "Value", "ValueSettings", "extract_values", "same_value", "compare_values", "compatible", "comparable",
           "approx_class", "parse_figure", "parse_number_word", "table_scale", "detect_language", "describe"]
