"""The one analyser used for BM25, identically for passages and queries.

Its settings and version are written into the index manifest; an index built with another
analyser is refused on load, because query and passage tokens would no longer meet.

Compounds: Dutch glues nouns together ("ziekteverzuim", "beschikbaarheidsnorm"), so a question can
use a compound the documents never write while they do use its parts. `compound_parts` splits a
word into parts that are common Dutch words (wordfreq's Dutch list), after Koehn & Knight (2003):
the split whose parts are on average more frequent than the whole word. The index keeps a second
BM25 over the text with compounds split (`with_parts`); a query word the corpus does not know is
looked up there by its parts (`unknown_compound_parts`). Known words never are: splitting every
compound on both sides cost BM25 MRR 0.71 -> 0.66-0.69 on dev (eval/RESULTS.md).
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

import snowballstemmer

ANALYZER_VERSION = 2  # 2: compound parts (a second BM25 over split compounds)

# Snowball's Dutch stop list, plus question words that carry no topic ("welke", "hoeveel")
# and a short English list for the English questions users type.
DUTCH_STOPWORDS = frozenset("""
de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem
dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb
hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer
doen toen moet ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen
kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest andere
""".split())
QUESTION_WORDS = frozenset("""
welke welk hoeveel wanneer waarom waar waarin waarvoor waarmee waardoor waarop wat wie hoe
""".split())
ENGLISH_STOPWORDS = frozenset("""
the a an of to in for is are was were what which who whom when where why how many much does do
did on at by with from and or that this these those as be been it its their there has have had
per into about than
""".split())

_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")

# Never a part of a compound, besides the stop words: short function words and derivational
# endings that the word list also holds as words and that end many words by accident
# ("gemeen|ten", "bedrijfsvoer|ing", "rapport|age", "verantwoordelijk|heden").
NOT_A_PART = frozenset("""
ten ter des den per ing ingen age heden heid lijk lijke ling lingen isch ische tie ties ers aar
aars ster iek ist ief eur ent ant aal baar
""".split())
MAX_COMPOUND_CHARS = 60  # longer "words" are pasted text or noise, not compounds
SHORT_PART_EXTRA_ZIPF = 1.5  # "dag" 6.0, "wet" 5.2, "lid" 5.2 stay parts; "sen" 3.6 does not
# Dutch linking elements between the parts of a compound: "personeel-s-verzuim", "pann-en-koek"
LINKERS = ("s", "en", "e", "")


@dataclass(frozen=True)
class AnalyzerSettings:
    language: str = "dutch"
    stem: bool = True
    stopwords: bool = True
    fold_accents: bool = True
    # compound splitting: words of at least compound_min_chars letters, parts of at least
    # compound_min_part letters whose Zipf frequency (log10 per billion words) is at least
    # compound_min_zipf; 3.0 is a word seen once per million words
    compounds: bool = True
    compound_min_chars: int = 7
    compound_min_part: int = 3
    compound_min_zipf: float = 3.0
    version: int = ANALYZER_VERSION

    def __post_init__(self):
        if self.language != "dutch":
            raise ValueError(f"language={self.language!r}: only 'dutch' is supported")
        if self.compound_min_part < 2 or self.compound_min_chars < 2 * self.compound_min_part:
            raise ValueError(f"compound_min_part={self.compound_min_part}, compound_min_chars="
                             f"{self.compound_min_chars}: parts need >= 2 letters, words room for two parts")
        if not 0.0 <= self.compound_min_zipf <= 8.0:
            raise ValueError(f"compound_min_zipf={self.compound_min_zipf}: a Zipf frequency lies between 0 and 8")

    @classmethod
    def from_json(cls, data: dict) -> "AnalyzerSettings":
        """The settings `to_json` wrote (into an index manifest); derived entries are left out."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        data = asdict(self)
        data["stopword_list_sha1"] = hashlib.sha1(
            " ".join(sorted(self.stopword_set())).encode()).hexdigest()[:12]
        if self.compounds:
            # another word list splits other compounds: a new version makes the index stale
            data["compound_lexicon"] = f"wordfreq {_package_version('wordfreq')} nl"
        return data

    def stopword_set(self) -> frozenset[str]:
        if not self.stopwords:
            return frozenset()
        return DUTCH_STOPWORDS | QUESTION_WORDS | ENGLISH_STOPWORDS


