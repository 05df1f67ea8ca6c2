"""The documents page's upload and delete (app.py through AppTest), on a tmp corpus and index.

Never touches ../shared/corpus: the corpus is the small invented one, written into tmp_path.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from tests.pdf_factory import image_pdf, text_pdf, truncated  # noqa: E402
from tests.test_app import app_at, card_docs, ask, table_rows  # noqa: E402

OMEGA_PDF = text_pdf(["1 Inleiding\nHet Omega-schap plant voor 2026 precies zeventien nieuwe waterbuffers.",
                      "2 Kosten\nDe waterbuffers van Omega kosten samen 3,2 miljoen euro."])


def docs_page(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    at.sidebar.radio(key="page").set_value("docs").run()
    assert not at.exception, at.exception
    return at


def submit_upload(at, name: str, data: bytes, mime: str = "application/pdf", **fields):
    at.file_uploader(key="upload_file").set_value((name, data, mime))
    for key, value in fields.items():
        (at.number_input if key == "upload_year" else at.text_input)(key=key).set_value(value)
    next(b for b in at.button if b.label == "Toevoegen en indexeren").click().run()
    assert not at.exception, at.exception
    return at


def plain(value: str) -> str:
    """A message as the reader sees it: without md_escape's backslashes."""
    return value.replace("\\", "")


def listed_docs(at) -> list[str]:
    return [r["document"] for r in table_rows(at, "documents")]


