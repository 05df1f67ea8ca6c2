"""The hybrid index: BM25 over one Dutch analyser plus dense vectors in FAISS, fused."""
