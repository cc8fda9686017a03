"""What the tests share besides fixtures: a client for the API, a factory of rows, the databases they
run on, a real server. The fixtures themselves are in `tests/conftest.py`."""
