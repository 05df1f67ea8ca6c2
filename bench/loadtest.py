"""Many threads asking one engine: errors, agreement with sequential results, throughput.

    python -m bench.loadtest [--threads 8] [--seconds 60] [--index DIR] [--model SPEC] [--search]
                             [--questions FILE.jsonl]

Prints one JSON object. The Streamlit app shares one `docqa.engine.Engine` between all sessions
and asks it (`Engine.ask`), so this is the load a team puts on it; `--search` calls `Engine.search`
instead. The engine is opened as the CLI opens it: `--index`, else DOCQA_INDEX; `--model`, else
DOCQA_MODEL, else the index's own encoder.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

CALLS = ("ask", "search")


def _outcome(engine, call: str, question: str, k: int) -> tuple:
    """What must not differ between threads: the ranking, and for `ask` the answer with its citations."""
    if call == "ask":
        answer = engine.ask(question, k=k)
        return (tuple(h.passage.chunk_id for h in answer.hits), answer.answer, answer.abstained,
                tuple(c.hit.passage.chunk_id for c in answer.citations))
    return tuple(h.passage.chunk_id for h in engine.search(question, k=k).hits)


def run_load(engine, questions: list[str], threads: int = 8, seconds: float = 60.0, k: int = 10,
             call: str = "ask") -> dict:
    """Call `engine.<call>` from `threads` threads for `seconds`; compare every result with the
    sequential one."""
    if call not in CALLS:
        raise ValueError(f"call={call!r}: use one of {', '.join(CALLS)}")
    expected = {q: _outcome(engine, call, q, k) for q in questions}
    errors: list[str] = []
    mismatches: list[str] = []
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            question = questions[i % len(questions)]
            i += threads
            try:
                got = _outcome(engine, call, question, k)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if got != expected[question]:
                mismatches.append(question)
            counts[n] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    return {"call": call, "threads": threads, "seconds": round(elapsed, 2), "queries": sum(counts),
            "queries_per_second": round(sum(counts) / elapsed, 2), "errors": len(errors),
            "error_examples": errors[:3], "mismatches": len(mismatches)}


def main(argv: list[str] | None = None) -> int:
    from docqa import config
    from docqa.engine import Engine

    parser = argparse.ArgumentParser(prog="python -m bench.loadtest")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--index", help="index folder (env DOCQA_INDEX)")
    parser.add_argument("--model", help="encoder the index was built with (env DOCQA_MODEL)")
    parser.add_argument("--search", action="store_true", help="call Engine.search instead of Engine.ask")
    parser.add_argument("--questions", default=str(config.PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    args = parser.parse_args(argv)
    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    engine = Engine.open(args.index, model=args.model)
    print(json.dumps(run_load(engine, questions, args.threads, args.seconds, call="search" if args.search else "ask")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
