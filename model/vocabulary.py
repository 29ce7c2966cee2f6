"""The operation vocabulary (protocol `cascadecheck/1`): the contract every implementation speaks.

This is the one place that states it: every operation, each field with its kind and legal
range, what every accepted answer carries, the error codes, and what an implementation may
declare it does not support. The harness draws generated fields from these ranges, builds its
answer and trace schemas from them, and names them in coverage; `docs/protocol.md` describes
them for people. The reference engine validates requests with its own code (it never imports
`model/`); a test pins the two to the same ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from .machine import STATES

PROTOCOL = "cascadecheck/1"
MAX_NAME = 64  # characters in a volume, map or group name
MAX_TOKEN = 256  # characters in one block's token
MAX_VOLUME_BLOCKS = 1 << 20
MAX_GRAIN_SIZE = 64
MAX_RATE = 150
DEFAULT_GRAIN_SIZE = 2
POLICIES = ("per-type", "mixed")
MAP_TYPES = ("clone", "snapshot")
FAULTS = ("flush_failed", "bitmap_offline", "bitmap_online", "io_error")
EXPOSES = ("images", "states", "internals")
PACES = ("exact", "own")
COPY_KINDS = ("cow", "fill", "background", "clean")
HEAD_MODES = ("physical", "image")

ERROR_CODES = (
    "bad_request",
    "unknown_volume",
    "unknown_map",
    "unknown_group",
    "exists",
    "size_mismatch",
    "same_volume",
    "already_target",
    "bad_state",
    "group_member",
    "group_in_use",
    "volume_in_use",
    "restore_required",
    "restore_in_progress",
    "offline",
    "out_of_range",
    "limit",
    "unsupported",
)


@dataclass(frozen=True)
class Field:
    """One request field: its kind, whether it must be present, and its legal values.

    Kinds: `name` (1-MAX_NAME characters, no control characters), `int` (low..high),
    `bool`, `choice` (one of `choices`), `tokens` (a non-empty list of strings of
    0-MAX_TOKEN characters, no control characters), `grains` (a non-empty list of
    non-negative integers)."""

    kind: str
    required: bool = True
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()


def _name(required: bool = True) -> Field:
    return Field("name", required)


def _flag() -> Field:
    return Field("bool", required=False)


def _rate() -> Field:
    return Field("int", required=False, low=0, high=MAX_RATE)


def _block() -> Field:
    return Field("int", low=0, high=MAX_VOLUME_BLOCKS)


REQUESTS: dict[str, dict[str, Field]] = {
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
        "incremental": _flag(),
        "autodelete": _flag(),
        "group": _name(required=False),
    },
    "delete_map": {"map": _name(), "force": _flag()},
    "prepare": {"map": _name(), "restore": _flag()},
    "start": {"map": _name(), "restore": _flag()},
    "stop": {"map": _name(), "force": _flag(), "split": _flag()},
    "write": {"volume": _name(), "block": _block(), "data": Field("tokens")},
    "read": {
        "volume": _name(),
        "block": _block(),
        "count": Field("int", low=1, high=MAX_VOLUME_BLOCKS),
    },
    "copy": {"map": _name(), "grains": Field("int", required=False, low=1, high=MAX_VOLUME_BLOCKS)},
    "settle": {},
    "create_group": {"group": _name()},
    "delete_group": {"group": _name(), "force": _flag()},
    "start_group": {"group": _name(), "restore": _flag()},
    "stop_group": {"group": _name(), "force": _flag()},
    "status": {"map": _name()},
    "dependents": {"map": _name()},
    "cascades": {},
    "internals": {"grains": Field("grains", required=False)},
    "inject": {"map": _name(), "event": Field("choice", choices=FAULTS)},
}

# operations that only look: they never change anything
QUERIES = frozenset({"hello", "read", "status", "dependents", "cascades", "internals"})


@dataclass(frozen=True)
class Answer:
    """One field of an accepted answer. Kinds: `int` (low..high), `bool`, `str`, `state`,
    `map_type`, `name`, `optional_name` (a name or null), `tokens` (a list of strings),
    `names` (a list of names), `cascades` (a list of cascade objects), `object` (any object)."""

    kind: str
    low: int = 0
    high: int = 0


def _percent() -> Answer:
    return Answer("int", 0, 100)


ANSWERS: dict[str, dict[str, Answer]] = {
    "hello": {
        "name": Answer("str"),
        "version": Answer("str"),
        "protocol": Answer("str"),
        "ops": Answer("names"),
        "exposes": Answer("names"),
        "policies": Answer("names"),
    },
    "start": {"state": Answer("state"), "restoring": Answer("bool")},
    "stop": {"state": Answer("state")},
    "read": {"data": Answer("tokens")},
    "copy": {
        "copied": Answer("int", 0, MAX_VOLUME_BLOCKS),
        "state": Answer("state"),
        "progress": _percent(),
    },
    "status": {
        "state": Answer("state"),
        "progress": _percent(),
        "type": Answer("map_type"),
        "source": Answer("name"),
        "target": Answer("name"),
        "copy_rate": Answer("int", 0, MAX_RATE),
        "clean_rate": Answer("int", 0, MAX_RATE),
        "incremental": Answer("bool"),
        "autodelete": Answer("bool"),
        "group": Answer("optional_name"),
        "restoring": Answer("bool"),
        "difference": _percent(),
        "dependent_mappings": Answer("int", 0, MAX_VOLUME_BLOCKS),
    },
    "dependents": {"maps": Answer("names")},
    "cascades": {"cascades": Answer("cascades")},
    "internals": {
        "cascades": Answer("cascades"),
        "maps": Answer("object"),
        "phys": Answer("object"),
    },
}
ANSWER_EXTRAS = ("copies", "events")  # fields the reference engine adds (docs/protocol.md)


@dataclass(frozen=True)
class Shape:
    """A situation an implementation may declare it does not support (`hello.unsupported`).
    The harness never generates an operation that would create it, and the verdict lists it
    as not verified. `unchecked` names answer fields the harness then cannot compare."""

    name: str
    means: str
    unchecked: tuple[str, ...] = ()


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("restart", "starting a map again after it was started before"),
        Shape(
            "cascade_from_target",
            "starting a map whose source is itself an active target (a cascade of cascades)",
        ),
        Shape("group_multi", "starting a consistency group of two or more maps"),
        Shape(
            "dependency_states",
            "map states that follow cascade dependencies: a complete map stays copying while "
            "another target reads through it, and a map completes as soon as host writes and "
            "copy-on-write have given its target every grain",
            unchecked=("status.dependent_mappings",),
        ),
    )
}

# hello fields beyond ANSWERS["hello"] that shape what the harness generates and checks
HELLO_DECLARATIONS = {
    "unsupported": "object: name -> reason, for an operation, an optional field "
    "(`op.field`), a choice (`op.field=value`) or a shape of SHAPES",
    "ranges": "object: `op.field` -> [low, high], a narrower range the implementation accepts",
    "pace": "exact (default: `copy` moves exactly the grains the rate or `grains` says) or own "
    "(background copy and cleaning run in the implementation's own time; `settle` finishes them)",
    "may_fault": "true if a map may stop or suspend with no injected cause (each is reported)",
}


def map_type(request: dict[str, object]) -> str:
    """The type a `create_map` asks for: its `type`, or detected from its copy rate (0: a
    snapshot; any other rate, or none: a clone)."""
    given = request.get("type")
    if given in MAP_TYPES:
        return str(given)
    return "snapshot" if request.get("copy_rate") == 0 else "clone"


def optional_fields() -> list[str]:
    """Every optional request field as `op.field` (each may be declared unsupported)."""
    return [
        f"{op}.{k}" for op, fields in REQUESTS.items() for k, f in fields.items() if not f.required
    ]


def declarable() -> set[str]:
    """Every name `hello.unsupported` may use: operations, optional fields, choices, shapes."""
    names = set(REQUESTS) | set(optional_fields()) | set(SHAPES)
    for op, fields in REQUESTS.items():
        for key, f in fields.items():
            names.update(f"{op}.{key}={c}" for c in f.choices)
    return names


__all__ = [
    "ANSWERS",
    "ERROR_CODES",
    "PROTOCOL",
    "REQUESTS",
    "SHAPES",
    "STATES",
    "Answer",
    "Field",
    "Shape",
]
