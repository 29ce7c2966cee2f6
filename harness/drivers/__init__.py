"""Drivers: how the harness reaches an implementation (only ever through the vocabulary)."""

from __future__ import annotations

from .base import Driver, DriverError
from .inprocess import DEFAULT_TIMEOUT as IN_PROCESS_TIMEOUT
from .inprocess import PythonDriver
from .subprocess_driver import DEFAULT_TIMEOUT as EXEC_TIMEOUT
from .subprocess_driver import ExecDriver

REFERENCE = "python:reference.engine:Engine"
ALIASES = {
    "reference": REFERENCE,
    # real engines (docs/engines.md)
    "qemu-offline": "python:harness.drivers.qemu_offline:QemuOffline",  # qcow2 chains, offline
    "qemu-live": "python:harness.drivers.qemu_live:QemuLive",  # qemu-storage-daemon, QMP, NBD
    "qemu-cbw": "python:harness.drivers.qemu_cbw:QemuCbw",  # the copy-before-write filter
    "nbdkit-cow": "python:harness.drivers.nbdkit_cow:NbdkitCow",  # nbdkit's cow filter
    "reflink-btrfs": "python:harness.drivers.reflink:ReflinkBtrfs",  # FICLONE on btrfs
    "reflink-xfs": "python:harness.drivers.reflink:ReflinkXfs",  # FICLONE on XFS
}


def open_spec() -> Driver:
    """The specification engine the harness runs in lockstep: the reference engine, loaded by
    name like any implementation, without the JSON round trip (it is our own code)."""
    return PythonDriver("reference.engine", "Engine", isolate=False)


def open_driver(spec: str, timeout: float | None = None) -> Driver:
    """A driver from its command-line spelling: reference, python:MODULE:CLASS, exec:COMMAND;
    `timeout` is the seconds a request may take (default: the kind of driver's own)."""
    spec = ALIASES.get(spec, spec)
    kind, _, rest = spec.partition(":")
    if kind == "python":
        module, _, cls = rest.partition(":")
        if not module or not cls:
            raise DriverError("unavailable", f"expected python:MODULE:CLASS, got {spec!r}")
        return PythonDriver(module, cls, timeout=timeout or IN_PROCESS_TIMEOUT)
    if kind == "exec":
        return ExecDriver(rest, timeout or EXEC_TIMEOUT)
    raise DriverError(
        "unavailable",
        f"unknown driver {spec!r} (try: {', '.join(ALIASES)}, python:MODULE:CLASS, exec:COMMAND)",
    )


__all__ = ["Driver", "DriverError", "ExecDriver", "open_driver", "open_spec"]
