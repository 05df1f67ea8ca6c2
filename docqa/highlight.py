"""Where the query's terms occur in a text, matched through the BM25 analyser's stems."""
from __future__ import annotations

import re

_WORD_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def term_spans(text: str, query: str, analyzer) -> list[tuple[int, int]]:
    wanted = set(analyzer(query))
    if not wanted:
        return []
    spans = []
    for m in _WORD_RE.finditer(text):
        stems = analyzer(m.group(0))
        if stems and stems[0] in wanted:
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
