"""Benchmarks of yiwang (``./yw bench`` runs them; results land in ``bench/results/``)."""
