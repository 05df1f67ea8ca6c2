"""The Streamlit app (app.py) through streamlit.testing's AppTest, plus its pure helpers.

Fast tests use a tiny invented corpus indexed with the hash encoder; the tests marked `slow` use
the session's real index (../shared/corpus, multilingual-e5-small).
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for `tests.*`

from docqa import app_support as sup  # noqa: E402
from tests.conftest import EXAMPLE_QUESTION, write_small_corpus  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # the first run in a process loads the index (and the e5 model for the real index)
UWV_DOC = "uwv-viermaandenverslag-2024"
XSS = "<script>alert(1)</script>"


# -- fixtures ------------------------------------------------------------------------------------

def write_tricky_corpus(folder: Path) -> Path:
    """The small corpus plus a document with HTML/Markdown in its text and metadata, and a PDF."""
    from tests.pdf_factory import text_pdf

    write_small_corpus(folder)
    (folder / "gamma-notitie-2022.txt").write_text(
        "1 Veiligheid \n"
        f"De notitie bevat {XSS} als tekst en ook <img src=x onerror=\"window.__xss=1\"> zonder gevolgen. "
        "De wachttijd voor Gamma is *zes* weken en kost $5 of __niets__. \n", encoding="utf-8")
    (folder / "delta-rapport-2021.pdf").write_bytes(text_pdf([
        "1 Inleiding\nDe Delta-commissie rapporteert over parkeren.",
        "2 Resultaten\nHet aantal parkeervergunningen in Delta steeg tot 4.200 in 2021."]))
    with open(folder / "manifest.toml", "a", encoding="utf-8") as f:
        f.write('\n[gamma-notitie-2022]\ntitle = "Notitie <script>alert(2)</script>"\n'
                'organisation = "Gamma <b>vet</b>"\nyear = 2022\nkind = "notitie"\n')
    return folder


@pytest.fixture()
def tricky_index(tmp_path) -> tuple[Path, Path]:
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    corpus = write_tricky_corpus(tmp_path / "tricky-corpus")
    index = tmp_path / "tricky-index"
    build_index(corpus, index, make_encoder("hash"), cache_dir=tmp_path / "cache")
    return corpus, index


def app_at(monkeypatch, index: Path, corpus: Path | None = None) -> AppTest:
    monkeypatch.setenv("DOCQA_INDEX", str(index))
    if corpus is not None:
        monkeypatch.setenv("DOCQA_CORPUS", str(corpus))
    monkeypatch.delenv("DOCQA_MODEL", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def markdown_values(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def shown(at: AppTest) -> list[str]:
    """The markdown values with entities decoded: roughly the text a reader sees."""
    return [html.unescape(v) for v in markdown_values(at)]


def table_rows(at: AppTest, kind: str) -> list[dict]:
    """The rows of the app's HTML table `kind` (docqa.app_support.table_html) as {header: cell text};
    a cell's small second line (the documents' file name) is left out."""
    from html.parser import HTMLParser

    class Table(HTMLParser):
        def __init__(self):
            super().__init__()
            self.headers, self.rows, self.cell, self.small = [], [], None, False

        def handle_starttag(self, tag, attrs):
            if tag in ("th", "td"):
                self.cell = ""
            elif tag == "tr":
                self.row = []
            self.small = self.small or tag == "small"

        def handle_endtag(self, tag):
            if tag in ("th", "td"):
                (self.headers if tag == "th" else self.row).append(html.unescape(self.cell).strip())
                self.cell = None
            elif tag == "tr" and self.row:
                self.rows.append(dict(zip(self.headers, self.row)))
            self.small = self.small and tag != "small"

        def handle_data(self, data):
            if self.cell is not None and not self.small:
                self.cell += data

    tables = [v for v in markdown_values(at) if f'data-table="{kind}"' in v]
    assert len(tables) == 1, f"{len(tables)} tables {kind!r}"
    parser = Table()
    parser.feed(tables[0])
    return parser.rows


def card_heads(at: AppTest) -> list[str]:
    """Card headers with the no-wrap spans around their parts taken out (the rest of the markup stays)."""
    return [re.sub(r'<span style="white-space:nowrap">(.*?)</span>', r"\1", v)
            for v in markdown_values(at) if 'class="dq-card"' in v]


def card_docs(at: AppTest) -> list[str]:
    return [re.search(r'data-doc="([^"]+)"', v).group(1) for v in card_heads(at)]


# -- real index (slow) ---------------------------------------------------------------------------

@pytest.mark.slow
def test_example_question_answer_with_citation(monkeypatch, real_index_dir):
    at = app_at(monkeypatch, real_index_dir)
    ask(at, EXAMPLE_QUESTION)
    texts = markdown_values(at)
    answer = next(v for v in texts if "<sup><b>&#91;1&#93;</b></sup>" in v)
    assert "99,0%" in answer
    # the cited card comes first, marked [1], and points to BKWI's Jaarplan 2024
    head = card_heads(at)[0]
    assert "&#91;1&#93;" in head and "<b>Jaarplan 2024</b>" in head and " · BKWI" in head
    refs = [c.value for c in at.code]
    assert refs[0].startswith("[1] BKWI") and "Jaarplan 2024" in refs[0]  # "copy all" of the answer
    assert refs[1].startswith("BKWI") and "Jaarplan 2024" in refs[1]  # the cited card's own
    # the cited passage shows the answer span marked, the question's terms too
    cited_text = next(v for v in texts if sup.ANSWER_OPEN in v)
    assert "99,0%" in cited_text and sup.TERM_OPEN in cited_text
    assert any(m.value.startswith("**Zekerheid:**") for m in at.markdown)
    assert [e.label for e in at.expander][:1] == ["Waarop de zekerheid berust"]
    assert 3 <= len(card_heads(at)) <= 5  # default number of passages, those repeating a card merged
    labels = [b.label for b in at.download_button]
    assert labels == ["Exporteer CSV", "Exporteer JSON", "Sessie als Markdown", "Sessie als JSON"]


WARM_QUESTIONS = ("hoeveel medewerkers heeft het Inlichtingenbureau", "wat kost de huisvesting van UWV",
                  "welke projecten staan in het iplan van BZK")


@pytest.mark.slow
def test_earlier_questions_stay_on_the_page(monkeypatch, real_index_dir):
    at = app_at(monkeypatch, real_index_dir)
    ask(at, EXAMPLE_QUESTION)
    for question in WARM_QUESTIONS:
        ask(at, question)
    history = at.session_state["history"]
    assert [e["question"] for e in history] == [EXAMPLE_QUESTION, *WARM_QUESTIONS]
    # timings are shown to the user and measured by `make bench`, not asserted here
    print("answer seconds:", [round(e["seconds"], 3) for e in history])


@pytest.mark.slow
def test_document_filter_narrows_passages(monkeypatch, real_index_dir):
    at = app_at(monkeypatch, real_index_dir)
    at.sidebar.multiselect(key="f_docs").set_value([UWV_DOC])
    at.sidebar.slider(key="k").set_value(8)
    ask(at, EXAMPLE_QUESTION)
    docs = card_docs(at)
    assert 4 <= len(docs) <= 8 and set(docs) == {UWV_DOC}  # passages repeating an earlier card merged
    assert all("· UWV ·" in h for h in card_heads(at))
    # the user's settings are shown with the question
    assert any("filters: Viermaandenverslag 2024" in v for v in shown(at))


@pytest.mark.slow
def test_documents_page_real(monkeypatch, real_index_dir):
    from docqa.index.store import read_manifest

    at = app_at(monkeypatch, real_index_dir)
    at.sidebar.radio(key="page").set_value("docs").run()
    assert not at.exception
    rows = table_rows(at, "documents")
    assert len(rows) == 5 and UWV_DOC in {r["document"] for r in rows}
    assert sum(int(r["passages"]) for r in rows) == read_manifest(real_index_dir)["passage_count"]
    created = read_manifest(real_index_dir)["created"].replace("T", " ")
    assert any(created in v for v in shown(at))


# -- small indexes (fast) ------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["   ", "\u200b\n\t"])
def test_empty_question_warns(monkeypatch, small_index, small_corpus, question):
    at = app_at(monkeypatch, small_index, small_corpus)
    ask(at, question)
    assert [w.value for w in at.warning] == ["Lege vraag: typ een vraag of een paar zoekwoorden."]
    assert at.session_state["history"] == []


def test_missing_index_gives_guidance(monkeypatch, tmp_path):
    at = app_at(monkeypatch, tmp_path / "no-index", tmp_path / "corpus")
    assert "Er is nog geen index" in at.error[0].value
    command = at.code[0].value
    assert "docqa ingest --corpus" in command and str(tmp_path / "no-index") in command
    assert at.chat_input[0].disabled
    at.sidebar.radio(key="page").set_value("docs").run()
    assert not at.exception and "Er is nog geen index" in at.error[0].value


def test_damaged_index_gives_message(monkeypatch, small_index, small_corpus):
    from docqa.index.store import current_build

    (current_build(small_index) / "passages.jsonl").write_text("kapot\n", encoding="utf-8")
    at = app_at(monkeypatch, small_index, small_corpus)
    assert "kan niet worden geladen" in at.error[0].value and "checksum" not in at.error[0].value
    assert any("Technische melding" in c.value and "checksum" in c.value for c in at.caption)  # on a line of its own
    assert "docqa ingest" in at.code[0].value


def test_filters_narrow_each_other(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    at.sidebar.multiselect(key="f_docs").set_value(["alfa-jaarplan-2024"]).run()
    assert at.sidebar.multiselect(key="f_years").options == ["2024"]
    assert at.sidebar.multiselect(key="f_orgs").options == ["Dienst Alfa"]
    at.sidebar.multiselect(key="f_docs").set_value([]).run()
    at.sidebar.multiselect(key="f_years").set_value([2023]).run()
    assert at.sidebar.multiselect(key="f_docs").options == ["Jaarverslag 2023 (Beta, 2023)"]


def test_org_and_year_filters(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    assert at.sidebar.multiselect(key="f_orgs").options == ["Beta", "Dienst Alfa"]
    at.sidebar.multiselect(key="f_orgs").set_value(["Beta"])
    ask(at, "hoeveel medewerkers")
    assert set(card_docs(at)) == {"beta-verslag-2023"}
    at.sidebar.multiselect(key="f_orgs").set_value([])
    at.sidebar.multiselect(key="f_years").set_value([2024])
    ask(at, "hoeveel medewerkers")
    assert set(card_docs(at)[-1:]) == {"alfa-jaarplan-2024"}
    # both questions stay on the page, each with its own exports
    assert [e["question"] for e in at.session_state["history"]] == ["hoeveel medewerkers"] * 2
    assert len(at.download_button) == 6  # two per answer, two for the session


def test_html_in_question_and_documents_is_escaped(monkeypatch, tricky_index):
    corpus, index = tricky_index
    at = app_at(monkeypatch, index, corpus)
    at.sidebar.toggle(key="show_scores").set_value(True)
    ask(at, f"wachttijd Gamma {XSS}")
    page_html = "\n".join(markdown_values(at))
    assert "&#60;script&#62;alert(1)&#60;/script&#62;" in page_html  # the question, as text
    assert "Notitie &#60;script&#62;alert(2)" in page_html  # the title from the manifest
    assert "Gamma &#60;b&#62;vet&#60;/b&#62;" in page_html
    assert "gamma-notitie-2022" in card_docs(at)
    for value in markdown_values(at):
        assert not re.search(r"<\s*(script|img|iframe)", value, re.I), value
        assert "<b>vet" not in value
    # Markdown in the document text is not interpreted either
    assert "&#42;zes&#42;" in page_html and "&#36;5" in page_html and "&#95;&#95;niets&#95;&#95;" in page_html
    # no widget or element anywhere shows an exception
    assert not at.exception and not at.error


def test_scores_toggle_shows_ranks(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    ask(at, "beschikbaarheid portaalsite")
    assert not any("BM25 &#35;" in v for v in markdown_values(at))
    at.sidebar.toggle(key="show_scores").set_value(True).run()
    assert sum("BM25 &#35;" in v and "dense &#35;" in v for v in markdown_values(at)) == len(card_heads(at))


def test_modes_are_offered_and_used(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    assert at.sidebar.radio(key="mode").options == ["hybride (BM25 + dense)", "BM25 (woorden)", "dense (betekenis)"]
    at.sidebar.radio(key="mode").set_value("bm25")
    ask(at, "beschikbaarheid portaalsite")
    entry = at.session_state["history"][-1]
    assert entry["settings"]["mode"] == "bm25"
    assert all(h.dense_rank is None for h in entry["answer"].hits)


def test_pdf_passage_offers_download_at_page(monkeypatch, tricky_index):
    corpus, index = tricky_index
    at = app_at(monkeypatch, index, corpus)
    at.sidebar.multiselect(key="f_docs").set_value(["delta-rapport-2021"])
    ask(at, "hoeveel parkeervergunningen in Delta")
    assert any(b.label == "PDF downloaden (ga naar p. 1)" for b in at.download_button)
    assert any(c.value.endswith("p. 1-2") for c in at.code)


def test_pdf_outside_corpus_is_refused(monkeypatch, tricky_index, tmp_path):
    _, index = tricky_index
    other = tmp_path / "elsewhere"
    other.mkdir()
    at = app_at(monkeypatch, index, other)  # DOCQA_CORPUS no longer holds the indexed PDF
    at.sidebar.multiselect(key="f_docs").set_value(["delta-rapport-2021"])
    ask(at, "hoeveel parkeervergunningen in Delta")
    assert not any(b.label.startswith("PDF") for b in at.download_button)
    assert any("PDF niet beschikbaar" in c.value and "outside the corpus" in c.value for c in at.caption)


def test_abstention_shows_not_found_with_nearest_passages(monkeypatch, small_index, small_corpus):
    from docqa.engine import Engine
    from docqa.qa import answer as answer_mod

    def abstain(self, question, *, k=10, mode="hybrid", docs=(), orgs=(), years=()):
        hits = self.search(question, k=k, mode=mode, docs=docs, orgs=orgs, years=years).hits
        return answer_mod.Answer(question, "", True, "laag", {"reason": "test"}, (), hits, ())

    monkeypatch.setattr(Engine, "ask", abstain)
    at = app_at(monkeypatch, small_index, small_corpus)
    ask(at, "wat is de hoofdstad van Peru")
    values = markdown_values(at)
    assert f"<div><b>{answer_mod.NOT_FOUND}</b></div>" in values
    assert "**Dichtstbijzijnde passages**" in values and card_heads(at)
    assert "**Zekerheid:** laag" in values
    # in English the interface and the not-found text follow the toggle
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    values = markdown_values(at)
    assert "**Nearest passages**" in values and "**Confidence:** low" in values
    assert any(sup.not_found_text("en") in v for v in values)


def test_rebuilt_index_is_picked_up(monkeypatch, small_index, small_corpus, tmp_path):
    """After `docqa ingest` swaps in a new build the next run uses it; earlier answers on the page
    still render (without the context of documents the new build lacks)."""
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    at = app_at(monkeypatch, small_index, small_corpus)
    ask(at, "hoeveel medewerkers had Beta")
    assert "beta-verslag-2023" in card_docs(at)
    (small_corpus / "beta-verslag-2023.txt").unlink()
    build_index(small_corpus, small_index, make_encoder("hash"), cache_dir=tmp_path / "cache")
    ask(at, "beschikbaarheid portaalsite")
    assert not at.exception and len(at.session_state["history"]) == 2
    second = at.session_state["history"][1]["answer"]
    assert {h.passage.doc_id for h in second.hits} == {"alfa-jaarplan-2024"}


def test_english_toggle_keeps_settings(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    at.sidebar.slider(key="k").set_value(2)
    at.sidebar.multiselect(key="f_years").set_value([2024])
    at.run()
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert at.title[0].value == "docqa: ask the policy documents"
    assert at.sidebar.slider(key="k").value == 2
    assert at.sidebar.multiselect(key="f_years").value == [2024]
    assert at.chat_input[0].placeholder == "Ask a question about the documents…"


def test_documents_page_small(monkeypatch, tricky_index):
    corpus, index = tricky_index
    at = app_at(monkeypatch, index, corpus)
    at.sidebar.radio(key="page").set_value("docs").run()
    assert not at.exception
    rows = table_rows(at, "documents")
    assert [r["document"] for r in rows] == ["alfa-jaarplan-2024", "beta-verslag-2023", "delta-rapport-2021",
                                             "gamma-notitie-2022"]
    assert list(rows[0]) == ["document", "titel", "organisatie", "jaar", "soort", "passages"]
    assert all(int(r["passages"]) >= 1 for r in rows)
    # the file name stands under the document (the table has no column for it: it fits 1280 px)
    table = next(v for v in markdown_values(at) if 'data-table="documents"' in v)
    assert '<small style="opacity:0.7">alfa-jaarplan-2024.txt</small>' in table
    assert any("Index gebouwd op" in v and "hash-64" in v for v in markdown_values(at))


# -- pure helpers --------------------------------------------------------------------------------

def test_escape_makes_html_and_markdown_inert():
    out = sup.escape(f"a {XSS}\n\n# kop *x* [l](u) $y$ :red[z] &amp; \"q\"")
    assert "<" not in out and ">" not in out and "\n" not in out
    bare = re.sub(r"&#\d+;", "", out)  # the text outside the entities
    for ch in "*[]$#:\"&":
        assert ch not in bare
    assert out.startswith("a &#60;script&#62;alert(1)&#60;/script&#62; &#35; kop")
    assert "&#38;amp;" in out  # an entity in the text shows as typed


def test_highlight_nests_terms_in_answer_span():
    text = "Het budget is hoog. De norm is 99%. <b>Einde</b>"
    answer = (20, 35)  # "De norm is 99%."
    out = sup.highlight_html(text, [(4, 10), (23, 27)], answer)
    assert out == ("Het " + sup.TERM_OPEN + "budget" + sup.CLOSE + " is hoog. " + sup.ANSWER_OPEN + "De "
                   + sup.TERM_OPEN + "norm" + sup.CLOSE + " is 99%." + sup.CLOSE + " &#60;b&#62;Einde&#60;/b&#62;")
    # a term crossing the answer's edge is clipped on both sides, never overlapping tags
    out = sup.highlight_html("abcdef", [(1, 4)], (2, 6))
    assert out == ("a" + sup.TERM_OPEN + "b" + sup.CLOSE + sup.ANSWER_OPEN + sup.TERM_OPEN + "cd" + sup.CLOSE
                   + "ef" + sup.CLOSE)


def test_answer_html_marks_citations():
    assert sup.answer_html("a <i>b</i> [1] en [12]") == (
        "a &#60;i&#62;b&#60;/i&#62; <sup><b>&#91;1&#93;</b></sup> en <sup><b>&#91;12&#93;</b></sup>")


def test_md_escape():
    assert sup.md_escape("*a* <script> _b_ [c](d) `e`") == (
        r"\*a\* &lt;script&gt; \_b\_ \[c\]\(d\) \`e\`")


def test_safe_corpus_file(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    inside = corpus / "sub" / "doc.pdf"
    inside.write_bytes(b"%PDF")
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"secret")
    assert sup.safe_corpus_file(corpus, inside) == inside.resolve()
    assert sup.safe_corpus_file(corpus, "sub/doc.pdf") == inside.resolve()
    assert sup.safe_corpus_file(corpus, corpus / "sub" / ".." / "sub" / "doc.pdf") == inside.resolve()
    for bad in ["../secret.pdf", corpus / ".." / "secret.pdf", corpus / "sub/../../secret.pdf", secret,
                "/etc/passwd", corpus / "missing.pdf", corpus / "sub"]:
        with pytest.raises(ValueError):
            sup.safe_corpus_file(corpus, bad)
    # a symlink inside the corpus that leads out is refused; one that stays inside is fine
    (corpus / "link-out.pdf").symlink_to(secret)
    (corpus / "dir-out").symlink_to(tmp_path)
    (corpus / "link-in.pdf").symlink_to(inside)
    for bad in [corpus / "link-out.pdf", corpus / "dir-out" / "secret.pdf", "dir-out/secret.pdf"]:
        with pytest.raises(ValueError, match="outside the corpus"):
            sup.safe_corpus_file(corpus, bad)
    assert sup.safe_corpus_file(corpus, corpus / "link-in.pdf") == inside.resolve()
    # a corpus reached through a symlink is compared by its real path
    (tmp_path / "corpus-link").symlink_to(corpus)
    assert sup.safe_corpus_file(tmp_path / "corpus-link", inside) == inside.resolve()


def test_exports(small_index):
    from docqa.engine import Engine

    answer = Engine.open(small_index).ask("Hoeveel medewerkers had Beta eind 2023?", k=3)
    rows = list(csv.DictReader(io.StringIO(sup.export_csv(answer))))
    assert len(rows) == len(answer.hits) and tuple(rows[0]) == sup.CSV_FIELDS
    assert {r["question"] for r in rows} == {answer.question}
    assert all(r["reference"] and r["text"] for r in rows)
    cited = [r for r in rows if r["cited"]]
    assert len(cited) == len(answer.citations)
    for c in answer.citations:
        row = next(r for r in cited if r["cited"] == str(c.n))
        assert row["quote"] == c.quote and row["reference"] == c.reference()
    data = json.loads(sup.export_json(answer, {"mode": "hybrid", "k": 3}))
    assert data["question"] == answer.question and data["settings"] == {"mode": "hybrid", "k": 3}
    assert len(data["hits"]) == len(answer.hits)


def test_no_copies_of_the_corpus_in_the_app():
    """The app and its helpers hold no document text: everything comes from the index."""
    corpus = Path(os.environ.get("DOCQA_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
    if not corpus.is_dir():
        pytest.skip("no ../shared corpus")
    sources = APP.read_text(encoding="utf-8") + Path(sup.__file__).read_text(encoding="utf-8")
    for doc in corpus.glob("*.txt"):
        lines = [ln.strip() for ln in doc.read_text(encoding="utf-8").splitlines() if len(ln.strip()) > 60]
        assert not any(ln in sources for ln in lines[:200]), doc.name


def test_session_exports_signal_table_and_merged_cards(small_index):
    from docqa.engine import Engine

    engine = Engine.open(small_index)
    answer = engine.ask("Hoeveel medewerkers had Beta eind 2023?", k=5)
    rows = sup.signal_rows(answer.signals)
    assert rows and all(set(r) == {"signal", "value", "meaning"} for r in rows)
    history = [{"question": answer.question, "settings": {"k": 5}, "answer": answer, "error": None},
               {"question": "x", "settings": {}, "answer": None, "error": ("warning", "query_error", "lege vraag")}]
    md = sup.session_markdown(history)
    assert md.startswith("# docqa") and "## 1. Hoeveel medewerkers" in md and "lege vraag" in md
    for c in answer.citations:
        assert c.reference() in md and c.reference() in sup.all_references(answer)
    assert json.loads(sup.session_json(history))["session"][0]["answer"]["question"] == answer.question
    # a hit that repeats most of an earlier card of the same document is left out
    first = answer.hits[0]
    assert sup.distinct_hits([first, first]) == [first]


def test_older_answers_show_their_passages_on_request(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    for q in ("Hoeveel medewerkers had Beta?", "Wat was het budget van Beta?", "Welke norm heeft Alfa?",
              "Hoe snel worden storingen opgelost?"):
        ask(at, q)
    toggles = [t for t in at.toggle if t.key and t.key.startswith("more-")]
    assert [t.key for t in toggles] == ["more-1"]  # the latest three are shown in full
    cards_before = len(card_heads(at))
    toggles[0].set_value(True).run()
    assert len(card_heads(at)) > cards_before


def test_pdf_passage_shows_its_page_with_the_quote_marked(monkeypatch, tricky_index):
    corpus, index = tricky_index
    at = app_at(monkeypatch, index, corpus)
    at.sidebar.multiselect(key="f_docs").set_value(["delta-rapport-2021"])
    ask(at, "hoeveel parkeervergunningen in Delta")
    assert "Bekijk de pagina (p. 1)" in [e.label for e in at.expander]
    assert not at.get("image")  # rendered only once the expander is opened
    at.session_state["pv-q1-p0"] = True  # what opening it in the browser does
    at.run()
    assert not at.exception and len(at.get("image")) == 1
    # the cited sentence stands on p. 2 of the passage's pages 1-2: that page is shown, marked
    assert any(c.value.startswith("p. 2 van 2 · het geciteerde staat geel gemarkeerd") for c in at.caption)
    assert at.button(key="pv-next-q1-p0").disabled
    at.button(key="pv-prev-q1-p0").click().run()
    assert any(c.value.startswith("p. 1 van 2 · het citaat staat niet op deze pagina") for c in at.caption)
    assert any(b.label == "PDF downloaden (ga naar p. 1)" for b in at.download_button)  # kept


def test_text_passage_context_shows_numbered_source_lines(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    ask(at, "beschikbaarheid portaalsite")
    numbered = [v for v in markdown_values(at) if 'class="dq-line-no"' in v]
    assert numbered
    first = numbered[0]
    assert re.search(r'class="dq-line-no"[^>]*>5</span><b>De portaalsite van Alfa', first)


def test_signals_are_a_small_table_in_the_interface_language(monkeypatch, small_index, small_corpus):
    at = ask(app_at(monkeypatch, small_index, small_corpus), "Hoeveel medewerkers had Beta eind 2023?")
    rows = table_rows(at, "signals")
    names = {r["signaal"] for r in rows}
    assert {"gelijkenis", "woorden", "plaats"} <= names
    assert not names & {"dense", "lexical", "probability", "expected_type", "rank", "missing"}
    values = [r["waarde"] for r in rows]
    assert not any(re.fullmatch(r"\d+\.\d+", v) for v in values) and any(re.fullmatch(r"\d+,\d+", v) for v in values)
    assert next(r["waarde"] for r in rows if r["signaal"] == "gevraagd") == "getal"
    assert all(r["uitleg"] for r in rows)  # each says what it means
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert {"similarity", "words", "rank"} <= {r["signal"] for r in table_rows(at, "signals")}


def test_signal_values_and_reasons_in_dutch():
    rows = sup.signal_rows({"reason": "no number in the best sentence; the passage does not mention 2031",
                            "type": False, "margin": 0.25, "missing": ["2031"]})
    shown = {r["signal"]: r["value"] for r in rows}
    assert shown == {"reden": "geen getal in de beste zin; de passage noemt 2031 niet", "soort antwoord": "nee",
                     "voorsprong": "0,250", "ontbrekend jaar": "2031"}
    assert sup.signal_rows({"reason": "probability 0.12 below 0.3"})[0]["value"] == "kans 0,12 onder 0,3"
    other = sup.signal_rows({"reason": "the passage is from Beta and does not name Dienst Alfa"})[0]["value"]
    assert other == "de passage is van Beta en noemt Dienst Alfa niet"
    assert sup.signal_rows({"margin": 0.25}, "en")[0] == {"signal": "margin", "value": "0.250",
                                                          "meaning": "lead over the next quote"}


def test_table_html_escapes_wraps_and_marks_empty_cells():
    out = sup.table_html("t", ["a", "b <x>"], [[XSS, None], [("Dienst Alfa", "alfa.txt"), 12]], keys=["r<1>", "r2"])
    assert "<script>" not in out and "<img" not in out and "\n" not in out
    assert "<x>" not in out and html.unescape(out).count("<th>b <x></th>") == 1 and "<td>—</td>" in out
    assert '<td style="text-align:right;white-space:nowrap">12</td>' in out
    assert '<small style="opacity:0.7">alfa.txt</small>' in out and 'data-key="r<1>"' in html.unescape(out)


def test_uploader_css_states_the_apps_own_limit():
    from docqa.library import LibrarySettings

    css = sup.uploader_css(sup.TEXTS["nl"], "upload_file", 7)
    assert css.startswith('<style data-dq="uploader">') and css.count("<") == 2  # its own two tags only
    assert 'content: "Bestand kiezen"' in css and "hooguit 7 MB" in css and ".st-key-upload_file " in css
    assert "200" not in css and "MB per file" not in css
    assert sup.css_string('a"b\\c</style>') == '"a\\22 b\\5c c\\3c /style\\3e "'
    with pytest.raises(ValueError):
        sup.uploader_css(sup.TEXTS["nl"], "x} body {", 7)
    assert LibrarySettings().max_bytes % 2**20 == 0  # the form's whole megabytes are the library's limit


def test_overlapping_passages_show_their_shared_sentence_once():
    from types import SimpleNamespace

    doc = "Dienst Alfa meet elke week. De norm is 97,5%. Storingen gaan binnen vier uur weg. Dat kost 2 ton."
    at = doc.index

    def passage(start, end, doc_id="alfa"):
        return SimpleNamespace(doc_id=doc_id, text=doc[start:end], char_start=start, char_end=end)

    first, later = passage(0, at("Storingen") - 1), passage(at("De norm"), at(" Dat"))
    other_doc = passage(at("De norm"), at(" Dat"), "beta")
    a, b, c = sup.unrepeated_ranges([first, later, other_doc])
    assert a == (0, len(first.text)) and c == (0, len(other_doc.text))
    assert later.text[slice(*b)] == "Storingen gaan binnen vier uur weg."  # the shared sentence left out
    # its end shown above: the cut falls before the word it would split
    before = passage(at("elke"), at("is 97"))
    cut = sup.unrepeated_ranges([passage(at("norm"), len(doc)), before])[1]
    assert before.text[slice(*cut)] == "elke week. De"
    # its start shown above up to inside a word: the rest of that word is left out too
    after = passage(at("week"), at(" Dat"))
    cut = sup.unrepeated_ranges([passage(0, at("orm")), after])[1]
    assert after.text[slice(*cut)] == "is 97,5%. Storingen gaan binnen vier uur weg."
    assert sup.unrepeated_ranges([first, passage(at("Alfa"), at(" is"))])[1] == (0, 0)  # all shown above


def test_a_rebuild_shows_one_time_estimate_from_the_embedding_rate():
    ticks = iter([0.0, 0.5, 2.0, 3.0, 4.0, 5.0, 6.0])
    clock = sup.ProgressClock(window=2, now=lambda: next(ticks))
    assert clock.left("read", 3, 6) is None  # reading: no estimate
    assert clock.left("embed", 0, 400) is None  # the first embedding event starts the clock (t=0)
    assert clock.left("embed", 10, 400) is None  # not settled yet (t=0.5)
    assert clock.left("embed", 40, 400) == pytest.approx(18.0)  # 40 texts in 2 s: 360 more in 18 s
    assert clock.left("embed", 100, 400) == pytest.approx(300 * 2.5 / 90)  # the last two events' rate
    assert clock.left("embed", 200, 400) == pytest.approx(200 * 2.0 / 160)  # (t=2 to 4)
    fraction, text = sup.progress_step(sup.TEXTS["nl"], "embed", 100, 400, 6.0)
    assert 0.4 < fraction < 0.95 and text.endswith("· nog ongeveer 6 s")
    assert sup.progress_step(sup.TEXTS["nl"], "embed", 100, 400, 600)[1].endswith("nog ongeveer 10 min")
    assert sup.progress_step(sup.TEXTS["en"], "embed", 100, 400, None)[1].endswith("new texts")
    assert sup.progress_step(sup.TEXTS["nl"], "write", 1, 1, 3.0)[1] == "Klaar"
    # all files read: the bar says what comes next instead of standing on "7 van 7"
    assert sup.progress_step(sup.TEXTS["nl"], "read", 7, 7)[1] == "7 documenten gelezen; de woordindex bouwen…"
    assert sup.progress_step(sup.TEXTS["nl"], "read", 3, 7)[1] == "Documenten lezen: 3 van 7"


def test_filters_stand_only_where_they_act_and_are_kept(monkeypatch, small_index, small_corpus):
    at = app_at(monkeypatch, small_index, small_corpus)
    at.sidebar.multiselect(key="f_orgs").set_value(["Beta"]).run()
    at.sidebar.radio(key="page").set_value("docs").run()
    assert not at.sidebar.multiselect and not at.sidebar.slider  # the documents page: no search settings
    at.sidebar.radio(key="page").set_value("ask").run()
    assert at.sidebar.multiselect(key="f_orgs").value == ["Beta"]  # and kept for the way back


def test_references_wrap_instead_of_being_cut(monkeypatch, small_index, small_corpus):
    at = ask(app_at(monkeypatch, small_index, small_corpus), "Hoeveel medewerkers had Beta eind 2023?")
    references = [c for c in at.code if c.language in (None, "", "plaintext")]
    assert references and all(c.proto.wrap_lines for c in references), [c.proto for c in references]


def test_counts_in_messages_take_the_singular_for_one():
    nl, en = sup.TEXTS["nl"], sup.TEXTS["en"]
    assert sup.counted(nl, 1, "passage") == "1 passage" and sup.counted(nl, 3, "passage") == "3 passages"
    assert sup.counted(nl, 1, "document") == "1 document" and sup.counted(nl, 5, "document") == "5 documenten"
    assert sup.counted(en, 5, "document") == "5 documents"
    done = nl["add_done"].format(file="a.txt", doc_id="a", passages=sup.counted(nl, 1, "passage"),
                                 docs=sup.counted(nl, 6, "document"), embedded=1, seconds="0,5")
    assert "met 1 passage;" in done and "heeft nu 6 documenten." in done
