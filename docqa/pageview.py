"""A PDF page as a PNG with a quoted sentence marked: what a reader checks a citation against.

pypdfium2 renders the page and gives the page text with a box per character; the quote (a sentence
of the cleaned text, white space collapsed) is found in that text after both are normalised the
same way (NFKC, case folded, letters and digits only), so line breaks, hyphenation at a line end,
ligatures and typographic quotes do not stop a match. A map from each normalised position back to
the character index it came from turns the match into character boxes, merged per line and drawn
with Pillow as translucent rectangles.

No Streamlit here: `render_page` returns bytes and a record, any face shows them. Only files that
resolve inside the corpus folder are opened (`safe_corpus_file`). PDFium is not thread-safe, and the
app serves sessions from threads, so every call into it holds one lock.
"""
from __future__ import annotations

import functools
import io
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from docqa.config import safe_corpus_file
from docqa.errors import DocqaError

_PDFIUM_LOCK = threading.Lock()
_CACHE_SIZE = 32  # renders kept in memory: the pages of a few answers' cards (about 0.1-0.3 MB each)


class PageViewError(DocqaError):
    """A page that cannot be shown: a file outside the corpus, not a readable PDF, a page out of range."""


@dataclass(frozen=True)
class PageViewSettings:
    """How a page is rendered and marked."""

    scale: float = 1.5  # pixels per PDF point: an A4 page becomes 893 x 1263 px, readable at 100% zoom
    max_pixels: int = 6_000_000  # a larger page is rendered at a smaller scale: memory stays bounded
    highlight_rgba: tuple[int, int, int, int] = (250, 204, 21, 96)  # translucent yellow: text stays legible
    padding: float = 1.5  # points added around each line box, so the mark covers ascenders and descenders

    def __post_init__(self):
        from docqa.errors import SettingsError

        if not isinstance(self.scale, (int, float)) or isinstance(self.scale, bool) or not 0.1 <= self.scale <= 6:
            raise SettingsError(f"pageview scale={self.scale!r}: must be a number from 0.1 to 6")
        if not isinstance(self.max_pixels, int) or isinstance(self.max_pixels, bool) or not 10_000 <= self.max_pixels <= 50_000_000:
            raise SettingsError(f"pageview max_pixels={self.max_pixels!r}: must be a whole number from 10000 to 50000000")
        rgba = self.highlight_rgba
        if (not isinstance(rgba, tuple) or len(rgba) != 4
                or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgba)):
            raise SettingsError(f"pageview highlight_rgba={rgba!r}: must be four whole numbers from 0 to 255")
        if not isinstance(self.padding, (int, float)) or isinstance(self.padding, bool) or not 0 <= self.padding <= 20:
            raise SettingsError(f"pageview padding={self.padding!r}: must be a number from 0 to 20")


@dataclass(frozen=True)
class RenderedPage:
    """A rendered page: PNG bytes, whether the quote was found, and the drawn boxes in pixels."""

    png: bytes
    found: bool
    page: int  # 1-based
    page_count: int
    width: int
    height: int
    boxes: tuple[tuple[int, int, int, int], ...]  # (left, top, right, bottom) per marked line, in pixels


# -- finding the quote ---------------------------------------------------------------------------

def normalise_with_map(chars) -> tuple[str, list[int]]:
    """The letters and digits of `chars` (one string per character index), NFKC-normalised and case
    folded, and for each of them the index it came from. A ligature gives two letters, one index."""
    out, where = [], []
    for i, ch in enumerate(chars):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            if c.isalnum():
                out.append(c)
                where.append(i)
    return "".join(out), where


