"""docqa in the browser: `streamlit run app.py` (or `docqa app`, or `make run`).

The app offers what the CLI offers: cited answers (`docqa ask`) with their passages (`docqa search`),
claim checks sentence by sentence (`docqa check`, the page "Bewering controleren"), filters,
retrieval modes, the surrounding text (`docqa context`), the document list (`docqa docs`)
and JSON/CSV export. The interface is Dutch with an English toggle; the documents stay Dutch.

Safety: every piece of document or user text goes through `app_support.escape` (html.escape plus
Markdown characters as entities) before any markup is added, and only such strings are passed to
`st.markdown(..., unsafe_allow_html=True)`.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import streamlit as st

from docqa import config
from docqa.app_claims import CLAIM_TEXTS, claim_head_html, detail_rows, quote_html, split_claims
from docqa.app_support import (TEXTS, all_references, answer_html, block, build_command, counted, distinct_hits,
                               document_rows, escape, export_csv, export_json, highlight_html, is_pdf_passage,
                               library_error_text, md_escape, not_found_text, numbered_lines_html, passage_meta,
                               ProgressClock, progress_step, reference_for, safe_corpus_file, scroll_script,
                               session_json, session_markdown, signal_rows, table_html,
                               unrepeated_ranges, uploader_css)
from docqa.errors import DocqaError, QueryError
from docqa.index.search import MODES, prepare_query
from docqa.index.store import IndexMissingError, IndexProblem, current_build

log = logging.getLogger("docqa.app")

NOWRAP = '<span style="white-space:nowrap">{}</span>'
DEFAULT_K = 5
MAX_K = 20
CONTEXT_CHARS = 600
CONTEXT_LINES = 4  # source lines shown before and after a text passage
FULL_ENTRIES = 3  # the latest answers shown with their passages; older ones show them on request


# -- loading -------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)
def load_engine(index_dir: str, build_dir: str, model: str | None):
    """The engine, loaded once per process and shared by all sessions.

    It is read-only after loading (queries mutate nothing), so sharing it between sessions and
    threads is safe. `build_dir` (the CURRENT build) is part of the cache key only: after
    `docqa ingest` swaps in a new build, the next run loads it instead of serving the old one.
    DOCQA_MODEL is honoured and checked as the CLI does (docqa.engine.Engine.open).
    """
    from docqa.engine import Engine

    engine = Engine.open(index_dir, model=model)
    engine.warm_up()  # load the model now, not on the first question
    return engine


def engine():
    """The engine, or raise IndexProblem with what to do."""
    index = config.index_dir()
    build = current_build(index)
    if build is None:
        raise IndexMissingError(f"no index at {index}")
    return load_engine(str(index), str(build), config.model_spec())


# -- sidebar -------------------------------------------------------------------------------------

def sidebar_language() -> dict:
    english = st.sidebar.toggle("English", key="lang_en")
    lang = "en" if english else "nl"
    return {**TEXTS[lang], **CLAIM_TEXTS[lang]}


def sidebar_page(T: dict) -> str:
    return st.sidebar.radio(T["page"], ["ask", "check", "docs"], key="page",
                            format_func=lambda v: T[f"page_{v}"], horizontal=True)


FILTER_KEYS = ("f_docs", "f_orgs", "f_years", "mode", "k", "show_scores")


def keep_settings() -> None:
    """Streamlit forgets a widget's value on a run that does not draw it (the documents page shows
    no filters); writing the values back keeps them for the way back to the questions."""
    for key in FILTER_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def filter_options(docs: dict, chosen_docs, chosen_orgs, chosen_years) -> tuple[list, list, list]:
    """The documents, organisations and years still possible given the other two filters (what is
    chosen stays offered, so a choice never disappears under the user)."""
    def fits(d, use_docs=True, use_orgs=True, use_years=True):
        return ((not use_docs or not chosen_docs or d.doc_id in chosen_docs)
                and (not use_orgs or not chosen_orgs or d.organisation in chosen_orgs)
                and (not use_years or not chosen_years or d.year in chosen_years))

    doc_ids = sorted({d.doc_id for d in docs.values() if fits(d, use_docs=False)} | set(chosen_docs))
    orgs = sorted({d.organisation for d in docs.values() if fits(d, use_orgs=False)} | set(chosen_orgs))
    years = sorted({d.year for d in docs.values() if d.year is not None and fits(d, use_years=False)}
                   | set(chosen_years))
    return doc_ids, orgs, years


def document_label(meta) -> str:
    """"Title (organisation, year)" for the document filter, leaving out what the document lacks."""
    extra = ", ".join(x for x in (meta.organisation.split(" (")[0], str(meta.year or "")) if x)
    return f"{meta.title} ({extra})" if extra else meta.title


def sidebar_settings(T: dict, engine) -> tuple[dict, bool]:
    """The search settings for the next question, and whether to show the per-side scores."""
    docs = engine.document_meta
    sb = st.sidebar
    sb.subheader(T["filters"])
    state = st.session_state
    # a choice the index no longer holds (a document removed on the documents page) is dropped: it
    # would match nothing, and the search's refusal would name it in English
    orgs_known, years_known = {d.organisation for d in docs.values()}, {d.year for d in docs.values()}
    for key, known in (("f_docs", docs), ("f_orgs", orgs_known), ("f_years", years_known)):
        if any(v not in known for v in state.get(key) or []):
            state[key] = [v for v in state[key] if v in known]
    doc_ids, orgs, years = filter_options(docs, state.get("f_docs") or [], state.get("f_orgs") or [],
                                          state.get("f_years") or [])
    chosen_docs = sb.multiselect(T["f_docs"], doc_ids, key="f_docs", placeholder=T["choose"],
                                 format_func=lambda d: document_label(docs[d]) if d in docs else d)
    chosen_orgs = sb.multiselect(T["f_orgs"], orgs, key="f_orgs", placeholder=T["choose"])
    chosen_years = sb.multiselect(T["f_years"], years, key="f_years", placeholder=T["choose"])
    sb.divider()
    mode = sb.radio(T["mode"], list(MODES), key="mode", format_func=lambda m: T[f"mode_{m}"])
    state.setdefault("k", DEFAULT_K)  # the default through the state alone (keep_settings writes it back)
    k = sb.slider(T["k"], 1, MAX_K, key="k")
    show_scores = sb.toggle(T["show_scores"], key="show_scores")
    settings = {"mode": mode, "k": int(k), "docs": list(chosen_docs), "orgs": list(chosen_orgs),
                "years": [int(y) for y in chosen_years]}
    return settings, show_scores


# -- asking --------------------------------------------------------------------------------------

def ask(engine, question: str, settings: dict) -> dict:
    """One history entry: the question, its settings and the answer or the error to show."""
    entry = {"question": question, "settings": settings, "answer": None, "error": None, "seconds": None}
    started = time.perf_counter()
    try:
        entry["answer"] = engine.ask(question, k=settings["k"], mode=settings["mode"],
                                       docs=settings["docs"], orgs=settings["orgs"], years=settings["years"])
    except QueryError as exc:  # bad filter combination and the like: the message says what to change
        entry["error"] = ("warning", "query_error", str(exc))
    except IndexProblem as exc:
        entry["error"] = ("error", "index_problem", str(exc))
    except DocqaError as exc:
        entry["error"] = ("warning", "query_error", str(exc))
    except Exception as exc:  # noqa: BLE001 - the user gets a message, the log gets the traceback
        log.exception("answering %r failed", question)
        entry["error"] = ("error", "unexpected", f"{type(exc).__name__}|{exc}")
    entry["seconds"] = time.perf_counter() - started
    return entry


def is_empty(question: str) -> bool:
    """Empty by the search's own rule (white space and invisible characters only)."""
    try:
        prepare_query(question)
    except QueryError:
        return True
    return False


