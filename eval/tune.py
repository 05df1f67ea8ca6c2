"""`docqa eval --tune`: choose a setting by cross-validation over the labelled questions.

    docqa eval --questions dev.jsonl --tune rerank.weight=0,1,3,5 [--folds 5] [--repeats 3]
    docqa eval --questions dev.jsonl --tune answer.check_a+answer.check_b=false,true
               [--metric mrr@10|success@1|success@5|success@10|answers]

Every value of the grid is scored on every question once (hybrid search and `ask`, judged as
`docqa eval` judges). Then, for each of `repeats` shuffles split into `folds` folds, the value
with the best mean on the other folds is chosen and scored on the held-out fold. The held-out
mean of that procedure is what a new question set of the same kind can expect from tuning this
setting; the full-set scores per value are what tuning on all of it would report. A gain that
shows in the second but not in the first does not generalise.

Settings that can be tuned are the fields of the engine's settings by stage: `fusion.`,
`rerank.`, `windows.` and `answer.` (`docqa.engine.EngineSettings`); each value is checked by
building the settings object. Each value is scored by an engine of its own over the same loaded
index (`Engine.with_settings`): nothing is patched.
"""
from __future__ import annotations

import dataclasses
import random

from docqa.eval import EvalError
from docqa.eval.evaluate import judge_answer, run_mode
from docqa.eval.metrics import score_questions

TUNE_MODE = "hybrid"
METRICS = ("mrr@10", "success@1", "success@5", "success@10", "answers")
CLAIM_METRIC = "verdicts"  # with --claims: 1 for a claim given its right verdict


@dataclasses.dataclass(frozen=True)
class Grid:
    """Values to try for one setting, or for several set together ("answer.a+answer.b=false,true":
    switches that make one method only together are adopted or rejected as one)."""

    names: tuple[str, ...]  # "owner.field" each; owner "fusion", "rerank", "windows" or "answer"
    values: tuple

    @property
    def name(self) -> str:
        return "+".join(self.names)

    def apply(self, settings, value):
        """The engine settings with every setting of the grid at `value`."""
        for name in self.names:
            settings = settings.replace(name, value)
        return settings


def _settings_classes() -> dict:
    from docqa.engine import EngineSettings

    defaults = EngineSettings()
    return {stage: type(getattr(defaults, stage)) for stage in EngineSettings.STAGES}


def parse_grid(spec: str) -> Grid:
    """`owner.field[+owner.field...]=v1,v2,...` -> Grid; raises EvalError naming what is wrong."""
    name, sep, raw_values = spec.partition("=")
    classes = _settings_classes()
    targets = []
    for part in name.split("+"):
        owner, dot, field = part.strip().partition(".")
        if not sep or not dot or owner not in classes:
            raise EvalError(f"--tune {spec!r}: write SETTING=V1,V2,... with SETTING one of "
                            f"{', '.join(f'{o}.<field>' for o in classes)} (several joined by '+')")
        fields = [f.name for f in dataclasses.fields(classes[owner])]
        if field not in fields:
            raise EvalError(f"--tune {spec!r}: {owner} has no setting {field!r}; it has {', '.join(sorted(fields))}")
        targets.append((owner, field))
    owner, field = targets[0]
    default = getattr(classes[owner](), field)
    values = []
    for text in (v.strip() for v in raw_values.split(",")):
        if not text:
            continue
        try:
            if default is None:  # an optional number ("float | None"): "none" keeps it off
                value = None if text.lower() == "none" else float(text)
            elif isinstance(default, bool):
                value = text.lower() in ("1", "true", "yes")
            else:
                value = type(default)(text)
            for o, f in targets:
                classes[o](**{f: value})  # the settings object checks the value
        except (TypeError, ValueError) as exc:
            raise EvalError(f"--tune {spec!r}: bad value {text!r} for {owner}.{field} ({exc})") from None
        values.append(value)
    if len(set(values)) < 2:
        raise EvalError(f"--tune {spec!r}: give at least two different values to choose between")
    return Grid(tuple(f"{o}.{f}" for o, f in targets), tuple(dict.fromkeys(values)))


def check_metric(metric: str) -> None:
    if metric not in METRICS + (CLAIM_METRIC,):
        raise EvalError(f"--metric {metric!r}: choose from {', '.join(METRICS)}")


def current_value(engine, grid: Grid):
    """The settings' value now: that of every setting of the grid, or None when they differ."""
    now = {repr(engine.settings.get(name)): engine.settings.get(name) for name in grid.names}
    return next(iter(now.values())) if len(now) == 1 else None


def score_grid(engine, questions, grid: Grid, k: int = 10) -> dict:
    """{value: {qid: {metric: score}}}: retrieval metrics for answerable questions, and "answers"
    (1 when the answer is correct, or when an unanswerable question is abstained on)."""
    out = {}
    for value in grid.values:
        tuned = engine.with_settings(grid.apply(engine.settings, value))
        run = run_mode(tuned, questions, TUNE_MODE, k)
        scores = score_questions(run.run_ids, run.first_relevant)
        for question in questions:
            record = judge_answer(question, tuned.ask(question.question, k=k, mode=TUNE_MODE), 0.0)
            ok = record.correct if question.answerable else record.abstained
            scores.setdefault(question.id, {})["answers"] = float(ok)
        out[value] = scores
    return out


