"""Index persistence and search on a small invented corpus with the fast hash encoder."""
import json
import shutil

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from docqa.index.analyzer import Analyzer
from docqa.index.encoders import make_encoder
from docqa.index.search import FusionSettings, QueryError, Searcher, prepare_query
from conftest import write_small_corpus
from docqa.index.store import (IndexBusyError, IndexDamagedError, IndexMismatchError, IndexMissingError, IndexSettings,
                         build_index, build_lock, current_build, indexed_text, is_stale, load_index)


@pytest.fixture()
def small_corpus(tmp_path):
    """The shared small corpus plus two documents: with only two passages every BM25 idf is 0."""
    folder = write_small_corpus(tmp_path / "corpus")
    (folder / "gamma-2022.txt").write_text("Gamma beheert het archief. Het archief telt 40 kasten. ", encoding="utf-8")
    (folder / "delta-2021.txt").write_text("Delta adviseert over huisvesting en reizen. ", encoding="utf-8")
    return folder


@pytest.fixture()
def small_index(tmp_path, small_corpus):
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, make_encoder("hash"), cache_dir=tmp_path / "cache")
    return index_dir


def test_round_trip_keeps_passages_and_answers_queries(small_index, small_corpus):
    searcher = Searcher.load(small_index)
    manifest = searcher.manifest
    assert manifest["passage_count"] == len(searcher.passages) == 4
    assert manifest["encoder"] == {"id": "hash-64", "dim": 64}
    assert manifest["settings"]["analyzer"]["language"] == "dutch"
    hits = searcher.search("hoeveel medewerkers had Beta", k=2, mode="bm25")
    assert hits[0].passage.doc_id == "beta-verslag-2023"
    assert hits[0].passage.organisation == "Beta" and hits[0].passage.year == 2023
    assert is_stale(small_index, small_corpus, "hash-64", IndexSettings()) is None


def test_bm25_scores_equal_rank_bm25_on_the_indexed_text(small_index):
    searcher = Searcher.load(small_index)
    analyzer = Analyzer()
    reference = BM25Okapi([analyzer(indexed_text(p, IndexSettings())) for p in searcher.passages])
    query = analyzer("norm beschikbaarheid portaalsite Alfa")
    ours = searcher.bm25.scores(query)
    assert np.allclose(ours, reference.get_scores(query), rtol=1e-5, atol=1e-6)


def test_stale_when_the_corpus_changes(small_index, small_corpus):
    (small_corpus / "epsilon-2022.txt").write_text("Epsilon had 5 medewerkers in 2022. ", encoding="utf-8")
    assert is_stale(small_index, small_corpus, "hash-64", IndexSettings()) == "corpus changed"
    assert "settings" in is_stale(small_index, small_corpus, "other-encoder", IndexSettings())


def test_adding_a_document_embeds_only_its_passages(tmp_path, small_corpus):
    encoder = make_encoder("hash")
    first = build_index(small_corpus, tmp_path / "i", encoder, cache_dir=tmp_path / "cache")
    assert first.embedded > 0
    (small_corpus / "epsilon-2022.txt").write_text("Epsilon had eind 2022 vijf medewerkers. ", encoding="utf-8")
    second = build_index(small_corpus, tmp_path / "i", encoder, cache_dir=tmp_path / "cache")
    assert second.manifest["passage_count"] == 5
    assert second.embedded == 2  # the new passage and its one unit; nothing else
    # the previous build folder is gone, CURRENT points at the new one
    assert current_build(tmp_path / "i") == second.build_dir
    assert len(list((tmp_path / "i" / "builds").iterdir())) == 1


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(IndexMissingError, match="docqa ingest"):
        load_index(tmp_path / "nothing")