def show_error(T: dict, error: tuple[str, str, str]) -> None:
    """The message in the interface's language, and the library's own (English) words, when they
    say more, in a line of their own: one language per message."""
    level, key, msg = error
    detail = msg
    if key == "unexpected":
        kind, _, msg = msg.partition("|")
        text, detail = T[key], f"{kind}: {msg}"
    elif key == "index_problem":
        text = T[key].format(index=md_escape(config.index_dir()))
    elif "no passages match these filters" in msg:
        text, detail = T["no_filter_match"], None
    else:
        text = T[key]
    (st.warning if level == "warning" else st.error)(text)
    if detail:
        st.caption(md_escape(T["lib_detail"].format(msg=detail)))


def show_index_problem(T: dict, exc: IndexProblem) -> None:
    """Guidance instead of a traceback: what is wrong and the command that fixes it."""
    index, corpus = config.index_dir(), config.corpus_dir()
    if isinstance(exc, IndexMissingError):
        st.error(T["no_index"].format(index=md_escape(index)))
    else:
        st.error(T["index_problem"].format(index=md_escape(index)))
        st.caption(md_escape(T["lib_detail"].format(msg=exc)))
    make = "make index" if index.resolve() == config.DEFAULT_INDEX.resolve() else f"make index INDEX={index}"
    st.code(f"{make}\n{build_command(corpus, index)}", language="bash")


