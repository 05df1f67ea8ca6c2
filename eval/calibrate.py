"""`docqa eval --questions FILE --calibrate OUT.json`: fit the answers' probability of being right.

Every question is asked once (hybrid, as `docqa ask`); each answer shown is labelled right (an
answerable question answered correctly) or wrong (a wrong answer, or an answer to an unanswerable
question), and its signals (`docqa.qa.calibration.FEATURES`) are the inputs. A standardised
logistic regression (scikit-learn) is scored out of fold (`folds` x `repeats`, stratified), which
gives the reliability table a new question set can expect; then it is fitted on all answers and
written as plain numbers for `docqa.qa.calibration.Calibration`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from docqa.eval import EvalError
from docqa.eval.judging import is_correct

C = 0.1  # inverse regularisation: 0.1 gave the best held-out ranking of right over wrong on dev (AUC)
LEVELS = ("hoog", "middel", "laag")
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


def collect(engine, questions, k: int = 10):
    """(feature rows, labels, question ids) of every answer shown."""
    from docqa.qa.calibration import FEATURES

    rows, labels, ids = [], [], []
    uncalibrated = engine.with_calibration(False)
    for question in questions:
        answer = uncalibrated.ask(question.question, k=k, mode="hybrid")
        if answer.abstained or answer.features is None:
            continue
        rows.append([answer.features[f] for f in FEATURES])
        labels.append(int(question.answerable and is_correct(question.answer, answer.answer)))
        ids.append(question.id)
    if len(set(labels)) < 2 or min(labels.count(0), labels.count(1)) < 5:
        raise EvalError("too few right or wrong answers to calibrate on (need 5 of each)")
    return rows, labels, ids


def out_of_fold(rows, labels, folds: int = 5, repeats: int = 3):
    """Each answer's probability from models that did not see it, averaged over the repeats."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    X, y = np.asarray(rows, dtype=float), np.asarray(labels)
    total = np.zeros(len(y))
    for seed in range(repeats):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
            total[test] += _fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return total / repeats


def _fit(X, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)).fit(X, y)


def reliability(probabilities, labels, high: float, low: float) -> dict:
    """Share right per confidence level and per probability bin."""
    levels = {level: [] for level in LEVELS}
    for p, y in zip(probabilities, labels):
        levels["hoog" if p >= high else "laag" if p < low else "middel"].append(y)
    bins = []
    for lo, hi in zip(BINS, BINS[1:]):
        inside = [y for p, y in zip(probabilities, labels) if lo <= p < hi]
        bins.append({"from": lo, "to": min(hi, 1.0), "n": len(inside),
                     "right": round(sum(inside) / len(inside), 4) if inside else None,
                     "mean_probability": round(sum(p for p in probabilities if lo <= p < hi) / len(inside), 4)
                     if inside else None})
    n = len(labels)
    return {"answers": n, "levels": {lv: {"n": len(v), "share": round(len(v) / n, 4),
                                          "right": round(sum(v) / len(v), 4) if v else None}
                                     for lv, v in levels.items()},
            "bins": bins}


def fit_calibration(engine, questions, questions_file, folds: int = 5, repeats: int = 3, k: int = 10):
    """(Calibration fitted on all answers, the held-out reliability report)."""
    from docqa.qa.calibration import FEATURES, Calibration

    rows, labels, _ = collect(engine, questions, k)
    held_out = out_of_fold(rows, labels, folds, repeats)
    s = engine.settings.answer
    report = reliability(list(held_out), labels, s.high_probability, s.low_probability)
    model = _fit(rows, labels)
    scaler, logistic = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    digest = hashlib.sha256(Path(questions_file).read_bytes()).hexdigest()[:12] if questions_file else None
    calibration = Calibration(FEATURES, tuple(float(v) for v in scaler.mean_), tuple(float(v) for v in scaler.scale_),
                              tuple(float(v) for v in logistic.coef_[0]), float(logistic.intercept_[0]),
                              {"questions_file": Path(questions_file).name if questions_file else None,
                               "questions_sha256": digest, "answers": len(labels), "right": sum(labels),
                               "C": C, "folds": folds, "repeats": repeats,
                               "index": engine.manifest.get("fingerprint")})
    return calibration, report


def fit_claim_calibration(engine, claim_sets, folds: int = 5, repeats: int = 3, k: int = 10):
    """(Calibration of claim verdicts fitted on every claim of `claim_sets` [(file, claims)], the held-out
    reliability report). A claim is labelled right when its verdict is the labelled one."""
    from docqa.qa.calibration import CLAIM_FEATURES, Calibration, claim_features

    rows, labels, files = [], [], []
    for path, claims in claim_sets:
        for claim in claims:
            result = engine.check(claim.claim, k=k)
            values = claim_features(result)
            rows.append([values[f] for f in CLAIM_FEATURES])
            labels.append(int(result.verdict == claim.verdict))
        files.append({"file": Path(path).name, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12],
                      "claims": len(claims)})
    if min(labels.count(0), labels.count(1)) < 5:
        raise EvalError(f"too few right or wrong verdicts to calibrate on ({labels.count(1)} right, "
                        f"{labels.count(0)} wrong; need 5 of each): add another labelled claim file")
    held_out = out_of_fold(rows, labels, folds, repeats)
    s = engine.settings.answer
    report = reliability(list(held_out), labels, s.high_probability, s.low_probability)
    report["what"] = "verdicts"
    model = _fit(rows, labels)
    scaler, logistic = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    calibration = Calibration(CLAIM_FEATURES, tuple(float(v) for v in scaler.mean_),
                              tuple(float(v) for v in scaler.scale_), tuple(float(v) for v in logistic.coef_[0]),
                              float(logistic.intercept_[0]),
                              {"claim_files": files, "claims": len(labels), "right": sum(labels), "C": C,
                               "folds": folds, "repeats": repeats, "index": engine.manifest.get("fingerprint")})
    return calibration, report


def markdown(report: dict) -> str:
    what = report.get("what", "answers shown")
    lines = [f"Held-out reliability over {report['answers']} {what}:", "",
             "| confidence | n | share | right |", "| --- | ---: | ---: | ---: |"]
    for level, row in report["levels"].items():
        right = "-" if row["right"] is None else f"{row['right']:.2f}"
        lines.append(f"| {level} | {row['n']} | {row['share']:.2f} | {right} |")
    lines += ["", "| probability | n | mean probability | right |", "| --- | ---: | ---: | ---: |"]
    for b in report["bins"]:
        if b["n"]:
            lines.append(f"| {b['from']:.1f}-{b['to']:.1f} | {b['n']} | {b['mean_probability']:.2f} | {b['right']:.2f} |")
    return "\n".join(lines) + "\n"
