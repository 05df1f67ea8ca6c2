"""Where the query's terms occur in a text, matched through the BM25 analyser's stems."""
from __future__ import annotations

import re

_WORD_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def term_spans(text: str, query: str, analyzer, known=frozenset()) -> list[tuple[int, int]]:
    """Spans of the words of `text` that the query matched. With `known`, the index's vocabulary,
    a word also counts when it shares a part with a compound of the query that the index does not
    know, as search matched it ("ziekteverzuim" for "verzuimcijfer")."""
    wanted = set(analyzer(query))
    wanted_parts = set(analyzer.unknown_compound_parts(query, known)) if known else set()
    if not wanted and not wanted_parts:
        return []
    spans = []
    for m in _WORD_RE.finditer(text):
        # the word's term first, then (only when the query has unknown compounds) its parts' terms
        terms = analyzer.with_parts(m.group(0)) if wanted_parts else analyzer(m.group(0))
        if terms and (terms[0] in wanted or not wanted_parts.isdisjoint(terms)):
            spans.append((m.start(), m.end()))
    return spans


def mark(text: str, spans: list[tuple[int, int]], before: str, after: str, escape=lambda s: s) -> str:
    """Wrap each span in before/after; every piece of text goes through `escape` first."""
    out, pos = [], 0
    for a, b in sorted(spans):
        if a < pos:
            continue
        out.append(escape(text[pos:a]))
        out.append(before + escape(text[a:b]) + after)
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)