# -- rendering an answer ------------------------------------------------------------------------

def settings_line(T: dict, engine, settings: dict) -> str:
    parts = [T[f"mode_{settings['mode']}"], f"k={settings['k']}"]
    filters = [engine.document_meta[d].title if d in engine.document_meta else d for d in settings["docs"]]
    filters += settings["orgs"] + [str(y) for y in settings["years"]]
    if filters:
        parts.append(f"{T['filters_used']}: {', '.join(filters)}")
    return " · ".join(parts)


def render_entry(T: dict, engine, entry: dict, n: int, show_scores: bool, full: bool = True) -> None:
    """One question and its answer; `full` adds the passage cards and exports, which for older
    entries wait behind a toggle (each rerun draws the whole page: 30 full answers made a rerun
    five times slower)."""
    with st.chat_message("user"):
        # the anchor the page scrolls to after a new question (scroll_script)
        st.markdown(block(f'<span class="dq-entry" data-entry="{n}"></span>{escape(entry["question"])}'),
                    unsafe_allow_html=True)
        st.markdown(block(escape(settings_line(T, engine, entry["settings"])),
                          "font-size:0.8em;opacity:0.7"), unsafe_allow_html=True)
    with st.chat_message("assistant"):
        if entry["error"]:
            show_error(T, entry["error"])
            return
        answer = entry["answer"]
        render_answer(T, answer)
        st.caption(T["elapsed"].format(s=f"{entry['seconds']:.2f}".replace(".", T["decimal"])))
        if full or st.toggle(T["show_more"], key=f"more-{n}"):
            render_passages(T, engine, answer, n, show_scores)
            render_exports(T, answer, entry["settings"], n)


def render_answer(T: dict, answer) -> None:
    for notice in answer.notices:
        st.info(T["notice"].format(msg=md_escape(notice)))
    if answer.abstained:
        st.markdown(block(f"<b>{escape(not_found_text(T['lang']))}</b>"),
                    unsafe_allow_html=True)
    else:
        st.markdown(block(answer_html(answer.answer), "font-size:1.1em"), unsafe_allow_html=True)
    conf = T.get(f"conf_{answer.confidence}", answer.confidence)
    st.markdown(f"**{T['confidence']}:** {md_escape(conf)}")
    with st.expander(T["signals"]):
        rows = signal_rows(answer.signals, T["lang"])
        st.markdown(block(table_html("signals", [T["col_signal"], T["col_value"], T["col_meaning"]],
                                     [[r["signal"], r["value"], r["meaning"]] for r in rows]), "font-size:0.85em"),
                    unsafe_allow_html=True)
    if len(answer.citations) > 0:
        st.caption(T["all_refs"])
        st.code(all_references(answer), language=None, wrap_lines=True)  # a long reference wraps, never cut


def render_passages(T: dict, engine, answer, n: int, show_scores: bool) -> None:
    """Cited passages first (with the answer span marked), then the rest in rank order."""
    cited = {c.hit.passage.chunk_id: c for c in answer.citations}
    # every cited passage gets its card, even one overlapping another cited one (a joined answer
    # quotes other sentences of it); only the uncited ones that repeat a shown card are left out
    hits = [c.hit for c in answer.citations]
    shown = distinct_hits(hits + [h for h in answer.hits if h.passage.chunk_id not in cited])
    hits += [h for h in shown if h.passage.chunk_id not in cited]
    if not hits:
        return
    st.markdown(f"**{T['not_found_near'] if answer.abstained else T['passages']}**")
    # what overlapping passages share is shown in the first card only (a cited passage is shown whole)
    parts = unrepeated_ranges([h.passage for h in hits])
    for i, (hit, part) in enumerate(zip(hits, parts)):
        citation = cited.get(hit.passage.chunk_id)
        if part == (0, 0) and citation is None:
            continue
        render_card(T, engine, hit, citation, answer.question, show_scores, key=f"q{n}-p{i}",
                    part=None if citation else part)


