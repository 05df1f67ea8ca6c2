"""Shared fixtures. The real model and the real corpus are loaded once per session.

The real index is built once per session from ../shared/corpus with multilingual-e5-small; its
embeddings come from the checkout's embedding cache (var/embedding-cache) when a previous run or
`make index` filled it, else they are computed (about 2-3 minutes on 2 cores).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from docqa import config

SHARED = config.PROJECT_ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
PDF_DIR = SHARED / "pdf"
DEV_QUESTIONS = SHARED / "eval" / "dev.jsonl"
EXAMPLE_QUESTION = "welke norm geldt voor beschikbaarheid Suwinet"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    assert CORPUS.is_dir(), f"{CORPUS} is missing: the tests read the corpus from ../shared"
    return CORPUS


@pytest.fixture(scope="session")
def e5_encoder():
    from docqa.index.encoders import make_encoder

    return make_encoder("e5-small")


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory, corpus_dir, e5_encoder) -> Path:
    from docqa.index.store import build_index

    index_dir = tmp_path_factory.mktemp("real-index")
    build_index(corpus_dir, index_dir, e5_encoder, cache_dir=config.cache_dir())
    return index_dir


@pytest.fixture(scope="session")
def real_pdf_index_dir(tmp_path_factory, e5_encoder) -> Path:
    """The two real PDFs of ../shared/pdf, indexed with the real model (their citations carry pages)."""
    from docqa.index.store import build_index

    index_dir = tmp_path_factory.mktemp("real-pdf-index")
    build_index(PDF_DIR, index_dir, e5_encoder, cache_dir=config.cache_dir())
    return index_dir


@pytest.fixture(scope="session")
def real_engine(real_index_dir, e5_encoder):
    """The engine over the real index, with the session's one e5 model."""
    from docqa.engine import Engine
    from docqa.index.search import Searcher

    return Engine(Searcher.load(real_index_dir, encoder=e5_encoder))


def write_small_corpus(folder: Path) -> Path:
    """A tiny invented corpus (not from ../shared) for fast tests with the hash encoder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alfa-jaarplan-2024.txt").write_text(
        "1 Inleiding \n"
        "De Dienst Alfa levert gegevens aan gemeenten. Iedere maand verwerkt Alfa zo'n 12.000 aanvragen. \n"
        "\n"
        "1.1 Beschikbaarheid \n"
        "De portaalsite van Alfa is 24 uur per dag beschikbaar met een norm van 98,5%. \n"
        "Storingen worden binnen vier uur opgelost. \n", encoding="utf-8")
    (folder / "beta-verslag-2023.txt").write_text(
        "2 Financien \n"
        "Het budget van Beta bedroeg in 2023 € 3,4 miljoen. De kosten voor huisvesting stegen met 5%. \n"
        "\n"
        "2.1 Personeel \n"
        "Beta had eind 2023 in totaal 87 medewerkers in dienst. Het ziekteverzuim was 4,1 procent. \n",
        encoding="utf-8")
    (folder / "manifest.toml").write_text(
        '[alfa-jaarplan-2024]\ntitle = "Jaarplan 2024"\norganisation = "Dienst Alfa"\nyear = 2024\n'
        'kind = "jaarplan"\n\n[beta-verslag-2023]\ntitle = "Jaarverslag 2023"\norganisation = "Beta"\n'
        'year = 2023\nkind = "jaarverslag"\n', encoding="utf-8")
    return folder


def build_small_hash_index(root: Path, filler: str = "Dit stuk gaat over {topic}. ") -> Path:
    """The small corpus plus four one-line documents, indexed with the hash encoder. The fillers
    give BM25 enough documents for a word of one document to have a positive idf."""
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    corpus = write_small_corpus(root / "corpus")
    for i, topic in enumerate(["archief", "huisvesting", "reizen", "verlof"]):
        (corpus / f"extra-{i}.txt").write_text(filler.format(topic=topic), encoding="utf-8")
    build_index(corpus, root / "index", make_encoder("hash"), cache_dir=root / "cache")
    return root / "index"


@pytest.fixture()
def small_corpus(tmp_path) -> Path:
    return write_small_corpus(tmp_path / "corpus")


@pytest.fixture()
def small_index(tmp_path, small_corpus) -> Path:
    """An index of the small corpus built with the deterministic hash encoder (fast)."""
    from docqa.index.encoders import make_encoder
    from docqa.index.store import build_index

    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, make_encoder("hash"), cache_dir=tmp_path / "cache")
    return index_dir


@pytest.fixture(autouse=True, scope="session")
def _no_network_models():
    # Nothing may reach a model hub: the models ship inside packages.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


REAL_FIXTURES = {"real_index_dir", "real_engine", "e5_encoder", "minilm"}


def pytest_collection_modifyitems(config, items):
    # Every test that loads the real model or index is `slow`, whether or not it says so, so
    # `make test-fast` (-m "not slow and not browser") never starts a model.
    for item in items:
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
