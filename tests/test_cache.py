"""The embedding cache: shared by builds of different indexes, and never pairing a text's hash
with another text's vector."""
import json
import subprocess
import sys
import textwrap

import numpy as np

from docqa.index.cache import CACHE_FILE, EmbeddingCache

DIM = 8


def vector_for(key: str) -> np.ndarray:
    # a vector that can be recomputed from its key, so a mispairing is visible
    return np.random.default_rng(int(key[:8], 16)).standard_normal(DIM).astype(np.float32)


def keys(prefix: int, n: int) -> list[str]:
    return [f"{prefix:02x}{i:06x}".ljust(40, "0") for i in range(n)]


def test_two_caches_saved_one_after_the_other_keep_both_their_vectors(tmp_path):
    first, second = EmbeddingCache(tmp_path, "enc", DIM), EmbeddingCache(tmp_path, "enc", DIM)
    first.put(keys(1, 5), np.stack([vector_for(k) for k in keys(1, 5)]))
    second.put(keys(2, 5), np.stack([vector_for(k) for k in keys(2, 5)]))
    first.save()
    second.save()  # loaded before `first` saved: must merge, not overwrite
    reread = EmbeddingCache(tmp_path, "enc", DIM)
    vectors, missing = reread.get(keys(1, 5) + keys(2, 5))
    assert missing == []
    assert np.allclose(vectors, np.stack([vector_for(k) for k in keys(1, 5) + keys(2, 5)]))


def test_concurrent_saves_from_two_processes_never_mix_hashes_and_vectors(tmp_path):
    lib, tmp_path = tmp_path / "lib", tmp_path / "cache"
    lib.mkdir()
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        sys.path.insert(0, {str(lib)!r})
        from docqa.index.cache import EmbeddingCache
        from test_cache_helpers import keys, vector_for
        prefix = int(sys.argv[1])
        for round_ in range(15):
            cache = EmbeddingCache({str(tmp_path)!r}, "enc", {DIM})
            # the same number of rows per save from both processes: a shape check alone would pass
            new = keys(prefix, 20 * (round_ + 1))[20 * round_:]
            cache.put(new, np.stack([vector_for(k) for k in new]))
            cache.save()
    """)
    helpers = lib / "test_cache_helpers.py"
    helpers.write_text(f"import numpy as np\nDIM = {DIM}\n" + _source(vector_for) + _source(keys))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(p)]) for p in (1, 2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cache = EmbeddingCache(tmp_path, "enc", DIM)
    everything = keys(1, 300) + keys(2, 300)
    vectors, missing = cache.get(everything)
    assert missing == [] and len(cache) == 600
    assert np.allclose(vectors, np.stack([vector_for(k) for k in everything]))


def test_the_earlier_two_file_layout_is_read_and_replaced(tmp_path):
    folder = tmp_path / "enc"
    folder.mkdir()
    old = keys(3, 4)
    (folder / "hashes.json").write_text(json.dumps(old))
    np.save(folder / "vectors.npy", np.stack([vector_for(k) for k in old]))
    cache = EmbeddingCache(tmp_path, "enc", DIM)
    assert cache.get(old)[1] == []
    cache.put(keys(4, 1), vector_for(keys(4, 1)[0])[None])
    cache.save()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [CACHE_FILE]
    assert EmbeddingCache(tmp_path, "enc", DIM).get(old + keys(4, 1))[1] == []


def test_a_damaged_cache_file_only_costs_time(tmp_path):
    cache = EmbeddingCache(tmp_path, "enc", DIM)
    cache.put(keys(5, 2), np.stack([vector_for(k) for k in keys(5, 2)]))
    cache.save()
    (tmp_path / "enc" / CACHE_FILE).write_bytes(b"PK\x03\x04 not a zip")
    damaged = EmbeddingCache(tmp_path, "enc", DIM)
    assert len(damaged) == 0
    damaged.put(keys(6, 1), vector_for(keys(6, 1)[0])[None])
    damaged.save()
    assert EmbeddingCache(tmp_path, "enc", DIM).get(keys(6, 1))[1] == []


def _source(func) -> str:
    import inspect

    return "\n\n" + inspect.getsource(func) + "\n"
