"""Pure helpers behind `app.py`: escaping and highlighting, references, exports, safe file access
and the interface texts. Nothing here imports Streamlit, so all of it is unit-tested directly.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

from docqa.config import safe_corpus_file  # noqa: F401 - the app uses it from here
from docqa.highlight import mark

# -- escaping and highlighting -------------------------------------------------------------------

# Characters that Streamlit's Markdown would still interpret after html.escape: emphasis, code,
# links, headings, tables, LaTeX ($), colour/emoji directives (:) and escapes. As numeric entities
# they render as themselves and cannot form Markdown.
_MARKDOWN_ENTITIES = {ch: f"&#{ord(ch)};" for ch in "<>&\"'\\`*_[]#|$~:"}
_WHITESPACE_RE = re.compile(r"\s+")
_MARKDOWN_RE = re.compile("[" + re.escape("".join(_MARKDOWN_ENTITIES)) + "]")

TERM_OPEN = '<mark style="background-color:#fde68a;color:inherit;padding:0 .1em">'
ANSWER_OPEN = ('<mark style="background-color:#bbf7d0;color:inherit;padding:0 .1em;'
               'border-bottom:2px solid #15803d">')
CLOSE = "</mark>"


def escape(text: str) -> str:
    """Document or user text as inert HTML for `st.markdown(..., unsafe_allow_html=True)`.

    White space is collapsed to single spaces: a blank line would end the surrounding HTML block
    and hand the rest to the Markdown parser. Every character HTML or Markdown could interpret
    becomes an entity (html.escape's set included), so `<script>` shows as text.
    """
    text = _WHITESPACE_RE.sub(" ", str(text))
    return _MARKDOWN_RE.sub(lambda m: _MARKDOWN_ENTITIES[m.group(0)], text)


def _clip(spans, lo: int, hi: int) -> list[tuple[int, int]]:
    """The parts of `spans` inside [lo, hi), shifted to start at lo."""
    return [(max(a, lo) - lo, min(b, hi) - lo) for a, b in spans if a < hi and b > lo]


def highlight_html(text: str, term_spans=(), answer_span: tuple[int, int] | None = None) -> str:
    """Escaped `text` with the query terms marked and the answer span (offsets into `text`) marked
    around them; the answer mark may hold term marks (nested <mark> is valid HTML)."""
    def marked(lo: int, hi: int) -> str:
        return mark(text[lo:hi], _clip(term_spans, lo, hi), TERM_OPEN, CLOSE, escape)

    if not answer_span or answer_span[1] <= answer_span[0]:
        return marked(0, len(text))
    a, b = max(0, answer_span[0]), min(len(text), answer_span[1])
    return marked(0, a) + ANSWER_OPEN + marked(a, b) + CLOSE + marked(b, len(text))


_MARKER_RE = re.compile(r"\[(\d+)\]")


def answer_html(answer_text: str) -> str:
    """The answer text escaped, with its citation markers "[n]" shown as bold superscripts."""
    out, pos = [], 0
    for m in _MARKER_RE.finditer(answer_text):
        out.append(escape(answer_text[pos:m.start()]))
        out.append(f"<sup><b>&#91;{m.group(1)}&#93;</b></sup>")
        pos = m.end()
    out.append(escape(answer_text[pos:]))
    return "".join(out)


def block(inner_html: str, style: str = "") -> str:
    """Wrap in one <div> on one line: CommonMark treats it as a raw HTML block, not Markdown."""
    return f'<div style="{style}">{inner_html}</div>' if style else f"<div>{inner_html}</div>"


# -- passages ------------------------------------------------------------------------------------

def passage_meta(passage) -> list[str]:
    """Title, organisation, year, section, page or lines: the parts that are known."""
    parts = [passage.title, passage.organisation, str(passage.year) if passage.year else "",
             passage.section, passage.location]
    return [p for p in parts if p]


def reference_for(hit) -> str:
    """The copyable reference of any retrieved passage, in the citations' format."""
    from docqa.qa.answer import reference

    return reference(hit.passage)


def is_pdf_passage(passage) -> bool:
    return passage.page is not None and str(passage.source_path).lower().endswith(".pdf")


def numbered_lines_html(lines) -> str:
    """Source lines as one block of escaped HTML: the line number, then the line; the passage's own
    lines in bold (`lines` are engine.SourceLine records)."""
    rows = []
    for line in lines:
        text = escape(line.text) or "&#160;"
        if line.in_passage:
            text = f"<b>{text}</b>"
        # a hanging indent: a long line wraps under its own text, not under the line numbers
        rows.append(f'<div style="padding-left:3.5em;text-indent:-3.5em"><span class="dq-line-no" style="display:'
                    f'inline-block;min-width:3.5em;text-indent:0;opacity:0.55;font-variant-numeric:tabular-nums">'
                    f'{line.number}</span>{text}</div>')
    return "".join(rows)


def distinct_hits(hits, overlap: float = 0.5) -> list:
    """The hits without those whose passage mostly repeats one shown before it (overlapping
    passages of one document hold the same sentences): cards that say the same thing once."""
    kept = []
    for hit in hits:
        p = hit.passage
        repeats = any(k.passage.doc_id == p.doc_id
                      and min(k.passage.char_end, p.char_end) - max(k.passage.char_start, p.char_start)
                      > overlap * (p.char_end - p.char_start) for k in kept)
        if not repeats:
            kept.append(hit)
    return kept



def unrepeated_ranges(passages) -> list[tuple[int, int]]:
    """For each passage in card order, the (start, end) of its text that no card before it shows
    already: overlapping passages of one document share a sentence or two (distinct_hits drops only
    those that mostly repeat), and a card should not show it twice. The cut falls between words; a
    passage whose text is all shown above gets an empty range."""
    shown: list[tuple[str, int, int]] = []  # (document, start, end) of what each card shows, in the document
    ranges = []
    for p in passages:
        text, lo, hi = p.text, 0, len(p.text)
        for doc, start, end in shown:
            if doc != p.doc_id:
                continue
            if start <= p.char_start + lo < end:  # its start is shown above
                lo = max(lo, end - p.char_start)
            if start < p.char_start + hi <= end:  # its end is shown above
                hi = min(hi, start - p.char_start)
        if 0 < lo < len(text) and not text[lo - 1].isspace():
            lo = next((i for i in range(lo, len(text)) if text[i].isspace()), len(text))  # past a cut word
        while lo < hi and text[lo].isspace():
            lo += 1
        if 0 < hi < len(text) and not text[hi].isspace():
            hi = next((i for i in range(hi, lo - 1, -1) if text[i].isspace()), lo)
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        lo, hi = (lo, hi) if lo < hi else (0, 0)
        ranges.append((lo, hi))
        if hi > lo:
            shown.append((p.doc_id, p.char_start + lo, p.char_start + hi))
    return ranges

SIGNAL_ORDER = ("probability", "score", "margin", "dense", "lexical", "type", "defines", "rank",
                "expected_type", "missing", "joined", "reason")

# What each signal of an answer (qa/answer.py) is called and means, per interface language.
SIGNAL_TEXTS = {
    "nl": {
        "probability": ("kans", "geschatte kans dat het citaat klopt"),
        "score": ("score", "totaalscore van de zin"),
        "margin": ("voorsprong", "voorsprong op het volgende citaat"),
        "dense": ("gelijkenis", "gelijkenis in betekenis van vraag en zin (dense)"),
        "lexical": ("woorden", "aandeel van de vraagwoorden in en rond de zin"),
        "type": ("soort antwoord", "de zin bevat het gevraagde soort antwoord"),
        "defines": ("definitie", "de zin definieert het gevraagde begrip"),
        "rank": ("plaats", "plaats van de passage in de zoekresultaten"),
        "expected_type": ("gevraagd", "het soort antwoord dat de vraag vraagt"),
        "missing": ("ontbrekend jaar", "jaren uit de vraag die de passage niet noemt"),
        "joined": ("extra citaten", "citaten uit andere passages achter het eerste"),
        "reason": ("reden", "waarom er geen antwoord is"),
    },
    "en": {
        "probability": ("probability", "estimated chance that the quote is right"),
        "score": ("score", "total score of the sentence"),
        "margin": ("margin", "lead over the next quote"),
        "dense": ("similarity", "similarity in meaning of question and sentence (dense)"),
        "lexical": ("words", "share of the question words in and around the sentence"),
        "type": ("answer type", "the sentence holds the kind of answer asked for"),
        "defines": ("definition", "the sentence defines the term asked about"),
        "rank": ("rank", "position of the passage in the results"),
        "expected_type": ("asked for", "the kind of answer the question asks for"),
        "missing": ("missing year", "years of the question the passage does not mention"),
        "joined": ("further quotes", "quotes of other passages after the first"),
        "reason": ("reason", "why there is no answer"),
    },
}
ANSWER_TYPES_NL = {"number": "getal", "percent": "percentage", "money": "bedrag", "date": "datum", "name": "naam"}
# qa/answer.py's reasons for abstaining, in Dutch: (pattern, replacement)
REASONS_NL = (
    (re.compile(r"^no passages$"), "geen passages"),
    (re.compile(r"^no (\w+) in the best sentence$"),
     lambda m: f"geen {ANSWER_TYPES_NL.get(m.group(1), m.group(1))} in de beste zin"),
    (re.compile(r"^the passage does not mention (.+)$"), lambda m: f"de passage noemt {m.group(1)} niet"),
    (re.compile(r"^the best sentence names no person$"), "de beste zin noemt geen persoon"),
    (re.compile(r"^the best sentence is about (.+), not (.+)$"),
     lambda m: f"de beste zin gaat over {m.group(1)}, niet {m.group(2)}"),
    (re.compile(r"^the question asks for a whole year, the best sentence gives (.+)$"),
     lambda m: f"de vraag gaat over een heel jaar, de beste zin over {m.group(1)}"),
    (re.compile(r"^the passage is from (.+) and does not name (.+)$"),
     lambda m: f"de passage is van {m.group(1)} en noemt {m.group(2)} niet"),
    (re.compile(r"^probability ([\d.]+) below ([\d.]+)$"),
     lambda m: f"kans {m.group(1).replace('.', ',')} onder {m.group(2).replace('.', ',')}"),
)


def _reason_nl(reason: str) -> str:
    parts = []
    for part in reason.split("; "):
        for pattern, dutch in REASONS_NL:
            if pattern.match(part):
                part = pattern.sub(dutch, part)
                break
        parts.append(part)
    return "; ".join(parts)


def signal_rows(signals: dict, lang: str = "nl") -> list[dict]:
    """The signals behind an answer as rows of a small table (not raw JSON): name, value and what
    it means, in the interface's language (Dutch decimal commas, Dutch answer types and reasons)."""
    texts, nl = SIGNAL_TEXTS[lang], lang == "nl"
    keys = [k for k in SIGNAL_ORDER if k in signals] + sorted(k for k in signals if k not in SIGNAL_ORDER
                                                              and k != "message")

    def shown(key, v):
        if isinstance(v, bool):
            return ("ja" if v else "nee") if nl else ("yes" if v else "no")
        if isinstance(v, float):
            return f"{v:.3f}".replace(".", ",") if nl else f"{v:.3f}"
        if isinstance(v, (list, tuple)):
            return ", ".join(map(str, v)) or "—"
        if v is None:
            return "—"
        if nl and key == "expected_type":
            return ANSWER_TYPES_NL.get(v, v)
        if nl and key == "reason":
            return _reason_nl(str(v))
        return str(v)
    return [{"signal": texts.get(k, (k, ""))[0], "value": shown(k, signals[k]), "meaning": texts.get(k, (k, ""))[1]}
            for k in keys]


def table_html(kind: str, headers: list[str], rows: list[list], keys: list[str] | None = None) -> str:
    """A small table as one line of escaped HTML (for st.markdown with unsafe_allow_html): its cells
    wrap, so nothing is cut (st.dataframe cuts long cells and adds an English toolbar); numbers
    align right, an empty cell shows "—", a (text, note) pair shows the note small under the text.
    `keys` marks each row (`data-key`) for tests and styling."""
    def cell(v) -> str:
        if isinstance(v, tuple):  # (text, a second line in small print)
            return f'<td>{escape(v[0])}<br><small style="opacity:0.7">{escape(v[1])}</small></td>'
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f'<td style="text-align:right;white-space:nowrap">{escape(str(v))}</td>'
        return f"<td>{escape('—' if v is None or v == '' else str(v))}</td>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        (f'<tr data-key="{escape(keys[i])}">' if keys else "<tr>") + "".join(cell(v) for v in row) + "</tr>"
        for i, row in enumerate(rows))
    # words break at spaces and hyphens only; a window too narrow for that scrolls the table sideways
    return (f'<div style="overflow-x:auto"><table class="dq-table" data-table="{escape(kind)}" style="width:100%">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def all_references(answer) -> str:
    """Every reference of an answer, one a line, numbered as in the answer: to paste at once."""
    return "\n".join(f"[{c.n}] {c.reference()}" for c in answer.citations)


def session_markdown(history: list[dict]) -> str:
    """The session's questions, answers and references as Markdown (the export "sessie")."""
    lines = ["# docqa: vragen en antwoorden", ""]
    for n, entry in enumerate(history, 1):
        lines += [f"## {n}. {entry['question']}", ""]
        answer = entry.get("answer")
        if answer is None:
            lines += [f"_fout: {entry['error'][2] if entry.get('error') else '?'}_", ""]
            continue
        if answer.abstained:
            lines += [f"_{answer.signals.get('message', 'Geen antwoord gevonden in de documenten')}_", ""]
        else:
            lines += [answer.answer, "", f"Zekerheid: {answer.confidence}"
                      + (f" (kans {answer.probability:.2f})" if answer.probability is not None else ""), ""]
            lines += [f"- [{c.n}] {c.reference()}: \"{c.quote}\"" for c in answer.citations] + [""]
    return "\n".join(lines)


def session_json(history: list[dict]) -> str:
    rows = [{"question": e["question"], "settings": e["settings"],
             **({"answer": e["answer"].to_json()} if e.get("answer") is not None else {"error": e["error"][2]})}
            for e in history]
    return json.dumps({"session": rows}, ensure_ascii=False, indent=2)


# -- exports -------------------------------------------------------------------------------------

CSV_FIELDS = ("question", "answer", "abstained", "confidence", "rank", "cited", "quote", "reference",
              "doc", "title", "organisation", "year", "section", "location", "score", "bm25_rank",
              "bm25_score", "dense_rank", "dense_score", "text")


def export_rows(answer) -> list[dict]:
    """One row per retrieved passage, with the answer repeated and the citation (if any) filled."""
    cited = {c.hit.passage.chunk_id: c for c in answer.citations}
    rows = []
    for hit in answer.hits:
        p, c = hit.passage, cited.get(hit.passage.chunk_id)
        rows.append({
            "question": answer.question, "answer": answer.answer, "abstained": answer.abstained,
            "confidence": answer.confidence, "rank": hit.rank, "cited": c.n if c else "",
            "quote": c.quote if c else "", "reference": c.reference() if c else reference_for(hit),
            "doc": p.doc_id, "title": p.title, "organisation": p.organisation, "year": p.year or "",
            "section": p.section, "location": p.location, "score": round(hit.score, 6),
            "bm25_rank": hit.bm25_rank or "", "bm25_score": _num(hit.bm25_score),
            "dense_rank": hit.dense_rank or "", "dense_score": _num(hit.dense_score),
            "text": " ".join(p.text.split()),
        })
    return rows


def _num(x) -> float | str:
    return "" if x is None else round(float(x), 6)


# A cell that begins with one of these is a formula to a spreadsheet program (OWASP's CSV injection
# rule): `=HYPERLINK(...)` in a document title would run when the export is opened.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value safe to open in a spreadsheet: text that starts like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(answer) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in export_rows(answer))
    return buf.getvalue()


def export_json(answer, settings: dict | None = None) -> str:
    data = answer.to_json()
    if settings is not None:
        data["settings"] = settings
    return json.dumps(data, ensure_ascii=False, indent=2)


# -- documents -----------------------------------------------------------------------------------

def document_rows(engine) -> list[dict]:
    return [{"doc_id": d["doc_id"], "title": d["title"], "organisation": d["organisation"], "year": d["year"],
             "kind": d["kind"], "passages": d["passages"], "file": Path(d["path"]).name}
            for d in engine.documents()]


# -- your own documents ---------------------------------------------------------------------------

# The share of the one progress bar each phase of a rebuild fills: reading every file, embedding
# the new texts (passages and answer units), writing the build.
PROGRESS_SPANS = {"read": (0.0, 0.4), "embed": (0.4, 0.95), "write": (0.95, 1.0)}


def counted(T: dict, n: int, what: str) -> str:
    """"1 passage", "3 passages", "1 document", "5 documenten": `what` is "passage" or "document"."""
    return T[f"n_{what}" if n == 1 else f"n_{what}s"].format(n=n)


def progress_step(T: dict, phase: str, done: int, total: int, left: float | None = None) -> tuple[float, str]:
    """(fraction of the bar, its text) for a library progress event; `left` is the estimated
    seconds still to go (ProgressClock), shown when known."""
    lo, hi = PROGRESS_SPANS.get(phase, (0.0, 1.0))
    share = min(1.0, max(0.0, done / total)) if total else 1.0
    text = T["prog_write"] if phase == "write" else T[f"prog_{phase}"].format(done=done, total=total)
    if phase == "write" and done >= total:
        text = T["prog_done"]
    elif phase == "read" and total and done >= total:  # then the word index is built, for seconds
        text = T["prog_read_done"].format(total=total)
    elif left is not None:
        text += " · " + (T["prog_left_s"].format(n=max(1, round(left))) if left < 90
                         else T["prog_left_min"].format(n=round(left / 60)))
    return lo + (hi - lo) * share, text


class ProgressClock:
    """One time estimate for a rebuild: from the rate at which the new texts are embedded, the phase
    that takes the time (reading every file and writing the build take seconds). The rate is that of
    the last `window` events: the first batch also loads the model, and the long passages come before
    the short answer units, so the rate since the start would overestimate for long. None until the
    embedding has run for `settle` seconds, and outside it."""

    def __init__(self, settle: float = 1.0, window: int = 4, now=None):
        import time
        from collections import deque

        self.settle, self.now = settle, now or time.monotonic
        self.events: deque[tuple[float, int]] = deque(maxlen=window + 1)  # (when, done) of the latest events
        self.started: float | None = None

    def left(self, phase: str, done: int, total: int) -> float | None:
        if phase != "embed" or not total:
            return None
        now = self.now()
        self.started = now if self.started is None else self.started
        self.events.append((now, done))
        (since, first), settled = self.events[0], now - self.started >= self.settle
        if not settled or done <= first or now <= since:
            return None
        return (now - since) / (done - first) * max(0, total - done)


# The readers' reasons (ingest/readers.py, ingest/budget.py, docqa/library.py) in Dutch, by their start.
READER_REASONS_NL = (
    ("empty file", "het bestand is leeg"),
    ("no text layer", "de PDF heeft geen tekstlaag (een scan of alleen afbeeldingen); laat er eerst OCR op los"),
    ("damaged or not a PDF", "de PDF is beschadigd of geen PDF"),
    ("encrypted PDF", "de PDF is versleuteld; ontsleutel hem eerst"),
    ("text operators present", "de tekst van de PDF kan niet worden uitgelezen; druk hem opnieuw af als PDF"),
    ("not a text file", "het is geen tekstbestand (binaire inhoud)"),
    ("no text left after cleaning", "er blijft geen tekst over om te indexeren"),
    ("no text to index", "er blijft geen tekst over om te indexeren"),
    ("file too large", "het bestand is te groot"),
    ("reading took over", "het lezen duurde langer dan de tijdsgrens per bestand"),
    ("reading needed more than", "het lezen vroeg meer geheugen dan de grens per bestand"),
)


def library_error_text(T: dict, exc) -> tuple[str, str | None]:
    """(message, technical detail or None) for a LibraryError or another DocqaError from an add or a
    remove, in the interface's language; each one language (the detail is the library's English)."""
    from docqa.index.store import IndexBusyError

    code, params = getattr(exc, "code", None), getattr(exc, "params", {})
    file = params.get("file", "")
    if T["lang"] == "en":
        return str(exc), None
    if isinstance(exc, IndexBusyError):
        return T["lib_index_busy"], None
    if code == "content":
        kind = "pdf" if str(file).lower().endswith(".pdf") else "txt"
        return T[f"lib_content_{kind}"].format(file=file), None
    if code == "size":
        return T["lib_size"].format(file=file, size=f"{params['size'] / 2**20:.1f}".replace(".", ","),
                                    limit=f"{params['limit'] / 2**20:.0f}"), None
    if code == "metadata":
        return T[f"lib_meta_{params.get('field', 'year')}"].format(**params), None
    if code == "unreadable":
        reason = str(params.get("reason", ""))
        dutch = next((nl for start, nl in READER_REASONS_NL if reason.startswith(start)), None)
        if dutch:
            return T["lib_unreadable"].format(file=file, reason=dutch), None
        return T["lib_unreadable_other"].format(file=file), T["lib_detail"].format(msg=reason)
    if code in ("type", "empty", "exists", "duplicate", "busy", "manifest", "missing", "outside", "last", "build"):
        return T[f"lib_{code}"].format(**params), (T["lib_detail"].format(msg=str(exc))
                                                   if code in ("manifest", "build") else None)
    return T["lib_other"], T["lib_detail"].format(msg=str(exc))


def build_command(corpus_dir, index_dir) -> str:
    return f"docqa ingest --corpus {corpus_dir} --index {index_dir}"


# -- interface texts -----------------------------------------------------------------------------

TEXTS = {
    "nl": {
        "lang": "nl", "title": "docqa: vragen aan beleidsdocumenten",
        "page": "Pagina", "page_ask": "Vragen", "page_docs": "Documenten",
        "filters": "Filters", "f_docs": "Documenten", "f_orgs": "Organisaties", "f_years": "Jaren",
        "mode": "Zoekmethode", "k": "Aantal passages", "show_scores": "Toon BM25- en dense-rang en score",
        "mode_hybrid": "hybride (BM25 + dense)", "mode_bm25": "BM25 (woorden)", "mode_dense": "dense (betekenis)",
        "chat": "Stel een vraag over de documenten…",
        "intro": "Stel een vraag in het vak onderaan. Voorbeeld: _welke norm geldt voor beschikbaarheid "
                 "Suwinet_. Elk antwoord is een letterlijk citaat met bronvermelding.",
        "confidence": "Zekerheid", "conf_hoog": "hoog", "conf_middel": "middel", "conf_laag": "laag",
        "signals": "Waarop de zekerheid berust", "col_signal": "signaal", "col_value": "waarde",
        "col_meaning": "uitleg",
        "all_refs": "Alle bronvermeldingen van dit antwoord (kopieer)",
        "session": "Sessie exporteren", "session_md": "Sessie als Markdown", "session_json": "Sessie als JSON",
        "no_filter_match": "Geen passages voldoen aan deze filters samen; maak ze ruimer.",
        "not_found_near": "Dichtstbijzijnde passages",
        "passages": "Gevonden passages", "cited": "geciteerd",
        "context": "Tekst eromheen in het document", "reference": "Bronvermelding (kopieer)",
        "pdf": "PDF downloaden (ga naar p. {page})", "pdf_refused": "PDF niet beschikbaar: {reason}",
        "page_view": "Bekijk de pagina (p. {page})", "page_prev": "← Vorige pagina", "page_next": "Volgende pagina →",
        "page_of": "p. {page} van {count}", "page_marked": "het geciteerde staat geel gemarkeerd",
        "page_unmarked": "het citaat staat niet op deze pagina", "page_unmatched": "het citaat is op deze pagina "
        "niet teruggevonden in de tekst van de PDF", "page_refused": "Pagina niet beschikbaar: {reason}",
        "page_alt": "Pagina {page} van {title}",
        "page_split": "het citaat loopt van p. {first} door op p. {last}",
        "line_no": "r.",
        "export_csv": "Exporteer CSV", "export_json": "Exporteer JSON",
        "empty": "Lege vraag: typ een vraag of een paar zoekwoorden.",
        "query_error": "Deze vraag kan zo niet worden gezocht.",
        "filters_used": "filters", "elapsed": "antwoord in {s} s", "decimal": ",", "choose": "Kies…",
        "scores": "score {score:.4f} · BM25 #{br} ({bs}) · dense #{dr} ({ds})",
        "no_index": "Er is nog geen index op {index}. Bouw hem eerst met een van deze opdrachten en laad "
                    "de pagina daarna opnieuw:",
        "index_problem": "De index op {index} kan niet worden geladen.",
        "unexpected": "Er ging iets mis bij het beantwoorden. Probeer het opnieuw.",
        "loading": "Index en model laden…",
        "docs_head": "Geïndexeerde documenten",
        "n_passage": "{n} passage", "n_passages": "{n} passages", "n_document": "{n} document",
        "n_documents": "{n} documenten",
        "built": "Index gebouwd op {created} met {encoder}; {docs}, {passages}.",
        "skipped": "Overgeslagen bij het indexeren",
        "col_doc_id": "document", "col_title": "titel", "col_organisation": "organisatie", "col_year": "jaar",
        "col_kind": "soort", "col_passages": "passages", "col_file": "bestand",
        "add_head": "Document toevoegen", "add_intro": "Een eigen .pdf- of .txt-bestand (met tekst; een scan "
        "heeft eerst OCR nodig). Het komt in de corpusmap {corpus}; daarna wordt de index opnieuw gebouwd en kunt "
        "u er meteen vragen over stellen. Alleen de nieuwe teksten worden ge-embed.",
        "add_file": "Bestand (.pdf of .txt)", "add_title": "Titel (optioneel)",
        "add_org": "Organisatie (optioneel)", "add_year": "Jaar (optioneel)",
        "add_button": "Toevoegen en indexeren", "add_no_file": "Kies eerst een bestand.",
        "up_button": "Bestand kiezen", "up_hint": "of sleep het hierheen · PDF of TXT, hooguit {mb} MB",
        "up_drop": "Laat het bestand hier los", "up_refused": "Dit bestand kan niet worden toegevoegd: alleen "
        ".pdf of .txt, hooguit {mb} MB.",
        "add_done": "{file} is toegevoegd als document '{doc_id}' met {passages}; de index heeft nu {docs}. "
                    "De index is opnieuw gebouwd; alleen {embedded} nieuwe teksten zijn ge-embed, de "
                    "rest kwam uit de cache ({seconds} s).",
        "add_renamed": "De bestandsnaam is veilig gemaakt: opgeslagen als {name}.",
        "add_warning": "Let op bij {file}: het lezen gaf een waarschuwing.",
        "del_head": "Document verwijderen", "del_choose": "Document", "del_button": "Verwijderen…",
        "del_confirm": "Weet u zeker dat u '{doc_id}' ({file}) wilt verwijderen? Het bestand en zijn metadata "
                       "gaan uit de corpusmap en de index wordt opnieuw gebouwd.",
        "del_yes": "Ja, verwijderen", "del_no": "Annuleren",
        "del_done": "'{doc_id}' is verwijderd; de index heeft nu {docs} ({seconds} s).",
        "prog_read": "Documenten lezen: {done} van {total}",
        "prog_embed": "Passages en antwoordeenheden embedden: {done} van {total} nieuwe teksten",
        "prog_write": "Index schrijven…", "prog_done": "Klaar",
        "prog_left_s": "nog ongeveer {n} s", "prog_left_min": "nog ongeveer {n} min",
        "prog_read_done": "{total} documenten gelezen; de woordindex bouwen…",
        "lib_type": "{file} is geweigerd: alleen .pdf- en .txt-bestanden kunnen worden toegevoegd.",
        "lib_empty": "{file} is geweigerd: het bestand is leeg.",
        "lib_size": "{file} is geweigerd: het is {size} MB en de grens is {limit} MB.",
        "lib_content_pdf": "{file} is geweigerd: het is geen PDF (het begint niet met %PDF).",
        "lib_content_txt": "{file} is geweigerd: het is geen UTF-8-tekst; sla het op als UTF-8.",
        "lib_exists": "{file} is geweigerd: er is al een document '{doc_id}' ({existing}). Verwijder dat eerst "
                      "of geef het bestand een andere naam.",
        "lib_duplicate": "{file} is geweigerd: het heeft dezelfde inhoud als {existing}, dat al in de corpusmap staat.",
        "lib_meta_title": "De titel is te lang: hooguit {limit} tekens.",
        "lib_meta_organisation": "De organisatie is te lang: hooguit {limit} tekens.",
        "lib_meta_year": "Het jaar moet een geheel getal van {low} tot {high} zijn.",
        "lib_unreadable": "{file} is geweigerd: {reason}.",
        "lib_unreadable_other": "{file} is geweigerd: het bestand kan niet worden gelezen.",
        "lib_busy": "Er wordt al een document toegevoegd of verwijderd; probeer het zo opnieuw.",
        "lib_index_busy": "De index wordt al door een ander proces gebouwd; probeer het zo opnieuw.",
        "lib_manifest": "manifest.toml in de corpusmap kan niet veilig worden aangepast; pas het met de hand aan.",
        "lib_missing": "Het document '{doc_id}' staat niet (meer) in de corpusmap.",
        "lib_outside": "{file} staat in een map die van buiten de corpusmap is gekoppeld; verwijder het daar met de "
                       "hand.",
        "lib_last": "'{doc_id}' is het enige document; een index heeft er minstens één nodig. Voeg eerst een "
                    "ander document toe.",
        "lib_build": "De index kon niet opnieuw worden gebouwd; er is niets veranderd.",
        "lib_other": "Dit lukte niet; er is niets veranderd.",
        "lib_detail": "Technische melding: {msg}",
        "notice": "Let op: {msg}",
        "show_more": "Toon de passages en exports",
        "none": "—",
    },
    "en": {
        "lang": "en", "title": "docqa: ask the policy documents",
        "page": "Page", "page_ask": "Ask", "page_docs": "Documents",
        "filters": "Filters", "f_docs": "Documents", "f_orgs": "Organisations", "f_years": "Years",
        "mode": "Retrieval mode", "k": "Number of passages", "show_scores": "Show BM25 and dense rank and score",
        "mode_hybrid": "hybrid (BM25 + dense)", "mode_bm25": "BM25 (words)", "mode_dense": "dense (meaning)",
        "chat": "Ask a question about the documents…",
        "intro": "Ask a question in the box below. Example: _welke norm geldt voor beschikbaarheid Suwinet_. "
                 "Every answer is a verbatim quote with its source (the documents are in Dutch).",
        "confidence": "Confidence", "conf_hoog": "high", "conf_middel": "medium", "conf_laag": "low",
        "signals": "What the confidence rests on", "col_signal": "signal", "col_value": "value",
        "col_meaning": "explanation",
        "all_refs": "All references of this answer (copy)",
        "session": "Export the session", "session_md": "Session as Markdown", "session_json": "Session as JSON",
        "no_filter_match": "No passages match these filters together; widen them.",
        "not_found_near": "Nearest passages",
        "passages": "Retrieved passages", "cited": "cited",
        "context": "Surrounding text in the document", "reference": "Reference (copy)",
        "pdf": "Download PDF (go to p. {page})", "pdf_refused": "PDF not available: {reason}",
        "page_view": "View the page (p. {page})", "page_prev": "← Previous page", "page_next": "Next page →",
        "page_of": "p. {page} of {count}", "page_marked": "the quoted text is marked in yellow",
        "page_unmarked": "the quote is not on this page", "page_unmatched": "the quote was not found in the "
        "PDF's text of this page", "page_refused": "Page not available: {reason}",
        "page_alt": "Page {page} of {title}",
        "page_split": "the quote runs from p. {first} on to p. {last}",
        "line_no": "l.",
        "export_csv": "Export CSV", "export_json": "Export JSON",
        "empty": "Empty question: type a question or a few search words.",
        "query_error": "This question cannot be searched like this.",
        "filters_used": "filters", "elapsed": "answered in {s} s", "decimal": ".", "choose": "Choose…",
        "scores": "score {score:.4f} · BM25 #{br} ({bs}) · dense #{dr} ({ds})",
        "no_index": "There is no index at {index} yet. Build it with one of these commands, then reload "
                    "this page:",
        "index_problem": "The index at {index} cannot be loaded.",
        "unexpected": "Something went wrong while answering. Please try again.",
        "loading": "Loading the index and the model…",
        "docs_head": "Indexed documents",
        "n_passage": "{n} passage", "n_passages": "{n} passages", "n_document": "{n} document",
        "n_documents": "{n} documents",
        "built": "Index built on {created} with {encoder}; {docs}, {passages}.",
        "skipped": "Skipped while indexing",
        "col_doc_id": "document", "col_title": "title", "col_organisation": "organisation", "col_year": "year",
        "col_kind": "kind", "col_passages": "passages", "col_file": "file",
        "add_head": "Add a document", "add_intro": "A .pdf or .txt file of your own (with text; a scan needs OCR "
        "first). It goes into the corpus folder {corpus}; the index is then rebuilt and you can ask about it "
        "right away. Only the new texts are embedded.",
        "add_file": "File (.pdf or .txt)", "add_title": "Title (optional)",
        "add_org": "Organisation (optional)", "add_year": "Year (optional)",
        "add_button": "Add and index", "add_no_file": "Choose a file first.",
        "up_button": "Choose a file", "up_hint": "or drop it here · PDF or TXT, at most {mb} MB",
        "up_drop": "Drop the file here", "up_refused": "This file cannot be added: only .pdf or .txt, at most "
        "{mb} MB.",
        "add_done": "{file} was added as document '{doc_id}' with {passages}; the index now holds {docs}. "
                    "The index was rebuilt; only {embedded} new texts were embedded, the rest came "
                    "from the cache ({seconds} s).",
        "add_renamed": "The file name was made safe: stored as {name}.",
        "add_warning": "Note on {file}: reading it gave a warning.",
        "del_head": "Remove a document", "del_choose": "Document", "del_button": "Remove…",
        "del_confirm": "Remove '{doc_id}' ({file})? The file and its metadata leave the corpus folder and the "
                       "index is rebuilt.",
        "del_yes": "Yes, remove", "del_no": "Cancel",
        "del_done": "'{doc_id}' was removed; the index now holds {docs} ({seconds} s).",
        "prog_read": "Reading documents: {done} of {total}",
        "prog_embed": "Embedding passages and answer units: {done} of {total} new texts",
        "prog_write": "Writing the index…", "prog_done": "Done",
        "prog_left_s": "about {n} s left", "prog_left_min": "about {n} min left",
        "prog_read_done": "{total} documents read; building the word index…",
        "lib_other": "This did not work; nothing was changed.",
        "lib_detail": "Technical message: {msg}",
        "notice": "Note: {msg}",
        "show_more": "Show the passages and exports",
        "none": "—",
    },
}


def not_found_text(lang: str) -> str:
    from docqa.qa.answer import NOT_FOUND, NOT_FOUND_EN

    return NOT_FOUND_EN if lang == "en" else NOT_FOUND


_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]{}()#+\-.!|$~:>])")