def render_card(T: dict, engine, hit, citation, question: str, show_scores: bool, key: str,
                part: tuple[int, int] | None = None) -> None:
    """One passage card; `part` (start, end) shows only that part of its text, marked "…" where cut."""
    p = hit.passage
    lo, hi = part or (0, len(p.text))
    shown = p.text[lo:hi]
    spans = engine.highlight(shown, question)
    with st.container(border=True):
        title, *rest = passage_meta(p)
        marker = f"<b>&#91;{citation.n}&#93;</b> " if citation else ""
        # each part on one line: "r. 159-167" must not break after the dash
        head = (f'<span class="dq-card" data-doc="{escape(p.doc_id)}">{marker}<b>{escape(title)}</b> · '
                f"{' · '.join(NOWRAP.format(escape(x)) for x in rest)}</span>")
        st.markdown(block(head), unsafe_allow_html=True)
        if show_scores:
            st.markdown(block(escape(T["scores"].format(
                score=hit.score, br=hit.bm25_rank or "–", bs=_fmt(hit.bm25_score), dr=hit.dense_rank or "–",
                ds=_fmt(hit.dense_score))), "font-size:0.8em;opacity:0.75"), unsafe_allow_html=True)
        text = highlight_html(shown, spans, citation.span if citation else None)
        text = ("…" if lo > 0 else "") + text + ("…" if hi < len(p.text) else "")
        st.markdown(block(text), unsafe_allow_html=True)
        if is_pdf_passage(p):
            page_view(T, engine, p, citation.quote if citation else None, key)
        else:
            whole = part is None or part == (0, len(p.text))
            context_view(T, engine, p, spans if whole else engine.highlight(p.text, question))
        st.caption(T["reference"])
        st.code(citation.reference() if citation else reference_for(hit), language=None, wrap_lines=True)
        if is_pdf_passage(p):
            pdf_button(T, p, key)


def context_view(T: dict, engine, passage, spans) -> None:
    """The lines around a text passage, numbered as its citation counts them; the indexed text
    around it when the source file cannot be read or changed since it was indexed."""
    lines = source_lines_of(engine, passage)
    if lines is not None:
        with st.expander(T["context"]):
            st.markdown(block(numbered_lines_html(lines), "opacity:0.9;line-height:1.5"), unsafe_allow_html=True)
        return
    context = context_of(engine, passage)
    if context is not None:
        before, text, after = context
        with st.expander(T["context"]):
            st.markdown(block(f"…{escape(before)} <b>{highlight_html(text, spans)}</b> {escape(after)}…",
                              "opacity:0.9"), unsafe_allow_html=True)


def source_lines_of(engine, passage):
    try:
        return engine.source_lines(passage.chunk_id, CONTEXT_LINES, corpus=config.corpus_dir())
    except DocqaError:
        return None


def page_view(T: dict, engine, passage, quote: str | None, key: str) -> None:
    """The passage's page rendered, the quote marked, with buttons to page through the PDF.

    Rendered only while the expander is open (`on_change="rerun"` makes `.open` known): a page
    costs 0.1-0.3 s, and every card of every answer would otherwise pay it on every rerun. The page
    shown is kept per card in the session (`pv-page-<card>`); None means the cited page."""
    page_key = f"pv-page-{key}"
    expander = st.expander(T["page_view"].format(page=passage.page), key=f"pv-{key}", on_change="rerun")
    if not expander.open:
        return
    with expander:
        try:
            view = engine.page_view(passage.chunk_id, quote, st.session_state.get(page_key),
                                    corpus=config.corpus_dir())
        except DocqaError as exc:
            st.caption(T["page_refused"].format(reason=md_escape(exc)))
            return
        left, middle, right = st.columns([1, 2, 1], vertical_alignment="center")
        left.button(T["page_prev"], key=f"pv-prev-{key}", disabled=view.page <= 1,
                    on_click=_turn_page, args=(page_key, view.page - 1))
        right.button(T["page_next"], key=f"pv-next-{key}", disabled=view.page >= view.page_count,
                     on_click=_turn_page, args=(page_key, view.page + 1))
        state = ("page_marked" if view.found else "page_unmatched" if view.quote else "page_unmarked")
        split = (" · " + T["page_split"].format(first=view.quote_pages[0], last=view.quote_pages[-1])
                 if len(view.quote_pages) > 1 else "")
        middle.caption(f"{T['page_of'].format(page=view.page, count=view.page_count)} · {T[state]}{split}")
        st.image(view.png, alt=T["page_alt"].format(page=view.page, title=passage.title))


