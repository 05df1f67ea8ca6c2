"""Embedding cache keyed by the hash of the exact text embedded, one folder per encoder.

Rebuilding an unchanged corpus embeds nothing; adding a document embeds only its passages.
One plain file per encoder, `cache.npz` (hashes as fixed-width bytes, vectors as float32, no
pickles), replaced atomically. Saving holds a file lock and merges with what is on disk, so two
builds of different indexes that share the cache keep both their vectors and never pair one
build's hashes with the other's vectors.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

CACHE_FILE = "cache.npz"
_HASH_DTYPE = "S40"  # sha1 hex digests (ingest.records.text_hash)


class EmbeddingCache:
    def __init__(self, folder: Path, encoder_id: str, dim: int):
        self.folder = Path(folder) / re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_id)
        self.dim = dim
        self._unsaved: set[str] = set()
        hashes, self._vectors = self._read()
        self._rows: dict[str, int] = {h: i for i, h in enumerate(hashes)}

    def _read(self) -> tuple[list[str], np.ndarray]:
        """What is on disk; empty when there is nothing usable (a damaged cache only costs time)."""
        empty = ([], np.zeros((0, self.dim), dtype=np.float32))
        path = self.folder / CACHE_FILE
        try:
            if path.exists():
                with np.load(path, allow_pickle=False) as data:
                    hashes = [h.decode("ascii") for h in data["hashes"].tolist()]
                    vectors = data["vectors"]
            elif (self.folder / "hashes.json").exists():
                # the two-file layout of earlier versions: read it once, `save` replaces it
                hashes = json.loads((self.folder / "hashes.json").read_text(encoding="utf-8"))
                vectors = np.load(self.folder / "vectors.npy", allow_pickle=False)
            else:
                return empty
        except (ValueError, OSError, KeyError, AttributeError, zipfile.BadZipFile):
            return empty
        if not isinstance(hashes, list) or vectors.ndim != 2 or vectors.shape != (len(hashes), self.dim):
            return empty
        return hashes, vectors.astype(np.float32, copy=False)

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> tuple[list[str], np.ndarray]:
        """Every hash with its vector (to copy the cache elsewhere: the PostgreSQL store's table)."""
        return list(self._rows), self._vectors[list(self._rows.values())] if self._rows else self._vectors

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
            self._unsaved.add(key)
        self._vectors = np.vstack([self._vectors, np.stack([v for _, v in new]).astype(np.float32)])

    def save(self) -> None:
        """Add this cache's new vectors to the file on disk (which another build may have grown)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._locked():
            hashes, vectors = self._read()
            on_disk = set(hashes)
            added = [k for k in sorted(self._unsaved, key=self._rows.get) if k not in on_disk]
            if added:
                hashes = hashes + added
                vectors = np.vstack([vectors, self._vectors[[self._rows[k] for k in added]]])
            tmp = self.folder / f".cache.{os.getpid()}.npz"
            with open(tmp, "wb") as f:
                np.savez(f, hashes=np.array(hashes, dtype=_HASH_DTYPE), vectors=vectors)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / CACHE_FILE)
            for old in ("hashes.json", "vectors.npy"):
                (self.folder / old).unlink(missing_ok=True)
        self._rows = {h: i for i, h in enumerate(hashes)}
        self._vectors = vectors
        self._unsaved.clear()

    @contextmanager
    def _locked(self):
        with open(self.folder / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # waits: saving takes well under a second
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
