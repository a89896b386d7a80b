"""Benchmarks; ``bench.settings`` and ``bench.urls`` add a sign-only endpoint for bench/api.py."""
