"""`docqa eval`: the command-line face of the evaluation.

    docqa eval --questions FILE.jsonl [--modes bm25,dense,hybrid] [--k 10] [--out DIR] [--no-ask]
    docqa eval --compare A.json B.json
    docqa eval --questions FILE.jsonl --tune rerank.weight=0,1,3,5 [--metric mrr@10] [--folds 5] [--repeats 3]
    docqa eval --claims FILE.jsonl [--k 10] [--out DIR]        # claim checking, with the naive anchor beside it
    docqa eval --claims FILE.jsonl --tune claims.contradict_margin=0.1,0.15,0.2 [--folds 5] [--repeats 3]   # by verdict accuracy

The Markdown table goes to stdout, problems (with line numbers) and notes to stderr. The engine
(docqa.engine) is opened by a callable the main CLI passes in, so this module imports nothing heavy.
Domain errors raise `EvalError`; the main CLI turns them into one-line messages.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from docqa.eval import EvalError
from docqa.eval.evaluate import MODES, check_settings, compare, markdown_table, read_report, run_evaluation, write_outputs
from docqa.eval.questions import QuestionSetError, load_questions


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--questions", metavar="FILE.jsonl", help="labelled question file (see /work/shared/eval/README.md)")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated search modes to evaluate (default {','.join(MODES)})"
    )
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per question (default 10)")
    parser.add_argument("--out", metavar="DIR", help="write report.json, TREC runs/qrels, plot and failures here")
    parser.add_argument("--no-ask", action="store_true", help="evaluate retrieval only, not the answers")
    parser.add_argument("--claims", metavar="FILE.jsonl", nargs="+",
                        help="labelled claim file: score `docqa check` (and the naive anchor beside it); "
                             "with --calibrate, one or more files to fit the verdicts' probability on")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two report.json files")
    parser.add_argument("--tune", metavar="SETTING=V1,V2,...",
                        help="choose a setting by cross-validation, e.g. rerank.weight=0,1,3,5 "
                             "(fields of the fusion, rerank, windows and answer settings; with --claims, of claims)")
    parser.add_argument("--calibrate", metavar="OUT.json",
                        help="fit the answers' probability of being right on the questions and write it here "
                             "(qa/calibration.json is the one docqa ships); prints the held-out reliability table")
    parser.add_argument("--metric", default="mrr@10", help="what --tune maximises: mrr@10 (default), success@1, "
                                                          "success@5, success@10 or answers")
    parser.add_argument("--folds", type=int, default=5, help="folds for --tune (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="shuffles of the folds for --tune (default 3)")
    return parser


def run_eval_command(args: argparse.Namespace, open_engine: Callable[[], object]) -> int:
    if args.compare:
        if args.questions:
            raise EvalError("give either --questions or --compare, not both")
        report_a, report_b = (read_report(path) for path in args.compare)
        print(compare(report_a, report_b), end="")
        return 0
    if getattr(args, "claims", None):
        if args.questions:
            raise EvalError("give either --questions or --claims, not both")
        return _run_claims(args, open_engine())
    if not args.questions:
        raise EvalError("give --questions FILE.jsonl, --claims FILE.jsonl or --compare A.json B.json")

    engine = open_engine()
    try:
        questions, problems = load_questions(args.questions, engine)
    except QuestionSetError as error:
        _print_problems(args.questions, error.problems)
        raise
    _print_problems(args.questions, problems)
    if args.tune:
        return _run_tune(args, engine, questions)
    if getattr(args, "calibrate", None):
        return _run_calibrate(args, engine, questions)
    modes = check_settings(args.modes, args.k, questions)
    result = run_evaluation(
        engine, questions, modes, args.k, None if args.no_ask else engine, questions_file=args.questions,
        problems=problems
    )
    for mode, data in result.report["retrieval"].items():
        for warning in data["warnings"]:
            print(f"warning ({mode}): {warning}", file=sys.stderr)
    print(markdown_table(result.report), end="")
    if args.out:
        written = write_outputs(result.report, result.runs, result.failures, args.out)
        print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


def _run_tune(args, engine, questions) -> int:
    import json
    from pathlib import Path

    from docqa.eval.tune import check_metric, cross_validate, current_value, markdown, parse_grid, score_grid

    grid = parse_grid(args.tune)
    check_metric(args.metric)  # before minutes of scoring
    check_settings("hybrid", args.k, questions)
    default = current_value(engine, grid)
    per_value = score_grid(engine, questions, grid, args.k)
    cv = cross_validate(per_value, args.metric, args.folds, args.repeats)
    print(markdown(grid, per_value, cv, default), end="")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        data = {"setting": grid.name, "default": default, **cv,
                "full_set": [{"value": v, "score": s} for v, s in cv["full_set"].items()],
                "chosen": [{"value": v, "folds": n} for v, n in cv["chosen"].items()],
                "per_question": [{"value": v, "scores": scores} for v, scores in per_value.items()]}
        (out / "tune.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {out / 'tune.json'}", file=sys.stderr)
    return 0


def _run_calibrate(args, engine, questions) -> int:
    import json
    from pathlib import Path

    from docqa.eval.calibrate import fit_calibration, markdown

    calibration, report = fit_calibration(engine, questions, args.questions, args.folds, args.repeats, args.k)
    out = Path(args.calibrate)
    out.write_text(json.dumps(calibration.to_json(), indent=1) + "\n", encoding="utf-8")
    print(markdown(report), end="")
    print(f"wrote {out}", file=sys.stderr)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "calibration-report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _print_problems(source: str, problems, what: str = "question") -> None:
    for problem in problems:  # `file:line: message`, the form editors and CI logs link to
        print(f"{source}:{problem.line}: {problem.message}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the {what} file", file=sys.stderr)


def _run_claims(args, engine) -> int:
    """Every claim through `Engine.check`, judged; the naive anchor (search the claim, compare the
    figures of the best sentence) judged beside it so the gain is visible."""
    import json
    from pathlib import Path

    from docqa.eval.claims import ClaimSetError, anchor_row, claims_table, judge_claims, load_claims

    files = [args.claims] if isinstance(args.claims, str) else list(args.claims)
    sets = []
    for path in files:
        try:
            claims, problems = load_claims(path, engine)
        except ClaimSetError as error:
            _print_problems(path, error.problems, "claim")
            raise
        _print_problems(path, problems, "claim")
        sets.append((path, claims))
    if getattr(args, "calibrate", None):
        return _run_claims_calibrate(args, engine, sets)
    if len(sets) > 1:
        raise EvalError("give one claim file (several only with --calibrate)")
    args.claims, claims = sets[0]
    if args.tune:
        return _run_claims_tune(args, engine, claims)
    rows, anchors = [], []
    for claim in claims:
        result = engine.check(claim.claim, k=args.k)
        rows.append({"id": claim.id, **result.to_json()})
        anchors.append(anchor_row(claim.id, claim.claim, result.hits))
    report = judge_claims(claims, rows)
    anchor = judge_claims(claims, anchors)
    print(claims_table(report, "docqa check"), end="\n\n")
    print(claims_table(anchor, "naive anchor: search the claim, compare the best sentence's figures"))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        data = {"claims_file": str(args.claims), "k": args.k, "settings": engine.settings.to_json()["claims"],
                "checker": report, "anchor": anchor}
        (out / "claims-report.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        with (out / "claims-run.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {out / 'claims-report.json'} and {out / 'claims-run.jsonl'}", file=sys.stderr)
    return 0


def _run_claims_calibrate(args, engine, sets) -> int:
    import json
    from pathlib import Path

    from docqa.eval.calibrate import fit_claim_calibration, markdown

    calibration, report = fit_claim_calibration(engine, sets, args.folds, args.repeats, args.k)
    out = Path(args.calibrate)
    out.write_text(json.dumps(calibration.to_json(), indent=1) + "\n", encoding="utf-8")
    print(markdown(report), end="")
    print(f"wrote {out}", file=sys.stderr)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "claims-calibration-report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _run_claims_tune(args, engine, claims) -> int:
    """`--claims FILE --tune claims.SETTING=...`: a setting chosen by cross-validated verdict accuracy."""
    import json
    from pathlib import Path

    from docqa.eval.tune import CLAIM_METRIC, claims_markdown, cross_validate, current_value, parse_grid, score_claim_grid

    grid = parse_grid(args.tune)
    default = current_value(engine, grid)
    per_value = score_claim_grid(engine, claims, grid, args.k)
    cv = cross_validate(per_value, CLAIM_METRIC, args.folds, args.repeats)
    print(claims_markdown(grid, per_value, cv, default), end="")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        data = {"setting": grid.name, "default": default, **cv,
                "full_set": [{"value": v, "score": sc} for v, sc in cv["full_set"].items()],
                "chosen": [{"value": v, "folds": n} for v, n in cv["chosen"].items()],
                "per_claim": [{"value": v, "scores": scores} for v, scores in per_value.items()]}
        (out / "claims-tune.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {out / 'claims-tune.json'}", file=sys.stderr)
    return 0
