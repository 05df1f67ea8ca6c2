"""The `docqa` command line: everything the app does, for people and for scripts (--json).

Library code raises; this module turns domain errors into one-line messages and exit codes.
Heavy imports (FAISS, models) happen inside the commands that need them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from docqa import __version__, config

EXIT_ERROR = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A problem to report to the user as one line."""


def _err(msg: str) -> None:
    print(f"docqa: {msg}", file=sys.stderr)


def _shown(text: str) -> str:
    """A path or message on one line: control characters and undecodable bytes escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text))


def _domain_errors() -> tuple[type[BaseException], ...]:
    from index.search import QueryError
    from index.store import IndexProblem

    return (CommandError, QueryError, IndexProblem, FileNotFoundError, NotADirectoryError, ValueError)


# -- shared loaders ----------------------------------------------------------------------------

def load_searcher(args):
    from index.search import Searcher

    searcher = Searcher.load(config.index_dir(args.index))  # validates the index first
    spec = config.model_spec(getattr(args, "model", None))
    if spec:
        from index.encoders import make_encoder

        searcher.use_encoder(make_encoder(spec), spec)
    return searcher


def load_answerer(searcher):
    from docqa.answer import Answerer

    return Answerer(searcher)


def _filters(args) -> dict:
    return {"docs": args.doc or (), "orgs": args.org or (), "years": args.year or ()}


def _read_query_file(path: str):
    """Yield (line_no, id, question) from a JSONL file; bad lines are reported and skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                raise ValueError("needs a string field 'question'")
        except ValueError as exc:
            _err(f"{path}:{n}: skipped ({exc})")
            continue
        yield n, str(row.get("id", n)), row["question"]


# -- commands ----------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    from index.encoders import make_encoder
    from index.store import IndexSettings, build_index, is_stale

    corpus, index = config.corpus_dir(args.corpus), config.index_dir(args.index)
    encoder_spec = config.model_spec(args.model)
    settings = IndexSettings()
    if args.if_stale:
        from index.encoders import DEFAULT_ENCODER, E5SmallEncoder, HashEncoder

        # the id is known without loading the model for the built-in encoders
        known = {DEFAULT_ENCODER: E5SmallEncoder.encoder_id, None: E5SmallEncoder.encoder_id,
                 "hash": HashEncoder.encoder_id}
        encoder_id = known.get(encoder_spec) or make_encoder(encoder_spec).encoder_id
        reason = is_stale(index, corpus, encoder_id, settings)
        if reason is None:
            print(f"index at {index} is up to date with {corpus}")
            return 0
        print(f"building the index: {reason}")
    progress = (lambda msg: print(msg, file=sys.stderr, flush=True)) if not args.quiet else None
    started = time.perf_counter()
    result = build_index(corpus, index, make_encoder(encoder_spec), settings, progress=progress,
                         cache_dir=config.cache_dir())
    seconds = time.perf_counter() - started
    report = result.report
    for path, reason in report.skipped:
        print(f"skipped {_shown(path)}: {_shown(reason)}")
    for path, message in report.warnings:
        print(f"warning {_shown(path)}: {_shown(message)}")
    if not report.documents:
        _err(f"nothing could be indexed in {corpus}; the previous index (if any) is unchanged")
        return EXIT_ERROR
    print(f"indexed {len(report.documents)} documents, {report.passages} passages "
          f"({result.embedded} new texts embedded, passages and answer units; the rest from the cache), "
          f"skipped {len(report.skipped)} files, in {seconds:.1f} s -> {index}")
    return 0


def cmd_search(args) -> int:
    searcher = load_searcher(args)
    filters = _filters(args)
    if args.queries:
        for _, qid, question in _read_query_file(args.queries):
            try:
                hits = searcher.search(question, k=args.k, mode=args.mode, **filters)
                row = {"id": qid, "hits": [h.to_json() for h in hits]}
            except ValueError as exc:
                row = {"id": qid, "hits": [], "error": str(exc)}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    from index.search import prepare_query

    query, notices = prepare_query(args.query)
    hits = searcher.search(query, k=args.k, mode=args.mode, **filters)
    if args.json:
        print(json.dumps({"query": query, "notices": notices, "hits": [h.to_json() for h in hits]},
                         ensure_ascii=False))
        return 0
    for notice in notices:
        _err(notice)
    if not hits:
        print("geen passages gevonden")
    for hit in hits:
        print(format_hit(hit, query, searcher.analyzer, searcher.bm25.vocab))
    return 0


def format_hit(hit, query: str, analyzer, known=frozenset()) -> str:
    from docqa.highlight import mark, term_spans

    p = hit.passage
    bold, reset = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("[", "]")
    text = mark(" ".join(p.text.split()), term_spans(" ".join(p.text.split()), query, analyzer, known), bold, reset)
    where = " · ".join(x for x in [p.title, p.organisation, str(p.year or ""), p.section, p.location] if x)
    sides = (f"bm25 #{hit.bm25_rank or '-'}  dense #{hit.dense_rank or '-'}  score {hit.score:.4f}")
    return f"{hit.rank}. {where}\n   [{p.doc_id}] {sides}\n   {text}\n"


