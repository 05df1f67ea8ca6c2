"""Your own documents and the scroll to a new answer, in a real browser (Debian's headless Chromium).

A tmp corpus of the small invented documents, indexed with the hash encoder: never ../shared/corpus.
Skips when the browser stack is missing (scripts/install-browser.sh), unless DOCQA_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from tests.conftest import build_small_hash_index  # noqa: E402
from tests.pdf_factory import text_pdf, truncated  # noqa: E402
from tests.support.browser import (APP, EXCEPTION, chat_submit, chromium_page, click_button,  # noqa: E402
                                   require_browser, run_and_wait, screenshot, streamlit_server, wait_for_app_ready,
                                   wait_for_text)

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"
OMEGA_PDF = text_pdf(["1 Inleiding\nHet Omega-schap plant in 2026 precies zeventien nieuwe waterbuffers.",
                      "2 Kosten\nDe waterbuffers van Omega kosten samen 3,2 miljoen euro."])
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'

pytestmark = pytest.mark.browser

# the top and bottom of question n's chat message, and the height of the window
ENTRY_RECT_JS = """(n) => {
  const anchor = document.querySelector(`.dq-entry[data-entry="${n}"]`);
  if (!anchor) return null;
  const r = anchor.closest('[data-testid="stChatMessage"]').getBoundingClientRect();
  return [r.top, r.bottom, window.innerHeight];
}"""


@pytest.fixture()
def served(tmp_path):
    require_browser()
    index = build_small_hash_index(tmp_path)
    env = {"DOCQA_INDEX": str(index), "DOCQA_CORPUS": str(tmp_path / "corpus"), "DOCQA_CACHE": str(tmp_path / "cache")}
    with streamlit_server(APP_PATH, env) as url, chromium_page(viewport=(1280, 800)) as page:
        page.goto(url)
        wait_for_app_ready(page)
        yield page, tmp_path / "corpus"
        assert not page.locator(EXCEPTION).count()
        assert not [e for e in page.errors if e.startswith("pageerror")], page.errors


def open_documents_page(page) -> None:
    radio = page.locator('[data-testid="stSidebar"] [role="radiogroup"] label').filter(has_text="Documenten")
    run_and_wait(page, radio.first.click)
    wait_for_text(page, "Document toevoegen")


def upload(page, name: str, data: bytes, mime: str = "application/pdf", title: str = "", organisation: str = "",
           year: str = "") -> None:
    page.locator(UPLOAD_INPUT).set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
    wait_for_text(page, name)  # the file is listed: it reached the server
    for label, value in (("Titel (optioneel)", title), ("Organisatie (optioneel)", organisation),
                         ("Jaar (optioneel)", year)):
        if value:
            page.get_by_label(label, exact=True).fill(value)
    click_button(page, "Toevoegen en indexeren", timeout=120)


def in_view(page, n: int) -> bool:
    top, bottom, height = page.evaluate(ENTRY_RECT_JS, n)
    return -5 < top < height and bottom > 0


def test_each_new_answer_is_scrolled_into_view(served):
    page, _ = served
    questions = ["hoeveel medewerkers had Beta", "wat was het budget van Beta", "welke norm heeft Alfa",
                 "hoe snel worden storingen opgelost"]
    for n, question in enumerate(questions, 1):
        chat_submit(page, question)
        page.wait_for_timeout(1500)  # after the chat view's own scrolling has ended
        assert in_view(page, n), (n, page.evaluate(ENTRY_RECT_JS, n))
        if n > 1:
            assert not in_view(page, n - 1) or page.evaluate(ENTRY_RECT_JS, n - 1)[1] < 5
    # the answer itself is visible too, right under its question
    answer = page.locator(f"{APP} sup").last
    box = answer.bounding_box()
    assert box and 0 <= box["y"] < 800


def test_an_uploaded_pdf_is_answerable_in_the_same_session(served, tmp_path):
    page, corpus = served
    open_documents_page(page)
    # the upload form whole in the 1280x800 window: its heading at the top
    page.get_by_text("Document toevoegen").first.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.get_by_label("Titel (optioneel)", exact=True).wait_for(state="visible")
    page.wait_for_timeout(500)
    shot = screenshot(page, tmp_path / "docqa-documents-upload.png", full_page=False)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 20_000
    upload(page, "Omega plan.pdf", OMEGA_PDF, title="Plan waterbuffers", organisation="Omega-schap", year="2026")
    wait_for_text(page, "is toegevoegd als document 'omega-plan'", timeout=120)
    wait_for_text(page, "7 documenten")  # the reloaded index (the table itself is drawn on a canvas)
    assert (corpus / "omega-plan.pdf").read_bytes() == OMEGA_PDF
    radio = page.locator('[data-testid="stSidebar"] [role="radiogroup"] label').filter(has_text="Vragen")
    run_and_wait(page, radio.first.click)
    chat_submit(page, "hoeveel nieuwe waterbuffers plant het Omega-schap")
    wait_for_text(page, "zeventien nieuwe waterbuffers")
    head = page.locator(f"{APP} .dq-card").first
    assert head.get_attribute("data-doc") == "omega-plan" and "Plan waterbuffers" in head.inner_text()
    wait_for_text(page, "Omega-schap, Plan waterbuffers")  # the reference to copy


def test_a_broken_upload_is_refused_by_name(served):
    page, corpus = served
    before = sorted(p.name for p in corpus.iterdir())
    open_documents_page(page)
    upload(page, "kapot.pdf", truncated(OMEGA_PDF, 0.3))
    wait_for_text(page, "kapot.pdf is geweigerd: de PDF is beschadigd of geen PDF", timeout=60)
    assert sorted(p.name for p in corpus.iterdir() if p.name != ".docqa-library.lock") == before
    wait_for_text(page, "6 documenten")  # the index as it was (the table itself is drawn on a canvas)