def md_escape(text: str) -> str:
    """Text for Streamlit elements that render Markdown without HTML (st.error, st.warning...):
    HTML-escaped and every Markdown punctuation backslash-escaped, so it shows as typed."""
    return _MD_SPECIAL_RE.sub(r"\\\1", html.escape(str(text), quote=False))


def css_string(text: str) -> str:
    """`text` as a quoted CSS string (for `content:`): quotes, backslashes, line breaks and `<` escaped."""
    return '"' + "".join(f"\\{ord(ch):x} " if ch in '"\\<>\n\r' else ch for ch in text) + '"'


# Streamlit's file uploader has no setting for its own words (1.67: an "Upload" button, "20MB per
# file • PDF, TXT", "Drag and drop a file here" while dragging, and an English tooltip on a file it
# refuses by type or size): they are hidden and drawn again from the interface's texts. Selectors by
# data-testid and structure only (the emotion class names change with every Streamlit build);
# tests/test_app_library_browser.py checks the result in Chromium.
UPLOADER_CSS = """<style data-dq="uploader">
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{font-size: 0}}
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after
  {{content: {button}; font-size: 0.875rem}}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span {{font-size: 0}}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span::after {{content: {hint}; font-size: 0.875rem}}
.st-key-{key} [data-testid="stFileUploaderDropzone"] > input + div:not(:has([data-testid])) > span {{font-size: 0}}
.st-key-{key} [data-testid="stFileUploaderDropzone"] > input + div:not(:has([data-testid])) > span::after
  {{content: {drop}; font-size: 1rem}}
[data-testid="stTooltipErrorContent"] {{font-size: 0}}
[data-testid="stTooltipErrorContent"]::after {{content: {refused}; font-size: 0.875rem}}
</style>"""


