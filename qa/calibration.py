"""The probability that an answer is right, from the signals behind it.

A logistic regression over the answer's signals, fitted on the labelled dev questions with
cross-validation (`docqa eval --calibrate`, in `eval/calibrate.py`) and shipped as plain numbers
in `calibration.json` beside this file: no scikit-learn at run time, the same probability on every
machine for the same signals. The confidence shown ("hoog" / "middel" / "laag") is a band of this
probability (`AnswerSettings.high_probability`, `low_probability`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from docqa.errors import DocqaError

MODEL_FILE = Path(__file__).with_name("calibration.json")
FORMAT = "docqa-calibration/1"

# What the model reads, in this order; each a number computed by `answer_features`.
FEATURES = (
    "score",  # the window's score
    "margin",  # its lead over the best other window
    "dense", "lexical",  # the window's two main signals
    "type",  # it holds a new value of the type asked for
    "defines",  # it defines the subject of a "wat is X" question
    "inv_rank",  # 1 / the rank of its passage
    "inv_bm25_rank", "inv_dense_rank",  # both sides agree on the passage (1 / rank, 0 when absent)
    "passage_gap",  # how far the first passage leads the second in the final ranking
    "asks_quantity", "asks_date", "asks_name", "asks_nothing_typed",  # the expected answer type
    "english",  # English questions are answered from Dutch text
)


CLAIM_MODEL_FILE = Path(__file__).with_name("claim_calibration.json")
# What the claim model reads: the verdict, how surely the window is about the claim, and how many of the
# claim's details the source sentence states; each a number computed by `claim_features`.
CLAIM_FEATURES = (
    "supported", "contradicted",  # the verdict (not_found is the baseline)
    "topic",  # share of the claim's topic words in the deciding window
    "window_score",  # its retrieval and window score
    "inv_rank",  # 1 / the rank of its passage
    "details",  # how many details the claim has
    "matched", "absent",  # shares of them the source states, and does not state
    "mismatched",  # a detail differs
    "english",  # English claims are checked against Dutch text
    "rule_high", "rule_low",  # the checker's own confidence (topic held and every detail decided)
)


class CalibrationError(DocqaError):
    """The calibration file is missing or unreadable; the message says how to make it again."""


def answer_features(question, window, hits, margin: float) -> dict[str, float]:
    """The signals of an answer as the model reads them."""
    hit = window.hit
    kind = question.expected_type
    gap = hits[0].score - hits[1].score if len(hits) > 1 else 1.0
    return {
        "score": float(window.score), "margin": float(margin),
        "dense": float(window.features["dense"]), "lexical": float(window.features["lexical"]),
        "type": float(bool(window.features["type"])), "defines": float(bool(window.features.get("defines"))),
        "inv_rank": 1.0 / hit.rank,
        "inv_bm25_rank": 1.0 / hit.bm25_rank if hit.bm25_rank else 0.0,
        "inv_dense_rank": 1.0 / hit.dense_rank if hit.dense_rank else 0.0,
        "passage_gap": float(gap),
        "asks_quantity": float(kind in ("number", "percent", "money", "frequency")), "asks_date": float(kind == "date"),
        "asks_name": float(kind == "name"), "asks_nothing_typed": float(kind is None),
        "english": float(question.english),
    }


def claim_features(check) -> dict[str, float]:
    """The signals of a claim check (`docqa.qa.claims.ClaimCheck`) as the claim model reads them."""
    details = check.details
    n = len(details)
    status = [d.status for d in details]
    signals = check.signals or {}
    rank = signals.get("passage_rank") or 0
    return {
        "supported": float(check.verdict == "supported"), "contradicted": float(check.verdict == "contradicted"),
        "topic": float(signals.get("topic", 0.0)), "window_score": float(signals.get("window_score", 0.0)),
        "inv_rank": 1.0 / rank if rank else 0.0, "details": float(n),
        "matched": status.count("match") / n if n else 0.0, "absent": status.count("absent") / n if n else 0.0,
        "mismatched": float("mismatch" in status), "english": float(signals.get("language") == "en"),
        "rule_high": float(check.confidence == "hoog"), "rule_low": float(check.confidence == "laag"),
    }


@dataclass(frozen=True)
class Calibration:
    """Standardise each feature, then a logistic regression: p = 1 / (1 + exp(-(w . z + b)))."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    fitted_on: dict  # what it was fitted on: question file, its sha256, counts, settings

    def probability(self, values: dict[str, float]) -> float:
        z = sum(w * (values[f] - m) / s for f, m, s, w in zip(self.features, self.means, self.scales, self.weights))
        return 1.0 / (1.0 + math.exp(-(z + self.intercept)))

    def to_json(self) -> dict:
        return {"format": FORMAT, "features": list(self.features), "means": list(self.means),
                "scales": list(self.scales), "weights": list(self.weights), "intercept": self.intercept,
                "fitted_on": self.fitted_on}

    @classmethod
    def from_json(cls, data: dict, source: str = "calibration", expected: tuple[str, ...] = FEATURES) -> "Calibration":
        what = "--claims DEV" if expected == CLAIM_FEATURES else "--questions DEV"
        if data.get("format") != FORMAT:
            raise CalibrationError(f"{source}: not a {FORMAT} file; make it with `docqa eval {what} --calibrate`")
        features = tuple(data["features"])
        if features != expected:
            raise CalibrationError(f"{source}: fitted on other signals ({', '.join(features)}); "
                                   f"fit it again with `docqa eval {what} --calibrate {source}`")
        return cls(features, tuple(map(float, data["means"])), tuple(map(float, data["scales"])),
                   tuple(map(float, data["weights"])), float(data["intercept"]), dict(data.get("fitted_on", {})))

    @classmethod
    def load(cls, path: Path = MODEL_FILE, expected: tuple[str, ...] = FEATURES) -> "Calibration":
        what = "--claims DEV" if expected == CLAIM_FEATURES else "--questions DEV"
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{path}: cannot read the calibration ({exc}); "
                                   f"make it with `docqa eval {what} --calibrate {path}`") from None
        return cls.from_json(data, str(path), expected)


_default: Calibration | None = None


def default_calibration() -> Calibration:
    """The shipped calibration, read once per process."""
    global _default
    if _default is None:
        _default = Calibration.load()
    return _default


_default_claims: Calibration | None = None


def default_claim_calibration() -> Calibration:
    """The shipped calibration of claim verdicts, read once per process."""
    global _default_claims
    if _default_claims is None:
        _default_claims = Calibration.load(CLAIM_MODEL_FILE, CLAIM_FEATURES)
    return _default_claims
