"""Benchmarks printed by `make bench`, each beside a baseline measured in the same run."""
