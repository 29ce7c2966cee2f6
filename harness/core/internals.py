"""The step check's glue: the implementation's internals before and after a step, read as the
specification's state and judged by its rules (`stepcheck.py`)."""

from __future__ import annotations

from typing import Any

from ..protocol import answer_problem, request_problem
from .entry import Entry, show
from .errors import Nonconformance
from .stepcheck import MapDef, StepCheck, build_state

STEP_CHECK_GRAINS = 4096  # volumes up to this many grains get every step checked


class Internals:
    """The session's part that runs the step check (mixed into `Session`)."""

    oracle: Any
    grain_size: int
    log: list[Entry]
    defs: dict[str, MapDef]
    checker: StepCheck

    def _note_map(self, name: str) -> None:
        """A new map's definition, for the step check, from the implementation's status of
        it (a refusal or a wrong shape would silently leave the map's starts unchecked)."""
        a = self._probe({"op": "status", "map": name})
        self._orders += 1
        self.defs[name] = MapDef.from_status(name, a, self._orders)

    def _grains_of(self, op: dict[str, Any]) -> list[int] | None:
        """The grains a step can touch: a write's own; a start's none but one (only cascades
        matter); a copy's any (all, unless the volumes are too big to ask for all)."""
        gs = self.grain_size
        if request_problem(op) is not None:  # refused as malformed: nothing moves, ask one
            return [0]
        if op["op"] == "write":
            first = max(0, op["block"] // gs)  # a write before block 0 (refused) asks grain 0
            return list(range(first, max(first, (op["block"] + len(op["data"]) - 1) // gs) + 1))
        if op["op"] == "start":
            return [0]
        largest = max(self.oracle.model.sizes.values(), default=0)
        return None if largest <= STEP_CHECK_GRAINS * gs else []

    def _internal_state(self, grains: list[int] | None = None) -> Any:
        if grains == []:
            return None  # too big to look at every grain: this step goes unchecked
        request: dict[str, Any] = {"op": "internals"}
        if grains is not None:
            request["grains"] = grains
        a = self._probe(request)
        states = {n: r.state for n, r in self.oracle.maps.items()}
        try:
            return build_state(a, self.defs, states, grains=grains)
        except (KeyError, IndexError, ValueError, TypeError) as err:
            raise Nonconformance(
                "step", f"the internals cannot be read as cascades, bitmaps and grains: {err!r}"
            ) from None

    def _probe(self, request: dict[str, Any]) -> dict[str, Any]:
        """A query the step check makes (internals, or status of a new map). The
        implementation exposes its internals, so a refusal or an answer of the wrong shape is
        a nonconformance: skipping the check instead let an implementation turn off the only
        check of where grain copies land (type separation among them) by refusing one query."""
        a = self._ask(request, "probe")
        kind = request["op"]
        what = kind + (f" of {request['map']}" if "map" in request else "")
        if not a.get("ok"):
            raise Nonconformance(
                "refused",
                f"{what} refused ({a.get('error')}: {a.get('message')}), though the "
                "implementation's hello lists its internals as exposed",
            )
        problem = answer_problem(kind, a)
        if problem:
            raise Nonconformance(
                "malformed", f"the answer to {kind} has the wrong shape: {problem}"
            )
        return a

    def _check_step(
        self, before: Any, op: dict[str, Any], answer: dict[str, Any], spec: dict[str, Any]
    ) -> None:
        try:
            self._step_rules(before, op, answer, spec)
        except (KeyError, IndexError, ValueError) as err:  # internals that contradict the maps
            raise Nonconformance(
                "step",
                f"{show(op)}: the internals do not fit the maps the specification has "
                f"(no map or bitmap for {err}); the rules cannot be applied to them",
            ) from None

    def _step_rules(
        self, before: Any, op: dict[str, Any], answer: dict[str, Any], spec: dict[str, Any]
    ) -> None:
        """The rules judge one step. Whether a start is a plain one (checked against the
        start rule) is the specification's word: an implementation reporting a cause of its
        own would otherwise turn the check off."""
        problem = None
        self.checker.predicted = None
        kind = op["op"]
        if kind == "write":
            problem = self.checker.write(before, op, answer, self.grain_size)
        elif kind == "start" and op["map"] in self.defs:
            causes = {e["cause"] for e in spec.get("events", [])}
            if causes <= {"prepare", "flushed", "start"}:
                after = self._probe({"op": "internals"})
                problem = self.checker.start(before, self.defs[op["map"]], after["cascades"])
        elif kind == "copy" and op["map"] in self.defs:
            problem = self.checker.background(before, self.defs[op["map"]].target, answer)
        if problem is None and kind in ("write", "copy"):
            after = self._internal_state(self._grains_of(op))
            if after is not None:
                images = {
                    v: a
                    for v, a in self.oracle.model.images.items()
                    if all(None not in a[g] for g in a)
                }
                problem = self.checker.invariant(after.evolve(ref=images))
        if problem:
            if self.checker.predicted is not None and self.log[-1].expect is not None:
                self.log[-1].expect["copies"] = self.checker.predicted
            raise Nonconformance("step", problem)
