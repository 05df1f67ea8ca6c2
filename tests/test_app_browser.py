"""The app in a real browser: `streamlit run app.py` driven by Debian's headless Chromium.

Skips when the browser stack is missing (scripts/install-browser.sh), unless
DOCQA_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from tests.conftest import CORPUS, EXAMPLE_QUESTION  # noqa: E402
from tests.support.browser import (  # noqa: E402
    APP,
    CHAT_INPUT,
    CHAT_SUBMIT,
    EXCEPTION,
    chat_submit,
    chromium_page,
    click_button,
    require_browser,
    run_and_wait,
    screenshot,
    streamlit_server,
    wait_for_app_ready,
    wait_for_text,
)
from tests.test_app import WARM_QUESTIONS, XSS, write_tricky_corpus  # noqa: E402

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_example_question_in_chromium(real_index_dir, tmp_path):
    require_browser()
    env = {"DOCQA_INDEX": str(real_index_dir), "DOCQA_CORPUS": str(CORPUS)}
    with streamlit_server(APP_PATH, env, timeout=120) as url, chromium_page(viewport=(1400, 1100)) as page:
        page.goto(url)
        wait_for_app_ready(page, timeout=120)  # the first run loads the index and the e5 model
        wait_for_text(page, "Stel een vraag in het vak onderaan")
        chat_submit(page, EXAMPLE_QUESTION, timeout=60)
        wait_for_text(page, "99,0%")
        wait_for_text(page, "Jaarplan 2024")
        wait_for_text(page, "BKWI, Jaarplan 2024")  # the copyable reference (st.code renders lazily)
        app_text = page.locator(APP).inner_text()
        assert "Zekerheid:" in app_text and "Gevonden passages" in app_text
        # the answer's span and the question's terms are highlighted in the passage cards
        assert page.locator(f"{APP} mark").count() >= 3
        assert page.locator(f"{APP} sup").first.inner_text() == "[1]"
        assert not page.locator(EXCEPTION).count()
        # the screenshot shows the question and its answer: scroll up like a user (the chat view
        # otherwise sticks to the bottom), then bring the question to the top
        page.mouse.move(800, 500)
        page.mouse.wheel(0, -20_000)
        page.wait_for_timeout(300)
        page.get_by_text(EXAMPLE_QUESTION, exact=True).first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        shot = screenshot(page, tmp_path / "docqa-answer.png", full_page=False)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 20_000
        # a warm answer, measured in the app and from Enter to the finished rerun in the browser
        in_app = float(re.search(r"antwoord in (\d+,\d+) s", app_text).group(1).replace(",", "."))
        box, trips = page.locator(CHAT_INPUT), []
        for question in WARM_QUESTIONS:
            box.fill(question)
            page.wait_for_function(f"() => !document.querySelector('{CHAT_SUBMIT}').disabled")
            started = time.monotonic()
            run_and_wait(page, lambda: box.press("Enter"))
            trips.append(time.monotonic() - started)
        print(f"\nwarm answers: {in_app:.2f} s in the app; from Enter to rendered: "
              + ", ".join(f"{t:.2f}" for t in trips) + " s")
        # timings are printed for the record; `make bench` measures them, tests do not assert them
        assert not [e for e in page.errors if e.startswith("pageerror")], page.errors


def test_html_in_documents_shows_as_text(tmp_path):
    require_browser()
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    corpus = write_tricky_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, make_encoder("hash"), cache_dir=tmp_path / "cache")
    env = {"DOCQA_INDEX": str(index), "DOCQA_CORPUS": str(corpus)}
    with streamlit_server(APP_PATH, env) as url, chromium_page() as page:
        page.goto(url)
        wait_for_app_ready(page)
        chat_submit(page, f"wachttijd Gamma {XSS}")
        wait_for_text(page, "Notitie <script>alert(2)</script>")  # the title, as text
        wait_for_text(page, f"De notitie bevat {XSS} als tekst")  # the passage, as text
        wait_for_text(page, "*zes* weken en kost $5 of __niets__")  # no Markdown either
        app_text = page.locator(APP).inner_text()
        assert XSS in app_text  # the question too
        assert "Gamma <b>vet</b>" in app_text
        # nothing from the documents became markup, and nothing ran
        # the only script is the app's own scroll to the new answer (docqa.app_support.scroll_script)
        assert page.locator(f'{APP} script:not([data-dq="scroll"])').count() == 0
        assert page.locator(f'{APP} img[src="x"]').count() == 0
        assert page.evaluate("() => window.__xss === undefined")
        page.get_by_text("Notitie <script>alert(2)</script>").first.scroll_into_view_if_needed()
        screenshot(page, tmp_path / "docqa-escaped.png", full_page=False)
        assert not [e for e in page.errors if e.startswith("pageerror")], page.errors


@pytest.mark.slow
def test_a_contradicted_claim_in_chromium(real_index_dir, tmp_path):
    """A journalist pastes a contradicted claim: the verdict, and the source value marked beside the claim's."""
    require_browser()
    from tests.test_claims_real import CONTRADICTED

    env = {"DOCQA_INDEX": str(real_index_dir), "DOCQA_CORPUS": str(CORPUS)}
    with streamlit_server(APP_PATH, env, timeout=120) as url, chromium_page(viewport=(1400, 1100)) as page:
        page.goto(url)
        wait_for_app_ready(page, timeout=120)
        run_and_wait(page, lambda: page.get_by_text("Bewering controleren", exact=True).first.click(), 60)
        wait_for_text(page, "Plak een zin of een alinea")
        box = page.get_by_label("Bewering(en)")
        box.fill(CONTRADICTED)
        click_button(page, "Controleren", timeout=60)
        wait_for_text(page, "klopt niet volgens de bron", timeout=60)
        verdict = page.locator(f"{APP} .dq-verdict").first
        assert verdict.get_attribute("data-verdict") == "contradicted"
        marked = page.locator(f"{APP} mark.dq-source-value").first
        assert "99,0%" in marked.inner_text()
        assert "bewering: 90%" in page.locator(f"{APP} .dq-claim-value").first.inner_text()
        wait_for_text(page, "BKWI, Jaarplan 2024")  # the citation to copy
        marked.scroll_into_view_if_needed()
        shot = screenshot(page, tmp_path / "docqa-claim.png", full_page=False)
        print(f"screenshot: {shot}")
        assert not page.locator(EXCEPTION).count()
        assert not [e for e in page.errors if e.startswith("pageerror")], page.errors


