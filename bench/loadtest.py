"""Many threads querying one loaded index: errors, agreement with sequential results, throughput.

    python -m docqa.eval.loadtest [--threads 8] [--seconds 60] [--index DIR] [--questions FILE.jsonl]

Prints one JSON object. The Streamlit app shares one Searcher between all sessions, so this is the
load a team puts on it.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path


def run_load(searcher, questions: list[str], threads: int = 8, seconds: float = 60.0, k: int = 10) -> dict:
    """Query from `threads` threads for `seconds`; compare every result with the sequential one."""
    expected = {q: [h.passage.chunk_id for h in searcher.search(q, k=k)] for q in questions}
    errors: list[str] = []
    mismatches: list[str] = []
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            question = questions[i % len(questions)]
            try:
                got = [h.passage.chunk_id for h in searcher.search(question, k=k)]
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if got != expected[question]:
                mismatches.append(question)
            counts[n] += 1
            i += threads

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    return {"threads": threads, "seconds": round(elapsed, 2), "queries": sum(counts),
            "queries_per_second": round(sum(counts) / elapsed, 2), "errors": len(errors),
            "error_examples": errors[:3], "mismatches": len(mismatches)}


def main(argv: list[str] | None = None) -> int:
    from docqa import config
    from docqa.index.search import Searcher

    parser = argparse.ArgumentParser(prog="python -m docqa.eval.loadtest")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--index")
    parser.add_argument("--questions", default=str(config.PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    args = parser.parse_args(argv)
    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    searcher = Searcher.load(config.index_dir(args.index))
    print(json.dumps(run_load(searcher, questions, args.threads, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
