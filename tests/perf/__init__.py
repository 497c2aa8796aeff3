"""Benchmark harness: a realistic data generator (``generate``) and the runner (``bench``).

See docs/performance.md. Not collected by pytest (``norecursedirs``); the fast check of
the harness itself is tests/integration/test_perf_harness.py.
"""
