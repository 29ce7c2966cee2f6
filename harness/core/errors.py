"""What a check raises: a nonconformance of the implementation, or a fault of the harness."""

from __future__ import annotations

from typing import Any

# every kind of nonconformance, named in verdicts (docs/harness.md)
KINDS = {
    "malformed": "an answer (or hello) of the wrong shape",
    "refused": "an operation the specification accepts was refused",
    "accepted": "an operation the specification refuses was accepted",
    "wrong_error": "refused with another code than the specification's",
    "answer": "a field of an answer differs from the specification's",
    "image": "a read returned data the point-in-time model does not allow",
    "state": "a map's state differs from the specification's (or changed unprovoked)",
    "step": "a grain copy or cascade the specification's rules do not make (internals)",
    "flaky": "the implementation did not fail the same way twice",
}


class Nonconformance(Exception):
    """The implementation did something the specification does not allow."""

    def __init__(
        self,
        kind: str,
        message: str,
        volume: str | None = None,
        block: int | None = None,
        expected: Any = None,
        got: Any = None,
    ) -> None:
        super().__init__(message)
        assert kind in KINDS, kind
        self.kind = kind
        self.message = message
        self.volume, self.block, self.expected, self.got = volume, block, expected, got


class InternalError(Exception):
    """A fault of cascadecheck itself, never of the implementation under test."""


class SpecDisagreement(InternalError):
    """The specification engine and the model disagree."""
