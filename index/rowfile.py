"""Rows of a 2-D `.npy` file read on demand with positional reads.

The answer units' vectors are six or seven times as many as the passages' (ten gigabytes at a
million passages) and a question reads a few hundred of them. Mapped into memory, each row read
brought in the page-cache folio around it, up to megabytes: a hundred questions left 2 GB
resident. `os.pread` copies only the rows asked for; the kernel's cache is not the process's memory.
"""
from __future__ import annotations

import os
import threading

import numpy as np


class RowFile:
    """Read-only rows of a C-ordered 2-D array stored as `.npy`. Thread-safe (positional reads)."""

    def __init__(self, path):
        self.path = str(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"{self.path}: .npy format version {version} is not read here")
            self._offset = f.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{self.path}: expected a C-ordered 2-D numeric array, got shape {shape}")
        self.shape, self.dtype = tuple(shape), dtype
        self._row_bytes = shape[1] * dtype.itemsize
        expected = self._offset + shape[0] * self._row_bytes
        if os.path.getsize(self.path) < expected:
            raise ValueError(f"{self.path}: truncated ({os.path.getsize(self.path)} of {expected} bytes)")
        self._fd = os.open(self.path, os.O_RDONLY)
        self._lock = threading.Lock()  # guards close only; reads are positional

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        if len(rows) == 0:
            return out
        if rows.min() < 0 or rows.max() >= self.shape[0]:
            raise IndexError(f"row out of range 0..{self.shape[0] - 1}")
        # one read per run of consecutive rows (a passage's units are consecutive: one read)
        breaks = (np.flatnonzero(np.diff(rows) != 1) + 1).tolist()
        for start, end in zip([0, *breaks], [*breaks, len(rows)]):
            first, count = int(rows[start]), int(end - start)
            data = self._pread_exact(count * self._row_bytes, self._offset + first * self._row_bytes)
            out[start:end] = np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])
        return out

    def _pread_exact(self, size: int, offset: int) -> bytes:
        parts, done = [], 0
        while done < size:  # one pread returns at most about 2 GB
            chunk = os.pread(self._fd, min(size - done, 1 << 30), offset + done)
            if not chunk:
                raise OSError(f"{self.path}: unexpected end of file")
            parts.append(chunk)
            done += len(chunk)
        return b"".join(parts) if len(parts) > 1 else parts[0]

    def read_all(self) -> np.ndarray:
        return self[np.arange(self.shape[0])]

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
