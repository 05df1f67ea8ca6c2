"""Batch tasks for tests/test_cluster.py that run on Dask workers (importable there: the workers of a
LocalCluster get the test process's sys.path)."""
from __future__ import annotations

import time

from docqa.index.cluster import embed_batch

PAUSE = 0.25  # seconds per batch: a build of 20 batches lasts long enough to kill a worker midway


def slow_embed_batch(spec, texts):
    time.sleep(PAUSE)
    return embed_batch(spec, texts)
