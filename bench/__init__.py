"""The benchmarks behind `make bench` (speed, memory, scale, load, a peer), run from the checkout:

    python -m bench.benchmark --out bench/out
    python -m bench.loadtest --threads 8 --seconds 60

Not installed and not part of docqa: they measure the product through its own API (`docqa.engine.Engine`)
and its own store and fusion code (`docqa.index.store`, `docqa.index.search`), never copies of them.
"""
