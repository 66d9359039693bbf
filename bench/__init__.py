"""Benchmarks for ``make bench`` (spec §8: performance is measured here, never asserted
in tests). Run with ``python -m bench``; ``python -m bench --help`` lists the knobs."""