def cmd_ask(args) -> int:
    searcher = load_searcher(args)
    answerer = load_answerer(searcher)
    filters = _filters(args)
    if args.queries:
        for _, qid, question in _read_query_file(args.queries):
            try:
                row = {"id": qid, **answerer.ask(question, k=args.k, mode=args.mode, **filters).to_json()}
            except ValueError as exc:
                row = {"id": qid, "answer": "", "abstained": True, "error": str(exc), "citations": [], "hits": []}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    answer = answerer.ask(args.query, k=args.k, mode=args.mode, **filters)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.to_text())
    return 0


def cmd_docs(args) -> int:
    from index.store import load_index

    loaded = load_index(config.index_dir(args.index), verify=False)
    counts: dict[str, int] = {}
    for p in loaded.passages:
        counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
    rows = [{**meta.to_json(), "passages": counts.get(doc_id, 0)} for doc_id, meta in loaded.documents.items()]
    if args.json:
        print(json.dumps({"built": loaded.manifest["created"], "encoder": loaded.manifest["encoder"],
                          "documents": rows}, ensure_ascii=False))
        return 0
    print(f"index {config.index_dir(args.index)} built {loaded.manifest['created']} "
          f"with {loaded.manifest['encoder']['id']}")
    for r in rows:
        print(f"- {r['doc_id']}: {r['title']} · {r['organisation']} · {r['year']} · {r['passages']} passages")
    return 0


def cmd_context(args) -> int:
    searcher = load_searcher(args)
    by_id = {p.chunk_id: p for p in searcher.passages}
    passage = by_id.get(args.chunk_id)
    if passage is None:
        raise CommandError(f"no passage {args.chunk_id!r} in the index; take a chunk_id from `docqa search --json`")
    from docqa.answer import surrounding_text

    before, text, after = surrounding_text(searcher, passage, args.chars)
    if args.json:
        print(json.dumps({"chunk_id": passage.chunk_id, "before": before, "text": text, "after": after},
                         ensure_ascii=False))
    else:
        print(f"…{before}[[{text}]]{after}…")
    return 0


def cmd_eval(args) -> int:
    from eval.cli import run_eval_command

    return run_eval_command(args, lambda: load_searcher(args), load_answerer)


def cmd_app(args) -> int:
    import os
    import subprocess

    env = dict(os.environ, DOCQA_INDEX=str(config.index_dir(args.index)),
               DOCQA_CORPUS=str(config.corpus_dir(args.corpus)))
    app = config.PROJECT_ROOT / "app.py"
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
                            "--client.toolbarMode", "minimal",
                            "--server.port", str(args.port), "--browser.gatherUsageStats", "false"], env=env)


# -- parser ------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docqa", description="Search and cited answers over policy documents.")
    parser.add_argument("--version", action="version", version=f"docqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, corpus=False):
        p.add_argument("--index", help="index folder (env DOCQA_INDEX; default var/index in the checkout)")
        p.add_argument("--model", help="encoder: e5-small (default), minilm, or a sentence-transformers "
                                        "model name or folder (env DOCQA_MODEL)")
        if corpus:
            p.add_argument("--corpus", help="folder of .txt/.pdf files (env DOCQA_CORPUS; default ../shared/corpus)")

    def query_opts(p):
        p.add_argument("query", nargs="?", help="the question or search words")
        p.add_argument("--queries", help="JSONL file with 'id' and 'question' per line: one JSON line out per query")
        p.add_argument("--k", type=int, default=10, help="number of passages (default 10)")
        p.add_argument("--doc", action="append", help="only this document id (repeatable)")
        p.add_argument("--org", action="append", help="only this organisation (substring, repeatable)")
        p.add_argument("--year", action="append", type=int, help="only this year (repeatable)")
        p.add_argument("--mode", default="hybrid", choices=["hybrid", "bm25", "dense"])
        p.add_argument("--json", action="store_true", help="JSON output for scripts")

    p = sub.add_parser("ingest", help="build or update the index from a corpus folder")
    common(p, corpus=True)
    p.add_argument("--if-stale", action="store_true", help="only build when the index is missing or out of date")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="ranked passages for a question")
    common(p)
    query_opts(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a quoted answer with citations, or an honest 'not found'")
    common(p)
    query_opts(p)
    p.set_defaults(func=cmd_ask)

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
    from eval.cli import add_eval_arguments

    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("app", help="start the Streamlit app")
    common(p, corpus=True)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="listen address (default localhost only)")
    p.set_defaults(func=cmd_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("search", "ask") and not args.queries and args.query is None:
        parser.error(f"{args.command}: give a question, or --queries FILE.jsonl")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except _domain_errors() as exc:
        _err(str(exc))
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
