"""Shared fixtures of the test suite."""

pytest_plugins = ["tests.conftest_stores", "tests.guard"]
