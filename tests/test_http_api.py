"""The HTTP API in-process (docqa/http_api.py) over a small hash-encoder index: every endpoint gives
the CLI's --json output byte for byte, every kind of bad input gets a JSON 4xx that says what to
change, nothing leaks a traceback, and the guards (body size, token, rate limit, CORS) hold.
schemathesis runs the OpenAPI schema's generated cases and must find no 5xx.

The client is Starlette's TestClient (httpx2, the httpx fork Starlette now uses); the served
process and the load test use httpx itself (tests/test_http_serve.py)."""
import collections
import json
import logging

import pytest
from conftest import build_small_hash_index
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from docqa import cli
from docqa.errors import SettingsError
from docqa.http_api import ApiSettings, Guard, create_app

QUESTION = "welke norm geldt voor beschikbaarheid"
OPEN = ApiSettings(rate_per_second=0)  # the tests below send many requests from one address
TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_small_hash_index(tmp_path_factory.mktemp("http"))


@pytest.fixture(scope="module")
def engine(index_dir):
    from docqa.engine import Engine

    return Engine.open(index_dir)


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(engine, OPEN), raise_server_exceptions=False) as c:
        yield c


def cli_json(capsys, *argv) -> bytes:
    assert cli.main(list(argv)) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n")
    return out[:-1].encode("utf-8")


