"""Load test of the HTTP API: N concurrent clients for S seconds against `docqa serve`, on loopback only.

    python -m bench.http_load --serve [--clients 32] [--seconds 15] [--workers 1] [--omp passive]
                              [--index DIR] [--model M] [--search] [--questions FILE.jsonl] [--limit 30]
    python -m bench.http_load --serve --omp compare      # the same load with OMP_WAIT_POLICY PASSIVE, unset, ACTIVE
    python -m bench.http_load --serve --with-ingest      # ... while a cold `docqa ingest` runs beside it
    python -m bench.http_load --url http://127.0.0.1:8000 [...]   # a server that is already running

Prints one JSON object: requests, errors (any non-200 answer or failed request), mismatches (an
answer whose body differs from the one the same question got when asked alone, before the load),
throughput and latency p50 / p95 / max. Bounded: every client stops at the deadline or after
--max-requests in all, every request times out after --timeout seconds, a server it starts is
stopped when it is done; it refuses any address outside the loopback range.

`--serve` starts the server itself on a free loopback port, rate limit off (32 clients share one
address), as `python -m docqa.serve` with OMP_WAIT_POLICY set as --omp says; `--omp unset` starts
the same app through `uvicorn --factory docqa.http_api:app_from_env`, which leaves OMP_WAIT_POLICY
unset (docqa serve would set PASSIVE), to measure what PASSIVE changes.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

POLICIES = ("passive", "unset", "active")


def is_loopback_url(url: str) -> bool:
    from docqa.serve import is_loopback

    host = urlsplit(url).hostname or ""
    return is_loopback(host)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- the server ----------------------------------------------------------------------------------

@contextlib.contextmanager
def served(index: str | None = None, model: str | None = None, workers: int = 1, omp: str = "passive",
           ready_timeout: float = 180.0, extra_env: dict | None = None, log_path: str | None = None):
    """A `docqa serve` process on a free loopback port, stopped on leaving; yields its base URL."""
    if omp not in POLICIES:
        raise ValueError(f"omp={omp!r}: use one of {', '.join(POLICIES)}")
    import httpx

    port = free_port()
    env = dict(os.environ, DOCQA_RATE_LIMIT="0", **(extra_env or {}))
    env.pop("OMP_WAIT_POLICY", None)
    if index:
        env["DOCQA_INDEX"] = str(Path(index).resolve())
    if model:
        env["DOCQA_MODEL"] = model
    if omp == "unset":
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "docqa.http_api:app_from_env", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-server-header"]
    else:
        env["OMP_WAIT_POLICY"] = omp.upper()
        cmd = [sys.executable, "-m", "docqa.serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode} before it answered"
                                   + (f"; see {log_path}" if log_path else ""))
            try:
                if httpx.get(url + "/health", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /health within {ready_timeout:.0f} s")
            time.sleep(0.25)
        yield url
    finally:
        stop(proc)
        if log_path:
            log.close()


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> int | None:
    """SIGTERM (a graceful shutdown), then SIGKILL after `timeout` seconds; only this process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


# -- the load ------------------------------------------------------------------------------------

async def _load(url: str, questions: list[str], clients: int, seconds: float, call: str, k: int | None,
                token: str | None, max_requests: int, timeout: float) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    body = (lambda q: {"question": q}) if k is None else (lambda q: {"question": q, "k": k})
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout) as client:
        expected: dict[str, bytes] = {}
        started = time.perf_counter()
        for q in questions:  # one at a time: the answers the load must reproduce
            r = await client.post(f"/{call}", json=body(q))
            if r.status_code != 200:
                raise RuntimeError(f"sequential {call} of {q!r}: HTTP {r.status_code} {r.text[:200]}")
            expected[q] = r.content
        sequential_s = time.perf_counter() - started

        latencies: list[float] = []
        errors: list[str] = []
        mismatches: list[str] = []
        sent = 0
        deadline = time.monotonic() + seconds

        async def one_client(n: int) -> None:
            nonlocal sent
            i = n
            while time.monotonic() < deadline and sent < max_requests:
                sent += 1
                q = questions[i % len(questions)]
                i += clients
                t0 = time.perf_counter()
                try:
                    r = await client.post(f"/{call}", json=body(q))
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                elif r.content != expected[q]:
                    mismatches.append(q)

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one_client(n) for n in range(clients))), seconds + timeout + 30)
        elapsed = time.perf_counter() - t0

    ms = lambda x: None if x is None else round(x * 1000, 1)  # noqa: E731
    failed = sum(1 for e in errors if not e.startswith("HTTP "))
    answered = len(latencies)  # got an HTTP answer, whatever its status
    ok = answered - (len(errors) - failed)
    return {"call": call, "clients": clients, "seconds": round(elapsed, 2), "questions": len(questions),
            "requests": answered + failed, "ok": ok,
            "requests_per_second": round(ok / elapsed, 2) if elapsed else None,
            "p50_ms": ms(_percentile(latencies, 0.50)), "p95_ms": ms(_percentile(latencies, 0.95)),
            "max_ms": ms(max(latencies) if latencies else None),
            "sequential_ms_per_request": round(sequential_s * 1000 / len(questions), 1),
            "errors": len(errors), "error_examples": errors[:3],
            "mismatches": len(mismatches), "mismatch_examples": mismatches[:3],
            "expected": {q: b.decode("utf-8") for q, b in expected.items()}}