def score_claim_grid(engine, claims, grid: Grid, k: int = 10) -> dict:
    """{value: {claim id: {"verdicts": 1 or 0, "false_supported": 1 or 0 (false claims only)}}},
    each claim through `Engine.check` and judged as `docqa eval --claims` judges it."""
    from docqa.eval.claims import judge_row

    out = {}
    for value in grid.values:
        tuned = engine.with_settings(grid.apply(engine.settings, value))
        scores = {}
        for claim in claims:
            judged = judge_row(claim, {"id": claim.id, **tuned.check(claim.claim, k=k).to_json()})
            scores[claim.id] = {CLAIM_METRIC: float(judged["right"])}
            if claim.verdict != "supported":
                scores[claim.id]["false_supported"] = float(judged["verdict"] == "supported")
        out[value] = scores
    return out


def claims_markdown(grid: Grid, per_value: dict, cv: dict, default) -> str:
    lines = [f"Tuning {grid.name} on {cv['questions']} claims:", "",
             "| value | accuracy | false supported | chosen in folds |", "| --- | ---: | ---: | ---: |"]
    for value, scores in per_value.items():
        rows = list(scores.values())
        false = [r["false_supported"] for r in rows if "false_supported" in r]
        mark = " (default)" if value == default else ""
        lines.append(f"| {value!r}{mark} | {sum(r[CLAIM_METRIC] for r in rows) / len(rows):.4f} | "
                     f"{(sum(false) / len(false)) if false else 0:.4f} | {cv['chosen'][value]} |")
    lines += ["", f"verdict accuracy: best on the full set {max(cv['full_set'].values()):.4f}; chosen on training "
                  f"folds and scored held out ({cv['folds']} folds x {cv['repeats']} shuffles): "
                  f"{cv['cross_validated']:.4f}; the default alone: {cv['full_set'].get(default, float('nan')):.4f}", ""]
    return "\n".join(lines)


def cross_validate(per_value: dict, metric: str, folds: int = 5, repeats: int = 3, seed: int = 0) -> dict:
    """Choose the best value on the training folds, score it on the held-out fold.

    Returns the full-set mean per value, the held-out mean of the choosing procedure (over all
    folds of all repeats, each held-out question counted once per repeat) and how often each value
    was chosen. Ties go to the value listed first."""
    check_metric(metric)
    values = list(per_value)
    qids = sorted(q for q, scores in per_value[values[0]].items() if metric in scores)
    if folds < 2 or folds > len(qids):
        raise EvalError(f"--folds {folds}: must be between 2 and the number of questions scored ({len(qids)})")
    if repeats < 1:
        raise EvalError(f"--repeats {repeats}: must be >= 1")

    def mean(value, ids):
        return sum(per_value[value][q][metric] for q in ids) / len(ids)

    held_out, chosen = [], {v: 0 for v in values}
    for r in range(repeats):
        order = qids[:]
        random.Random(seed + r).shuffle(order)
        for f in range(folds):
            test = order[f::folds]
            held = set(test)
            train = [q for q in order if q not in held]
            best = max(values, key=lambda v: (mean(v, train), -values.index(v)))
            chosen[best] += 1
            held_out.extend(per_value[best][q][metric] for q in test)
    return {"metric": metric, "questions": len(qids), "folds": folds, "repeats": repeats,
            "full_set": {v: round(mean(v, qids), 4) for v in values},
            "cross_validated": round(sum(held_out) / len(held_out), 4), "chosen": chosen}


def markdown(grid: Grid, per_value: dict, cv: dict, default) -> str:
    lines = [f"Tuning {grid.name} ({TUNE_MODE}; default {default!r}) on {cv['questions']} questions:", "",
             "| value | S@1 | S@10 | MRR@10 | answers ok | chosen in folds |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for value, scores in per_value.items():
        answerable = [s for s in scores.values() if "mrr@10" in s]

        def avg(metric, rows):
            return f"{sum(r[metric] for r in rows) / len(rows):.4f}" if rows else "-"
        mark = " (default)" if value == default else ""
        lines.append(f"| {value!r}{mark} | {avg('success@1', answerable)} | {avg('success@10', answerable)} | "
                     f"{avg('mrr@10', answerable)} | {avg('answers', list(scores.values()))} | {cv['chosen'][value]} |")
    best_full = max(cv["full_set"].values())
    lines += ["", f"{cv['metric']}: best on the full set {best_full:.4f}; chosen on training folds and scored "
                  f"held out ({cv['folds']} folds x {cv['repeats']} shuffles): {cv['cross_validated']:.4f}; "
                  f"the default alone: {cv['full_set'].get(default, float('nan')):.4f}",
              "(answers ok: answerable questions answered correctly and unanswerable ones abstained on, "
              "over all questions)", ""]
    return "\n".join(lines)