def find_quote(chars, quote: str, last: bool = False) -> list[int] | None:
    """The character indexes of `quote` in the page whose characters are `chars`, or None; its
    first occurrence, or with `last` its last (the start of a quote that runs on to the next page)."""
    page_norm, where = normalise_with_map(chars)
    quote_norm, _ = normalise_with_map(quote)
    if not quote_norm:
        return None
    at = page_norm.rfind(quote_norm) if last else page_norm.find(quote_norm)
    if at < 0:
        return None
    first, last = where[at], where[at + len(quote_norm) - 1]
    # the sentence's closing punctuation ("stad." or "99,0%)") belongs to the mark too
    while last + 1 < len(chars) and not chars[last + 1].isspace() and not chars[last + 1].isalnum():
        last += 1
    return list(range(first, last + 1))


# The shortest part of a quote that is looked for on one side of a page break (letters and digits):
# shorter parts ("de") stand anywhere on a page and would mark the wrong place.
MIN_SPLIT_CHARS = 3


def split_quote(chars_before, chars_after, quote: str, min_chars: int = MIN_SPLIT_CHARS) -> tuple[str, str] | None:
    """A quote that runs over a page break, cut where it does: (the part on the first page, the part
    on the next), as pieces of `quote`, or None when it cannot be cut so. The first part is the
    longest start of the quote the first page holds (found from its end: a running footer may
    follow it), the rest must stand on the next page (a running header may precede it)."""
    page_norm, _ = normalise_with_map(chars_before)
    next_norm, _ = normalise_with_map(chars_after)
    quote_norm, quote_where = normalise_with_map(quote)
    if len(quote_norm) < 2 * min_chars:
        return None
    low, high = 0, len(quote_norm)  # holding a start of length k is monotone in k: bisect
    while low < high:
        mid = (low + high + 1) // 2
        if quote_norm[:mid] in page_norm:
            low = mid
        else:
            high = mid - 1
    cut = low
    if cut < min_chars or len(quote_norm) - cut < min_chars or quote_norm[cut:] not in next_norm:
        return None
    at = quote_where[cut]  # the quote's own index of the first letter on the next page
    return quote[:at].rstrip(), quote[at:].lstrip()


