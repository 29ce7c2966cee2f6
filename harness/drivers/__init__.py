"""Drivers: how the harness reaches an implementation (only ever through the vocabulary)."""

from __future__ import annotations

from .base import Driver, DriverError
from .inprocess import PythonDriver
from .subprocess_driver import ExecDriver

REFERENCE = "python:reference.engine:Engine"
ALIASES = {
    "reference": REFERENCE,
    "qemu-offline": "python:harness.drivers.qemu_offline:QemuOffline",  # qcow2 chains
}


def open_driver(spec: str, timeout: float = 10.0) -> Driver:
    """A driver from its command-line spelling: reference, python:MODULE:CLASS, exec:COMMAND."""
    spec = ALIASES.get(spec, spec)
    kind, _, rest = spec.partition(":")
    if kind == "python":
        module, _, cls = rest.partition(":")
        if not module or not cls:
            raise DriverError("unavailable", f"expected python:MODULE:CLASS, got {spec!r}")
        return PythonDriver(module, cls)
    if kind == "exec":
        return ExecDriver(rest, timeout)
    raise DriverError(
        "unavailable",
        f"unknown driver {spec!r} (try: reference, python:MODULE:CLASS, exec:COMMAND)",
    )


__all__ = ["Driver", "DriverError", "ExecDriver", "open_driver"]
