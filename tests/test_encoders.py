"""Encoders: the default e5 model, the sentence-transformers path (a real model, offline) and the
hash encoder used by fast tests."""
import subprocess
import sys

import numpy as np
import pytest

from docqa.index.encoders import HashEncoder, make_encoder
from docqa.index.search import Searcher
from docqa.index.store import build_index


@pytest.fixture(scope="module")
def minilm():
    return make_encoder("minilm")


def test_e5_vectors_are_normalised_and_meaningful(e5_encoder):
    queries = e5_encoder.encode_queries(["hoeveel medewerkers heeft de organisatie"])
    passages = e5_encoder.encode_passages(["De organisatie had eind 2023 87 medewerkers in dienst.",
                                           "Het weer was in april wisselvallig."])
    assert queries.shape == (1, 384) and passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ queries[0]
    assert scores[0] > scores[1]


def test_sentence_transformers_model_runs_offline_from_its_package(minilm):
    assert minilm.encoder_id == "sentence-transformers:minilm" and minilm.dim == 384
    vectors = minilm.encode_passages(["The budget was 3 million euros.", "Cats sleep a lot."])
    query = minilm.encode_queries(["how large was the budget"])[0]
    assert vectors @ query @ np.array([1, -1]) > 0


def test_index_built_with_a_sentence_transformers_model_searches(tmp_path, small_corpus, minilm):
    build_index(small_corpus, tmp_path / "index", minilm, cache_dir=tmp_path / "cache")
    searcher = Searcher.load(tmp_path / "index")
    assert searcher.manifest["encoder"] == {"id": "sentence-transformers:minilm", "dim": 384}
    hits = searcher.search("portal availability norm", k=2, mode="dense")
    assert hits[0].passage.doc_id == "alfa-jaarplan-2024"


def test_cli_refuses_an_index_built_with_another_model(small_index):
    out = subprocess.run([sys.executable, "-m", "docqa.cli", "search", "--index", str(small_index), "--model",
                          "minilm", "budget"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "built with hash-64" in out.stderr and "docqa ingest --model minilm" in out.stderr


def test_hash_encoder_is_deterministic():
    a = HashEncoder().encode_passages(["de norm is 95%"])
    b = HashEncoder().encode_passages(["de norm is 95%"])
    assert np.array_equal(a, b)
