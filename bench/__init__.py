"""Benchmarks for Accord: `make bench` runs them all against a fresh PostgreSQL database.

Benchmarks are not tests. Each one compares a variant with a baseline measured in
the same run on the same machine and reports the ratio, so a slow or busy machine
changes the absolute numbers but much less the ratio. Results, with the machine they
were measured on, are written to bench/RESULTS.md.
"""
