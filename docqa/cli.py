"""The `docqa` command line: everything the app does, for people and for scripts (--json).

Library code raises; this module turns domain errors into one-line messages and exit codes.
Heavy imports (FAISS, models) happen inside the commands that need them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from docqa import __version__, config
from docqa.errors import DocqaError, UsageError

EXIT_ERROR = 1
EXIT_USAGE = 2


class CommandError(UsageError):
    """A problem to report to the user as one line."""


def _err(msg: str) -> None:
    print(f"docqa: {safe_line(msg)}", file=sys.stderr)


def safe_line(text: str) -> str:
    """Text for a terminal, on one line: control characters (escape sequences, newlines, bidi
    overrides) shown as escapes, so no document, file name or query can move the cursor, clear the
    screen or reorder what is shown."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text))




def safe_text(text: str) -> str:
    """Like `safe_line`, but keeps line breaks (for multi-line output we lay out ourselves)."""
    return "\n".join(safe_line(line) for line in str(text).split("\n"))


# -- shared loaders ----------------------------------------------------------------------------

def open_engine(args):
    """The engine for these flags: --index, else DOCQA_INDEX; --model, else DOCQA_MODEL."""
    from docqa.engine import Engine

    return Engine.open(getattr(args, "index", None), model=getattr(args, "model", None),
                       store=getattr(args, "store", None))


def _filters(args) -> dict:
    return {"docs": args.doc or (), "orgs": args.org or (), "years": args.year or ()}


def _read_query_file(path: str, field: str = "question"):
    """Yield (line_no, id, text) from a JSONL file; bad lines are reported and skipped.

    A byte-order mark is ignored; ids must be strings or whole numbers and unique (a repeated id
    is reported and skipped: its results could not be told apart)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text; save it as UTF-8 JSON lines") from None
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get(field), str):
                raise ValueError(f"needs a string field '{field}'")
            qid = row.get("id", n)
            if isinstance(qid, bool) or not isinstance(qid, (str, int)):
                raise ValueError(f"'id' must be a string or a whole number, not {json.dumps(qid)[:40]}")
            qid = str(qid)
            if qid in seen:
                raise ValueError(f"id {qid!r} is already used on line {seen[qid]}")
        except ValueError as exc:
            _err(f"{path}:{n}: skipped ({exc})")
            continue
        seen[qid] = n
        yield n, qid, row[field]


# -- commands ----------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    from docqa.index.encoders import make_encoder
    from docqa.index.store import IndexSettings, build_index, is_stale

    corpus, index = config.corpus_dir(args.corpus), config.index_dir(args.index)
    store = config.store_url(args.store)
    encoder_spec = config.model_spec(args.model)
    settings = IndexSettings()
    if args.if_stale:
        from docqa.index.encoders import DEFAULT_ENCODER, E5SmallEncoder, HashEncoder

        # the id is known without loading the model for the built-in encoders
        known = {DEFAULT_ENCODER: E5SmallEncoder.encoder_id, None: E5SmallEncoder.encoder_id,
                 "hash": HashEncoder.encoder_id}
        encoder_id = known.get(encoder_spec) or make_encoder(encoder_spec).encoder_id
        reason = is_stale(index, corpus, encoder_id, settings, store=store)
        if reason is None:
            print(f"index at {store or index} is up to date with {corpus}")
            return 0
        print(f"building the index: {reason}")
    from docqa.ingest.budget import ReadBudget

    try:
        budget = ReadBudget.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    progress = (lambda msg: print(safe_line(msg), file=sys.stderr, flush=True)) if not args.quiet else None
    bar = _EmbedBar() if progress and sys.stderr.isatty() else None  # lines, not a bar, in a log or CI
    started = time.perf_counter()
    try:
        with _build_encoder(encoder_spec, config.cluster_address(args.cluster), progress) as encoder:
            result = build_index(corpus, index, encoder, settings, progress=progress,
                                 cache_dir=config.cache_dir(), budget=budget, embed_progress=bar, store=store)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    report = result.report
    for path, reason in report.skipped:
        print(f"skipped {safe_line(path)}: {safe_line(reason)}")
    for path, message in report.warnings:
        print(f"warning {safe_line(path)}: {safe_line(message)}")
    if not report.documents:
        _err(f"nothing could be indexed in {corpus}; the previous index (if any) is unchanged")
        return EXIT_ERROR
    print(f"indexed {len(report.documents)} documents, {report.passages} passages "
          f"({result.embedded} new texts embedded, passages and answer units; the rest from the cache), "
          f"skipped {len(report.skipped)} files, in {seconds:.1f} s -> {store or index}")
    return 0


@contextmanager
def _build_encoder(spec: str | None, cluster: str | None, progress):
    """The local encoder, or with a cluster address one that embeds on that cluster's workers."""
    from docqa.index.encoders import make_encoder

    if not cluster:
        yield make_encoder(spec)
        return
    from docqa.index.cluster import cluster_encoder

    with cluster_encoder(cluster, spec) as encoder:
        if progress:
            workers = len(encoder.client.nthreads())
            progress(f"embedding on cluster {cluster}: {workers} workers (ready in {encoder.start_seconds:.1f} s)")
        yield encoder


