"""Cut a cleaned document into sentence-aware, overlapping passages within sections."""
from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.ingest.clean import Line
from docqa.ingest.records import DocumentMeta, Passage, make_chunk_id
from docqa.ingest.sections import find_headings, section_paths

MAX_PASSAGE_CHARS = 1000  # the text a user reads and a citation points to; the eval judges this much

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(•\-–A-ZÀ-Ý0-9])")
_LINE_END_PUNCT_RE = re.compile(r"[.!?:;]\s*$")
_BULLET_RE = re.compile(r"^\s*(?:[•▪●◦\-–*]|\d{1,2}[.)]\s)")
_SHORT_LINE = 60  # a shorter line that does not run on is a table row, list item or label
# A line ending in a lower-case word, a comma or an opening bracket runs on into the next line
# (narrow columns wrap mid-sentence): no unit boundary there.
_RUNS_ON_RE = re.compile(r"[a-zà-ÿ,(\-–]\s*$")


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = 700
    overlap_chars: int = 200
    min_section_chars: int = 200  # a section shorter than this joins the next one

    def __post_init__(self):
        if not 100 <= self.max_chars <= MAX_PASSAGE_CHARS:
            raise ValueError(f"max_chars={self.max_chars}: must be between 100 and {MAX_PASSAGE_CHARS}")
        if not 0 <= self.overlap_chars < self.max_chars // 2:
            raise ValueError(f"overlap_chars={self.overlap_chars}: must be >= 0 and below max_chars / 2")
        if self.min_section_chars < 0:
            raise ValueError(f"min_section_chars={self.min_section_chars}: must be >= 0")


@dataclass(frozen=True)
class CleanDocument:
    """A document after cleaning: its text and, per line, where that line came from."""

    meta: DocumentMeta
    text: str
    lines: tuple[Line, ...]
    line_offsets: tuple[int, ...]  # start of each line in `text`
    sections: tuple[str, ...]  # section path in force at each line

    @classmethod
    def from_lines(cls, meta: DocumentMeta, lines: list[Line]) -> "CleanDocument":
        offsets, pos = [], 0
        for line in lines:
            offsets.append(pos)
            pos += len(line.text) + 1
        headings = find_headings(lines)
        return cls(meta, "\n".join(line.text for line in lines), tuple(lines), tuple(offsets),
                   tuple(section_paths(headings, len(lines))))

    def line_at(self, offset: int) -> int:
        """Index of the line that holds character `offset`."""
        lo, hi = 0, len(self.line_offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_offsets[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo


def split_units(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence-like spans of text[start:end]: sentences, and table rows or list items as lines.

    Spans cover the text without gaps except white space, so a passage built from consecutive
    units is a verbatim slice of the document.
    """
    end = len(text) if end is None else end
    cuts = {start, end}
    pos = start
    lines = text[start:end].split("\n")
    for i, line in enumerate(lines):
        line_end = pos + len(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt and not nxt[:1].islower() and (
                _LINE_END_PUNCT_RE.search(line) or _BULLET_RE.match(nxt)
                or (len(line) < _SHORT_LINE and not _RUNS_ON_RE.search(line))):
            cuts.add(line_end + 1)
        for m in _SENTENCE_END_RE.finditer(line):
            cuts.add(pos + m.end())
        pos = line_end + 1
    bounds = sorted(c for c in cuts if start <= c <= end)
    spans = []
    for a, b in zip(bounds, bounds[1:]):
        a2, b2 = a, b
        while a2 < b2 and text[a2].isspace():
            a2 += 1
        while b2 > a2 and text[b2 - 1].isspace():
            b2 -= 1
        if b2 > a2:
            spans.append((a2, b2))
    return spans


def split_long_unit(text: str, span: tuple[int, int], max_chars: int) -> list[tuple[int, int]]:
    """A unit longer than a passage: cut at the last space before the limit."""
    a, b = span
    out = []
    while b - a > max_chars:
        cut = text.rfind(" ", a + max_chars // 2, a + max_chars)
        cut = cut if cut > a else a + max_chars
        out.append((a, cut))
        a = cut
        while a < b and text[a].isspace():
            a += 1
    if b > a:
        out.append((a, b))
    return out


def _section_blocks(doc: CleanDocument, min_chars: int) -> list[tuple[int, int]]:
    """Character ranges of the sections; very short ones (a heading alone) join the next."""
    starts = [0] + [i for i in range(1, len(doc.lines)) if doc.sections[i] != doc.sections[i - 1]]
    blocks = []
    for n, first in enumerate(starts):
        a = doc.line_offsets[first]
        b = doc.line_offsets[starts[n + 1]] - 1 if n + 1 < len(starts) else len(doc.text)
        if blocks and blocks[-1][1] - blocks[-1][0] < min_chars:
            a = blocks.pop()[0]
        blocks.append((a, b))
    return blocks


def _pack(units: list[tuple[int, int]], max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of consecutive units into windows of at most max_chars, with overlap."""
    windows = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= max_chars:
            j += 1
        windows.append((units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        # the next window starts with the trailing units that fit in the overlap
        nxt = j + 1
        while nxt - 1 > i and units[j][1] - units[nxt - 1][0] <= overlap:
            nxt -= 1
        i = nxt
    return windows


def chunk_document(doc: CleanDocument, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    passages = []
    for block in _section_blocks(doc, settings.min_section_chars):
        units = []
        for span in split_units(doc.text, *block):
            units.extend(split_long_unit(doc.text, span, settings.max_chars))
        for a, b in _pack(units, settings.max_chars, settings.overlap_chars):
            passages.append(_make_passage(doc, a, b))
    return passages


def _make_passage(doc: CleanDocument, a: int, b: int) -> Passage:
    first, last = doc.line_at(a), doc.line_at(max(a, b - 1))
    meta = doc.meta
    text = doc.text[a:b]
    return Passage(
        chunk_id=make_chunk_id(meta.doc_id, text, a),
        doc_id=meta.doc_id, title=meta.title, organisation=meta.organisation, year=meta.year,
        kind=meta.kind, section=doc.sections[first],
        page=doc.lines[first].page, page_end=doc.lines[last].page,
        line_start=doc.lines[first].src_first, line_end=doc.lines[last].src_last,
        char_start=a, char_end=b, text=text, source_path=meta.path,
    )
