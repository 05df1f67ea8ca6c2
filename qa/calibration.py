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
        "asks_quantity": float(kind in ("number", "percent", "money")), "asks_date": float(kind == "date"),
        "asks_name": float(kind == "name"), "asks_nothing_typed": float(kind is None),
        "english": float(question.english),
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
    def from_json(cls, data: dict, source: str = "calibration") -> "Calibration":
        if data.get("format") != FORMAT:
            raise CalibrationError(f"{source}: not a {FORMAT} file; make it with `docqa eval --calibrate`")
        features = tuple(data["features"])
        if features != FEATURES:
            raise CalibrationError(f"{source}: fitted on other signals ({', '.join(features)}); "
                                   f"fit it again with `docqa eval --questions DEV --calibrate {source}`")
        return cls(features, tuple(map(float, data["means"])), tuple(map(float, data["scales"])),
                   tuple(map(float, data["weights"])), float(data["intercept"]), dict(data.get("fitted_on", {})))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "Calibration":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{path}: cannot read the calibration ({exc}); "
                                   f"make it with `docqa eval --questions DEV --calibrate {path}`") from None
        return cls.from_json(data, str(path))


_default: Calibration | None = None


def default_calibration() -> Calibration:
    """The shipped calibration, read once per process."""
    global _default
    if _default is None:
        _default = Calibration.load()
    return _default
