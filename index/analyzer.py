"""The one analyser used for BM25, identically for passages and queries.

Its settings and version are written into the index manifest; an index built with another
analyser is refused on load, because query and passage tokens would no longer meet.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

import snowballstemmer

ANALYZER_VERSION = 1

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


@dataclass(frozen=True)
class AnalyzerSettings:
    language: str = "dutch"
    stem: bool = True
    stopwords: bool = True
    fold_accents: bool = True
    version: int = ANALYZER_VERSION

    def __post_init__(self):
        if self.language != "dutch":
            raise ValueError(f"language={self.language!r}: only 'dutch' is supported")

    @classmethod
    def from_json(cls, data: dict) -> "AnalyzerSettings":
        """The settings `to_json` wrote (into an index manifest); derived entries are left out."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        data = asdict(self)
        data["stopword_list_sha1"] = hashlib.sha1(
            " ".join(sorted(self.stopword_set())).encode()).hexdigest()[:12]
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


class Analyzer:
    """lower case -> tokens (words, and numbers with their separators) -> stop words -> stems."""

    def __init__(self, settings: AnalyzerSettings = AnalyzerSettings()):
        self.settings = settings
        self._stop = settings.stopword_set()

    def tokens(self, text: str) -> list[str]:
        """Surface tokens before stemming (lower-cased, accents folded): used for highlighting."""
        text = text.lower()
        if self.settings.fold_accents:
            text = _fold(text)
        return [t for t in _TOKEN_RE.findall(text) if t not in self._stop]

    def __call__(self, text: str) -> list[str]:
        tokens = self.tokens(text)
        if self.settings.stem:
            return [t if t[0].isdigit() else _stem(t) for t in tokens]
        return tokens
