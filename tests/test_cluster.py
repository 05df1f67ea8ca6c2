"""Index builds whose embedding runs on a Dask cluster (index/cluster.py, issue 18): a LocalCluster of
separate processes and a worker in a network namespace of its own give the index a plain build gives;
a killed worker's batches are run again; a bad or dead address is a one-line error."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the `cluster` extra (dask[distributed]) is not installed")

from conftest import write_small_corpus  # noqa: E402
from docqa.cli import main  # noqa: E402
from docqa.index.cluster import (ClusterAddressError, ClusterEncoder, ClusterSettings,  # noqa: E402
                                 ClusterUnreachableError, cluster_encoder, connect, parse_address)
from docqa.index.encoders import make_encoder  # noqa: E402
from docqa.index.search import Searcher  # noqa: E402
from docqa.index.store import build_index, load_index  # noqa: E402

QUERIES = ["hoeveel medewerkers had Beta", "norm beschikbaarheid portaalsite", "budget huisvesting"]


def add_documents(folder: Path, count: int) -> Path:
    """`count` invented documents of eight short sections each, beside the small corpus."""
    for n in range(count):
        (folder / f"dienst-{n}-2022.txt").write_text(
            "".join(f"{s}. Dienst {n} behandelde {n * 17 + s} verzoeken over onderwerp {s}. \n\n" for s in range(1, 9)),
            encoding="utf-8")
    return folder


@pytest.fixture()
def corpus(tmp_path):
    # more texts than a few batches of 32, so they are spread over batches and workers
    return add_documents(write_small_corpus(tmp_path / "corpus"), 12)


def texts(n: int) -> list[str]:
    return [f"Dienst Alfa verwerkte in week {i} precies {i * 13} aanvragen voor project {i % 7}" for i in range(n)]


def assert_same_index(a: Path, b: Path) -> None:
    """Bit-for-bit the same vectors (by the files' checksums) and the same search results."""
    ma, mb = load_index(a).manifest, load_index(b).manifest
    for name in ("vectors.npy", "unit_vectors.npy", "dense.faiss", "passages.jsonl"):
        assert ma["files"][name] == mb["files"][name], name
    sa, sb = Searcher.load(a), Searcher.load(b)
    for query in QUERIES:
        for mode in ("dense", "hybrid"):
            ha, hb = sa.search(query, k=5, mode=mode), sb.search(query, k=5, mode=mode)
            assert [(h.passage.chunk_id, h.score) for h in ha] == [(h.passage.chunk_id, h.score) for h in hb]


def test_local_cluster_of_processes_builds_the_plain_index(tmp_path, corpus):
    plain = build_index(corpus, tmp_path / "plain", make_encoder("hash"), cache_dir=tmp_path / "cache-plain")
    with cluster_encoder("local:2", "hash") as encoder:
        worker_pids = set(encoder.client.run(os.getpid).values())
        result = build_index(corpus, tmp_path / "cluster", encoder, cache_dir=tmp_path / "cache-cluster")
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids  # separate processes
    assert len(encoder.workers_used) == 2  # both took batches
    assert result.embedded == plain.embedded > 64
    assert_same_index(tmp_path / "plain", tmp_path / "cluster")


def test_only_texts_missing_from_the_shared_cache_are_sent(tmp_path, corpus):
    cache = tmp_path / "cache"
    (corpus / "dienst-0-2022.txt").rename(tmp_path / "later.txt")
    build_index(corpus, tmp_path / "first", make_encoder("hash"), cache_dir=cache)
    (tmp_path / "later.txt").rename(corpus / "dienst-0-2022.txt")
    sent = []
    with cluster_encoder("local:1", "hash") as encoder:
        encode = encoder.encode_passages
        encoder.encode_passages = lambda batch, **kw: sent.extend(batch) or encode(batch, **kw)
        result = build_index(corpus, tmp_path / "cluster", encoder, cache_dir=cache)
        # and the client wrote them to the cache: a second build sends nothing
        again = build_index(corpus, tmp_path / "again", encoder, cache_dir=cache)
    assert 0 < len(sent) == result.embedded < len(load_index(tmp_path / "cluster").units)
    assert again.embedded == 0 and len(sent) == result.embedded
    plain = build_index(corpus, tmp_path / "plain", make_encoder("hash"), cache_dir=tmp_path / "cache-plain")
    assert plain.embedded > result.embedded
    assert_same_index(tmp_path / "plain", tmp_path / "cluster")


def test_the_cli_builds_on_local_n_and_shows_one_progress(tmp_path, corpus, capsys, monkeypatch):
    monkeypatch.setenv("DOCQA_CACHE", str(tmp_path / "cache-cli"))
    monkeypatch.setenv("DOCQA_CLUSTER", "local:2")
    assert main(["ingest", "--model", "hash", "--corpus", str(corpus), "--index", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err
    assert "embedding on cluster local:2: 2 workers" in err
    lines = [line for line in err.splitlines() if line.startswith("embedded ")]
    done = [int(line.split()[1].split("/")[0]) for line in lines]
    assert done == sorted(done) and lines[-1].startswith(f"embedded {done[-1]}/{done[-1]} ")
    build_index(corpus, tmp_path / "plain", make_encoder("hash"), cache_dir=tmp_path / "cache-plain")
    assert_same_index(tmp_path / "plain", tmp_path / "cli")


@pytest.mark.parametrize("allowed_failures", [0, 3])
def test_a_killed_worker_has_its_batches_run_again(allowed_failures):
    import dask

    from tests.support.cluster_tasks import slow_embed_batch

    wanted = make_encoder("hash").encode_passages(texts(640))
    # 0: no rescheduling by the scheduler itself, a batch on the killed worker fails at once with
    # KilledWorker, which the client must resubmit; 3 (Dask's default): the scheduler reruns it
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        with connect("local:2") as client:
            encoder = ClusterEncoder(client, "hash", ClusterSettings(batch_size=32), task=slow_embed_batch)
            pids = list(client.run(os.getpid).values())
            killed = []

            def kill_one(done, total):
                if not killed:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(done)

            got = encoder.encode_passages(texts(640), progress=kill_one)
    assert killed and killed[0] < 640
    assert encoder.resubmitted >= 1 if allowed_failures == 0 else encoder.resubmitted == 0
    assert got.dtype == np.float32 and np.array_equal(got, wanted)


@pytest.mark.parametrize("address", ["nonsense", "http://host:80", "tcp://host:99999", "local:0", "local:x"])
def test_a_bad_address_is_a_one_line_error(tmp_path, capsys, address):
    with pytest.raises(ClusterAddressError):
        parse_address(address)
    code = main(["ingest", "--model", "hash", "--corpus", str(write_small_corpus(tmp_path / "c")),
                 "--index", str(tmp_path / "i"), "--cluster", address])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and repr(address) in err and "local:N" in err


def test_no_scheduler_at_the_address_is_a_one_line_error(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ClusterUnreachableError, match=address):
        with connect(address, ClusterSettings(connect_timeout=1)):
            pass


def test_parse_address_forms():
    assert parse_address("local:3") == ("local", 3)
    assert parse_address("10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")
    assert parse_address(" tls://sched.example:8786 ") == ("remote", "tls://sched.example:8786")


# -- a second host: a worker in a network namespace of its own --------------------------------

HOST_IP, NS_IP = "10.213.0.1", "10.213.0.2"


def _ip(*args, ns: str | None = None) -> subprocess.CompletedProcess:
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


@pytest.fixture()
def netns():
    """A namespace joined to this one by a veth pair: 10.213.0.1 here, 10.213.0.2 inside."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("a network namespace needs root and iproute2's `ip`")
    tag = f"{os.getpid() % 100000}"
    ns, host_end, ns_end = f"docqa-t{tag}", f"dqh{tag}", f"dqn{tag}"
    made = _ip("netns", "add", ns)
    if made.returncode:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    try:
        for args, inside in [(("link", "add", host_end, "type", "veth", "peer", "name", ns_end), None),
                             (("link", "set", ns_end, "netns", ns), None),
                             (("addr", "add", f"{HOST_IP}/24", "dev", host_end), None),
                             (("link", "set", host_end, "up"), None),
                             (("addr", "add", f"{NS_IP}/24", "dev", ns_end), ns),
                             (("link", "set", ns_end, "up"), ns),
                             (("link", "set", "lo", "up"), ns)]:
            step = _ip(*args, ns=inside)
            assert step.returncode == 0, f"ip {' '.join(args)}: {step.stderr}"
        yield ns
    finally:
        _ip("link", "del", host_end)  # takes its peer in the namespace with it
        _ip("netns", "del", ns)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_a_worker_on_a_second_host_builds_the_plain_index(tmp_path, corpus, netns):
    port = _free_port(HOST_IP)
    address = f"tcp://{HOST_IP}:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", HOST_IP,
                                       "--port", str(port), "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-m", "distributed.cli.dask_worker",
                                       address, "--nthreads", "1", "--no-dashboard", "--no-nanny"], env=env,
                                      cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with cluster_encoder(address, "hash", ClusterSettings(connect_timeout=30)) as encoder:
            workers = list(encoder.client.nthreads())
            build_index(corpus, tmp_path / "cluster", encoder, cache_dir=tmp_path / "cache-cluster")
        assert [w.rsplit(":", 1)[0] for w in workers] == [f"tcp://{NS_IP}"]
        assert encoder.workers_used == set(workers)
        # and the CLI, the way a user points it at an existing scheduler
        assert main(["ingest", "--quiet", "--model", "hash", "--corpus", str(corpus), "--index", str(tmp_path / "cli"),
                     "--cluster", address]) == 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    build_index(corpus, tmp_path / "plain", make_encoder("hash"), cache_dir=tmp_path / "cache-plain")
    assert_same_index(tmp_path / "plain", tmp_path / "cluster")
    assert_same_index(tmp_path / "plain", tmp_path / "cli")


@pytest.mark.slow
def test_the_real_model_on_a_local_cluster_gives_the_plain_vectors(tmp_path, e5_encoder):
    corpus = add_documents(write_small_corpus(tmp_path / "corpus"), 3)  # a few dozen texts, over one batch
    plain = build_index(corpus, tmp_path / "plain", e5_encoder, cache_dir=tmp_path / "cache-plain")
    with cluster_encoder("local:2", None) as encoder:
        result = build_index(corpus, tmp_path / "cluster", encoder, cache_dir=tmp_path / "cache-cluster")
    assert encoder.encoder_id == e5_encoder.encoder_id and result.embedded == plain.embedded > 32
    assert_same_index(tmp_path / "plain", tmp_path / "cluster")
