"""Shape checks for incoming operations: every field typed and ranged before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import OpError

MAX_NAME = 64
MAX_TOKEN = 256
MAX_VOLUME_BLOCKS = 1 << 20
MAX_GRAIN_SIZE = 64
POLICIES = ("per-type", "mixed")
MAP_TYPES = ("clone", "snapshot")
FAULTS = ("flush_failed", "bitmap_offline", "bitmap_online", "io_error")


@dataclass(frozen=True)
class Field:
    """One field of an operation: its kind, whether it is required, and its bounds."""

    kind: str  # name | int | bool | tokens | grains | choice
    required: bool = True
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()


def _name() -> Field:
    return Field("name")


def _opt_bool() -> Field:
    return Field("bool", required=False)


def _rate() -> Field:
    return Field("int", required=False, low=0, high=150)


OPERATIONS: dict[str, dict[str, Field]] = {
    "hello": {},
    "reset": {
        "grain_size": Field("int", required=False, low=1, high=MAX_GRAIN_SIZE),
        "policy": Field("choice", required=False, choices=POLICIES),
    },
    "create_volume": {"volume": _name(), "size": Field("int", low=1, high=MAX_VOLUME_BLOCKS)},
    "delete_volume": {"volume": _name()},
    "create_map": {
        "map": _name(),
        "source": _name(),
        "target": _name(),
        "type": Field("choice", required=False, choices=MAP_TYPES),
        "copy_rate": _rate(),
        "clean_rate": _rate(),
        "incremental": _opt_bool(),
        "autodelete": _opt_bool(),
        "group": Field("name", required=False),
    },
    "delete_map": {"map": _name(), "force": _opt_bool()},
    "prepare": {"map": _name(), "restore": _opt_bool()},
    "start": {"map": _name(), "restore": _opt_bool()},
    "stop": {"map": _name(), "force": _opt_bool(), "split": _opt_bool()},
    "write": {
        "volume": _name(),
        "block": Field("int", low=0, high=MAX_VOLUME_BLOCKS),
        "data": Field("tokens"),
    },
    "read": {
        "volume": _name(),
        "block": Field("int", low=0, high=MAX_VOLUME_BLOCKS),
        "count": Field("int", low=1, high=MAX_VOLUME_BLOCKS),
    },
    "copy": {"map": _name(), "grains": Field("int", required=False, low=1, high=MAX_VOLUME_BLOCKS)},
    "settle": {},
    "create_group": {"group": _name()},
    "delete_group": {"group": _name(), "force": _opt_bool()},
    "start_group": {"group": _name(), "restore": _opt_bool()},
    "stop_group": {"group": _name(), "force": _opt_bool()},
    "status": {"map": _name()},
    "dependents": {"map": _name()},
    "cascades": {},
    "internals": {"grains": Field("grains", required=False)},
    "inject": {"map": _name(), "event": Field("choice", choices=FAULTS)},
}


def _check_value(op: str, key: str, spec: Field, value: Any) -> None:
    where = f"{op}.{key}"
    if spec.kind == "name":
        if not isinstance(value, str) or not value or len(value) > MAX_NAME:
            raise OpError("bad_request", f"{where} must be a name of 1-{MAX_NAME} characters")
        if any(ord(c) < 32 for c in value):
            raise OpError("bad_request", f"{where} must not contain control characters")
    elif spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise OpError("bad_request", f"{where} must be an integer")
        if not spec.low <= value <= spec.high:
            raise OpError("bad_request", f"{where} must be within {spec.low}-{spec.high}")
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            raise OpError("bad_request", f"{where} must be true or false")
    elif spec.kind == "choice":
        if value not in spec.choices:
            raise OpError("bad_request", f"{where} must be one of {', '.join(spec.choices)}")
    elif spec.kind == "tokens":
        _check_list(where, value, str)
    elif spec.kind == "grains":
        _check_list(where, value, int)


def _check_list(where: str, value: Any, item_type: type) -> None:
    if not isinstance(value, list) or not value or len(value) > MAX_VOLUME_BLOCKS:
        raise OpError("bad_request", f"{where} must be a non-empty list")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, item_type):
            raise OpError("bad_request", f"{where} items must be {item_type.__name__}s")
        if isinstance(item, str) and len(item) > MAX_TOKEN:
            raise OpError("bad_request", f"{where} tokens are at most {MAX_TOKEN} characters")
        if isinstance(item, str) and any(ord(c) < 32 for c in item):
            raise OpError("bad_request", f"{where} tokens must not contain control characters")
        if isinstance(item, int) and item < 0:
            raise OpError("bad_request", f"{where} items must not be negative")


def parse(request: Any) -> tuple[str, dict[str, Any]]:
    """Check an operation's shape and return (op, fields); raise bad_request otherwise."""
    if not isinstance(request, dict):
        raise OpError("bad_request", "an operation is a JSON object")
    op = request.get("op")
    if not isinstance(op, str):
        raise OpError("bad_request", "an operation needs an 'op' string field")
    if op not in OPERATIONS:
        raise OpError("bad_request", f"unknown op {op!r}")
    specs = OPERATIONS[op]
    fields = {k: v for k, v in request.items() if k != "op"}
    for key in fields:
        if key not in specs:
            raise OpError("bad_request", f"{op} has no field {key!r}")
    for key, spec in specs.items():
        if key not in fields:
            if spec.required:
                raise OpError("bad_request", f"{op} needs field {key!r}")
            continue
        _check_value(op, key, spec, fields[key])
    return op, fields
