"""Authorization-matrix fixtures of the public routes (see ``services/tests/matrix.py``).

The public routes are GET only and take no required parameters; ``matter_code`` is probed
with the world's published matters (``✓`` for everyone) and a missing code (404)."""
