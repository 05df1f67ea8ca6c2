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
OMEGA_PDF = text_pdf(["1 Inleiding\nHet Omega-schap plant voor 2026 precies zeventien nieuwe waterbuffers.",
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


def test_each_new_answer_is_scrolled_into_view(served, tmp_path):
    page, _ = served
    questions = ["hoeveel medewerkers had Beta", "wat was het budget van Beta", "welke norm heeft Alfa",
                 "hoe snel worden storingen opgelost"]
    for n, question in enumerate(questions, 1):
        chat_submit(page, question)
        page.wait_for_timeout(2500)  # after the chat view's own scrolling and the script have ended
        assert in_view(page, n), (n, page.evaluate(ENTRY_RECT_JS, n))
        if n > 1:
            assert not in_view(page, n - 1) or page.evaluate(ENTRY_RECT_JS, n - 1)[1] < 5
    # the answer itself is visible too, right under its question
    answer = page.locator(f"{APP} sup").last
    box = answer.bounding_box()
    assert box and 0 <= box["y"] < 800
    print(f"screenshot: {screenshot(page, tmp_path / 'docqa-scrolled-answer.png', full_page=False)}")


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
    done = wait_for_text(page, "is toegevoegd als document 'omega-plan'", timeout=120)
    page.wait_for_timeout(500)
    box = done.bounding_box()  # under the form just used, not at the top of the page out of view
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 800, box
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


@pytest.mark.slow
def test_an_uploaded_pdf_is_answered_by_the_real_model(tmp_path):
    """The real corpus and e5: a writable tmp corpus of links to ../shared/corpus's files (its
    manifest copied, so the rewrite never reaches the shared one), the index in tmp_path."""
    require_browser()
    import shutil

    from docqa import config
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index
    from tests.conftest import CORPUS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in CORPUS.iterdir():
        if source.name == "manifest.toml":
            shutil.copy(source, corpus / source.name)
        elif source.suffix in (".txt", ".pdf"):
            (corpus / source.name).symlink_to(source)
    shared_before = sorted((p.name, p.stat().st_mtime_ns) for p in CORPUS.iterdir())
    build_index(corpus, tmp_path / "index", make_encoder("e5-small"), cache_dir=config.cache_dir())
    env = {"DOCQA_INDEX": str(tmp_path / "index"), "DOCQA_CORPUS": str(corpus)}
    with streamlit_server(APP_PATH, env, timeout=120) as url, chromium_page(viewport=(1280, 800)) as page:
        page.goto(url)
        wait_for_app_ready(page, timeout=120)
        open_documents_page(page)
        upload(page, "omega-plan.pdf", OMEGA_PDF, title="Plan waterbuffers", organisation="Omega-schap", year="2026")
        wait_for_text(page, "is toegevoegd als document 'omega-plan'", timeout=180)
        radio = page.locator('[data-testid="stSidebar"] [role="radiogroup"] label').filter(has_text="Vragen")
        run_and_wait(page, radio.first.click)
        chat_submit(page, "hoeveel nieuwe waterbuffers plant het Omega-schap", timeout=60)
        wait_for_text(page, "zeventien nieuwe waterbuffers")
        assert page.locator(f"{APP} .dq-card").first.get_attribute("data-doc") == "omega-plan"
        wait_for_text(page, "Omega-schap, Plan waterbuffers, 2026")
        assert not page.locator(EXCEPTION).count()
    assert sorted((p.name, p.stat().st_mtime_ns) for p in CORPUS.iterdir()) == shared_before


def test_the_scroll_gives_way_to_the_user(served):
    """A user who scrolls while the script still holds the new question at the top keeps control."""
    page, _ = served
    for question in ("hoeveel medewerkers had Beta", "wat was het budget van Beta"):
        chat_submit(page, question)
    page.mouse.move(800, 400)
    for _ in range(10):  # as a wheel turns: small steps, at once, while the script is still watching
        page.mouse.wheel(0, -500)
        page.wait_for_timeout(20)
    page.wait_for_timeout(2500)
    top = page.evaluate(ENTRY_RECT_JS, 2)[0]
    assert top > 200, top  # it stayed where the user scrolled to, above the new question


# what the uploader shows in place of Streamlit's English (docqa.app_support.UPLOADER_CSS): the
# ::after text and the font size of the words it hides, for the button, the hint and the drag overlay
UPLOADER_WORDS_JS = """() => {
  const zone = document.querySelector('.st-key-upload_file [data-testid="stFileUploaderDropzone"]');
  const shown = (el) => el && [getComputedStyle(el, '::after').content, getComputedStyle(el).fontSize];
  return {button: shown(zone.querySelector('button [data-testid="stMarkdownContainer"] p')),
          hint: shown(zone.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span')),
          drop: shown(zone.querySelector(':scope > input + div:not(:has([data-testid])) > span'))};
}"""
DRAG_JS = """(kind) => {
  const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
  const data = new DataTransfer();
  data.items.add(new File(['x'], 'a.pdf', {type: 'application/pdf'}));
  zone.dispatchEvent(new DragEvent(kind, {dataTransfer: data, bubbles: true}));
}"""


def test_the_uploader_speaks_the_interface_language(served, tmp_path):
    """Streamlit's own words in the uploader ("Upload", "200MB per file", "Drag and drop...", the
    refusal tooltip) are replaced by Dutch ones that state the app's own size limit."""
    from docqa.library import LibrarySettings

    page, _ = served
    open_documents_page(page)
    limit = f"hooguit {LibrarySettings().max_bytes // 2**20} MB"
    page.wait_for_function("() => document.querySelector('style[data-dq=\"uploader\"]')")
    page.locator('.st-key-upload_file [data-testid="stFileUploaderDropzone"]').wait_for()
    words = page.evaluate(UPLOADER_WORDS_JS)
    assert words["button"] == ['"Bestand kiezen"', "0px"], words
    assert words["hint"][1] == "0px" and limit in words["hint"][0], words
    page.evaluate(DRAG_JS, "dragenter")
    page.wait_for_function("() => document.querySelector('[data-testid=\"stFileUploaderDropzone\"] > input + div')")
    words = page.evaluate(UPLOADER_WORDS_JS)
    assert words["drop"] == ['"Laat het bestand hier los"', "0px"], words
    page.locator(".st-key-upload_file").screenshot(path=str(tmp_path / "docqa-uploader-drag.png"))
    page.evaluate(DRAG_JS, "dragleave")
    # a type Streamlit refuses in the browser: the tooltip on its chip, in Dutch
    page.locator(UPLOAD_INPUT).set_input_files(files=[{"name": "notitie.docx", "mimeType": "application/msword",
                                                       "buffer": b"PK\x03\x04"}])
    page.locator('[data-testid="stFileChip"][aria-invalid="true"]').hover()
    tip = page.locator('[data-testid="stTooltipErrorContent"]').first
    tip.wait_for(state="visible")
    assert tip.evaluate("(el) => getComputedStyle(el).fontSize") == "0px"
    assert limit in tip.evaluate("(el) => getComputedStyle(el, '::after').content")
    print(f"screenshot: {screenshot(page, tmp_path / 'docqa-uploader-refused.png', full_page=False)}")


# the documents table's wrapper: how wide its content is against how wide it is shown
TABLE_FIT_JS = """() => {
  const table = document.querySelector('table[data-table="documents"]');
  const box = table.parentElement.getBoundingClientRect(), main = document.querySelector('[data-testid="stMain"]');
  return [table.parentElement.scrollWidth, table.parentElement.clientWidth, box.right,
          main.getBoundingClientRect().right];
}"""


def test_the_documents_table_fits_1280_px(served, tmp_path):
    """Long titles and organisations wrap inside their cells: every column stays in the window."""
    page, _ = served
    open_documents_page(page)
    text = ("Dienst Alfa publiceert elk jaar een overzicht van zijn meerjarige informatievoorziening. " * 3).encode()
    upload(page, "alfa-overzicht.txt", text, mime="text/plain",
           title="Meerjareninformatievoorzieningsplan Dienst Alfa en Dienst Beta (herziene versie)",
           organisation="Ministerie van Alfazaken en Betarelaties (Directie Informatievoorziening)", year="2025")
    wait_for_text(page, "7 documenten", timeout=120)
    content, shown, right, window = page.evaluate(TABLE_FIT_JS)
    assert content <= shown and right <= window, (content, shown, right, window)
    page.locator('table[data-table="documents"]').scroll_into_view_if_needed()
    print(f"screenshot: {screenshot(page, tmp_path / 'docqa-documents-table.png', full_page=False)}")
