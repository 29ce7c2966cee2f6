"""Schemas of the vocabulary (`model/vocabulary.py`), as msgspec types.

Every answer an implementation gives is validated against its operation's schema before the
harness reads a field of it, so a wrong shape is a named nonconformance (`malformed`), never a
Python exception. The same request schemas validate trace files before `replay` runs anything.
msgspec was chosen over jsonschema because it validates in one C pass (the harness validates
every answer of every step: `docs/performance.md` has the figures) and still emits standard
JSON Schema for vendors (`cascadecheck schema`, `docs/schemas/`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

import msgspec

from model.vocabulary import (
    ANSWER_EXTRAS,
    ANSWERS,
    COPY_KINDS,
    ERROR_CODES,
    HEAD_MODES,
    MAP_TYPES,
    MAX_NAME,
    MAX_TOKEN,
    REQUESTS,
    STATES,
    Answer,
    Field,
)

NO_CONTROL = r"^[^\x00-\x1f]*$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME, pattern=NO_CONTROL)]
Token = Annotated[str, msgspec.Meta(max_length=MAX_TOKEN, pattern=NO_CONTROL)]
State = Literal[STATES]  # type: ignore[valid-type]
CascadeType = Literal[(*MAP_TYPES, "mixed")]  # type: ignore[valid-type]


class Cascade(msgspec.Struct):
    """One cascade as `cascades` reports it: head first."""

    type: CascadeType  # type: ignore[valid-type]
    volumes: Annotated[list[str], msgspec.Meta(min_length=2)]
    maps: list[str | None]
    head_mode: Literal[HEAD_MODES]  # type: ignore[valid-type]


class Refusal(msgspec.Struct):
    """A refused operation."""

    ok: Literal[False]
    error: Literal[ERROR_CODES]  # type: ignore[valid-type]
    message: str


class CopyRecord(msgspec.Struct):
    """One grain copy the reference engine reports (`copies`)."""

    kind: Literal[COPY_KINDS]  # type: ignore[valid-type]
    grain: Annotated[int, msgspec.Meta(ge=0)]
    to: str
    from_: str = msgspec.field(name="from")


def _answer_type(a: Answer) -> Any:
    simple = {
        "bool": bool,
        "str": str,
        "state": State,
        "map_type": Literal[MAP_TYPES],  # type: ignore[valid-type]
        "name": str,
        "optional_name": str | None,
        "tokens": list[str],
        "names": list[str],
        "cascades": list[Cascade],
        "object": dict[str, Any],
    }
    if a.kind == "int":
        return Annotated[int, msgspec.Meta(ge=a.low, le=a.high)]
    return simple[a.kind]


def _request_type(f: Field) -> Any:
    if f.kind == "name":
        return Name
    if f.kind == "int":
        return Annotated[int, msgspec.Meta(ge=f.low, le=f.high)]
    if f.kind == "bool":
        return bool
    if f.kind == "choice":
        return Literal[f.choices]  # type: ignore[valid-type]
    if f.kind == "tokens":
        return Annotated[list[Token], msgspec.Meta(min_length=1)]
    if f.kind == "grains":
        return Annotated[list[Annotated[int, msgspec.Meta(ge=0)]], msgspec.Meta(min_length=1)]
    raise ValueError(f"unknown field kind {f.kind!r}")


def _struct_name(op: str, what: str) -> str:
    return "".join(part.capitalize() for part in op.split("_")) + what


@cache
def answer_type(op: str) -> type[msgspec.Struct]:
    """The schema of an accepted answer to `op` (further fields are allowed)."""
    fields: list[Any] = [("ok", Literal[True])]
    fields += [(k, _answer_type(a)) for k, a in ANSWERS.get(op, {}).items()]
    fields += [("copies", list[CopyRecord] | None, None), ("events", list[dict] | None, None)]
    return msgspec.defstruct(_struct_name(op, "Answer"), fields)


@cache
def request_type(op: str) -> type[msgspec.Struct]:
    """The schema of a request for `op` (no other field is allowed)."""
    required = [(k, _request_type(f)) for k, f in REQUESTS[op].items() if f.required]
    optional = [
        (k, _request_type(f) | msgspec.UnsetType, msgspec.UNSET)
        for k, f in REQUESTS[op].items()
        if not f.required
    ]
    return msgspec.defstruct(
        _struct_name(op, "Request"),
        [("op", Literal[op]), *required, *optional],
        forbid_unknown_fields=True,
    )


def answer_problem(op: str, answer: Any) -> str | None:
    """Why an answer to `op` has the wrong shape, or None. Only operations of the vocabulary
    have a schema; answers to anything else need only be objects with a boolean `ok`."""
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        return "an answer is an object with a boolean 'ok'"
    try:
        if not answer["ok"]:
            msgspec.convert(answer, Refusal)
        elif op in REQUESTS:
            msgspec.convert(answer, answer_type(op))
    except msgspec.ValidationError as err:
        return str(err).replace("$.", "").replace("`$`", "the answer")
    return None


def request_problem(request: Any) -> str | None:
    """Why a request is not one the vocabulary defines (unknown op or field, wrong type,
    out of range), or None."""
    if not isinstance(request, dict) or not isinstance(request.get("op"), str):
        return 'an operation is an object with an "op" string'
    if request["op"] not in REQUESTS:
        return f"unknown op {request['op']!r}"
    try:
        msgspec.convert(request, request_type(request["op"]))
    except msgspec.ValidationError as err:
        return str(err).replace("$.", "").replace("`$`", "the operation")
    return None


def expect_keys(op: str) -> frozenset[str]:
    """The keys an `expect` of a trace operation may name."""
    return frozenset({"ok", "error", "message", *ANSWERS.get(op, {}), *ANSWER_EXTRAS})


def json_schemas() -> dict[str, Any]:
    """Standard JSON Schema documents for every request and answer (for vendors)."""
    ops = sorted(REQUESTS)
    _, req_defs = msgspec.json.schema_components([request_type(op) for op in ops])
    answers = [answer_type(op) for op in ops] + [Refusal]
    _, ans_defs = msgspec.json.schema_components(answers)
    return {
        "requests": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cascadecheck/1 requests",
            "oneOf": [{"$ref": f"#/$defs/{request_type(op).__name__}"} for op in ops],
            "$defs": req_defs,
        },
        "answers": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cascadecheck/1 answers (accepted, per operation, or a refusal)",
            "$defs": ans_defs,
        },
    }
