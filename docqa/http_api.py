"""The HTTP face: a FastAPI app over one `docqa.engine.Engine`, answering with exactly the JSON the
CLI prints (`docqa search --json`, `ask --json`, `docs --json`, `context --json`).

    POST /search   {"question", "k", "mode", "docs", "orgs", "years"}   -> as `docqa search --json`
    POST /ask      the same body                                          -> as `docqa ask --json`
    GET  /documents                                                       -> as `docqa docs --json`
    GET  /context/{chunk_id}?chars=600                                    -> as `docqa context --json`
    GET  /health   the index build, fingerprint, encoder and counts (`Engine.info()`)
    POST /check    {"claim", "k", "mode", "docs", "orgs", "years"} -> `ClaimCheck.to_json()`, served only
                   once the engine has `check` (claim checking, docqa.qa.claims)
    GET  /openapi.json, /docs (Swagger UI, served from this process: no CDN)

Errors are JSON `{"error": "<what to change>", "status": <code>}` (validation errors add
`"fields": [{"field", "message"}]`): 400 for every bad request (wrong types, missing or empty
question, unknown filters, k out of range, a `DocqaError`), 401 without the token, 404 for an unknown
chunk id or route, 413 for a body over the limit, 429 over the rate limit (with Retry-After), 500
for a bug (a generic message; the traceback goes to the server log only).

`create_app(engine, settings)` builds the app around an open engine (tests, `docqa serve` with one
worker); `app_from_env()` is the factory each worker of `docqa serve --workers N` calls: it opens
the engine once per process from DOCQA_INDEX / DOCQA_MODEL and reads `ApiSettings` from the
environment. No endpoint reads a file a client names: chunk ids and filters are looked up in the
loaded index only.
"""
import hmac
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse, JSONResponse

from docqa import __version__
from docqa.errors import DocqaError, QueryError, SettingsError

log = logging.getLogger("uvicorn.error")  # shown by uvicorn's own handlers, with the access log

DEFAULT_K = 10  # the CLI's --k default
MODES = ("hybrid", "bm25", "dense")
MAX_CHARS = 100_000  # Engine.context's limit
MIN_TOKEN_CHARS = 16
# paths a browser needs for the interactive docs: open without the token (they hold only the schema)
OPEN_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json", "/docs/assets/swagger-ui-bundle.js",
              "/docs/assets/swagger-ui.css")