def uploader_css(T: dict, key: str, limit_mb: int) -> str:
    """The style sheet that puts the interface's words into the uploader `key` (UPLOADER_CSS);
    `limit_mb` is the size the app itself accepts (docqa.library.LibrarySettings.max_bytes)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        raise ValueError(f"widget key {key!r}: letters, digits, _ and - only")
    return UPLOADER_CSS.format(key=key, button=css_string(T["up_button"]),
                               hint=css_string(T["up_hint"].format(mb=limit_mb)),
                               drop=css_string(T["up_drop"]), refused=css_string(T["up_refused"].format(mb=limit_mb)))


def scroll_script(entry: int) -> str:
    """A script that brings answer `entry`'s question (its `.dq-entry` anchor) to the top of the view.

    It runs in the page (st.html with JavaScript) after the rerun drew the answer. Streamlit's chat
    view sticks to the bottom while elements arrive, until the user scrolls: a `wheel` event on its
    scroll container is what releases it, so one is sent before each scroll. Elements still arriving
    can pull the view down again, so it keeps the question at the top until it has stayed there for
    a second (at most four), and stops at once when the user scrolls, clicks or types."""
    return f"""<script data-dq="scroll">
(() => {{
  const doc = (window.parent || window).document;
  let tries = 0, settled = 0, user = false;
  const kinds = ["wheel", "pointerdown", "keydown", "touchstart"];
  const stop = (e) => {{ if (e.isTrusted) user = true; }};  // not the script's own wheel event
  const done = () => kinds.forEach((kind) => doc.removeEventListener(kind, stop, true));
  kinds.forEach((kind) => doc.addEventListener(kind, stop, {{capture: true, passive: true}}));
  const step = () => {{
    if (user) return done();
    const anchor = doc.querySelector('.dq-entry[data-entry="{int(entry)}"]');
    if (anchor) {{
      const target = anchor.closest('[data-testid="stChatMessage"]') || anchor;
      const top = target.getBoundingClientRect().top;
      if (top > -5 && top < 120) {{
        settled += 1;
      }} else {{
        settled = 0;
        const box = doc.querySelector('[data-testid="stAppScrollToBottomContainer"]');
        if (box) box.dispatchEvent(new WheelEvent("wheel", {{deltaY: -1, bubbles: true}}));
        target.scrollIntoView({{block: "start"}});
      }}
    }}
    if (settled < 10 && ++tries < 40) setTimeout(step, 100); else done();
  }};
  step();
}})();
</script>"""