def _library(args):
    from docqa.library import Library

    if config.store_url(args.store):
        raise CommandError(f"docqa {args.command} changes the index folder only (not yet --store / DOCQA_STORE); "
                           "unset DOCQA_STORE, or add the file to the corpus folder and run docqa ingest --store")
    return Library.open(args.corpus, args.index, model=args.model)


def _change_progress(args):
    """Lines on stderr for an add or remove (every file read, then the embedding), unless --quiet."""
    if args.quiet:
        return None
    said = set()

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "read" and done == total and "read" not in said:
            said.add("read")
            print(f"read {total} files", file=sys.stderr, flush=True)
        elif phase == "embed" and done == total:
            print(f"embedded {total} new texts", file=sys.stderr, flush=True)
        elif phase == "write" and done == 0:
            print("writing the index", file=sys.stderr, flush=True)

    return progress


def cmd_add(args) -> int:
    from docqa.library import Upload

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from None
    library = _library(args)
    result = library.add(Upload(path.name, data, title=args.title, organisation=args.organisation, year=args.year),
                         progress=_change_progress(args))
    for warning in result.warnings:
        print(f"warning {safe_line(path.name)}: {safe_line(warning)}")
    renamed = f" (stored as {result.path.name})" if result.renamed else ""
    print(safe_line(f"added {path.name} as {result.doc_id}{renamed}: {result.passages} passages; the index was rebuilt "
                    f"({result.embedded} new texts embedded, the rest from the cache), {result.documents} documents, "
                    f"in {result.seconds:.1f} s -> {library.index}"))
    return 0


def cmd_remove(args) -> int:
    library = _library(args)
    result = library.remove(args.doc_id, progress=_change_progress(args))
    print(safe_line(f"removed {result.doc_id} ({result.path.name}) and its manifest entry; the index was rebuilt, "
                    f"{result.documents} documents, in {result.seconds:.1f} s -> {library.index}"))
    return 0


def cmd_search(args) -> int:
    engine = open_engine(args)
    filters = _filters(args)
    if args.queries:
        for _, qid, question in _read_query_file(args.queries):
            try:
                row = {"id": qid, **engine.search(question, k=args.k, mode=args.mode, **filters).to_json()}
            except DocqaError as exc:
                row = {"id": qid, "hits": [], "error": str(exc)}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    result = engine.search(args.query, k=args.k, mode=args.mode, **filters)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    for notice in result.notices:
        _err(notice)
    if not result.hits:
        print("geen passages gevonden")
    for hit in result.hits:
        print(format_hit(hit, result.query, engine))
    return 0


