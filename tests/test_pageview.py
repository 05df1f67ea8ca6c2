"""The page view (docqa/pageview.py): a PDF page rendered with the quote's characters marked."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from docqa.errors import SettingsError  # noqa: E402
from docqa.pageview import PageViewError, PageViewSettings, render_page  # noqa: E402
from tests.pdf_factory import text_pdf  # noqa: E402

QUOTE = "De Delta-commissie rapporteert over parkeren in de stad."


@pytest.fixture()
def pdf(tmp_path) -> Path:
    path = tmp_path / "delta.pdf"
    path.write_bytes(text_pdf(["1 Inleiding\nDe Delta-commissie rapporteert over par-\nkeren in de stad.\n"
                               "Een andere zin staat hieronder.", "Tweede pagina over vergunningen."]))
    return path


def pixels(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def test_quote_over_a_hyphenated_line_break_is_marked(pdf):
    view = render_page(pdf, 1, QUOTE, corpus_dir=pdf.parent)
    assert view.found and view.page == 1 and view.page_count == 2
    assert len(view.boxes) == 2  # two lines: "De Delta-commissie ... par-" and "keren in de stad."
    image = pixels(view.png)
    assert image.size == (view.width, view.height)
    (l0, t0, r0, b0), (l1, t1, r1, b1) = view.boxes
    assert t1 >= t0 and r1 < r0  # the second, shorter line below the first
    # inside the box the paper is yellow (a blue channel well below red and green); outside it is white
    inside = image.getpixel((l0 + 2, t0 + 2))
    assert inside[2] < inside[0] - 40 and inside[2] < inside[1] - 40
    below = image.getpixel((l0 + 2, b1 + 30))  # the next, unquoted line's height: white paper
    assert below == (255, 255, 255)
    assert image.getpixel((r0 + 30, t0 + 2)) == (255, 255, 255)


def test_quote_not_on_the_page_gives_an_image_unmarked(pdf):
    view = render_page(pdf, 2, QUOTE, corpus_dir=pdf.parent)
    assert not view.found and view.boxes == () and view.png.startswith(b"\x89PNG")


def test_renders_are_cached(pdf):
    a = render_page(pdf, 1, QUOTE, corpus_dir=pdf.parent)
    assert render_page(pdf, 1, "  De Delta-commissie rapporteert\nover parkeren in de stad. ",
                       corpus_dir=pdf.parent) is a


def test_files_outside_the_corpus_and_bad_pages_are_refused(pdf, tmp_path):
    other = tmp_path / "corpus"
    other.mkdir()
    with pytest.raises(PageViewError, match="outside the corpus"):
        render_page(pdf, 1, QUOTE, corpus_dir=other)
    with pytest.raises(PageViewError, match="outside the corpus"):
        render_page(other / ".." / pdf.name, 1, QUOTE, corpus_dir=other)
    with pytest.raises(PageViewError, match="no page 3"):
        render_page(pdf, 3, QUOTE, corpus_dir=pdf.parent)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing else")
    with pytest.raises(PageViewError, match="cannot be opened"):
        render_page(broken, 1, QUOTE, corpus_dir=tmp_path)


def test_max_pixels_bounds_the_render(pdf):
    view = render_page(pdf, 1, QUOTE, corpus_dir=pdf.parent, settings=PageViewSettings(max_pixels=100_000))
    assert view.width * view.height <= 100_000 * 1.02 and view.found


@pytest.mark.parametrize("bad", [{"scale": 0}, {"max_pixels": 5}, {"highlight_rgba": (1, 2, 3)}, {"padding": -1}])
def test_settings_are_checked(bad):
    with pytest.raises(SettingsError, match=next(iter(bad))):
        PageViewSettings(**bad)


# -- a quote over a page break -------------------------------------------------------------------

BREAK_QUOTE = "De Delta-commissie rapporteert over parkeren in de stad en over nieuwe fietsroutes."


@pytest.fixture()
def break_pdf(tmp_path) -> Path:
    """The quote's start at the foot of page 1 (hyphenated, a footer after it), the rest on top of
    page 2 (a running header before it)."""
    path = tmp_path / "breuk.pdf"
    path.write_bytes(text_pdf(["1 Inleiding\nEen zin vooraf over de stad.\nDe Delta-commissie rapporteert over par-\n"
                               "Pagina 1",
                               "Delta rapport\nkeren in de stad en over nieuwe fietsroutes.\nEen zin daarna."]))
    return path


def test_a_quote_over_a_page_break_is_split_where_it_breaks(break_pdf):
    from docqa.pageview import quote_over_break, split_quote

    head, tail = quote_over_break(break_pdf, 1, BREAK_QUOTE, corpus_dir=break_pdf.parent)
    assert head == "De Delta-commissie rapporteert over par" and tail == "keren in de stad en over nieuwe fietsroutes."
    assert quote_over_break(break_pdf, 2, BREAK_QUOTE, corpus_dir=break_pdf.parent) is None  # no page 3
    assert split_quote(list("niets hiervan"), list("ook niet"), BREAK_QUOTE) is None
    assert split_quote(list("de"), list("x"), "de x") is None  # parts too short to place


def test_a_quote_over_a_page_break_is_marked_on_both_pages(break_pdf):
    from docqa.pageview import quote_over_break

    head, tail = quote_over_break(break_pdf, 1, BREAK_QUOTE, corpus_dir=break_pdf.parent)
    first = render_page(break_pdf, 1, head, corpus_dir=break_pdf.parent, last_match=True)
    second = render_page(break_pdf, 2, tail, corpus_dir=break_pdf.parent)
    assert first.found and second.found
    assert len(first.boxes) == 1 and len(second.boxes) == 1
    # page 1: the third line (two lines of 14 pt, at 1.5 px a point, below "1 Inleiding"); page 2:
    # the line right under the running header
    line = 14 * 1.5
    heading = render_page(break_pdf, 1, "1 Inleiding", corpus_dir=break_pdf.parent).boxes[0]
    header = render_page(break_pdf, 2, "Delta rapport", corpus_dir=break_pdf.parent).boxes[0]
    assert abs(first.boxes[0][1] - heading[1] - 2 * line) < 4
    assert abs(second.boxes[0][1] - header[1] - line) < 4
    # the whole quote stands on neither page
    assert not render_page(break_pdf, 1, BREAK_QUOTE, corpus_dir=break_pdf.parent).found
    assert not render_page(break_pdf, 2, BREAK_QUOTE, corpus_dir=break_pdf.parent).found


def test_engine_page_view_marks_both_pages_of_a_broken_quote(break_pdf, tmp_path):
    from docqa.engine import Engine
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    corpus = break_pdf.parent
    build_index(corpus, tmp_path / "index", make_encoder("hash"), cache_dir=tmp_path / "cache")
    engine = Engine.open(tmp_path / "index")
    passage = next(p for p in engine._searcher.passages if p.page == 1 and p.page_end == 2)
    view = engine.page_view(passage.chunk_id, BREAK_QUOTE, corpus=corpus)
    assert (view.page, view.found, view.quote_pages) == (1, True, (1, 2))
    assert view.quote == "De Delta-commissie rapporteert over par"
    turned = engine.page_view(passage.chunk_id, BREAK_QUOTE, 2, corpus=corpus)
    assert (turned.page, turned.found, turned.quote_pages) == (2, True, (1, 2))
    assert turned.quote.startswith("keren in de stad") and turned.boxes
    # a quote found whole still marks one page
    whole = engine.page_view(passage.chunk_id, "Een zin daarna.", corpus=corpus)
    assert (whole.page, whole.found, whole.quote_pages) == (2, True, (2,))