def run_http_load(url: str, questions: list[str], clients: int = 32, seconds: float = 15.0, call: str = "ask",
                  k: int | None = None, token: str | None = None, max_requests: int = 100_000,
                  timeout: float = 30.0) -> dict:
    """`clients` concurrent clients asking `questions` in turn for `seconds` (at most `max_requests`
    in all); every body is compared with the one its question got alone before the load."""
    if not is_loopback_url(url):
        raise ValueError(f"{url}: the load test only targets loopback addresses (127.0.0.0/8, ::1, localhost)")
    if call not in ("ask", "search"):
        raise ValueError(f"call={call!r}: use ask or search")
    if not questions:
        raise ValueError("no questions")
    if not (1 <= clients <= 512 and 0 < seconds <= 3600 and max_requests >= 1):
        raise ValueError("bounds: 1 <= clients <= 512, 0 < seconds <= 3600, max_requests >= 1")
    return asyncio.run(_load(url, questions, clients, seconds, call, k, token, max_requests, timeout))


@contextlib.contextmanager
def ingest_beside(policy: str):
    """A cold index build of the corpus in another process, for as long as the block runs (then stopped)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="docqa-ingest-") as tmp:
        env = {**os.environ, "DOCQA_CACHE": os.path.join(tmp, "cache")}
        if policy == "unset":
            env.pop("OMP_WAIT_POLICY", None)
        else:
            env["OMP_WAIT_POLICY"] = policy.upper()
        proc = subprocess.Popen([sys.executable, "-m", "docqa.cli", "ingest", "--index", os.path.join(tmp, "index"),
                                 "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(5)  # past its start-up: the model loaded, embedding under way
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_questions(path: str | Path, limit: int | None = None) -> list[str]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows if isinstance(r.get("question"), str)]
    return questions[:limit] if limit else questions


def main(argv: list[str] | None = None) -> int:
    from docqa import config

    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server (loopback only)")
    where.add_argument("--serve", action="store_true", help="start docqa serve on a free loopback port, stop it after")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--search", action="store_true", help="POST /search instead of /ask")
    parser.add_argument("--k", type=int, help="k for every request (default: the server's, 10)")
    parser.add_argument("--questions", default=str(config.PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    parser.add_argument("--limit", type=int, default=30, help="first N questions of the file (default 30)")
    parser.add_argument("--index", help="with --serve: index folder (env DOCQA_INDEX)")
    parser.add_argument("--model", help="with --serve: encoder (env DOCQA_MODEL)")
    parser.add_argument("--workers", type=int, default=1, help="with --serve: worker processes")
    parser.add_argument("--omp", default="passive",
                        help="with --serve: OMP_WAIT_POLICY of the server: passive, unset or active; several "
                             "comma-separated, or compare (all three), run in turn")
    parser.add_argument("--log", help="with --serve: write the server's output here")
    parser.add_argument("--with-ingest", action="store_true",
                        help="run a cold `docqa ingest` of the corpus (into a temporary index, empty embedding "
                             "cache) beside the load, as a team that rebuilds while serving would")
    args = parser.parse_args(argv)
    questions = read_questions(args.questions, args.limit)
    call = "search" if args.search else "ask"
    token = os.environ.get("DOCQA_API_TOKEN")
    kwargs = dict(clients=args.clients, seconds=args.seconds, call=call, k=args.k, max_requests=args.max_requests,
                  timeout=args.timeout)

    def drop_expected(report: dict) -> dict:
        return {key: value for key, value in report.items() if key != "expected"}

    if args.url:
        print(json.dumps(drop_expected(run_http_load(args.url, questions, token=token, **kwargs)), indent=2))
        return 0
    policies = POLICIES if args.omp == "compare" else tuple(p.strip() for p in args.omp.split(","))
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        parser.error(f"--omp {args.omp}: use {', '.join(POLICIES)}, several comma-separated, or compare")
    runs, answers = {}, []
    for n, policy in enumerate(policies):
        with served(args.index, args.model, args.workers, policy, log_path=args.log) as url, \
                (ingest_beside(policy) if args.with_ingest else contextlib.nullcontext()) as ingest:
            report = run_http_load(url, questions, token=token, **kwargs)
            if ingest is not None:
                report["ingest_still_running_at_the_end"] = ingest.poll() is None
        answers.append(report["expected"])
        runs[policy if policy not in runs else f"{policy}#{n + 1}"] = {"omp_wait_policy": policy, "workers": args.workers, **drop_expected(report)}
    out = runs[policies[0]] if len(policies) == 1 else {
        "runs": runs, "same_answers_in_every_run": all(a == answers[0] for a in answers)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