def format_hit(hit, query: str, engine) -> str:
    from docqa.highlight import mark

    p = hit.passage
    bold, reset = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("[", "]")
    text = safe_line(" ".join(p.text.split()))
    text = mark(text, engine.highlight(text, query), bold, reset)
    where = safe_line(" · ".join(x for x in [p.title, p.organisation, str(p.year or ""), p.section, p.location] if x))
    sides = (f"bm25 #{hit.bm25_rank or '-'}  dense #{hit.dense_rank or '-'}  score {hit.score:.4f}")
    return f"{hit.rank}. {where}\n   [{safe_line(p.doc_id)}] {sides}\n   {text}\n"


def cmd_ask(args) -> int:
    engine = open_engine(args)
    filters = _filters(args)
    if args.queries:
        for _, qid, question in _read_query_file(args.queries):
            try:
                row = {"id": qid, **engine.ask(question, k=args.k, mode=args.mode, **filters).to_json()}
            except DocqaError as exc:
                row = {"id": qid, "answer": "", "abstained": True, "error": str(exc), "citations": [], "hits": []}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    answer = engine.ask(args.query, k=args.k, mode=args.mode, **filters)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(safe_text(answer.to_text()))
    return 0


def cmd_check(args) -> int:
    engine = open_engine(args)
    filters = _filters(args)
    if args.claims:
        for _, cid, claim in _read_query_file(args.claims, field="claim"):
            try:
                row = {"id": cid, **engine.check(claim, k=args.k, mode=args.mode, **filters).to_json()}
            except DocqaError as exc:
                row = {"id": cid, "claim": claim, "verdict": "not_found", "error": str(exc), "confidence": "laag",
                       "probability": None, "details": [], "citations": [], "notices": [], "hits": []}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    result = engine.check(args.claim, k=args.k, mode=args.mode, **filters)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        for notice in result.notices:
            _err(notice)
        print(safe_text(result.to_text()))
    return 0


def cmd_docs(args) -> int:
    engine = open_engine(args)
    rows = engine.documents()
    info = engine.info()
    if args.json:
        print(json.dumps({"built": info["built"], "encoder": info["encoder"], "documents": rows}, ensure_ascii=False))
        return 0
    where = (f"build {engine.manifest.get('build')} of the store" if config.store_url(getattr(args, "store", None))
             else config.index_dir(args.index))
    print(safe_line(f"index {where} built {info['built']} with {info['encoder']['id']}"))
    for r in rows:
        print(safe_line(f"- {r['doc_id']}: {r['title']} · {r['organisation']} · {r['year']} · {r['passages']} passages"))
    return 0


def cmd_context(args) -> int:
    engine = open_engine(args)
    context = engine.context(args.chunk_id, args.chars)
    if args.json:
        print(json.dumps(context.to_json(), ensure_ascii=False))
    else:
        print(safe_text(f"…{context.before}[[{context.text}]]{context.after}…"))
    return 0


def cmd_eval(args) -> int:
    from docqa.eval.cli import run_eval_command

    return run_eval_command(args, lambda: open_engine(args))


def cmd_app(args) -> int:
    import os
    import subprocess

    if config.store_url(args.store):
        raise CommandError("the app reads the index folder only (not yet --store / DOCQA_STORE); use docqa serve "
                           "--store for the HTTP API, or unset DOCQA_STORE")
    env = dict(os.environ, DOCQA_INDEX=str(config.index_dir(args.index)),
               DOCQA_CORPUS=str(config.corpus_dir(args.corpus)))
    app = config.PROJECT_ROOT / "app.py"
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
                            "--client.toolbarMode", "minimal",
                            "--server.port", str(args.port), "--browser.gatherUsageStats", "false"], env=env)


