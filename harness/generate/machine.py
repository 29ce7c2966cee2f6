"""Hypothesis generates operation sequences; a lockstep `Session` checks every answer.

`machine_for(record)` builds a `RuleBasedStateMachine` for one implementation. Its rules
(`rules_data.py`, `rules_maps.py`, `rules_checks.py`) cover every operation of the vocabulary
the implementation's hello lists, with every field drawn over its legal range
(`domain.py`). The generator does not need to know which operations are valid: the
specification, run in lockstep, says what each must answer. It only steers: choices favour
the most recently used volumes and maps (Hypothesis shrinks towards the first element of a
list, so lists are newest first), most operations are valid, and each sequence uses a random
subset of rule families (swarm testing). An operation that would exercise something the
implementation declared unsupported is never sent.

A sequence starts with a `reset` of a drawn grain size and policy and ends with a full
observation (every volume read, every map and cascade asked after), then a `settle` and a
second full observation (background work must keep every image right); the generator also
observes at points it chooses and reads single blocks and ranges as operations of their own.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis import target
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from ..core.errors import Nonconformance
from ..core.session import Session
from ..core.shapes import allowed, uses
from ..drivers import DriverError
from .domain import bucket
from .record import DriverBroke, FailureFound, Record

FAMILIES = (
    "volumes",
    "maps",
    "start",
    "prepare",
    "stop",
    "delete",
    "copy",
    "settle",
    "read",
    "query",
    "groups",
    "invalid",
    "restore",
    "incremental",
    "inject",
    "system",
    "observe",
)
MAX_VOLUMES = 6
MAX_MAPS = 10
MAX_GROUPS = 2
WIDE_GRAINS = 24  # the most grains a wide sequence's volumes have
# ... and the most blocks: with a large grain size fewer grains (at least five), since every
# observation reads every volume whole (qemu-offline spent 31 s of a 40 s campaign reading
# 66 volumes of 188 blocks: 24 grains of 8 blocks)
WIDE_BLOCKS = 96
LARGE = 4096  # blocks: larger volumes live for one operation (rules_data.create_volume)


def newest_first(items: list[str]) -> st.SearchStrategy[str]:
    """Choices that shrink towards the most recently used."""
    return st.sampled_from(list(reversed(items)))


class Base(RuleBasedStateMachine):
    """Plumbing shared by every rule: choosing names, sending, recording."""

    record: ClassVar[Record]

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.families: frozenset[str] = frozenset(FAMILIES)
        self.size = 4
        self.numbers = itertools.count(1)
        self.recent: list[str] = []  # names in order of last use
        self.failed = False

    # -- what exists (as the specification sees it) -----------------------------------------------
    @property
    def s(self) -> Session:
        assert self.session is not None
        return self.session

    def _recent(self, names: set[str]) -> list[str]:
        order = {n: i for i, n in enumerate(self.recent)}
        return sorted(names, key=lambda n: (order.get(n, -1), n))

    @property
    def volumes(self) -> list[str]:
        return self._recent(set(self.s.oracle.model.sizes))

    @property
    def maps(self) -> list[str]:
        return self._recent(set(self.s.oracle.maps))

    @property
    def groups(self) -> list[str]:
        return self._recent(self.s.groups)

    def can(self, family: str | None, op: str) -> bool:
        """Swarm testing, and only operations the implementation supports; the family of the
        operation this sequence focuses on (`Domain.focus_on`) is always on."""
        supported = op in self.record.hello.ops
        focus = self.record.domain.focus
        focused = focus is not None and focus[0].startswith(op + ".")
        return supported and (family is None or family in self.families or focused)

    def pick(self, data: st.DataObject, names: list[str], kind: str, label: str) -> str:
        """An existing name, newest first; now and then one that does not exist."""
        if not names or data.draw(st.integers(0, 24), label=f"{label}: unknown?") == 24:
            return f"no{kind}{data.draw(st.integers(0, 1), label='unknown')}"
        return data.draw(newest_first(names), label=label)

    def pick_map(self, data: st.DataObject, prefer: Any = None, label: str = "map") -> str:
        """A map, usually one in a state where the operation does something (the
        specification's view), otherwise any, newest first, or now and then an unknown one."""
        maps = self.maps
        if prefer is not None and maps and data.draw(st.integers(0, 3), label=f"{label}: any?") < 3:
            good = [m for m in maps if prefer(self.s.oracle.maps[m])]
            if good:
                return data.draw(newest_first(good), label=label)
        return self.pick(data, maps, "map", label)

    def pick_group(self, data: st.DataObject, prefer: Any = None, label: str = "group") -> str:
        """A group, usually one whose members (the specification's view) make the operation
        do something, otherwise any, newest first, or now and then an unknown one."""
        groups = self.groups
        steer = prefer is not None and groups
        if steer and data.draw(st.integers(0, 3), label=f"{label}: any?") < 3:
            maps = self.s.oracle.maps.values()
            good = [g for g in groups if prefer([r for r in maps if r.group == g])]
            if good:
                return data.draw(newest_first(good), label=label)
        return self.pick(data, groups, "group", label)

    def spec_status(self, name: str) -> dict[str, Any]:
        """The specification's status of a map (for steering only)."""
        return self.s.spec.request({"op": "status", "map": name})

    def has_dependents(self, name: str) -> bool:
        """The specification lists dependents for the map (for steering only)."""
        return bool(self.s.spec.request({"op": "dependents", "map": name}).get("maps"))

    def fresh(self, data: st.DataObject, prefix: str) -> str:
        """A name never used before."""
        return self.record.domain.name(data, prefix, next(self.numbers))

    # -- sending ---------------------------------------------------------------------------------
    def send(self, op: dict[str, Any]) -> dict[str, Any] | None:
        """Send a generated operation, unless it exercises something declared unsupported.
        An operation that waits only on a map whose state a declared limit leaves open (the
        implementation's background copy is behind or ahead of the specification's) is sent
        after a `settle`, which ends that background work on both sides, instead of dropped:
        on engines that declare `dependency_states` a third of all operations were dropped."""
        ok, missing = allowed(self.s, op)
        if missing == {"dependency_states"} and op["op"] != "settle" and self.can(None, "settle"):
            self.send({"op": "settle"})
            ok, missing = allowed(self.s, op)
        if not ok:
            for name in missing:
                self.record.coverage.skipped[name] += 1
            return None
        names = uses(self.s, op)
        for key in ("volume", "source", "target", "map", "group"):
            if isinstance(op.get(key), str):
                if op[key] in self.recent:
                    self.recent.remove(op[key])
                self.recent.append(op[key])
        self.record.steps += 1
        states = self.s.map_states()
        with self.record.coverage.exercising(names):
            answer = self._guarded(lambda: self.s.send(op))
        if op["op"] in ("start", "start_group") and answer and answer.get("ok"):
            self.record.coverage.depth(self.s.spec)
        self._guarded(lambda: self.s.ask_after_changes(states))
        return answer

    def _guarded(self, action: Any) -> Any:
        try:
            return action()
        except DriverError as err:
            self.failed = True
            self.record.broken = err
            raise DriverBroke(err, list(self.s.log)) from None
        except Nonconformance as err:
            self.failed = self.record.failing = True
            if self.record.found is None:
                self.record.found = err
            raise
        finally:
            self.record.log = self.s.log

    # -- a sequence's beginning and end -----------------------------------------------------------
    @initialize(
        data=st.data(),
        families=st.lists(st.booleans(), min_size=len(FAMILIES), max_size=len(FAMILIES)),
    )
    def setup(self, data: st.DataObject, families: list[bool]) -> None:
        record = self.record
        if record.found is not None and record.stop_at_failure:
            raise FailureFound
        record.domain.focus_on(data)
        grain_size = record.domain.integer(data, "reset", "grain_size", (1, 12), "grain size")
        policies = record.options.policies
        policy = policies[0] if len(policies) == 1 else data.draw(st.sampled_from(policies))
        record.domain.note("reset.policy", policy)
        grains = self.grains_per_volume(data, grain_size)
        short = data.draw(st.integers(0, grain_size - 1), label="short last grain")
        self.size = max(1, grains * grain_size - short)
        low, high = record.hello.range("create_volume", "size")
        edge = data.draw(st.integers(0, 399), label="volume size edge?")
        if edge >= 380:  # the smallest volumes
            self.size = low + edge % 2
        elif edge == 379:  # large ones (the largest are created and deleted at once: a whole
            self.size = min(high, LARGE)  # sequence on a million blocks would cost minutes)
        self.size = self.declared_size(self.size)
        record.domain.note("create_volume.size", bucket(self.size, low, high))
        self.families = frozenset(f for f, on in zip(FAMILIES, families, strict=True) if on)
        if record.pursuing is not None:  # a goal round: no swarm subset leaves the goal out
            self.families = frozenset(FAMILIES)
        if not record.failing:
            record.sequences += 1
        if record.on_example is not None:
            record.on_example(record)
        record.coverage.new_sequence()
        try:
            self.session = record.new_session(grain_size, policy)
        except DriverError as err:
            self.failed = True
            record.broken = err
            raise DriverBroke(err, []) from None
        for _ in range(2):
            self.send({"op": "create_volume", "volume": self.fresh(data, "V"), "size": self.size})

    def declared_size(self, size: int) -> int:
        """The nearest volume size the implementation's declared range accepts (a sequence's
        size must be one: its volumes are created again and again)."""
        low, high = self.record.hello.range("create_volume", "size")
        return min(max(size, low), high)

    def grains_per_volume(self, data: st.DataObject, grain_size: int) -> int:
        """Mostly one to four grains (dense and fast); one sequence in five has volumes of
        five to twenty-four (at most WIDE_BLOCKS blocks, and five grains whatever the grain
        size), so a rule that handles only the first few grains is exercised beyond them
        (the domain's edges add the smallest and the largest volumes)."""
        if data.draw(st.integers(0, 4), label="wide volumes?") == 4:
            most = max(5, min(WIDE_GRAINS, WIDE_BLOCKS // grain_size))
            return data.draw(st.integers(5, most), label="grains per volume")
        return data.draw(st.integers(1, 4), label="grains per volume")

    def teardown(self) -> None:
        """The end of a sequence: look at everything (unless the sequence already failed);
        then let every background copy and cleaning run to its end (`settle`) and look
        again — work an implementation does later must leave every image right too."""
        if self.session is not None and not self.failed:
            self._guarded(self.s.observe)
            if self.can(None, "settle"):
                self.send({"op": "settle"})
                self._guarded(self.s.observe)
            target(self.record.coverage.new_sequence(), label="goals reached")


__all__ = ["FAMILIES", "Base", "precondition", "rule"]
