"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.drivers import Driver

from .test_engines import _open


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[Driver]:
    """A real engine driver (parametrized by name, indirectly), reset, closed afterwards."""
    driver = _open(request.param)
    driver.request({"op": "reset", "grain_size": 2})
    yield driver
    driver.close()
