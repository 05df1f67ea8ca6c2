"""Is an extracted page text at all? A PDF whose font lacks a ToUnicode map (or a Type3 font)
extracts as "/g1/g2/g3" or random letters; indexed silently, it would be found by nothing and
quoted as nonsense. The test: the share of a page's words that Dutch or English knows (wordfreq).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN_RE = re.compile(r"\S+")
_PLAIN_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_EDGE_PUNCT = "()[]{}.,;:!?\"'«»“”‘’-–—•*/"


@dataclass(frozen=True)
class TextQualitySettings:
    # below this share of known words a page is garbage: real Dutch pages score 0.8-0.95 (names,
    # abbreviations and split words are the unknown rest), glyph-name garbage under 0.1
    min_known_share: float = 0.4
    min_words: int = 20  # a page with fewer words (a title page, a table of figures) is not judged
    skip_garbage: bool = False  # False: index the page and warn; True: leave the page out, and warn

    def __post_init__(self):
        if not 0.0 <= self.min_known_share <= 1.0:
            raise ValueError(f"min_known_share={self.min_known_share!r}: must be between 0 and 1")
        if not isinstance(self.min_words, int) or self.min_words < 1:
            raise ValueError(f"min_words={self.min_words!r}: must be a whole number >= 1")


@lru_cache(maxsize=200_000)
def _known(word: str) -> bool:
    import wordfreq  # 0.2 s and some MB, paid once per ingest

    if not _PLAIN_WORD_RE.fullmatch(word):  # "g12/g13", "x7q": letters mixed with other signs
        return False
    return wordfreq.zipf_frequency(word, "nl") > 0 or wordfreq.zipf_frequency(word, "en") > 0


def known_share(text: str) -> tuple[float, int]:
    """(share of the text's tokens with letters that are known Dutch or English words, their number).
    Figures and punctuation are not judged (a table is no garbage); "/g12/g13" is one unknown token."""
    tokens = [t.strip(_EDGE_PUNCT).lower() for t in _TOKEN_RE.findall(text)]
    tokens = [t for t in tokens if any(ch.isalpha() for ch in t)]
    if not tokens:
        return 0.0, 0
    return sum(1 for t in tokens if _known(t)) / len(tokens), len(tokens)


def garbage_pages(pages, settings: TextQualitySettings = TextQualitySettings()) -> list[tuple[int, float]]:
    """(1-based page number, known share) of the pages whose text is mostly not words."""
    out = []
    for n, page in enumerate(pages, start=1):
        share, words = known_share(page)
        if words >= settings.min_words and share < settings.min_known_share:
            out.append((n, share))
    return out
