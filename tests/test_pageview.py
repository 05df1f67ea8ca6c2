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
