"""Index faults: killed builds, damaged files, two builds at once. The previous index keeps
loading and answering; a damaged one is refused with the file named, never used."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from docqa.index.search import Searcher
from docqa.index.store import IndexDamagedError, IndexProblem, current_build, load_index

QUERY = "aanvragen van gemeenten"


def build_cmd(corpus, index, cache):
    return [sys.executable, "-m", "docqa.cli", "ingest", "--corpus", str(corpus), "--index", str(index), "--model",
            "hash", "--quiet"], {**os.environ, "DOCQA_CACHE": str(cache)}


def write_corpus(folder, n_files, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    words = ("gemeenten aanvragen gegevens norm budget medewerkers archief kantoor project verslag beleid "
             "uitvoering keten dienst burger inkomen werk schuld regeling tijdigheid").split()
    for i in range(n_files):
        sentences = [" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(40)]
        (folder / f"doc-{seed}-{i:03d}.txt").write_text(" \n".join(sentences) + " \n", encoding="utf-8")
    return folder


def top_ids(index):
    return [h.passage.chunk_id for h in Searcher.load(index).search(QUERY, k=5)]


@pytest.fixture()
def built(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 3)
    index, cache = tmp_path / "index", tmp_path / "cache"
    cmd, env = build_cmd(corpus, index, cache)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    return corpus, index, cache


def test_builds_killed_at_random_moments_leave_the_previous_index_answering(built, tmp_path):
    corpus, index, _ = built
    before = top_ids(index)
    write_corpus(corpus, 150, seed=1)  # a rebuild long enough to be killed in every phase
    cmd, env = build_cmd(corpus, index, tmp_path / "timing-cache")
    # time one full rebuild into a scratch index, to spread the kills over its duration
    started = time.monotonic()
    scratch, _ = build_cmd(corpus, tmp_path / "scratch-index", tmp_path / "timing-cache")
    subprocess.run(scratch, env=env, check=True, capture_output=True, timeout=600)
    duration = time.monotonic() - started
    rng = random.Random(7)
    for attempt in range(8):
        # a fresh embedding cache each time, so every attempt does the whole build
        proc = subprocess.Popen(cmd, env={**env, "DOCQA_CACHE": str(tmp_path / f"cache-{attempt}")},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.95) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = top_ids(index)  # loads, verifies every checksum, answers
        # killed before its switch: the old index; killed after it: the complete new one
        assert after == before or len(Searcher.load(index).passages) > 100
        before = after
    # a later build succeeds and removes what the killed ones left behind
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
    builds = list((index / "builds").iterdir())
    assert builds == [current_build(index)]
    assert len(Searcher.load(index).passages) > 100


@pytest.mark.parametrize("name", ["passages.jsonl", "documents.jsonl", "vectors.npy", "dense.faiss", "units.npy",
                                  "unit_vectors.npy", "bm25/data.npy", "bm25/vocab.json", "manifest.json"])
@pytest.mark.parametrize("damage", ["truncate", "alter"])
def test_a_damaged_index_file_is_refused_naming_the_file(built, name, damage):
    _, index, _ = built
    path = current_build(index) / name
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0x20
        path.write_bytes(bytes(flipped))
    with pytest.raises(IndexProblem) as error:
        load_index(index)
    assert name.split("/")[-1] in str(error.value) or "manifest" in str(error.value)
    assert "docqa ingest" in str(error.value)


@pytest.mark.parametrize("model_flag", [[], ["--model", "minilm"]])
def test_cli_reports_a_damaged_index_in_one_line(built, model_flag):
    # with another --model too: the damage is what to fix first, not the encoder choice
    _, index, _ = built
    (current_build(index) / "vectors.npy").write_bytes(b"\x93NUMPY broken")
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "search", "--index", str(index), *model_flag, QUERY],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and out.stdout == ""
    assert "vectors.npy" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_build_refuses_while_another_process_builds(built):
    corpus, index, cache = built
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from docqa.index.store import build_lock\n"
        f"with build_lock(Path({str(index)!r})):\n    print('locked', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        cmd, env = build_cmd(corpus, index, cache)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 1
        assert f"another build is running (pid {holder.pid})" in second.stderr
    finally:
        holder.kill()
        holder.wait()


def test_two_builds_started_together_never_mix(built, tmp_path):
    corpus, index, cache = built
    write_corpus(corpus, 60, seed=2)
    cmd, env = build_cmd(corpus, index, tmp_path / "cold")
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    # each either built or refused because the other held the lock; never a crash
    for out, err, code in results:
        assert code == 0 or "another build is running" in err, err
    assert any(code == 0 for _, _, code in results)
    loaded = load_index(index)  # counts and checksums agree
    assert loaded.manifest["passage_count"] == len(loaded.passages) > 60


def test_a_vector_file_from_another_build_is_refused(built, tmp_path):
    corpus, index, cache = built
    other_corpus = write_corpus(tmp_path / "other", 5, seed=3)
    other = tmp_path / "other-index"
    cmd, env = build_cmd(other_corpus, other, cache)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    # swap in a consistent-looking file of the wrong size, with its manifest checksum updated
    build = current_build(index)
    (build / "vectors.npy").write_bytes((current_build(other) / "vectors.npy").read_bytes())
    manifest = json.loads((build / "manifest.json").read_text())
    import hashlib

    manifest["files"]["vectors.npy"] = hashlib.sha256((build / "vectors.npy").read_bytes()).hexdigest()
    (build / "manifest.json").write_text(json.dumps(manifest))
    (build / "manifest.sha256").write_text(hashlib.sha256((build / "manifest.json").read_bytes()).hexdigest())
    with pytest.raises(IndexDamagedError, match="disagree on the passage count"):
        load_index(index)
    assert np.load(build / "vectors.npy").shape[0] != manifest["passage_count"]