class _FoldTable(dict):
    """str.translate table that strips accents, filled per character on first sight: folding
    character by character in Python cost more than the rest of a query."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        self[code] = folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    return text if text.isascii() else text.translate(_FOLD_TABLE)


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("dutch")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def _package_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def _dutch_frequencies() -> dict[str, float]:
    # imported here: 0.2 s and 30 MB, paid only by a build or by a query with an unknown word
    import wordfreq

    folded: dict[str, float] = {}
    for word, frequency in wordfreq.get_frequency_dict("nl", wordlist="best").items():
        key = _fold(word)  # tokens reach the splitter with accents folded: "cliënt" -> "client"
        folded[key] = folded.get(key, 0.0) + frequency
    return folded


def zipf_frequency(word: str) -> float:
    """log10 of the word's frequency per billion words in Dutch; 0.0 for a word not listed."""
    frequency = _dutch_frequencies().get(word)
    return math.log10(frequency) + 9.0 if frequency else 0.0


class Analyzer:
    """lower case -> tokens (words, and numbers with their separators) -> stop words -> stems."""

    def __init__(self, settings: AnalyzerSettings = AnalyzerSettings()):
        self.settings = settings
        self._stop = settings.stopword_set()
        self._not_a_part = self._stop | NOT_A_PART
        self._split = lru_cache(maxsize=200_000)(self._split_word)

    def tokens(self, text: str) -> list[str]:
        """Surface tokens before stemming (lower-cased, accents folded): used for highlighting."""
        text = text.lower()
        if self.settings.fold_accents:
            text = _fold(text)
        return [t for t in _TOKEN_RE.findall(text) if t not in self._stop]

    def __call__(self, text: str) -> list[str]:
        return [self._term(t) for t in self.tokens(text)]

    def _term(self, token: str) -> str:
        return _stem(token) if self.settings.stem and not token[0].isdigit() else token

    # -- compounds -------------------------------------------------------------------------
    def compound_parts(self, word: str) -> tuple[str, ...]:
        """The parts of a compound ("verzuimcijfer" -> ("verzuim", "cijfer")), () for any other word.
        `word` is a token as `tokens` gives it: lower case, accents folded."""
        s = self.settings
        if not s.compounds or not s.compound_min_chars <= len(word) <= MAX_COMPOUND_CHARS or not word.isalpha():
            return ()
        return self._split(word)

    def _split_word(self, word: str) -> tuple[str, ...]:
        """The segmentation into lexicon words whose parts have the highest mean Zipf frequency
        (the geometric mean of their frequencies), if that beats the whole word's own. Each part
        but the last may be followed by a linker and needs one letter more than the minimum:
        "ver|slag" and "ont|slag" are prefixes, not compounds.

        By dynamic programming over (position, number of parts), keeping the highest Zipf sum:
        listing every segmentation grows exponentially with the length ("jaarjaarjaar...")."""
        s = self.settings
        n = len(word)
        # best[i][k]: (Zipf sum, parts) of the best cut of word[i:] into k parts, for i > 0
        best: list[dict[int, tuple[float, tuple[str, ...]]]] = [{} for _ in range(n + 1)]
        for i in range(n - s.compound_min_part, -1, -1):
            cuts = best[i]
            if i > 0 and self._is_part(word[i:], s.compound_min_part):
                cuts[1] = (zipf_frequency(word[i:]), (word[i:],))
            for j in range(i + s.compound_min_part + 1, n - s.compound_min_part + 1):
                for linker in LINKERS:
                    head = word[i:j - len(linker)]
                    if not word.startswith(linker, j - len(linker)) or not self._is_part(head, s.compound_min_part + 1):
                        continue
                    for k, (total, parts) in best[j].items():
                        candidate = (total + zipf_frequency(head), (head,) + parts)
                        if k + 1 not in cuts or candidate[0] > cuts[k + 1][0]:
                            cuts[k + 1] = candidate
        chosen, chosen_zipf = (), zipf_frequency(word)
        for k, (total, parts) in sorted(best[0].items()):
            if total / k > chosen_zipf:
                chosen, chosen_zipf = parts, total / k
        return chosen

    def _is_part(self, word: str, min_len: int) -> bool:
        if len(word) < min_len or word in self._not_a_part:
            return False
        # a part of the minimum length must be a very common word ("dag", "wet"): short strings
        # that the list also holds, as names or abbreviations, end many words ("klus|sen")
        short = len(word) == self.settings.compound_min_part
        return zipf_frequency(word) >= self.settings.compound_min_zipf + (SHORT_PART_EXTRA_ZIPF if short else 0.0)

    def with_parts(self, text: str) -> list[str]:
        """The terms of `text` plus the terms of its compounds' parts: the text of the compound index."""
        terms = []
        for token in self.tokens(text):
            terms.append(self._term(token))
            terms.extend(self._term(part) for part in self.compound_parts(token))
        return terms

    def unknown_compound_parts(self, text: str, known) -> list[str]:
        """The part terms of the compounds in `text` whose own term is not in `known` (a
        vocabulary): the question words the documents never write, looked up by their parts."""
        terms = []
        for token in self.tokens(text):
            if self._term(token) not in known:
                terms.extend(self._term(part) for part in self.compound_parts(token))
        return terms
