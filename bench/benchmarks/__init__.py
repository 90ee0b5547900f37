"""The benchmarks: one module each, registered with ``bench.runner.register``."""
