"""Repair PDF-extracted text: split words, page numbers, running headers and footers.

The result is a list of `Line`s: each cleaned line remembers which source lines (and page) it
came from, so a passage cut from the cleaned text can still cite exact lines and pages.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

# Characters the PDF extraction leaves that mean nothing to a reader or a tokenizer.
_CHAR_FIXES = {
    "\u00a0": " ",  # no-break space
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",  # zero-width space
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\t": " ",
}
_CHAR_FIX_RE = re.compile("|".join(map(re.escape, _CHAR_FIXES)))
# Invisible format characters (Unicode category Cf: word joiner, zero-width (non-)joiner, bidi
# marks, embeddings, overrides and isolates): inside a word they split it for BM25, and a
# right-to-left override around "0021" would show a quoted figure as "1200".
_FORMAT_RE = re.compile("[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
# Private-use characters: what a Symbol or Wingdings font's bullets and ticks extract as. The
# common bullets become "•"; any other private-use character means nothing to a reader.
_PUA_BULLETS = {"\uf0b7": "•", "\uf0a7": "•", "\uf0d8": "•", "\uf076": "•", "\uf0fc": "✓", "\uf0a8": "•",
                "\uf02d": "-", "\uf0e0": "→"}
_PUA_RE = re.compile("[\ue000-\uf8ff]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES_RE = re.compile(r" {2,}")
_LONE_NUMBER_RE = re.compile(r"^(?:pagina\s+)?(\d{1,4})(?:\s*(?:/|van)\s*\d{1,4})?$", re.IGNORECASE)
_LOWER_START_RE = re.compile(r"^[a-zà-ÿ]")
_WORD_END_RE = re.compile(r"[A-Za-zÀ-ÿ]$")
_HYPHEN_END_RE = re.compile(r"[a-zà-ÿ]-$")

# A page-number line is at least this many source lines after the previous one: numbers in
# tables sit much closer together than page breaks.
_MIN_LINES_PER_PAGE = 12


@dataclass(frozen=True)
class Line:
    text: str
    src_first: int  # 1-based source line (within the page for PDFs)
    src_last: int
    page: int | None


def normalise_chars(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _CHAR_FIX_RE.sub(lambda m: _CHAR_FIXES[m.group(0)], text)
    text = _FORMAT_RE.sub("", text)
    text = _PUA_RE.sub(lambda m: _PUA_BULLETS.get(m.group(0), ""), text)
    return _CONTROL_RE.sub(" ", text)


def _squeeze(line: str) -> str:
    return _SPACES_RE.sub(" ", line.strip())


def find_page_number_lines(lines: list[str]) -> set[int]:
    """Indexes of lines that are page numbers: a lone number, counting up page after page.

    A lone number alone is not enough (tables are full of them), so the longest chain of lone
    numbers that increase by one or two, far enough apart, is taken as the page numbering.
    """
    candidates = []
    for i, raw in enumerate(lines):
        m = _LONE_NUMBER_RE.match(raw.strip())
        if m and int(m.group(1)) < 1000:
            candidates.append((i, int(m.group(1))))
    # Longest chain, in linear time: a candidate extends the longest chain ending in the value one or
    # two below it at a candidate at least _MIN_LINES_PER_PAGE lines back (those are "released" into
    # `by_value` as the scan passes them). Chains are kept as parent pointers, not copied lists.
    length, parent = [0] * len(candidates), [-1] * len(candidates)
    by_value: dict[int, int] = {}  # value -> index (into candidates) of the longest released chain ending there
    released = 0
    for j, (i, value) in enumerate(candidates):
        while released < j and i - candidates[released][0] >= _MIN_LINES_PER_PAGE:
            r = released
            v = candidates[r][1]
            if v not in by_value or length[r] > length[by_value[v]]:
                by_value[v] = r
            released += 1
        options = [by_value[v] for v in (value - 1, value - 2) if v in by_value]
        prev = max(options, key=lambda r: (length[r], r), default=-1)
        length[j], parent[j] = (length[prev] + 1, prev) if prev >= 0 else (1, -1)
    best: list[int] = []
    if candidates:
        j = max(range(len(candidates)), key=lambda x: (length[x], -x))
        while j >= 0:
            best.append(candidates[j][0])
            j = parent[j]
    return set(best) if len(best) >= 3 else set()


def find_running_lines(lines: list[str], page_number_lines: set[int], window: int = 3) -> set[int]:
    """Lines that repeat next to page numbers (running headers and footers of a text file)."""
    near: dict[str, list[int]] = defaultdict(list)
    for p in page_number_lines:
        for i in range(max(0, p - window), min(len(lines), p + window + 1)):
            key = re.sub(r"\d+", "#", _squeeze(lines[i]).lower())
            if key and i not in page_number_lines:
                near[key].append(i)
    needed = max(3, len(page_number_lines) // 2)
    return {i for key, idx in near.items() if len(idx) >= needed for i in idx}


def _trailing_space_convention(lines: list[str]) -> bool:
    """True when most non-empty lines end in a space: then a line that ends *without* one was cut
    inside a word (`onder` / `steunen`), which is how this extraction marks split words."""
    non_empty = [line for line in lines if line.strip()]
    if len(non_empty) < 20:
        return False
    with_space = sum(1 for line in non_empty if line.endswith(" "))
    return with_space / len(non_empty) >= 0.6


def _next_nonblank(lines: list[str], i: int) -> int | None:
    for j in range(i + 1, min(len(lines), i + 4)):
        if lines[j].strip():
            return j
    return None


def clean_lines(raw_lines: list[str], page: int | None = None, drop: set[int] | None = None,
                vocabulary: Counter | None = None) -> list[Line]:
    """Rejoin split words and hyphenations; drop blank lines and the given line indexes."""
    drop = drop or set()
    split_convention = _trailing_space_convention(raw_lines)
    out: list[Line] = []
    i = 0
    while i < len(raw_lines):
        if i in drop or not raw_lines[i].strip():
            i += 1
            continue
        # the joined line as parts: the checks look at its end only, so a run of 100k rejoined
        # lines costs linear time, not a re-scan of an ever longer string per line
        parts, first, last = [raw_lines[i]], i, i
        while True:
            j = _next_nonblank(raw_lines, last)
            if j is None or j in drop:
                break
            nxt = raw_lines[j]
            stripped = parts[-1].rstrip()
            if _HYPHEN_END_RE.search(stripped) and _LOWER_START_RE.match(nxt.lstrip()):
                # "informatie-" / "beveiliging": a hyphen at a line end before a lower-case word
                # is a line-break hyphen; "informatie- en" keeps it (next word is a conjunction).
                nxt_word = nxt.lstrip().split(" ", 1)[0]
                parts[-1] = stripped + " " if nxt_word in ("en", "of", "tot") else stripped[:-1]
                parts.append(nxt.lstrip())
                last = j
                continue
            if (not parts[-1].endswith(" ") and _WORD_END_RE.search(parts[-1]) and _LOWER_START_RE.match(nxt)
                    and _is_split_word("".join(parts[-3:]), nxt, split_convention, vocabulary)):
                parts.append(nxt)
                last = j
                continue
            break
        text = "".join(parts)
        if vocabulary is not None and _SPLIT_INITIAL_RE.search(text):
            text = _SPLIT_INITIAL_RE.sub(lambda m: _join_initial(m, vocabulary), text)
        out.append(Line(_squeeze(text), first + 1, last + 1, page))
        i = last + 1
    return out


def _is_split_word(left: str, right: str, convention: bool, vocabulary: Counter | None) -> bool:
    if convention:
        return True
    if vocabulary is None:
        return False
    # Without the trailing-space convention, join only when the joined word is a word that the
    # document uses elsewhere and the right-hand fragment is not a common word on its own.
    head = re.findall(r"\w+$", left)
    tail = re.findall(r"^\w+", right)
    if not head or not tail:
        return False
    joined = (head[0] + tail[0]).lower()
    return vocabulary[joined] >= 1 and vocabulary[tail[0].lower()] <= vocabulary[joined]


# "H et Inlichtingenbureau": a drop capital the extractor set apart from the rest of its word
_SPLIT_INITIAL_RE = re.compile(r"(?<![\w.])([A-Z]) ([a-z]{1,15})\b")


def _join_initial(m: re.Match, vocabulary: Counter) -> str:
    """Join the capital to its fragment when the document writes the joined word often and the fragment
    less often on its own ("het" against "et"); "A en B" stays, since "en" outnumbers "aen"."""
    joined = (m.group(1) + m.group(2)).lower()
    if vocabulary[joined] >= 3 and vocabulary[m.group(2)] < vocabulary[joined] and len(m.group(1)) == 1:
        return m.group(1) + m.group(2)
    return m.group(0)


def word_counts(text: str) -> Counter:
    return Counter(w.lower() for w in re.findall(r"\w+", text))


def clean_text_file(text: str) -> list[Line]:
    raw_lines = normalise_chars(text).split("\n")
    page_numbers = find_page_number_lines(raw_lines)
    drop = page_numbers | find_running_lines(raw_lines, page_numbers)
    return clean_lines(raw_lines, None, drop, word_counts(text))


def clean_pdf_pages(pages: list[str]) -> list[Line]:
    """PDF pages: drop page numbers and the first/last lines that repeat across pages."""
    page_lines = [normalise_chars(p).split("\n") for p in pages]
    edge_counts: Counter = Counter()
    for lines in page_lines:
        for key in _edge_keys(lines):
            edge_counts[key] += 1
    needed = max(2, len(pages) // 2)
    vocabulary = word_counts("\n".join(pages))
    out: list[Line] = []
    for page_no, lines in enumerate(page_lines, start=1):
        drop = set()
        for idx in _edge_indexes(lines):
            key = re.sub(r"\d+", "#", _squeeze(lines[idx]).lower())
            if edge_counts[key] >= needed or _LONE_NUMBER_RE.match(lines[idx].strip()):
                drop.add(idx)
        out.extend(clean_lines(lines, page_no, drop, vocabulary))
    return out


_MAX_RUNNING_LINE = 100  # running headers and footers are short


def _edge_indexes(lines: list[str], depth: int = 2) -> list[int]:
    """Candidate header/footer lines: the first and last lines of a page, when the page has more
    than those (a page of one or two lines is all content, however alike the pages are)."""
    non_blank = [i for i, line in enumerate(lines) if line.strip() and len(line.strip()) <= _MAX_RUNNING_LINE]
    total = sum(1 for line in lines if line.strip())
    depth = min(depth, (total - 1) // 2)
    if depth <= 0:
        return []
    return sorted(set(non_blank[:depth] + non_blank[-depth:]))


def _edge_keys(lines: list[str]) -> set[str]:
    return {re.sub(r"\d+", "#", _squeeze(lines[i]).lower()) for i in _edge_indexes(lines)}