class _EmbedBar:
    """One tqdm bar for everything a build embeds (passages and answer units), with one estimate."""

    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="text", desc="embedding", file=sys.stderr, smoothing=0.1)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# -- parser ------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docqa", description="Search and cited answers over policy documents.")
    parser.add_argument("--version", action="version", version=f"docqa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of user errors too")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, corpus=False):
        p.add_argument("--index", help="index folder (env DOCQA_INDEX; default var/index in the checkout)")
        p.add_argument("--store", help="a postgresql://... URL: the index lives in that database instead of "
                                        "the folder (env DOCQA_STORE; `make db` starts a local one)")
        p.add_argument("--model", help="encoder: e5-small (default), minilm, or a sentence-transformers "
                                        "model name or folder (env DOCQA_MODEL)")
        if corpus:
            p.add_argument("--corpus", help="folder of .txt/.pdf files (env DOCQA_CORPUS; default ../shared/corpus)")

    def query_opts(p, question=True):
        if question:
            p.add_argument("query", nargs="?", help="the question or search words")
            p.add_argument("--queries", help="JSONL file with 'id' and 'question' per line: one JSON line out per query")
        p.add_argument("--k", type=int, default=10, help="number of passages (default 10)")
        p.add_argument("--doc", action="append", help="only this document id (repeatable)")
        p.add_argument("--org", action="append", help="only this organisation: its full name, short name or abbreviation (repeatable)")
        p.add_argument("--year", action="append", type=int, help="only this year (repeatable)")
        p.add_argument("--mode", default="hybrid", choices=["hybrid", "bm25", "dense"])
        p.add_argument("--json", action="store_true", help="JSON output for scripts")

    p = sub.add_parser("ingest", help="build or update the index from a corpus folder")
    common(p, corpus=True)
    p.add_argument("--if-stale", action="store_true", help="only build when the index is missing or out of date")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--cluster", help="embed on a Dask cluster: tcp://HOST:PORT of a running scheduler, or local:N "
                                     "for N worker processes here (env DOCQA_CLUSTER; needs the `cluster` extra)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("add", help="add a .pdf or .txt file to the corpus folder and rebuild the index")
    common(p, corpus=True)
    p.add_argument("file", help="the .pdf or .txt file (copied into the corpus folder under a safe name)")
    p.add_argument("--title", help="its title (else from the file name)")
    p.add_argument("--organisation", help="the organisation it is from")
    p.add_argument("--year", type=int, help="the year it is about")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="take a document (its file and manifest entry) out of the corpus and rebuild")
    common(p, corpus=True)
    p.add_argument("doc_id", help="the document id, as `docqa docs` lists it")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("search", help="ranked passages for a question")
    common(p)
    query_opts(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a quoted answer with citations, or an honest 'not found'")
    common(p)
    query_opts(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", help="does the source say what a claim says? klopt / klopt niet / niet gevonden")
    common(p)
    query_opts(p, question=False)
    p.add_argument("claim", nargs="?", help="the claim: one sentence")
    p.add_argument("--claims", help="JSONL file with 'id' and 'claim' per line: one JSON line out per claim")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("docs", help="the indexed documents")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("context", help="a passage with the text around it")
    common(p)
    p.add_argument("chunk_id")
    p.add_argument("--chars", type=int, default=600, help="characters of context on each side")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_context)

    p = sub.add_parser("eval", help="score retrieval and answers on a labelled question set")
    common(p)
    from docqa.eval.cli import add_eval_arguments

    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("app", help="start the Streamlit app")
    common(p, corpus=True)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="listen address (default localhost only)")
    p.set_defaults(func=cmd_app)

    from docqa.serve import add_serve_parser  # light: uvicorn and FastAPI load only when it runs

    add_serve_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("search", "ask") and not args.queries and args.query is None:
        parser.error(f"{args.command}: give a question, or --queries FILE.jsonl")
    if args.command == "check" and not args.claims and args.claim is None:
        parser.error("check: give a claim, or --claims FILE.jsonl")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except DocqaError as exc:  # what the user can fix: one line; anything else is a bug and shows its traceback
        if args.debug:
            raise
        _err(str(exc))
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
