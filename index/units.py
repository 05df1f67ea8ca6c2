"""The answer units of the indexed passages: sentence-like spans (sentence, table row, list item)
and their vectors, computed at build time. Retrieval stores and serves them; what makes a unit a
good answer is the question-answering layer's business (`qa/windows.py`).
"""
from __future__ import annotations

import functools

import numpy as np


class UnitStore:
    """The units of a loaded index, by passage row. Thread-safe: nothing changes after loading."""

    def __init__(self, loaded, analyzer):
        self._units = loaded.units
        self._unit_vectors = loaded.unit_vectors
        self._analyzer = analyzer
        # the rows of the unit arrays that belong to passage i: _order[_bounds[i]:_bounds[i + 1]]
        # (two arrays, not a list of a million small ones)
        self._order = np.argsort(loaded.units[:, 0], kind="stable")
        self._bounds = np.searchsorted(loaded.units[self._order, 0], np.arange(len(loaded.passages) + 1))
        # Analysing a passage's units is most of a rerank's cost, and the same passages come back
        # for related questions: keep the analysed terms of recently seen passages. lru_cache is
        # thread-safe, and what it stores depends only on the passage.
        self._passage_unit_terms = functools.lru_cache(maxsize=4096)(self._analyse_units)

    def rows(self, passage_row: int) -> np.ndarray:
        return self._order[self._bounds[passage_row]:self._bounds[passage_row + 1]]

    def _analyse_units(self, passage_row: int, text: str
                       ) -> tuple[tuple[tuple[int, int], ...], tuple[frozenset, ...]]:
        spans = tuple((int(a), int(b)) for _, a, b in self._units[self.rows(passage_row)].tolist())
        return spans, tuple(frozenset(self._analyzer(text[a:b])) for a, b in spans)

    def spans_and_terms(self, passage_row: int, text: str
                        ) -> tuple[tuple[tuple[int, int], ...], tuple[frozenset, ...]]:
        """The units' (start, end) offsets in the passage text and each unit's analysed terms."""
        return self._passage_unit_terms(int(passage_row), text)

    def vectors(self, passage_row: int) -> np.ndarray:
        """The units' vectors (float32), in the order of `spans_and_terms`."""
        return np.asarray(self._unit_vectors[self.rows(passage_row)], dtype=np.float32)
