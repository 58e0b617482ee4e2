"""Job tests use the real-worker fixtures from tests/workers.py (loaded by tests/conftest.py)."""