# -- settings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiSettings:
    """What the HTTP face adds to the engine's settings. `docqa serve` flags, else environment."""

    token: str | None = None  # DOCQA_API_TOKEN: clients send `Authorization: Bearer <token>`
    cors_origins: tuple[str, ...] = ()  # DOCQA_CORS_ORIGINS, comma-separated; none: CORS off
    max_body_bytes: int = 64 * 1024  # DOCQA_MAX_BODY: larger request bodies get 413
    rate_per_second: float = 10.0  # DOCQA_RATE_LIMIT: sustained requests per client address; 0: off
    rate_burst: int = 20  # DOCQA_RATE_BURST: requests a client may send at once
    max_clients: int = 10_000  # buckets kept before full ones are dropped (memory stays bounded)

    def __post_init__(self):
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise SettingsError(f"DOCQA_API_TOKEN is {len(self.token)} characters: use at least {MIN_TOKEN_CHARS}, "
                                "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        if self.token is not None and not (self.token.isascii() and self.token.isprintable()):
            raise SettingsError("DOCQA_API_TOKEN: use printable ASCII characters only (it travels in an HTTP header)")
        if not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1024:
            raise SettingsError(f"max body {self.max_body_bytes!r}: give a whole number of bytes >= 1024")
        if not (isinstance(self.rate_per_second, (int, float)) and math.isfinite(self.rate_per_second)
                and self.rate_per_second >= 0):
            raise SettingsError(f"rate limit {self.rate_per_second!r}: give requests per second >= 0 (0 turns it off)")
        if not isinstance(self.rate_burst, int) or self.rate_burst < 1:
            raise SettingsError(f"rate burst {self.rate_burst!r}: give a whole number >= 1")
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise SettingsError(f"CORS origin {origin!r}: write it as http(s)://host[:port], or *")

    @classmethod
    def from_env(cls, environ=None) -> "ApiSettings":
        env = os.environ if environ is None else environ

        def number(name, kind, default):
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return kind(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r}: give a {'whole ' if kind is int else ''}number") from None

        origins = tuple(o.strip() for o in env.get("DOCQA_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(token=env.get("DOCQA_API_TOKEN") or None, cors_origins=origins,
                   max_body_bytes=number("DOCQA_MAX_BODY", int, cls.max_body_bytes),
                   rate_per_second=number("DOCQA_RATE_LIMIT", float, cls.rate_per_second),
                   rate_burst=number("DOCQA_RATE_BURST", int, cls.rate_burst))


# -- responses -------------------------------------------------------------------------------------

class CliJSON(JSONResponse):
    """The body `json.dumps(..., ensure_ascii=False)` makes, as the CLI prints it (without the
    newline). A lone surrogate a client sent (and an error message repeats) is escaped instead."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content).encode("ascii")


def error_response(status: int, message: str, headers: dict | None = None, **extra) -> CliJSON:
    return CliJSON({"error": message, "status": status, **extra}, status_code=status, headers=headers)


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# -- request and response models (the OpenAPI schema) ------------------------------------------------

def _query_model(passages: int, text: str = "question") -> type[BaseModel]:
    """The body of /search and /ask (and /check, with `claim` for `question`), with the CLI's names;
    k's range is this index's passage count."""
    example = {text: "welke norm geldt voor beschikbaarheid Suwinet" if text == "question"
               else "BKWI hanteert een beschikbaarheidsnorm van 99%.", "k": min(5, passages)}
    fields = {
        text: (str, Field(description="the question or search words (cut at 2,000 characters, with a notice)"
                          if text == "question" else "the claim to check against the documents")),
        "k": (int | None, Field(None, ge=1, le=passages,
                                description=f"number of passages, 1 to {passages} (default {DEFAULT_K}, "
                                            "or all passages when the index has fewer)")),
        "mode": (Literal["hybrid", "bm25", "dense"], Field("hybrid", description="retrieval mode")),
        "docs": (list[str], Field(default_factory=list, description="only these document ids (GET /documents)")),
        "orgs": (list[str], Field(default_factory=list,
                                  description="only these organisations: full name, short name or abbreviation")),
        "years": (list[int], Field(default_factory=list, description="only these years")),
    }
    config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [example]})
    return create_model("Query" if text == "question" else "Claim", __config__=config, **fields)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Source(_Open):
    """Where a hit or a citation comes from (its fields; the CLI's JSON order is kept in the answers)."""
    chunk_id: str
    doc: str
    title: str
    organisation: str
    year: int | None
    section: str
    page: int | None
    line_start: int
    line_end: int


class HitOut(_Source):
    rank: int
    page_end: int | None
    char_start: int
    char_end: int
    text: str
    score: float
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None


class SearchOut(_Open):
    query: str
    notices: list[str]
    hits: list[HitOut]


class CitationOut(_Source):
    n: int
    quote: str
    reference: str


class AskOut(_Open):
    question: str
    answer: str
    abstained: bool
    confidence: str
    probability: float | None
    signals: dict[str, Any]
    notices: list[str]
    citations: list[CitationOut]
    hits: list[HitOut]


class DocumentOut(_Open):
    doc_id: str
    title: str
    organisation: str
    year: int | None
    kind: str
    passages: int


class DocumentsOut(_Open):
    built: str | None
    encoder: dict[str, Any] | None
    documents: list[DocumentOut]


class ContextOut(_Open):
    chunk_id: str
    before: str
    text: str
    after: str


class HealthOut(_Open):
    status: Literal["ok"]
    built: str | None
    fingerprint: str | None
    encoder: dict[str, Any] | None
    documents: int
    passages: int
    docqa: str | None
    settings: dict[str, Any]


class CheckOut(_Open):
    claim: str
    verdict: Literal["supported", "contradicted", "not_found"]
    confidence: str
    probability: float | None
    details: list[dict[str, Any]]
    citations: list[CitationOut]
    notices: list[str]
    hits: list[HitOut]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str = Field(description="what is wrong and what to change, on one line")
    status: int
    fields: list[FieldError] | None = Field(None, description="one message per bad field (validation errors)")


ERRORS = {
    400: "a bad request: the message says what to change",
    401: "the token is missing or wrong: send Authorization: Bearer <DOCQA_API_TOKEN>",
    413: "the request body is over the limit",
    429: "over the rate limit: retry after the Retry-After seconds",
    500: "a bug; the server log has the details",
}


def _responses(ok: type[BaseModel], *codes: int) -> dict:
    out: dict = {200: {"model": ok}}
    for code in (400, 401, 429, 500, *codes):
        out[code] = {"model": ErrorOut, "description": ERRORS.get(code, "not found")}
    return out


# -- validation messages -----------------------------------------------------------------------------

def _field_hints(passages: int) -> dict[str, str]:
    return {
        "question": "give the question as a non-empty JSON string",
        "claim": "give the claim as a non-empty JSON string",
        "k": f"give a whole number from 1 to {passages} (the passages in the index)",
        "mode": f"use one of {', '.join(MODES)}",
        "docs": "give a list of document ids as strings (GET /documents lists them)",
        "orgs": "give a list of organisation names as strings",
        "years": "give a list of whole years, such as [2024]",
        "chars": f"give a whole number from 0 to {MAX_CHARS}",
    }


def _describe(errors: list[dict], passages: int, json_body: bool, text: str = "question") -> list[dict]:
    """One message per field that says what to change, from pydantic's error list."""
    hints = _field_hints(passages)
    fields = ", ".join([text, "k", "mode", "docs", "orgs", "years"])
    out: dict[str, str] = {}
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())][1:]  # after "body", "query" or "path"
        kind = e.get("type", "")
        if kind == "json_invalid":
            name, msg = "body", ("the body is not valid JSON; send a JSON object such as "
                                 '{"question": "welke norm geldt voor beschikbaarheid Suwinet"}')
        elif not loc or kind in ("model_attributes_type", "dict_type", "model_type"):
            name = "body"
            msg = (f'send a JSON object such as {{"{text}": "..."}} with Content-Type: application/json'
                   if json_body else 'send the body as JSON with Content-Type: application/json')
        elif kind == "extra_forbidden":
            name = loc[0]
            msg = f"unknown field {loc[0]!r}; the fields are {fields}"
        else:
            name = loc[0]
            where = name + "".join(f"[{x}]" for x in loc[1:])
            hint = hints.get(name, e.get("msg", "invalid value"))
            got = "missing" if kind == "missing" else f"got {json.dumps(e.get('input'), ensure_ascii=False, default=str)[:60]}"
            msg = f"{where}: {hint} ({got})"
        out.setdefault(name, msg)
    return [{"field": k, "message": v} for k, v in out.items()]


# -- middleware (pure ASGI: no buffering of responses) ------------------------------------------------

async def _send_error(send, status: int, message: str, headers: dict | None = None) -> None:
    response = error_response(status, message, headers)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class BodyLimit:
    """413 for a request body over `limit` bytes: refused on its Content-Length before anything is
    read, else counted as it arrives (chunked); the app sees the body only when it fits."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = f"the request body is over {self.limit:,} bytes; send a shorter question or fewer filters"
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return await _send_error(send, 400, "Content-Length is not a whole number")
            if declared > self.limit:
                return await _send_error(send, 413, too_big)
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _send_error(send, 413, too_big)
        done = False

        async def replay():
            nonlocal done
            if not done:
                done = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class Guard:
    """A token bucket per client address (429 with Retry-After), then the bearer token (401)."""

    def __init__(self, app, settings: ApiSettings):
        self.app, self.settings = app, settings
        self._token = settings.token.encode("ascii") if settings.token else None
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)

    def _allow(self, client: str) -> float:
        """0 when the request may go on, else the seconds until it may."""
        rate, burst = self.settings.rate_per_second, self.settings.rate_burst
        now = time.monotonic()
        tokens, then = self._buckets.get(client, (float(burst), now))
        tokens = min(float(burst), tokens + (now - then) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > self.settings.max_clients:  # drop the buckets that are full again
            self._buckets = {c: (t, w) for c, (t, w) in self._buckets.items()
                             if t + (now - w) * rate < burst}
        return 0.0

    def _authorised(self, scope) -> bool:
        header = dict(scope.get("headers") or ()).get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.settings.rate_per_second > 0:
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self._allow(client)
            if wait:
                seconds = max(1, math.ceil(wait))
                return await _send_error(send, 429, f"too many requests from {client}: at most "
                                         f"{self.settings.rate_per_second:g} per second (bursts of "
                                         f"{self.settings.rate_burst}); retry after {seconds} s",
                                         {"Retry-After": str(seconds)})
        if self._token is not None and scope["path"] not in OPEN_PATHS and not self._authorised(scope):
            return await _send_error(send, 401, "missing or wrong token: send Authorization: Bearer <DOCQA_API_TOKEN>",
                                     {"WWW-Authenticate": 'Bearer realm="docqa"'})
        await self.app(scope, receive, send)


# -- the app -------------------------------------------------------------------------------------------

def _swagger_assets() -> tuple[str, str] | None:
    """Swagger UI's script and style from the swagger-ui-bundle-v2 package, when installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    js, css = os.path.join(swagger_ui_path, "swagger-ui-bundle.js"), os.path.join(swagger_ui_path, "swagger-ui.css")
    return (js, css) if os.path.isfile(js) and os.path.isfile(css) else None


def create_app(engine, settings: ApiSettings | None = None) -> FastAPI:
    """The app around an open engine. Endpoints are plain functions: FastAPI runs them in its thread
    pool, and the engine is thread-safe (the encoder takes its own lock)."""
    settings = settings or ApiSettings()
    passages = engine.passage_count
    Query_ = _query_model(passages)
    assets = _swagger_assets()

    app = FastAPI(title="docqa", version=__version__, docs_url=None, redoc_url=None,
                  description="Search and cited answers over Dutch public-sector policy documents. "
                              "Every response is the JSON the CLI prints with `--json`. Errors: "
                              '`{"error": "...", "status": N}`; bad requests are 400.',
                  default_response_class=CliJSON)
    app.state.engine, app.state.settings = engine, settings

    def run(call, *args, **kwargs):
        """An engine call: DocqaError -> 400 with its message; anything else -> 500, logged."""
        try:
            return call(*args, **kwargs)
        except DocqaError as exc:
            raise BadRequest(400, str(exc)) from None
        except BadRequest:
            raise
        except Exception:
            log.exception("docqa http: unexpected error in %s", getattr(call, "__name__", call))
            raise BadRequest(500, "internal error; the server log has the details") from None

    def query_args(body) -> dict:
        return {"k": DEFAULT_K if body.k is None else body.k, "mode": body.mode,
                "docs": body.docs or (), "orgs": body.orgs or (), "years": body.years or ()}

    @app.post("/search", responses=_responses(SearchOut), summary="ranked passages (docqa search --json)")
    def search(body: Query_):
        return CliJSON(run(engine.search, body.question, **query_args(body)).to_json())

    @app.post("/ask", responses=_responses(AskOut), summary="a quoted answer with citations (docqa ask --json)")
    def ask(body: Query_):
        return CliJSON(run(engine.ask, body.question, **query_args(body)).to_json())

    Claim_ = _query_model(passages, "claim")

    @app.post("/check", responses=_responses(CheckOut),
              summary="does the documents' text support the claim, contradict it, or not say (docqa check --json)")
    def check(body: Claim_):
        return CliJSON(run(engine.check, body.claim, **query_args(body)).to_json())

    @app.get("/documents", responses=_responses(DocumentsOut), summary="the indexed documents (docqa docs --json)")
    def documents():
        rows = run(engine.documents)
        info = run(engine.info)
        return CliJSON({"built": info["built"], "encoder": info["encoder"], "documents": rows})

    @app.get("/context/{chunk_id:path}", responses=_responses(ContextOut, 404),
             summary="a passage with the text around it (docqa context --json)")
    def context(chunk_id: str = Path(description="a chunk_id from /search or /ask"),
                chars: int = Query(600, ge=0, le=MAX_CHARS, description="characters of context on each side")):
        try:
            engine.passage(chunk_id)
        except QueryError as exc:
            raise BadRequest(404, str(exc)) from None
        return CliJSON(run(engine.context, chunk_id, chars).to_json())

    @app.get("/health", responses=_responses(HealthOut), summary="the index and encoder this server answers from")
    def health():
        return CliJSON({"status": "ok", **run(engine.info)})

    @app.get("/docs", include_in_schema=False)
    def docs():
        if assets:
            return get_swagger_ui_html(openapi_url="/openapi.json", title="docqa API",
                                       swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                       swagger_css_url="/docs/assets/swagger-ui.css",
                                       swagger_favicon_url="data:,")
        return get_swagger_ui_html(openapi_url="/openapi.json", title="docqa API")

    if assets:
        # two fixed files of an installed package: no path from the request is ever opened
        @app.get("/docs/assets/swagger-ui-bundle.js", include_in_schema=False)
        def swagger_js():
            return FileResponse(assets[0], media_type="text/javascript")

        @app.get("/docs/assets/swagger-ui.css", include_in_schema=False)
        def swagger_css():
            return FileResponse(assets[1], media_type="text/css")

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return error_response(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        json_body = "json" in request.headers.get("content-type", "").lower()
        text = "claim" if request.url.path == "/check" else "question"
        fields = _describe(list(exc.errors()), passages, json_body, text)
        return error_response(400, "; ".join(f["message"] for f in fields), fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            message = f"no endpoint {request.method} {request.url.path}; see /docs for the endpoints"
        elif exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, say)
            message = ('the body could not be read as JSON; send a UTF-8 JSON object such as '
                       '{"question": "welke norm geldt voor beschikbaarheid Suwinet"}')
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):  # the last resort; uvicorn logs the traceback
        return error_response(500, "internal error; the server log has the details")

    def openapi():
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            for path in schema.get("paths", {}).values():
                for op in path.values():
                    op.get("responses", {}).pop("422", None)  # validation errors are 400 here
                    if settings.token:
                        op["security"] = [{"bearer": []}]
            components = schema.setdefault("components", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.get("schemas", {}).pop(name, None)
            if settings.token:
                components.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

    # outermost last: CORS (so every answer, errors too, carries its headers) -> rate limit and
    # token -> body size -> routes
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Guard, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    return app


def app_from_env() -> FastAPI:
    """The factory each worker process calls (`uvicorn --factory docqa.http_api:app_from_env`):
    the engine from DOCQA_INDEX / DOCQA_MODEL, opened once per process with its model loaded;
    the HTTP settings from DOCQA_API_TOKEN, DOCQA_CORS_ORIGINS, DOCQA_MAX_BODY, DOCQA_RATE_LIMIT,
    DOCQA_RATE_BURST. A problem the user can fix ends the worker with one line (and uvicorn's
    supervisor stops, rather than restarting it)."""
    from docqa.engine import Engine

    try:
        settings = ApiSettings.from_env()
        engine = Engine.open(os.environ.get("DOCQA_INDEX") or None, model=os.environ.get("DOCQA_MODEL") or None)
        engine.warm_up()
    except DocqaError as exc:
        print(f"docqa serve: {exc}", file=sys.stderr, flush=True)
        sys.exit(3)  # uvicorn's STARTUP_FAILURE: the supervisor stops instead of restarting
    return create_app(engine, settings)
