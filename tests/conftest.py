import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests skipped in the JIT-off pass")
