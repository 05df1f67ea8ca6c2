"""Embedding cache keyed by the hash of the exact text embedded, one folder per encoder.

Rebuilding an unchanged corpus embeds nothing; adding a document embeds only its passages.
Files are plain (`hashes.json`, `vectors.npy`) and replaced atomically.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, folder: Path, encoder_id: str, dim: int):
        self.folder = Path(folder) / re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_id)
        self.dim = dim
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._load()

    def _load(self) -> None:
        hashes_path, vectors_path = self.folder / "hashes.json", self.folder / "vectors.npy"
        if not hashes_path.exists() or not vectors_path.exists():
            return
        try:
            hashes = json.loads(hashes_path.read_text(encoding="utf-8"))
            vectors = np.load(vectors_path, allow_pickle=False)
        except (ValueError, OSError):
            return  # a damaged cache only costs time: start empty and overwrite it
        if vectors.ndim != 2 or vectors.shape != (len(hashes), self.dim):
            return
        self._rows = {h: i for i, h in enumerate(hashes)}
        self._vectors = vectors.astype(np.float32, copy=False)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, keys: list[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `keys` (zero rows where missing) and the positions that are missing."""
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        missing = []
        for i, key in enumerate(keys):
            row = self._rows.get(key)
            if row is None:
                missing.append(i)
            else:
                out[i] = self._vectors[row]
        return out, missing

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        new = [(k, v) for k, v in zip(keys, vectors) if k not in self._rows]
        if not new:
            return
        start = len(self._rows)
        for offset, (key, _) in enumerate(new):
            self._rows[key] = start + offset
        self._vectors = np.vstack([self._vectors, np.stack([v for _, v in new]).astype(np.float32)])

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        hashes = sorted(self._rows, key=self._rows.get)
        tmp_vectors = self.folder / f".vectors.{os.getpid()}.npy"
        tmp_hashes = self.folder / f".hashes.{os.getpid()}.json"
        np.save(tmp_vectors, self._vectors, allow_pickle=False)
        tmp_hashes.write_text(json.dumps(hashes), encoding="utf-8")
        # vectors first: a reader that sees new hashes with old vectors rejects the pair by shape
        os.replace(tmp_vectors, self.folder / "vectors.npy")
        os.replace(tmp_hashes, self.folder / "hashes.json")
