"""Find section headings in cleaned lines, so that every passage knows its section."""
from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.ingest.clean import Line

# "1.2 Missie", "1.2. Werk en Inkomen", "2.3.1  Afhandeling van meldingen", "10.  Organisatie"
_NUMBERED_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-ZÀ-Ý][^\n]{1,90})$")
_SENTENCE_END_RE = re.compile(r"[.;,:!?]$")
_MAX_HEADING_WORDS = 12
_MAX_TITLE_WORDS = 8


@dataclass(frozen=True)
class Heading:
    line_index: int
    number: str  # "" for an unnumbered title line
    title: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()


def _starts_upper(text: str) -> bool:
    return bool(text) and text[0].isupper()


def _numbered_heading(line: str, next_line: str) -> tuple[str, str] | None:
    m = _NUMBERED_RE.match(line)
    if not m:
        return None
    number, title = m.group(1), m.group(2).strip()
    if any(int(part) > 20 for part in number.split(".")):
        return None  # a year or an amount, not a chapter number
    if len(title.split()) > _MAX_HEADING_WORDS or _SENTENCE_END_RE.search(title):
        return None
    if next_line and next_line[0].islower():
        return None  # a numbered list item that runs on into the next line
    if sum(ch.isdigit() for ch in title) > 4 or re.search(r"\d+\.\s", title):
        return None  # a footnote reference or a table row
    return number, title


def _title_line(prev: str, line: str, next_line: str) -> bool:
    """An unnumbered heading: a short capitalised line standing between complete sentences."""
    words = line.split()
    if not (1 <= len(words) <= _MAX_TITLE_WORDS) or len(line) > 70:
        return False
    if not _starts_upper(line) or _SENTENCE_END_RE.search(line) or line.startswith(("•", "-", "(")):
        return False
    letters = sum(ch.isalpha() for ch in line)
    if letters < 0.8 * len(line.replace(" ", "")):
        return False  # table rows and figures
    if prev and not re.search(r"[.!?:]$", prev) and not prev.strip().isdigit():
        return False  # (a lone number before it is a page number the cleaner could not prove)
    return bool(next_line) and (_starts_upper(next_line) or next_line[0].isdigit())


def find_headings(lines: list[Line]) -> list[Heading]:
    texts = [line.text for line in lines]
    headings = []
    for i, text in enumerate(texts):
        prev = texts[i - 1] if i > 0 else ""
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        numbered = _numbered_heading(text, nxt)
        if numbered:
            headings.append(Heading(i, *numbered))
        elif _title_line(prev, text, nxt):
            headings.append(Heading(i, "", text))
    return headings


def section_paths(headings: list[Heading], n_lines: int) -> list[str]:
    """The section path in force at each line: numbered levels, then the latest title line."""
    paths = [""] * n_lines
    numbered: list[Heading] = []
    title: Heading | None = None
    by_line = {h.line_index: h for h in headings}
    for i in range(n_lines):
        h = by_line.get(i)
        if h is not None:
            if h.number:
                depth = h.number.count(".") + 1
                numbered = [n for n in numbered if n.number.count(".") + 1 < depth] + [h]
                title = None
            else:
                title = h
        parts = [n.label for n in numbered] + ([title.label] if title else [])
        paths[i] = " > ".join(parts)
    return paths