def line_boxes(char_boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes (left, top, right, bottom; y down) merged into one box per line: a new line
    starts where a box does not overlap the current line vertically or lies to its left."""
    lines: list[list[float]] = []
    for left, top, right, bottom in char_boxes:
        if lines:
            cur = lines[-1]
            overlap = min(cur[3], bottom) - max(cur[1], top)
            if overlap > 0.3 * min(cur[3] - cur[1], bottom - top) and left >= cur[0] - 1:
                cur[0], cur[1], cur[2], cur[3] = min(cur[0], left), min(cur[1], top), max(cur[2], right), max(cur[3], bottom)
                continue
        lines.append([left, top, right, bottom])
    return [tuple(box) for box in lines]


# -- rendering -----------------------------------------------------------------------------------

def render_page(path, page: int, quote: str = "", *, corpus_dir, settings: PageViewSettings = PageViewSettings(),
                last_match: bool = False) -> RenderedPage:
    """Page `page` (1-based) of the PDF at `path` with `quote` marked (its last occurrence with
    `last_match`). `path` must resolve inside `corpus_dir`; PageViewError otherwise, or when the
    file is no PDF or has no such page."""
    real = _checked(path, page, corpus_dir)
    stat = real.stat()
    # the file's size and time are part of the key: a replaced file is rendered anew
    return _render_cached(str(real), stat.st_mtime_ns, stat.st_size, page, " ".join(str(quote).split()), settings,
                          bool(last_match))


def quote_over_break(path, page: int, quote: str, *, corpus_dir) -> tuple[str, str] | None:
    """`split_quote` for pages `page` and `page + 1` of the PDF at `path` (checked as render_page
    checks it): the parts of `quote` to mark on each, or None."""
    real = _checked(path, page, corpus_dir)
    stat = real.stat()
    return _split_cached(str(real), stat.st_mtime_ns, stat.st_size, page, " ".join(str(quote).split()))


def _checked(path, page, corpus_dir) -> Path:
    try:
        real = safe_corpus_file(corpus_dir, path)
    except ValueError as exc:
        raise PageViewError(str(exc)) from None
    if real.suffix.lower() != ".pdf":
        raise PageViewError(f"{path}: not a PDF")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise PageViewError(f"page={page!r}: must be a whole number from 1")
    return real


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _render_cached(path: str, _mtime_ns: int, _size: int, page: int, quote: str,
                   settings: PageViewSettings, last_match: bool = False) -> RenderedPage:
    with _PDFIUM_LOCK:
        return _render(path, page, quote, settings, last_match)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _split_cached(path: str, _mtime_ns: int, _size: int, page: int, quote: str) -> tuple[str, str] | None:
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        doc = _open(pdfium, path)
        try:
            if page + 1 > len(doc):
                return None
            return split_quote(_page_chars(doc, page), _page_chars(doc, page + 1), quote)
        finally:
            doc.close()


def _page_chars(doc, page_no: int) -> list[str]:
    """The characters of a page's text, one per PDFium index (its boxes use the same indexes)."""
    import pypdfium2.raw as pdfium_c

    page = doc[page_no - 1]
    textpage = page.get_textpage()
    try:
        return [chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(textpage.count_chars())]
    finally:
        textpage.close()
        page.close()


def page_count(path) -> int:
    """The number of pages of a PDF (the caller has checked the path)."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        doc = _open(pdfium, path)
        try:
            return len(doc)
        finally:
            doc.close()


def _open(pdfium, path):
    try:
        return pdfium.PdfDocument(os.fspath(path))
    except pdfium.PdfiumError as exc:
        raise PageViewError(f"{Path(path).name}: cannot be opened as a PDF ({exc})") from None


def _render(path: str, page_no: int, quote: str, settings: PageViewSettings, last_match: bool = False) -> RenderedPage:
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    from PIL import Image, ImageDraw

    doc = _open(pdfium, path)
    try:
        count = len(doc)
        if page_no > count:
            raise PageViewError(f"{Path(path).name} has {count} pages; there is no page {page_no}")
        page = doc[page_no - 1]
        width_pt, height_pt = page.get_size()
        scale = settings.scale
        if width_pt * height_pt * scale * scale > settings.max_pixels:
            scale = (settings.max_pixels / (width_pt * height_pt)) ** 0.5
        image = page.render(scale=scale).to_pil().convert("RGBA")
        boxes: list[tuple[int, int, int, int]] = []
        found = False
        if quote:
            textpage = page.get_textpage()
            n = textpage.count_chars()
            # one character per index (FPDFText_GetUnicode): the text and the boxes stay aligned
            chars = [chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(n)]
            indexes = find_quote(chars, quote, last=last_match)
            if indexes is not None:
                found = True
                pad = settings.padding
                char_boxes = []
                for i in indexes:
                    if chars[i].isspace():
                        continue  # spaces and the line breaks PDFium generates: no box of their own
                    left, bottom, right, top = textpage.get_charbox(i)
                    if right <= left or top <= bottom:
                        continue  # a generated or empty character: nothing drawn there
                    # page points to pixels through PDFium itself, so crop boxes and /Rotate are honoured
                    x0, y0 = _to_device(pdfium_c, ctypes, page, image.size, left - pad, top + pad)
                    x1, y1 = _to_device(pdfium_c, ctypes, page, image.size, right + pad, bottom - pad)
                    char_boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
                boxes = [tuple(int(round(v)) for v in box) for box in line_boxes(char_boxes)]
                overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
                draw = ImageDraw.Draw(overlay)
                for box in boxes:
                    draw.rectangle(box, fill=settings.highlight_rgba)
                image = Image.alpha_composite(image, overlay)
            textpage.close()
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", optimize=True)
        page.close()
        return RenderedPage(out.getvalue(), found, page_no, count, image.size[0], image.size[1], tuple(boxes))
    finally:
        doc.close()


def _to_device(pdfium_c, ctypes, page, size, x: float, y: float) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
    return dx.value, dy.value