@pytest.mark.slow
def test_the_cited_pdf_page_is_shown_with_the_quote_marked_in_chromium(real_pdf_index_dir, tmp_path):
    """The example question over the real PDFs: its answer cites the BKWI PDF with a page, and the
    card shows that page rendered with the quote marked."""
    require_browser()
    from tests.conftest import PDF_DIR

    env = {"DOCQA_INDEX": str(real_pdf_index_dir), "DOCQA_CORPUS": str(PDF_DIR)}
    with streamlit_server(APP_PATH, env, timeout=120) as url, chromium_page(viewport=(1280, 800)) as page:
        page.goto(url)
        wait_for_app_ready(page, timeout=120)
        chat_submit(page, EXAMPLE_QUESTION, timeout=60)
        wait_for_text(page, "99,0%")
        wait_for_text(page, "BKWI")
        expander = page.locator(f"{APP} summary").filter(has_text="Bekijk de pagina").first
        expander.scroll_into_view_if_needed()
        run_and_wait(page, expander.click, 60)
        image = page.locator(f"{APP} [data-testid='stExpanderDetails'] img").first
        image.wait_for(state="visible", timeout=60_000)
        assert page.evaluate("(img) => img.naturalWidth > 300 && img.complete", image.element_handle())
        wait_for_text(page, "gemarkeerd")  # the caption says the quote is marked on this page
        image.scroll_into_view_if_needed()
        shot = screenshot(page, tmp_path / "docqa-pdf-page.png", full_page=False)
        print(f"screenshot: {shot}")
        assert not page.locator(EXCEPTION).count()
        assert not [e for e in page.errors if e.startswith("pageerror")], page.errors
