"""Where things are: flags win over environment variables, which win over defaults."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
DEFAULT_INDEX = PROJECT_ROOT / "var" / "index"
# Shared by every index built from this checkout (tests included): unchanged passages are never
# embedded twice.
DEFAULT_CACHE = PROJECT_ROOT / "var" / "embedding-cache"


def corpus_dir(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("DOCQA_CORPUS") or DEFAULT_CORPUS).expanduser()


def index_dir(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("DOCQA_INDEX") or DEFAULT_INDEX).expanduser()


def model_spec(flag: str | None = None) -> str | None:
    return flag or os.environ.get("DOCQA_MODEL") or None


def cache_dir(flag: str | None = None) -> Path:
    return Path(flag or os.environ.get("DOCQA_CACHE") or DEFAULT_CACHE).expanduser()


def safe_corpus_file(corpus_dir, path) -> Path:
    """The real path of `path` when it is a file inside `corpus_dir`; ValueError otherwise.

    Both sides are resolved first, so `..` segments and symlinks that lead out of the corpus are
    refused; a relative `path` is taken relative to the corpus.
    """
    corpus = Path(corpus_dir).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = corpus / candidate
    resolved = candidate.resolve()
    if not resolved.is_relative_to(corpus):
        raise ValueError(f"{path}: outside the corpus folder {corpus}")
    if not resolved.is_file():
        raise ValueError(f"{path}: not a file in the corpus folder {corpus}")
    return resolved


def store_url(flag: str | None = None) -> str | None:
    """A postgresql:// URL (--store, else DOCQA_STORE): the index lives there instead of a folder."""
    return flag or os.environ.get("DOCQA_STORE") or None


def cluster_address(flag: str | None = None) -> str | None:
    """A Dask scheduler (tcp://host:port) or local:N (--cluster, else DOCQA_CLUSTER): the build's
    embedding runs on that cluster's workers (index/cluster.py)."""
    return flag or os.environ.get("DOCQA_CLUSTER") or None