def _turn_page(page_key: str, page: int) -> None:
    st.session_state[page_key] = page


def context_of(engine, passage):
    """(before, text, after), or None when the loaded index no longer holds this passage: an
    earlier answer on the page may come from a build that `docqa ingest` has since replaced."""
    try:
        context = engine.context(passage.chunk_id, CONTEXT_CHARS)
    except DocqaError:
        return None
    return (context.before, context.text, context.after) if context.text == passage.text else None


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.4f}"


def pdf_button(T: dict, passage, key: str) -> None:
    """The source PDF as a download, with the page to go to.

    Why a download and not a `file.pdf#page=N` link: the corpus lives outside the app folder, and
    Streamlit's static serving only serves ./static next to app.py; a link would need a copy or a
    symlink there (which would also expose every file in it). A download button streams bytes the
    app has read itself, after `safe_corpus_file` checked that the resolved path (symlinks and
    `..` followed) lies inside the resolved corpus folder, so no other file can be served. The
    bytes are read only when the button is clicked (a callable), and the check runs again then.
    """
    corpus = config.corpus_dir()
    try:
        path = safe_corpus_file(corpus, passage.source_path)
    except ValueError as exc:
        st.caption(T["pdf_refused"].format(reason=md_escape(exc)))
        return
    st.download_button(T["pdf"].format(page=passage.page), data=lambda: safe_corpus_file(corpus, path).read_bytes(),
                       file_name=path.name, mime="application/pdf", key=f"pdf-{key}", on_click="ignore")


def render_exports(T: dict, answer, settings: dict, n: int) -> None:
    left, right = st.columns(2)
    stem = f"docqa-{session_stamp()}-{n}"  # unique across sessions: every session's first is not docqa-1
    left.download_button(T["export_csv"], export_csv(answer), file_name=f"{stem}.csv", mime="text/csv",
                         key=f"csv-{n}", on_click="ignore")
    right.download_button(T["export_json"], export_json(answer, settings), file_name=f"{stem}.json",
                          mime="application/json", key=f"json-{n}", on_click="ignore")


def session_stamp() -> str:
    """When this browser session began (to the second), fixed for the session."""
    return st.session_state.setdefault("session_stamp", time.strftime("%Y%m%d-%H%M%S"))


def render_session_exports(T: dict, history: list[dict]) -> None:
    if not history:
        return
    with st.sidebar:
        st.divider()
        st.caption(T["session"])
        stem = f"docqa-sessie-{session_stamp()}-{len(history)}"
        st.download_button(T["session_md"], session_markdown(history), file_name=f"{stem}.md", mime="text/markdown",
                           key="session-md", on_click="ignore")
        st.download_button(T["session_json"], session_json(history), file_name=f"{stem}.json",
                           mime="application/json", key="session-json", on_click="ignore")


# -- pages ---------------------------------------------------------------------------------------

def ask_page(T: dict, loaded, problem, settings: dict, show_scores: bool) -> None:
    st.title(T["title"])
    if problem is not None:
        show_index_problem(T, problem)
        st.chat_input(T["chat"], key="question", disabled=True)
        return
    history = st.session_state.setdefault("history", [])
    question = st.chat_input(T["chat"], key="question")
    empty = question is not None and is_empty(question)
    if question is not None and not empty:
        history.append(ask(loaded, question, settings))
    if not history:
        st.markdown(T["intro"])
    for n, entry in enumerate(history, 1):
        render_entry(T, loaded, entry, n, show_scores, full=n > len(history) - FULL_ENTRIES)
    if question is not None and not empty:
        # the new answer's start into view: the chat view would show the end of its last passage card
        st.html(scroll_script(len(history)), unsafe_allow_javascript=True)
    if empty:  # not kept in the history: there is nothing to keep
        st.warning(T["empty"])
    render_session_exports(T, history)


