"""Job tests share the real-worker fixtures."""

from tests.workers import broker, wait_for, worker  # noqa: F401