def test_upload_form_is_on_the_documents_page(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    uploader = at.file_uploader(key="upload_file")
    assert uploader.label == "Bestand (.pdf of .txt)" and set(uploader.allowed_type) == {".pdf", ".txt"}
    assert [t.label for t in at.text_input] == ["Titel (optioneel)", "Organisatie (optioneel)"]
    assert at.number_input(key="upload_year").label == "Jaar (optioneel)"
    assert any("Alleen de nieuwe teksten worden ge-embed" in m.value for m in at.markdown)


def test_uploaded_pdf_is_indexed_and_answerable_without_a_restart(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    submit_upload(at, "Omega plan.pdf", OMEGA_PDF, upload_title="Plan waterbuffers", upload_org="Omega-schap",
                  upload_year=2026)
    success = plain(at.success[0].value)
    assert "Omega plan.pdf is toegevoegd als document 'omega-plan'" in success and "alleen" in success
    assert "veilig gemaakt: opgeslagen als omega-plan.pdf" in plain(at.info[0].value)
    assert "omega-plan" in listed_docs(at)
    row = next(r for r in table_rows(at, "documents") if r["document"] == "omega-plan")
    assert (row["titel"], row["organisatie"], row["jaar"]) == ("Plan waterbuffers", "Omega-schap", "2026")
    assert (small_corpus / "omega-plan.pdf").read_bytes() == OMEGA_PDF
    # the same session asks about it and gets it cited
    at.sidebar.radio(key="page").set_value("ask").run()
    ask(at, "hoeveel nieuwe waterbuffers plant het Omega-schap")
    assert card_docs(at)[0] == "omega-plan"
    assert any(c.value.startswith("Omega-schap, Plan waterbuffers") for c in at.code)


@pytest.mark.parametrize("name, data, shown", [
    ("kapot.pdf", truncated(OMEGA_PDF, 0.3), "kapot.pdf is geweigerd: de PDF is beschadigd of geen PDF."),
    ("scan.pdf", image_pdf(), "scan.pdf is geweigerd: de PDF heeft geen tekstlaag"),
    ("leeg.txt", b"", "leeg.txt is geweigerd: het bestand is leeg."),
    ("nep.pdf", b"GIF89a", "nep.pdf is geweigerd: het is geen PDF (het begint niet met %PDF)."),
])
def test_a_bad_upload_is_refused_by_name_and_nothing_is_lost(monkeypatch, small_index, small_corpus, name, data,
                                                              shown):
    from docqa.index.store import current_build

    before = sorted(p.name for p in small_corpus.iterdir())
    build = current_build(small_index)
    at = docs_page(monkeypatch, small_index, small_corpus)
    submit_upload(at, name, data, "text/plain" if name.endswith(".txt") else "application/pdf",
                  upload_title="Iets")
    assert [e.value for e in at.error] and plain(at.error[0].value).startswith(shown)
    assert sorted(p.name for p in small_corpus.iterdir() if p.name != ".docqa-library.lock") == before
    assert current_build(small_index) == build
    assert listed_docs(at) == ["alfa-jaarplan-2024", "beta-verslag-2023"]


def test_upload_without_a_file_asks_for_one(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    next(b for b in at.button if b.label == "Toevoegen en indexeren").click().run()
    assert [w.value for w in at.warning] == ["Kies eerst een bestand."]


def test_delete_asks_for_confirmation_then_removes(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    at.selectbox(key="del_doc").set_value("beta-verslag-2023")
    at.button(key="del_ask").click().run()
    assert "Weet u zeker dat u 'beta-verslag-2023' (beta-verslag-2023.txt) wilt verwijderen?" in \
        plain(at.warning[0].value)
    at.button(key="del_no").click().run()  # cancel: nothing happens
    assert not at.warning and (small_corpus / "beta-verslag-2023.txt").is_file()
    at.button(key="del_ask").click().run()
    at.button(key="del_yes").click().run()
    assert not at.exception, at.exception
    assert "'beta-verslag-2023' is verwijderd" in plain(at.success[0].value)
    assert listed_docs(at) == ["alfa-jaarplan-2024"]
    assert not (small_corpus / "beta-verslag-2023.txt").exists()
    assert "beta-verslag-2023" not in (small_corpus / "manifest.toml").read_text(encoding="utf-8")


def test_the_last_document_cannot_be_deleted(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    for doc in ("beta-verslag-2023", "alfa-jaarplan-2024"):
        at.selectbox(key="del_doc").set_value(doc)
        at.button(key="del_ask").click().run()
        at.button(key="del_yes").click().run()
    assert "het enige document" in at.error[0].value
    assert listed_docs(at) == ["alfa-jaarplan-2024"]


def test_a_quote_over_a_page_break_is_marked_on_both_pages_in_the_app(monkeypatch, tmp_path):
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index
    from tests.conftest import write_small_corpus

    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "delta-breuk-2021.pdf").write_bytes(text_pdf([
        "1 Inleiding\nEen zin vooraf over de stad.\nDe Delta-commissie rapporteert over par-\nPagina 1",
        "Delta rapport\nkeren in de stad en over nieuwe fietsroutes.\nEen zin daarna."]))
    build_index(corpus, tmp_path / "index", make_encoder("hash"), cache_dir=tmp_path / "cache")
    at = app_at(monkeypatch, tmp_path / "index", corpus)
    at.sidebar.multiselect(key="f_docs").set_value(["delta-breuk-2021"])
    ask(at, "waarover rapporteert de Delta-commissie: parkeren in de stad en fietsroutes")
    answer = at.session_state["history"][-1]["answer"]
    quote = answer.citations[0].quote  # the header of a 2-page file is not recognised as one: it stays inside
    assert "rapporteert over par-" in quote and "keren in de stad" in quote
    at.session_state["pv-q1-p0"] = True  # what opening the page view's expander does
    at.run()
    assert not at.exception, at.exception
    split = "het geciteerde staat geel gemarkeerd · het citaat loopt van p. 1 door op p. 2"
    assert any(c.value == f"p. 1 van 2 · {split}" for c in at.caption), [c.value for c in at.caption]
    at.button(key="pv-next-q1-p0").click().run()
    assert any(c.value == f"p. 2 van 2 · {split}" for c in at.caption), [c.value for c in at.caption]


def test_documents_page_in_english(monkeypatch, small_index, small_corpus):
    at = docs_page(monkeypatch, small_index, small_corpus)
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert not at.exception, at.exception
    assert at.file_uploader(key="upload_file").label == "File (.pdf or .txt)"
    submit = next(b for b in at.button if b.label == "Add and index")
    at.file_uploader(key="upload_file").set_value(("leeg.txt", b"", "text/plain"))
    submit.click().run()
    assert at.error[0].value.replace("\\", "") == "leeg.txt: empty file"  # the library's English, whole


def test_the_first_document_builds_the_index(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("DOCQA_MODEL", "hash")
    monkeypatch.setenv("DOCQA_CACHE", str(tmp_path / "cache"))
    at = app_at(monkeypatch, tmp_path / "index", corpus)
    monkeypatch.setenv("DOCQA_MODEL", "hash")  # app_at clears it for the engine; the build takes it
    at.sidebar.radio(key="page").set_value("docs").run()
    assert "Er is nog geen index" in at.error[0].value
    submit_upload(at, "omega.pdf", OMEGA_PDF, upload_title="Plan waterbuffers")
    assert not at.error, [e.value for e in at.error]
    assert "is toegevoegd als document 'omega'" in plain(at.success[0].value)
    assert listed_docs(at) == ["omega"]


def test_a_rerun_during_the_build_waits_for_the_change(monkeypatch, small_index, small_corpus):
    """A click while the index is built makes Streamlit raise its rerun request from the progress
    bar; the add still completes (corpus, manifest and index agree) and its message survives."""
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    at = docs_page(monkeypatch, small_index, small_corpus)
    real_progress, calls = DeltaGenerator.progress, []

    def progress(self, value, text=None, **kwargs):
        calls.append(value)
        if len(calls) == 3:  # mid-way through reading the files
            raise RerunException(RerunData())
        return real_progress(self, value, text=text, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "progress", progress)
    submit_upload(at, "omega.pdf", OMEGA_PDF, upload_title="Plan waterbuffers")
    assert len(calls) == 3  # no updates after the request
    assert "is toegevoegd als document 'omega'" in plain(at.success[0].value)
    assert "omega" in listed_docs(at) and (small_corpus / "omega.pdf").is_file()
    assert "[omega]" in (small_corpus / "manifest.toml").read_text(encoding="utf-8")


def test_a_filter_on_a_removed_document_is_dropped(monkeypatch, tmp_path):
    """Filtering on a document and then removing it: the way back to the questions neither fails nor
    answers with the search's English refusal; documents without organisation or year are labelled
    by their title alone."""
    from tests.conftest import build_small_hash_index

    monkeypatch.setenv("DOCQA_CACHE", str(tmp_path / "cache"))
    at = app_at(monkeypatch, build_small_hash_index(tmp_path), tmp_path / "corpus")
    options = at.sidebar.multiselect(key="f_docs").options
    assert "Extra 1" in options and not any("(, ?)" in o or "?)" in o for o in options)
    at.sidebar.multiselect(key="f_docs").set_value(["extra-1"]).run()
    at.sidebar.radio(key="page").set_value("docs").run()
    at.selectbox(key="del_doc").set_value("extra-1").run()
    next(b for b in at.button if b.key == "del_ask").click().run()
    next(b for b in at.button if b.key == "del_yes").click().run()
    assert "extra-1" not in listed_docs(at)
    at.sidebar.radio(key="page").set_value("ask").run()
    assert at.sidebar.multiselect(key="f_docs").value == []
    ask(at, "welke norm heeft Alfa")
    assert not at.warning and not at.error and card_docs(at)