def test_mismatched_manifest_is_refused_with_rebuild_hint(small_index):
    manifest_path = current_build(small_index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999  # an index written by another docqa version, intact
    manifest_path.write_text(json.dumps(manifest))
    import hashlib

    (manifest_path.parent / "manifest.sha256").write_text(hashlib.sha256(manifest_path.read_bytes()).hexdigest())
    with pytest.raises(IndexMismatchError, match="rebuild it with `docqa ingest"):
        load_index(small_index)


def test_disagreeing_counts_are_refused(small_index):
    build = current_build(small_index)
    lines = (build / "passages.jsonl").read_text().splitlines()
    (build / "passages.jsonl").write_text(lines[0] + "\n")
    with pytest.raises(IndexDamagedError, match="passages.jsonl"):
        load_index(small_index)  # checksum catches it first
    with pytest.raises(IndexDamagedError, match="disagree on the passage count"):
        load_index(small_index, verify=False)


def test_failed_build_leaves_the_previous_index_working(small_index, small_corpus, monkeypatch):
    before = [h.passage.chunk_id for h in Searcher.load(small_index).search("Beta medewerkers")]
    (small_corpus / "delta-2021.txt").write_text("Delta had 9 medewerkers. ", encoding="utf-8")
    import docqa.index.store as store

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_dense_index", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(small_corpus, small_index, make_encoder("hash"), cache_dir=small_index / "cache")
    after = [h.passage.chunk_id for h in Searcher.load(small_index).search("Beta medewerkers")]
    assert after == before


def test_a_second_build_refuses_while_one_runs(small_index, small_corpus):
    with build_lock(small_index):
        with pytest.raises(IndexBusyError, match="another build is running"):
            build_index(small_corpus, small_index, make_encoder("hash"), cache_dir=small_index / "cache")


def test_filters_and_modes(small_index):
    searcher = Searcher.load(small_index)
    for mode in ("bm25", "dense", "hybrid"):
        hits = searcher.search("gegevens aan gemeenten", k=5, mode=mode, orgs=["dienst alfa"])
        assert hits and all(h.passage.organisation == "Dienst Alfa" for h in hits)
    # exact names, as the app offers them: a part of a name is not a filter
    with pytest.raises(QueryError, match="unknown organisation 'alfa'"):
        searcher.search("budget", orgs=["alfa"])
    assert all(h.passage.year == 2023 for h in searcher.search("budget", years=[2023]))
    with pytest.raises(QueryError, match="unknown document 'nope'"):
        searcher.search("budget", docs=["nope"])
    with pytest.raises(QueryError, match="no passages match"):
        searcher.search("budget", orgs=["beta"], years=[2024])
    with pytest.raises(QueryError, match="mode='fuzzy'"):
        searcher.search("budget", mode="fuzzy")


def test_hit_json_has_the_documented_fields(small_index):
    hit = Searcher.load(small_index).search("norm portaalsite", k=1)[0].to_json()
    assert set(hit) == {"rank", "chunk_id", "doc", "title", "organisation", "year", "section", "page", "page_end", "line_start",
                        "line_end", "char_start", "char_end", "text", "score", "bm25_rank", "bm25_score",
                        "dense_rank", "dense_score"}
    assert hit["rank"] == 1 and hit["page"] is None and hit["line_start"] >= 1
    json.dumps(hit)


def test_empty_and_overlong_queries():
    with pytest.raises(QueryError, match="empty question"):
        prepare_query(" \t\n ")
    query, notices = prepare_query("a" * 10_000)
    assert len(query) == 2000 and notices


def test_fusion_settings_are_checked():
    with pytest.raises(ValueError, match="dense_weight=1.5"):
        FusionSettings(dense_weight=1.5)
    with pytest.raises(ValueError, match="fusion method='max'"):
        FusionSettings(method="max")


def test_a_copied_index_folder_still_loads(small_index, tmp_path):
    # CURRENT is a relative symlink, so the index folder can be moved or copied
    copy = tmp_path / "moved"
    shutil.copytree(small_index, copy, symlinks=True)
    assert Searcher.load(copy).search("Beta")


def test_large_indexes_use_ivf_and_filters_still_apply(tmp_path, monkeypatch):
    import docqa.index.store as store

    monkeypatch.setattr(store, "EXACT_SEARCH_MAX", 10)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(40):
        (corpus / f"doc-{i:02d}.txt").write_text(f"Document {i} gaat over onderwerp {i % 7} en het budget. ",
                                                encoding="utf-8")
    build_index(corpus, tmp_path / "index", make_encoder("hash"), cache_dir=tmp_path / "cache")
    searcher = Searcher.load(tmp_path / "index")
    assert searcher.manifest["dense_index"] == "ivf-sq8"
    hits = searcher.search("onderwerp budget", k=5, mode="dense", docs=["doc-03", "doc-17"])
    assert hits and {h.passage.doc_id for h in hits} <= {"doc-03", "doc-17"}
    assert len(searcher.search("onderwerp budget", k=5, mode="hybrid")) == 5


def test_an_altered_manifest_is_refused(small_index):
    manifest_path = current_build(small_index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["settings"]["analyzer"]["stem"] = False  # still valid JSON, but no longer this index
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexDamagedError, match="manifest altered"):
        load_index(small_index)
    manifest_path.write_text("[]")
    with pytest.raises(IndexDamagedError, match="unreadable manifest"):
        load_index(small_index)


def test_unknown_year_is_named(small_index):
    with pytest.raises(QueryError, match="unknown year 1999; indexed: 2021, 2022, 2023, 2024"):
        Searcher.load(small_index).search("budget", years=[1999])


def test_builds_left_by_killed_builds_are_removed_by_the_next(small_index, small_corpus):
    leftover = small_index / "builds" / "b20000101-000000-1-abcdef"
    shutil.copytree(current_build(small_index), leftover)
    build_index(small_corpus, small_index, make_encoder("hash"), cache_dir=small_index / "cache")
    assert [p.name for p in (small_index / "builds").iterdir()] == [current_build(small_index).name]


def test_a_damaged_or_missing_manifest_checksum_is_named(small_index):
    checksum = current_build(small_index) / "manifest.sha256"
    checksum.write_text("not a checksum\n")
    with pytest.raises(IndexDamagedError, match=r"manifest\.sha256: damaged"):
        load_index(small_index)
    checksum.unlink()
    with pytest.raises(IndexMismatchError, match="built by an older docqa"):
        load_index(small_index)


def test_a_load_that_overlaps_a_build_switch_reads_the_new_build(small_index, small_corpus, monkeypatch):
    import docqa.index.store as store

    real_load_build = store._load_build
    calls = []

    def switch_during_first_load(index_dir, verify):
        calls.append(current_build(index_dir))
        if len(calls) == 1:
            # another process finishes a build now: CURRENT moves on, the old build is removed
            build_index(small_corpus, small_index, make_encoder("hash"), cache_dir=small_index / "cache")
            _raise_removed(calls[0])
        return real_load_build(index_dir, verify)

    def _raise_removed(build):
        raise IndexDamagedError(f"{build}: damaged index (file vanished)")

    monkeypatch.setattr(store, "_load_build", switch_during_first_load)
    loaded = load_index(small_index)
    assert len(calls) == 2 and calls[0] != calls[1]
    assert loaded.build_dir == current_build(small_index) and not calls[0].exists()


def test_unit_vectors_are_stored_in_half_precision_close_to_the_encoder(small_index):
    from docqa.index.store import unit_texts

    loaded = load_index(small_index)
    assert np.load(loaded.build_dir / "unit_vectors.npy", mmap_mode="r").dtype == np.float16
    expected = make_encoder("hash").encode_passages(unit_texts(loaded.passages, loaded.units))
    stored = loaded.unit_vectors[np.arange(len(loaded.units))].astype(np.float32)
    assert np.abs(stored - expected).max() < 2e-3