def assert_error(r, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status and isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    for w in words:
        assert w in body["error"], body["error"]
    return body


# -- every endpoint, as the CLI prints it ------------------------------------------------------------

def test_search_is_the_cli_json_byte_for_byte(client, index_dir, capsys):
    r = client.post("/search", json={"question": QUESTION, "k": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.content == cli_json(capsys, "search", "--json", "--index", str(index_dir), "--k", "3", QUESTION)
    assert [h["rank"] for h in r.json()["hits"]] == [1, 2, 3]


def test_search_with_every_filter_and_mode_matches_the_cli(client, index_dir, capsys):
    body = {"question": "norm beschikbaarheid", "k": 2, "mode": "bm25", "docs": ["alfa-jaarplan-2024"],
            "orgs": ["Dienst Alfa"], "years": [2024]}
    r = client.post("/search", json=body)
    assert r.status_code == 200, r.text
    assert {h["doc"] for h in r.json()["hits"]} == {"alfa-jaarplan-2024"}
    assert r.content == cli_json(capsys, "search", "--json", "--index", str(index_dir), "--k", "2", "--mode", "bm25",
                                 "--doc", "alfa-jaarplan-2024", "--org", "Dienst Alfa", "--year", "2024",
                                 "norm beschikbaarheid")


def test_ask_is_the_cli_json_byte_for_byte(client, index_dir, capsys):
    r = client.post("/ask", json={"question": QUESTION})
    assert r.status_code == 200
    answer = r.json()
    assert "98,5%" in answer["answer"] and answer["citations"][0]["doc"] == "alfa-jaarplan-2024"
    # k left out is the CLI's default 10, capped at this index's passages with the same notice
    assert r.content == cli_json(capsys, "ask", "--json", "--index", str(index_dir), QUESTION)


def test_ask_that_abstains_is_still_200_with_the_cli_json(client, index_dir, capsys):
    question = "hoeveel olifanten wonen er op de maan"
    r = client.post("/ask", json={"question": question, "mode": "dense", "k": 2})
    assert r.status_code == 200
    assert r.content == cli_json(capsys, "ask", "--json", "--index", str(index_dir), "--mode", "dense", "--k", "2",
                                 question)


def test_documents_is_docqa_docs_json(client, index_dir, capsys):
    r = client.get("/documents")
    assert r.status_code == 200
    assert r.content == cli_json(capsys, "docs", "--json", "--index", str(index_dir))
    assert {d["doc_id"] for d in r.json()["documents"]} >= {"alfa-jaarplan-2024", "beta-verslag-2023"}


def test_context_is_docqa_context_json(client, engine, index_dir, capsys):
    chunk = client.post("/search", json={"question": QUESTION, "k": 1}).json()["hits"][0]["chunk_id"]
    for chars, args in ((None, ()), (40, ("--chars", "40")), (0, ("--chars", "0"))):
        r = client.get(f"/context/{chunk}", params={} if chars is None else {"chars": chars})
        assert r.status_code == 200, r.text
        assert r.content == cli_json(capsys, "context", "--json", "--index", str(index_dir), chunk, *args)
    assert len(client.get(f"/context/{chunk}", params={"chars": 40}).json()["after"]) <= 40


def test_health_reports_the_index_and_encoder(client, engine):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body == {"status": "ok", **json.loads(json.dumps(engine.info()))}
    assert body["passages"] == engine.passage_count and body["encoder"]["id"] == "hash-64"
    assert body["fingerprint"]


def test_openapi_and_the_interactive_docs_are_served_without_a_cdn(client, engine):
    schema = client.get("/openapi.json").json()
    assert {"/search", "/ask", "/check", "/documents", "/context/{chunk_id}", "/health"} == set(schema["paths"])
    text = json.dumps(schema)
    assert '"422"' not in text and "HTTPValidationError" not in text  # bad requests are 400, documented so
    k = schema["components"]["schemas"]["Query"]["properties"]["k"]["anyOf"][0]
    assert k["minimum"] == 1 and k["maximum"] == engine.passage_count
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "cdn." not in page.text and "https://" not in page.text
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_a_long_question_is_cut_with_the_clis_notice(client):
    r = client.post("/search", json={"question": "beschikbaarheid " * 400, "k": 1})
    assert r.status_code == 200
    assert any("ingekort" in n for n in r.json()["notices"])


# -- bad input -----------------------------------------------------------------------------------------

BAD_BODIES = [
    ({}, "question", "missing"),
    ({"question": None}, "question", "string"),
    ({"question": 42}, "question", "string"),
    ({"question": ["a"]}, "question", "string"),
    ({"question": ""}, "empty question", ""),
    ({"question": " \u200b\t\n "}, "empty question", ""),
    ({"question": "x", "k": 0}, "k: give a whole number from 1 to", "(got 0)"),
    ({"question": "x", "k": -3}, "k: give a whole number from 1 to", ""),
    ({"question": "x", "k": 2.5}, "k:", "whole number"),
    ({"question": "x", "k": "5"}, "k:", "whole number"),
    ({"question": "x", "k": True}, "k:", "whole number"),
    ({"question": "x", "k": 10 ** 30}, "k:", "whole number"),
    ({"question": "x", "mode": "fuzzy"}, "mode: use one of hybrid, bm25, dense", ""),
    ({"question": "x", "mode": None}, "mode:", ""),
    ({"question": "x", "docs": "alfa-jaarplan-2024"}, "docs: give a list", ""),
    ({"question": "x", "docs": [1]}, "docs[0]:", ""),
    ({"question": "x", "docs": ["nope"]}, "unknown document 'nope'", "indexed:"),
    ({"question": "x", "orgs": ["Nergens"]}, "unknown organisation 'Nergens'", ""),
    ({"question": "x", "orgs": "Beta"}, "orgs: give a list", ""),
    ({"question": "x", "years": [1999]}, "unknown year 1999", "indexed:"),
    ({"question": "x", "years": ["2024"]}, "years[0]:", "whole years"),
    ({"question": "x", "years": 2024}, "years: give a list", ""),
    ({"question": "x", "docs": ["alfa-jaarplan-2024"], "years": [2023]}, "no passages match these filters", ""),
    ({"question": "x", "doc": ["alfa-jaarplan-2024"]}, "unknown field 'doc'", "docs"),
    ({"question": "x", "docs": ["\ud800"]}, "unknown document", ""),
]


@pytest.mark.parametrize("path", ["/search", "/ask"])
@pytest.mark.parametrize("body,first,second", BAD_BODIES, ids=[json.dumps(b)[:40] for b, _, _ in BAD_BODIES])
def test_bad_bodies_get_400_that_say_what_to_change(client, path, body, first, second):
    content = json.dumps(body).encode("utf-8")  # json= would refuse the lone surrogate
    r = client.post(path, content=content, headers={"content-type": "application/json"})
    body = assert_error(r, 400, first, second)
    if "fields" in body:
        assert all(f["field"] and f["message"] for f in body["fields"])


def test_k_over_the_passage_count_says_the_range(client, engine):
    n = engine.passage_count
    body = assert_error(client.post("/ask", json={"question": "x", "k": n + 1}), 400, f"from 1 to {n}")
    assert body["fields"] == [{"field": "k", "message": body["error"]}]
    assert client.post("/ask", json={"question": "x", "k": n}).status_code == 200


def test_several_bad_fields_get_one_message_each(client):
    body = assert_error(client.post("/search", json={"question": 1, "k": 0, "mode": "x", "extra": 1}), 400)
    assert sorted(f["field"] for f in body["fields"]) == ["extra", "k", "mode", "question"]


@pytest.mark.parametrize("content,ctype,words", [
    (b"{not json", "application/json", "not valid JSON"),
    (b"", "application/json", "JSON"),
    (b"[1, 2]", "application/json", "JSON object"),
    (b'"a question"', "application/json", "JSON object"),
    (b'{"question": "x"}', "text/plain", "Content-Type: application/json"),
    (b'{"question": "x"}', None, "Content-Type: application/json"),
    (b"\xff\xfe\x00", "application/json", "JSON"),
])
def test_bodies_that_are_not_a_json_object_get_400(client, content, ctype, words):
    headers = {"content-type": ctype} if ctype else {}
    assert_error(client.post("/ask", content=content, headers=headers), 400, words)


def test_context_bad_input(client):
    assert_error(client.get("/context/nope"), 404, "no passage 'nope'")
    assert_error(client.get("/context/..%2F..%2Fetc%2Fpasswd"), 404, "no passage")
    assert_error(client.get("/context/a/b/../../c"), 404)
    for chars in ("-1", "100001", "abc", "1.5", ""):
        assert_error(client.get("/context/x", params={"chars": chars}), 400, "chars: give a whole number from 0 to 100000")


def test_unknown_routes_and_methods_are_json(client):
    assert_error(client.get("/nope"), 404, "no endpoint GET /nope")
    r = client.get("/ask")
    assert_error(r, 405, "GET is not allowed on /ask")
    assert "POST" in r.headers["allow"]
    assert_error(client.delete("/documents"), 405)


def test_a_body_over_the_limit_gets_413_by_length_and_when_streamed(client):
    big = json.dumps({"question": "x" * (70 * 1024)}).encode()
    assert_error(client.post("/ask", content=big, headers={"content-type": "application/json"}), 413, "65,536 bytes")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(80):
            yield b" " * 1024

    assert_error(client.post("/ask", content=chunks(), headers={"content-type": "application/json"}), 413)
    # just under the limit goes through (the engine cuts the question with a notice)
    fits = json.dumps({"question": "beschikbaarheid " * 4000, "k": 1}).encode()
    assert len(fits) < 64 * 1024
    assert client.post("/search", content=fits, headers={"content-type": "application/json"}).status_code == 200


def test_the_body_limit_is_a_setting(engine):
    with TestClient(create_app(engine, ApiSettings(rate_per_second=0, max_body_bytes=2048))) as c:
        assert_error(c.post("/ask", json={"question": "x" * 3000}), 413, "2,048 bytes")
        assert c.post("/search", json={"question": "norm", "k": 1}).status_code == 200


def test_an_unexpected_error_is_a_generic_500_logged_on_the_server(engine, caplog):
    class Broken:
        passage_count = engine.passage_count

        def search(self, *a, **kw):
            raise RuntimeError("secret internals /etc/shadow")

        def __getattr__(self, name):
            return getattr(engine, name)

    with TestClient(create_app(Broken(), OPEN), raise_server_exceptions=False) as c:
        with caplog.at_level(logging.ERROR):
            r = c.post("/search", json={"question": "norm"})
    body = assert_error(r, 500, "internal error")
    assert "secret" not in r.text and "RuntimeError" not in r.text
    assert "secret internals" in caplog.text  # the traceback is in the server's log


# -- guards ---------------------------------------------------------------------------------------------

def test_with_a_token_every_endpoint_but_the_docs_needs_it(engine):
    with TestClient(create_app(engine, ApiSettings(token=TOKEN, rate_per_second=0))) as c:
        for method, path, kw in (("post", "/ask", {"json": {"question": QUESTION}}), ("get", "/health", {}),
                                 ("get", "/documents", {}), ("post", "/search", {"json": {"question": "x"}})):
            r = getattr(c, method)(path, **kw)
            assert_error(r, 401, "Authorization: Bearer")
            assert r.headers["www-authenticate"].startswith("Bearer")
            for wrong in ("Bearer wrong", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer "):
                assert getattr(c, method)(path, headers={"Authorization": wrong}, **kw).status_code == 401
            ok = getattr(c, method)(path, headers={"Authorization": f"Bearer {TOKEN}"}, **kw)
            assert ok.status_code == 200, ok.text
        assert c.get("/openapi.json").status_code == 200 and c.get("/docs").status_code == 200
        schema = c.get("/openapi.json").json()
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_rate_limit_answers_429_with_retry_after(engine):
    with TestClient(create_app(engine, ApiSettings(rate_per_second=0.5, rate_burst=3))) as c:
        codes = [c.get("/health").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.get("/health")
        assert_error(r, 429, "too many requests", "retry after")
        assert int(r.headers["retry-after"]) >= 1


def test_the_token_bucket_is_per_client_and_refills():
    guard = Guard(None, ApiSettings(rate_per_second=1000, rate_burst=2))
    assert [guard._allow("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert guard._allow("b") == 0.0  # another client has its own bucket
    slow = Guard(None, ApiSettings(rate_per_second=0.1, rate_burst=1, max_clients=10))
    assert slow._allow("a") == 0.0 and 9 < slow._allow("a") <= 10
    for n in range(50):  # many clients: memory stays bounded
        slow._allow(f"c{n}")
    assert len(slow._buckets) <= 51


def test_cors_is_off_unless_origins_are_named(client, engine):
    r = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    with TestClient(create_app(engine, ApiSettings(token=TOKEN, rate_per_second=0,
                                                   cors_origins=("http://intranet.example",)))) as c:
        pre = c.options("/ask", headers={"Origin": "http://intranet.example", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "http://intranet.example"
        r = c.get("/health", headers={"Origin": "http://intranet.example", "Authorization": f"Bearer {TOKEN}"})
        assert r.headers["access-control-allow-origin"] == "http://intranet.example"
        denied = c.get("/health", headers={"Origin": "http://intranet.example"})  # errors carry it too
        assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == "http://intranet.example"
        other = c.get("/health", headers={"Origin": "http://evil.example", "Authorization": f"Bearer {TOKEN}"})
        assert "access-control-allow-origin" not in other.headers


def test_settings_from_the_environment():
    s = ApiSettings.from_env({"DOCQA_API_TOKEN": TOKEN, "DOCQA_CORS_ORIGINS": "http://a.example, https://b.example",
                              "DOCQA_MAX_BODY": "4096", "DOCQA_RATE_LIMIT": "2.5", "DOCQA_RATE_BURST": "7"})
    assert s == ApiSettings(token=TOKEN, cors_origins=("http://a.example", "https://b.example"), max_body_bytes=4096,
                            rate_per_second=2.5, rate_burst=7)
    assert ApiSettings.from_env({}) == ApiSettings()
    assert ApiSettings().max_body_bytes == 64 * 1024 and ApiSettings().token is None
    for env, words in (({"DOCQA_API_TOKEN": "short"}, "at least 16"), ({"DOCQA_RATE_LIMIT": "fast"}, "number"),
                       ({"DOCQA_RATE_LIMIT": "-1"}, ">= 0"), ({"DOCQA_MAX_BODY": "10"}, ">= 1024"),
                       ({"DOCQA_RATE_BURST": "0"}, ">= 1"), ({"DOCQA_CORS_ORIGINS": "intranet"}, "http(s)://"),
                       ({"DOCQA_API_TOKEN": "é" * 20}, "ASCII")):
        with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)")):
            ApiSettings.from_env(env)


# -- generated cases -------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_cases_find_no_server_error(engine, mode):
    """Every operation of the OpenAPI schema, with cases schemathesis generates from it (valid ones,
    and ones that break the schema): no 5xx, and every answer is one the schema documents. (Driven
    through hypothesis directly: schemathesis' lazy pytest fixture does not work with pytest 9.)"""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import given
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine, OPEN))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "POST /search", "POST /ask", "POST /check", "GET /documents", "GET /context/{chunk_id}", "GET /health"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    seen = []
    for operation in operations:
        if mode == "negative" and operation.path in ("/documents", "/health"):
            continue  # nothing to get wrong: no parameters, no body
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            response = case.call_and_validate(checks=checks)
            seen.append(response.status_code)

        call()
    print(mode, sorted(collections.Counter(seen).items()))
    assert seen and all(code < 500 for code in seen)
    assert (200 in seen) if mode == "positive" else (400 in seen)


def test_a_worker_that_cannot_open_the_index_stops_with_one_line(monkeypatch, capsys, tmp_path):
    from docqa.http_api import app_from_env

    monkeypatch.setenv("DOCQA_INDEX", str(tmp_path / "no-index-here"))
    with pytest.raises(SystemExit) as stopped:
        app_from_env()
    assert stopped.value.code == 3  # uvicorn's STARTUP_FAILURE: its supervisor stops, no restart loop
    err = capsys.readouterr().err
    assert err.startswith("docqa serve: ") and err.count("\n") == 1 and "Traceback" not in err


def test_the_worker_factory_reads_the_environment(monkeypatch, index_dir):
    from docqa.http_api import app_from_env

    monkeypatch.setenv("DOCQA_INDEX", str(index_dir))
    monkeypatch.setenv("DOCQA_RATE_LIMIT", "0")
    monkeypatch.setenv("DOCQA_CORS_ORIGINS", "http://intranet.example")
    app = app_from_env()
    assert app.state.settings.cors_origins == ("http://intranet.example",) and app.state.settings.rate_per_second == 0
    with TestClient(app) as c:
        assert c.get("/health").json()["passages"] == app.state.engine.passage_count


def test_check_gives_the_json_of_docqa_check(client, engine):
    claim = "Dienst Alfa handelde in 2022 ruim 130 bezwaren af."
    r = client.post("/check", json={"claim": claim, "k": 3})
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(engine.check(claim, k=3).to_json(), ensure_ascii=False))
    assert r.json()["verdict"] in ("supported", "contradicted", "not_found")
    assert_error(client.post("/check", json={"question": "x"}), 400, "claim: give the claim", "unknown field 'question'")
    assert_error(client.post("/check", json={"claim": "  "}), 400, "claim")