def check(engine, text: str, settings: dict) -> dict:
    """One entry of the claim history: the pasted text, its sentences and a result (or error) per sentence."""
    sentences, cut = split_claims(text)
    entry = {"text": text, "settings": settings, "cut": cut, "rows": []}
    for sentence in sentences:
        row = {"claim": sentence, "result": None, "error": None}
        try:
            # at least the CLI's 10 passages: the sidebar's k says how many to show, and a check reads
            # the windows of all it retrieves (the dev and held-out figures are for k=10)
            row["result"] = engine.check(sentence, k=max(settings["k"], 10), mode=settings["mode"], docs=settings["docs"],
                                         orgs=settings["orgs"], years=settings["years"])
        except DocqaError as exc:
            row["error"] = ("warning", "check_error", str(exc))
        except Exception as exc:  # noqa: BLE001 - the user gets a message, the log gets the traceback
            log.exception("checking %r failed", sentence)
            row["error"] = ("error", "unexpected", f"{type(exc).__name__}|{exc}")
        entry["rows"].append(row)
    return entry


def render_check_row(T: dict, engine, row: dict, key: str, show_scores: bool) -> None:
    with st.container(border=True):
        if row["error"]:
            st.markdown(block(f'<span class="dq-claim">{escape(row["claim"])}</span>'), unsafe_allow_html=True)
            show_error(T, row["error"])
            return
        result = row["result"]
        st.markdown(claim_head_html(T, result, T.get(f"conf_{result.confidence}", result.confidence)),
                    unsafe_allow_html=True)
        for notice in result.notices:
            st.info(T["notice"].format(msg=md_escape(notice)))
        if result.verdict != "not_found" and result.citations:
            first = result.citations[0]
            st.markdown(f"**{T['source_sentence']}** [1]")
            st.markdown(block(quote_html(T, first.quote, result.details, result.verdict), "font-size:1.05em"),
                        unsafe_allow_html=True)
            st.code(first.reference(), language=None, wrap_lines=True)
        if result.details:
            with st.expander(T["details"], expanded=result.verdict != "supported"):
                st.dataframe(detail_rows(T, result.details), hide_index=True)
        if result.verdict == "not_found":
            hits = distinct_hits([c.hit for c in result.citations] + list(result.hits))[:3]
            if hits:
                st.markdown(f"**{T['nearest']}**")
            for i, hit in enumerate(hits):
                render_card(T, engine, hit, None, result.claim, show_scores, key=f"{key}-n{i}")
        elif len(result.citations) > 1:
            with st.expander(T["compare"]):
                other = result.citations[1]
                st.markdown(block(escape(other.quote)), unsafe_allow_html=True)
                st.code(other.reference(), language=None, wrap_lines=True)


def check_page(T: dict, loaded, problem, settings: dict, show_scores: bool) -> None:
    st.title(T["check_head"])
    if problem is not None:
        show_index_problem(T, problem)
        return
    st.markdown(T["check_intro"])
    history = st.session_state.setdefault("claim_history", [])
    with st.form("check_form", clear_on_submit=False, border=False):
        text = st.text_area(T["check_input"], key="claim_text", height=120)
        submitted = st.form_submit_button(T["check_button"], type="primary")
    if submitted:
        if not split_claims(text)[0]:
            st.warning(T["check_empty"])
        else:
            history.insert(0, check(loaded, text, settings))  # the newest check on top, under the box
    for n, entry in enumerate(history):
        if entry["cut"]:
            st.info(T["check_cut"].format(n=len(entry["rows"])))
        for i, row in enumerate(entry["rows"]):
            render_check_row(T, loaded, row, key=f"c{len(history) - n}-{i}", show_scores=show_scores)


