"""Ingest: corpus files in, chunks in the store (records, BM25 index and Chroma vectors) out."""
