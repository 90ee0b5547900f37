"""Authorization-matrix fixtures of the admin routes (see ``events/tests/matrix.py``)."""
