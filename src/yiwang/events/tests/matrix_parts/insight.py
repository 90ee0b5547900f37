"""Authorization-matrix fixtures of the insight routes (see ``events/tests/matrix.py``)."""