def documents_page(T: dict, loaded, problem) -> None:
    st.title(T["docs_head"])
    if problem is not None:
        show_index_problem(T, problem)
        if isinstance(problem, IndexMissingError):  # the first document of a new index can be added here
            upload_form(T)
        return
    info, m = loaded.info(), loaded.manifest
    created = str(info.get("built") or "?").replace("T", " ")
    st.markdown(block(escape(T["built"].format(created=created, encoder=(info.get("encoder") or {}).get("id", "?"),
                                               docs=counted(T, info["documents"], "document"),
                                               passages=counted(T, info["passages"], "passage")))),
                unsafe_allow_html=True)
    # an HTML table whose cells wrap, so nothing is cut at 1280 px; the file name under the document
    rows = document_rows(loaded)
    columns = ("title", "organisation", "year", "kind", "passages")
    st.markdown(block(table_html("documents", [T["col_doc_id"]] + [T[f"col_{k}"] for k in columns],
                                 [[(r["doc_id"], r["file"])] + [r[k] for k in columns] for r in rows],
                                 keys=[r["doc_id"] for r in rows]), "font-size:0.9em"), unsafe_allow_html=True)
    if m.get("skipped"):
        with st.expander(T["skipped"]):
            for row in m["skipped"]:
                st.markdown(block(f"{escape(row.get('path', ''))}: {escape(row.get('reason', ''))}"),
                            unsafe_allow_html=True)
    upload_form(T)
    delete_form(T, loaded)


# -- your own documents --------------------------------------------------------------------------

def library():
    """The corpus folder and index of this app, changed through docqa.library (as `docqa add` does)."""
    from docqa.library import Library

    return Library.open(config.corpus_dir(), config.index_dir())


def show_flash(where: str, slot) -> None:
    """The outcome of the last add or remove (`where`), kept over the rerun that loads the new index,
    in `slot` under the form the user just used: the top of the page is out of view by then."""
    flash = st.session_state.get("lib_flash")
    if flash and flash[0] == where:
        del st.session_state["lib_flash"]
        with slot.container():
            for level, text in flash[1]:
                getattr(st, level)(text)


def run_change(T: dict, change, flash_of, slot, where: str) -> None:
    """Run an add or remove under one progress bar. On success the messages `flash_of(result)` are
    kept for the rerun that loads the new index; a refusal is shown here.

    A click during the build makes Streamlit raise its rerun (or stop) request from the next element
    drawn: the progress bar. Raised there, it would break the change off half-way, so it is held
    until the change is complete and then honoured."""
    # `slot` is where the bar and then a refusal stand: a place its form keeps in every run (while a
    # run is under way Streamlit still shows the previous run's elements from where the new run has
    # got to, and an element more or less shifted the page: the old upload form stood under the bar)
    bar = slot.progress(0.0, text=T["prog_read"].format(done=0, total="…"))
    held: list[BaseException] = []
    clock = ProgressClock()

    def progress(phase: str, done: int, total: int) -> None:
        if held:
            return
        fraction, text = progress_step(T, phase, done, total, clock.left(phase, done, total))
        try:
            bar.progress(fraction, text=text)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - Streamlit's rerun/stop request: after the change
            held.append(exc)

    messages: list = []
    try:
        result = change(progress)
    except DocqaError as exc:
        result, (text, detail) = None, library_error_text(T, exc)
        messages = [("error", md_escape(text))] + ([("caption", md_escape(detail))] if detail else [])
    except Exception as exc:  # noqa: BLE001 - the user gets a message, the log gets the traceback
        log.exception("changing the corpus failed")
        result = None
        messages = [("error", md_escape(T["lib_other"])),
                    ("caption", md_escape(T["lib_detail"].format(msg=f"{type(exc).__name__}: {exc}")))]
    if result is not None:
        messages = flash_of(result)
    if held or result is not None:
        st.session_state["lib_flash"] = (where, messages)  # shown by the next run, with the new index loaded
        if held:
            raise held[0]
        st.rerun()
    with slot.container():
        for level, text in messages:
            getattr(st, level)(text)


