"""Smoke tests of the benchmarks in bench/ (they prove the benchmarks run; they time nothing)."""
