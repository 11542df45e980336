"""Benchmarks: `make bench-ingest` (bench/ingest.py). Never part of the test suite."""