def upload_form(T: dict) -> None:
    from docqa.library import LibrarySettings, Upload

    st.subheader(T["add_head"])
    st.markdown(T["add_intro"].format(corpus=md_escape(config.corpus_dir())))
    limits = LibrarySettings()
    limit_mb = max(1, -(-limits.max_bytes // (1024 * 1024)))
    st.html(uploader_css(T, "upload_file", limit_mb))  # the uploader's own words in the interface's language
    with st.form("upload_form", clear_on_submit=True):
        file = st.file_uploader(T["add_file"], type=["pdf", "txt"], key="upload_file", max_upload_size=limit_mb)
        left, middle, right = st.columns([3, 3, 1])
        title = left.text_input(T["add_title"], key="upload_title")
        organisation = middle.text_input(T["add_org"], key="upload_org")
        year = right.number_input(T["add_year"], min_value=limits.min_year, max_value=limits.max_year, value=None,
                                  step=1, key="upload_year")
        submitted = st.form_submit_button(T["add_button"], type="primary")
    slot = st.empty()  # in every run (run_change)
    show_flash("add", slot)
    if not submitted:
        return
    if file is None:
        slot.warning(T["add_no_file"])
        return
    upload = Upload(file.name, file.getvalue(), title=title or None, organisation=organisation or None,
                    year=int(year) if year is not None else None)

    def flash_of(result) -> list:
        flash = [("success", md_escape(T["add_done"].format(
            file=file.name, doc_id=result.doc_id, passages=counted(T, result.passages, "passage"),
            docs=counted(T, result.documents, "document"),
            embedded=result.embedded, seconds=f"{result.seconds:.1f}".replace(".", T["decimal"]))))]
        if result.renamed:
            flash.append(("info", md_escape(T["add_renamed"].format(name=result.path.name))))
        for warning in result.warnings:  # the reader's own words (English) in a line of their own
            flash += [("warning", md_escape(T["add_warning"].format(file=file.name))),
                      ("caption", md_escape(T["lib_detail"].format(msg=warning)))]
        return flash

    # the next run loads the new build (CURRENT changed): searchable without a restart
    run_change(T, lambda progress: library().add(upload, progress), flash_of, slot, "add")


def delete_form(T: dict, loaded) -> None:
    st.subheader(T["del_head"])
    docs = loaded.document_meta
    if not docs:
        return
    pending = st.session_state.get("del_pending")
    if pending not in docs:
        pending = None
    if pending is None:  # choose, then confirm; while confirming the choice cannot change under the question
        if st.session_state.get("del_doc") not in docs:  # the one just removed
            st.session_state.pop("del_doc", None)
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.selectbox(T["del_choose"], sorted(docs), key="del_doc", format_func=lambda d: f"{d}: {docs[d].title}")
        right.button(T["del_button"], key="del_ask", on_click=_ask_delete)
        show_flash("del", st.empty())
        return
    st.warning(md_escape(T["del_confirm"].format(doc_id=pending, file=Path(docs[pending].path).name)))
    yes, no, _ = st.columns([1, 1, 4])
    no.button(T["del_no"], key="del_no", on_click=_cancel_delete)
    if yes.button(T["del_yes"], key="del_yes", type="primary"):
        st.session_state.pop("del_pending", None)
        st.session_state["del_doc"] = pending  # still chosen if the removal is refused
        run_change(T, lambda progress: library().remove(pending, progress), lambda result: [
            ("success", md_escape(T["del_done"].format(doc_id=pending, docs=counted(T, result.documents, "document"),
                                                       seconds=f"{result.seconds:.1f}".replace(".", T["decimal"]))))],
                   st.empty(), "del")


def _ask_delete() -> None:
    st.session_state["del_pending"] = st.session_state.get("del_doc")


def _cancel_delete() -> None:
    # the selectbox was not drawn while confirming: give it back the document it showed
    st.session_state["del_doc"] = st.session_state.pop("del_pending", None)


def main() -> None:
    st.set_page_config(page_title="docqa", page_icon="📄", layout="wide")
    T = sidebar_language()
    page = sidebar_page(T)
    loaded, problem = None, None
    try:
        with st.spinner(T["loading"]):
            loaded = engine()
    except IndexProblem as exc:
        problem = exc
    except Exception as exc:  # noqa: BLE001 - e.g. DOCQA_MODEL names another encoder (CommandError)
        log.exception("loading the index failed")
        problem = IndexProblem(str(exc))
    keep_settings()
    if page == "docs":  # the filters act on questions only: not shown here
        documents_page(T, loaded, problem)
    else:
        settings, show_scores = sidebar_settings(T, loaded) if loaded else ({}, False)
        (check_page if page == "check" else ask_page)(T, loaded, problem, settings, show_scores)


main()
