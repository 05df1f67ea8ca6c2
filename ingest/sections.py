"""Find section headings in cleaned lines, so that every passage knows its section."""
from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.ingest.clean import Line

# "1.2 Missie", "1.2. Werk en Inkomen", "2.3.1  Afhandeling van meldingen", "10.  Organisatie"
_NUMBERED_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+((?:[A-ZÀ-Ý]|[a-z][A-Z])[^\n]{1,170})$")
_SENTENCE_END_RE = re.compile(r"[.;,:!?]$")
_MAX_HEADING_WORDS = 12
_MAX_TITLE_WORDS = 8
_MAX_CONTINUATION_WORDS = 8  # the second line of a numbered title that runs over two
# a heading does not end in one of these: "4 Beheer van de archieven, o.a. via" is cut, or a sentence
_FUNCTION_WORDS = frozenset("""de het een en of van in op te voor met aan bij door naar om uit over tot als dan dat
die dit deze is zijn was wordt worden via o.a onder tussen tegen zonder binnen zoals waarbij waarin""".split())


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


def _numbered_heading(line: str, next_line: str, max_words: int = _MAX_HEADING_WORDS) -> tuple[str, str] | None:
    m = _NUMBERED_RE.match(line)
    if not m:
        return None
    number, title = m.group(1), m.group(2).strip()
    if any(int(part) > 20 for part in number.split(".")):
        return None  # a year or an amount, not a chapter number
    if len(title.split()) > max_words or _SENTENCE_END_RE.search(title):
        return None
    if next_line and next_line[0].islower():
        return None  # a numbered list item that runs on into the next line
    if sum(ch.isdigit() for ch in title) > 4 or re.search(r"\d+\.\s", title):
        return None  # a footnote reference or a table row
    if re.search(r"(?:\.{2,}|…)\s*\d{1,3}$|\s\d+,\d+$", title):
        return None  # "Inleiding ..... 3" (a table of contents) or "... 77,4" (a table row)
    if re.search(r"[a-z]\.\s+[A-Z]", title) or title.split()[-1].lower().rstrip(".") in _FUNCTION_WORDS:
        return None  # a numbered sentence ("1 Allereerst omdat ... Van de"), or a title cut mid-way
    return number, title


def _follows(previous: str | None, number: str) -> bool:
    """Does a heading numbered `number` come next after `previous` in a document's own order? The
    first subsection (1.2 -> 1.2.1), the next at any level (1.2 -> 1.3, 2), or the first subsection
    of the next (1.3 -> 2.1, when the chapter line itself was not recognised); one unrecognised
    heading may lie between."""
    c = [int(x) for x in number.split(".")]
    if previous is None:
        return all(x <= 1 for x in c)  # a document opens with 1 (or 1.1)
    p = [int(x) for x in previous.split(".")]
    # one step may be a heading the reader did not recognise: 1 -> 1.2, 1.3 -> 1.5 are still in order
    if c[:len(p)] == p and len(c) > len(p) and c[len(p)] <= 2 and all(x == 1 for x in c[len(p) + 1:]):
        return True
    for k in range(len(p)):
        for step in (1, 2):
            head = p[:k] + [p[k] + step]
            if c[:len(head)] == head and all(x == 1 for x in c[len(head):]):
                return True
    return False


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
    headings, candidates = [], []
    for i, text in enumerate(texts):
        prev = texts[i - 1] if i > 0 else ""
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        numbered = _numbered_heading(text, nxt)
        if numbered is None and nxt and nxt[0].islower() and len(nxt.split()) <= _MAX_CONTINUATION_WORDS:
            # a title over two lines ("2.4 Doel 4: een loket dat open is voor" /
            # "iedere inwoner van de gemeente"): the heading with its second line
            after = texts[i + 2] if i + 2 < len(texts) else ""
            numbered = _numbered_heading(f"{text} {nxt}", after, _MAX_HEADING_WORDS + _MAX_CONTINUATION_WORDS)
        if numbered:
            # "3. Iedere inwoner ..." (one number and a full stop) is more often a list item than a chapter
            candidates.append((Heading(i, *numbered), _LIST_LIKE_WEIGHT if re.match(r"\d{1,2}\.\s", text) else 1.0))
        elif _title_line(prev, text, nxt):
            headings.append(Heading(i, "", text))
    return sorted(headings + _in_order(candidates), key=lambda h: h.line_index)


_LIST_LIKE_WEIGHT = 0.6
_MAX_ORDERED = 1500  # numbered candidates ordered exactly; beyond, greedily (a pathological file)


def _in_order(weighted: list[tuple[Heading, float]]) -> list[Heading]:
    """The heaviest run of numbered headings in the document's own order (list-like ones weigh
    less). A running header that repeats its chapter ("2.3", then "2 Organisatie"), a numbered
    list ("7 Nieuwe loketten") or notes to the accounts in another order would label what
    follows wrongly: better no label than a wrong one. The best run, not the greedy one: one stray
    "4 ..." must not shut out the real 3.2, 3.3 and 4."""
    candidates = [h for h, _ in weighted]
    if len(candidates) > _MAX_ORDERED:
        out, last = [], None
        for h in candidates:
            if _follows(last, h.number):
                out.append(h)
                last = h.number
        return out
    score, parent = [0.0] * len(candidates), [-1] * len(candidates)
    for j, (h, weight) in enumerate(weighted):
        if _follows(None, h.number):
            score[j] = weight
        for i in range(j):
            # >=: of equal runs the nearest predecessor ("3 Resultaten ..." over an earlier "3. Iedere inwoner ...")
            if score[i] and score[i] + weight >= score[j] and _follows(candidates[i].number, h.number):
                score[j], parent[j] = score[i] + weight, i
    if not any(score):
        return []
    j = max(range(len(candidates)), key=lambda x: (score[x], -x))
    chain = []
    while j >= 0:
        chain.append(candidates[j])
        j = parent[j]
    return chain[::-1]


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
                # ancestors are the headings whose number prefixes this one ("3" for "3.5"): a "1 ..."
                # whose "3" was not recognised is no parent of "3.5"
                numbered = [n for n in numbered if n.number.count(".") + 1 < depth
                            and h.number.startswith(n.number + ".")] + [h]
                title = None
            else:
                title = h
        parts = [n.label for n in numbered] + ([title.label] if title else [])
        paths[i] = " > ".join(parts)
    return paths
