"""Unit vectors are read by row from their .npy file: the rows must be exactly the stored ones."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from docqa.index.rowfile import RowFile


@pytest.fixture()
def stored(tmp_path):
    array = np.random.default_rng(0).standard_normal((1000, 16)).astype(np.float32)
    path = tmp_path / "rows.npy"
    np.save(path, array, allow_pickle=False)
    return path, array


def test_rows_equal_the_stored_array_in_any_order(stored):
    path, array = stored
    rows = RowFile(path)
    assert rows.shape == (1000, 16) and len(rows) == 1000
    for picked in ([0], [5, 6, 7, 8], [999, 3, 4, 500, 501], list(range(1000)), []):
        assert np.array_equal(rows[picked], array[picked])
    assert np.array_equal(rows.read_all(), array)


def test_rows_read_from_many_threads_at_once(stored):
    path, array = stored
    rows = RowFile(path)
    picks = [np.random.default_rng(seed).integers(0, 1000, 50) for seed in range(200)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda p: rows[p], picks))
    assert all(np.array_equal(r, array[p]) for r, p in zip(results, picks))


def test_a_truncated_file_or_a_row_out_of_range_is_refused(stored):
    path, _ = stored
    with pytest.raises(IndexError):
        RowFile(path)[[1000]]
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated"):
        RowFile(path)
