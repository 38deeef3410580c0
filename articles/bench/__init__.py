"""Benchmark tooling: the synthetic corpus, the bulk-load measurements, the BM25 peer
(tantivy) and ranking-quality evaluation. Nothing here is used by the web app."""
