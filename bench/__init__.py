"""Benchmarks of descramble against its peers (run with ``python bench/run.py``)."""
