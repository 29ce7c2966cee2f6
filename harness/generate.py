"""Hypothesis generates operation sequences; every step is checked by a `Session`.

`machine_for(...)` builds a `RuleBasedStateMachine` for one implementation. It has a rule for
every operation of the vocabulary that the implementation's `hello` lists — volumes, maps of
both types with varied rates, starts (from targets, restores, groups), whole, partial and
grain-spanning writes, reads, background copy and cleaning steps, stops (force, split),
deletes — and rules that send invalid operations, which must be refused with the reference
engine's error code and change nothing. Choices favour the most recently used volumes and maps
(Hypothesis shrinks towards the first element of a list, so the list is newest first).
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from .drivers import DriverError
from .record import DriverBroke, Record
from .session import Nonconformance, Session

RATES = (0, 10, 50, 100, 150)
MAX_VOLUMES = 6
MAX_MAPS = 10
FEATURES = (
    "incremental",
    "volumes",
    "maps",
    "start",
    "prepare",
    "stop",
    "delete",
    "copy",
    "settle",
    "read",
    "groups",
    "invalid",
    "restore",
)


def _with_flags(op: dict[str, Any], **flags: bool) -> dict[str, Any]:
    """The operation with each flag that is set (unset flags are left out, as a user would)."""
    return {**op, **{k: True for k, on in flags.items() if on}}


def _newest_first(items: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(list(reversed(items)))


def machine_for(record: Record) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one implementation."""
    ops = record.caps.ops
    tokens = itertools.count(1)

    class CascadeMachine(RuleBasedStateMachine):
        """Random operation sequences against one implementation, checked at every step."""

        def __init__(self) -> None:
            super().__init__()
            self.session: Session | None = None
            self.volumes: list[str] = []
            self.maps: list[str] = []
            self.targets: dict[str, str] = {}  # map -> its target
            self.groups: list[str] = []
            self.features: frozenset[str] = frozenset(FEATURES)
            self.size = 4
            self.names = itertools.count(1)

        # -- plumbing ---------------------------------------------------------------
        def send(
            self, rule_name: str, op: dict[str, Any], expect_error: str | None = None
        ) -> dict[str, Any]:
            assert self.session is not None
            for key in ("volume", "source", "target"):
                if op.get(key) in self.volumes:  # most recently used last (= drawn first)
                    self.volumes.remove(op[key])
                    self.volumes.append(op[key])
            if op.get("map") in self.maps:
                self.maps.remove(op["map"])
                self.maps.append(op["map"])
            record.fired[rule_name] += 1
            record.steps += 1
            try:
                answer = self.session.send(op, expect_error)
            except DriverError as err:
                record.broken = err
                record.broken_log = list(self.session.log)
                record.log = list(self.session.log)
                raise DriverBroke(err) from None
            finally:
                record.log = self.session.log
            self._coverage()
            return answer

        def _coverage(self) -> None:
            """The deepest cascade so far: from `cascades` where exposed, else the longest
            chain of copying maps."""
            assert self.session is not None
            depth = 0
            if "cascades" in ops:
                a = self.session.driver.request({"op": "cascades"})
                if a.get("ok"):
                    depth = max((len(c["volumes"]) - 1 for c in a["cascades"]), default=0)
            else:
                graph = nx.DiGraph(
                    [
                        (r.source, r.target)
                        for r in self.session.oracle.maps.values()
                        if r.state == "copying"
                    ]
                )
                if graph and nx.is_directed_acyclic_graph(graph):
                    depth = nx.dag_longest_path_length(graph)
            record.deepest = max(record.deepest, depth)

        def can(self, feature: str | None, op: str) -> bool:
            """Swarm testing: each sequence uses a random subset of the rule families, so
            rare combinations are not drowned by the rest; and only operations the
            implementation supports."""
            return op in ops and (feature is None or feature in self.features)

        @initialize(
            grain_size=st.sampled_from([2, 1, 3]),
            size_grains=st.integers(2, 4),
            features=st.frozensets(st.sampled_from(FEATURES)),
        )
        def setup(self, grain_size: int, size_grains: int, features: frozenset[str]) -> None:
            record.grain_size = grain_size
            if record.on_example is not None:
                record.on_example(record)
            self.features = features
            self.size = grain_size * size_grains
            self.session = Session(
                record.fresh_driver(), record.caps, grain_size, record.policy, record.step_check
            )
            for _ in range(2):
                name = f"V{next(self.names)}"
                a = self.create_volume_named(name, self.size)
                if not a.get("ok"):  # with no volumes no rule could run: say why, plainly
                    raise Nonconformance(
                        "refused",
                        f"create_volume {name} of {self.size} blocks was refused "
                        f"({a.get('error')}: {a.get('message')}); the specification accepts it",
                        expect={"ok": True},
                    )

        def create_volume_named(self, name: str, size: int) -> dict[str, Any]:
            a = self.send("create_volume", {"op": "create_volume", "volume": name, "size": size})
            if a.get("ok") and size == self.size:
                self.volumes.append(name)
            return a

        def pick_target(self, data: st.DataObject, source: str) -> str:
            """A volume that is not yet a target, usually (sometimes any: a refusal)."""
            taken = set(self.targets.values())
            free = [v for v in self.volumes if v != source and v not in taken]
            if not free and len(self.volumes) < MAX_VOLUMES:
                self.create_volume_named(f"V{next(self.names)}", self.size)
                free = [v for v in self.volumes if v != source and v not in taken]
            pool = (
                free
                if free and data.draw(st.integers(0, 9), label="fresh")
                else [v for v in self.volumes if v != source]
            )
            return data.draw(_newest_first(pool), label="target")

        # -- volumes ----------------------------------------------------------------
        @precondition(
            lambda self: (
                self.can("volumes", "create_volume") and bool(len(self.volumes) < MAX_VOLUMES)
            )
        )
        @rule()
        def create_volume(self) -> None:
            self.create_volume_named(f"V{next(self.names)}", self.size)

        @precondition(lambda self: self.can("volumes", "delete_volume") and len(self.volumes) > 2)
        @rule(data=st.data())
        def delete_volume(self, data: st.DataObject) -> None:
            v = data.draw(_newest_first(self.volumes), label="volume")
            if self.send("delete_volume", {"op": "delete_volume", "volume": v}).get("ok"):
                self.volumes.remove(v)

        # -- maps -------------------------------------------------------------------
        @precondition(
            lambda self: (
                self.can("maps", "create_map")
                and bool(len(self.volumes) >= 2 and len(self.maps) < MAX_MAPS)
            )
        )
        @rule(
            data=st.data(),
            kind=st.sampled_from(["snapshot", "clone"]),
            rate=st.sampled_from(RATES),
            incremental=st.booleans(),
            clean_rate=st.sampled_from(RATES),
            grouped=st.booleans(),
        )
        def create_map(
            self,
            data: st.DataObject,
            kind: str,
            rate: int,
            incremental: bool,
            clean_rate: int,
            grouped: bool,
        ) -> None:
            source = data.draw(_newest_first(self.volumes), label="source")
            target = self.pick_target(data, source)
            name = f"m{next(self.names)}"
            op: dict[str, Any] = {
                "op": "create_map",
                "map": name,
                "source": source,
                "target": target,
                "type": kind,
                "copy_rate": 0 if kind == "snapshot" else max(rate, 10),
                "clean_rate": clean_rate,
            }
            if incremental and kind == "clone":
                op["incremental"] = True
            if grouped and self.groups and "start_group" in ops:
                op["group"] = data.draw(_newest_first(self.groups), label="group")
            if self.send("create_map", op).get("ok"):
                self.maps.append(name)
                self.targets[name] = target

        @precondition(lambda self: self.can("start", "start") and bool(self.maps))
        @rule(data=st.data(), restore=st.booleans())
        def start(self, data: st.DataObject, restore: bool) -> None:
            m = data.draw(_newest_first(self.maps), label="map")
            self.send("start", _with_flags({"op": "start", "map": m}, restore=restore))

        @precondition(lambda self: self.can("prepare", "prepare") and bool(self.maps))
        @rule(data=st.data())
        def prepare(self, data: st.DataObject) -> None:
            self.send("prepare", {"op": "prepare", "map": data.draw(_newest_first(self.maps))})

        @precondition(lambda self: self.can("stop", "stop") and bool(self.maps))
        @rule(data=st.data(), how=st.sampled_from(["plain", "force", "split"]))
        def stop(self, data: st.DataObject, how: str) -> None:
            op = {"op": "stop", "map": data.draw(_newest_first(self.maps))}
            self.send(f"stop_{how}", _with_flags(op, force=how == "force", split=how == "split"))

        @precondition(lambda self: self.can("delete", "delete_map") and bool(self.maps))
        @rule(data=st.data(), force=st.booleans())
        def delete_map(self, data: st.DataObject, force: bool) -> None:
            m = data.draw(_newest_first(self.maps), label="map")
            op = _with_flags({"op": "delete_map", "map": m}, force=force)
            if self.send("delete_map", op).get("ok"):
                self.maps.remove(m)
                self.targets.pop(m, None)

        # -- time -------------------------------------------------------------------
        @precondition(lambda self: self.can("copy", "copy") and bool(self.maps))
        @rule(data=st.data(), grains=st.integers(1, 3))
        def copy(self, data: st.DataObject, grains: int) -> None:
            m = data.draw(_newest_first(self.maps), label="map")
            self.send("copy", {"op": "copy", "map": m, "grains": grains})

        @precondition(lambda self: self.can("settle", "settle"))
        @rule()
        def settle(self) -> None:
            self.send("settle", {"op": "settle"})

        # -- data -------------------------------------------------------------------
        @precondition(lambda self: self.can(None, "write") and bool(self.volumes))
        @rule(data=st.data(), length=st.integers(1, 5))
        def write(self, data: st.DataObject, length: int) -> None:
            v = data.draw(_newest_first(self.volumes), label="volume")
            length = min(length, self.size)
            block = data.draw(st.integers(0, self.size - length), label="block")
            n = next(tokens)
            payload = [f"w{n}" if i == 0 else f"w{n}.{i}" for i in range(length)]
            self.send("write", {"op": "write", "volume": v, "block": block, "data": payload})

        @precondition(lambda self: self.can("read", "read") and bool(self.volumes))
        @rule(data=st.data())
        def read(self, data: st.DataObject) -> None:
            v = data.draw(_newest_first(self.volumes), label="volume")
            self.send("read", {"op": "read", "volume": v, "block": 0, "count": 1})

        # -- groups -----------------------------------------------------------------
        @precondition(
            lambda self: self.can("groups", "create_group") and bool(len(self.groups) < 2)
        )
        @rule()
        def create_group(self) -> None:
            name = f"g{next(self.names)}"
            if self.send("create_group", {"op": "create_group", "group": name}).get("ok"):
                self.groups.append(name)

        @precondition(lambda self: self.can("groups", "start_group") and bool(self.groups))
        @rule(data=st.data(), restore=st.booleans())
        def start_group(self, data: st.DataObject, restore: bool) -> None:
            group = data.draw(_newest_first(self.groups))
            self.send(
                "start_group", _with_flags({"op": "start_group", "group": group}, restore=restore)
            )

        @precondition(lambda self: self.can("groups", "stop_group") and bool(self.groups))
        @rule(data=st.data(), force=st.booleans())
        def stop_group(self, data: st.DataObject, force: bool) -> None:
            group = data.draw(_newest_first(self.groups))
            self.send("stop_group", _with_flags({"op": "stop_group", "group": group}, force=force))

        @precondition(lambda self: self.can("groups", "delete_group") and bool(self.groups))
        @rule(data=st.data(), force=st.booleans())
        def delete_group(self, data: st.DataObject, force: bool) -> None:
            group = data.draw(_newest_first(self.groups))
            op = _with_flags({"op": "delete_group", "group": group}, force=force)
            if self.send("delete_group", op).get("ok"):
                self.groups.remove(group)

        # -- invalid operations: refused by name, changing nothing --------------------------
        @precondition(lambda self: self.can("invalid", "write") and bool(self.volumes))
        @rule(
            data=st.data(),
            kind=st.sampled_from(["out_of_range", "unknown_volume", "same_volume", "unknown_map"]),
        )
        def invalid(self, data: st.DataObject, kind: str) -> None:
            v = data.draw(_newest_first(self.volumes), label="volume")
            if kind == "out_of_range":
                block = data.draw(st.integers(max(0, self.size - 2), self.size), label="block")
                op: dict[str, Any] = {
                    "op": "write",
                    "volume": v,
                    "block": block,
                    "data": ["bad", "bad", "bad"],
                }
            elif kind == "unknown_volume":
                op = {"op": "write", "volume": "nosuch", "block": 0, "data": ["bad"]}
            elif kind == "same_volume":
                op = {"op": "create_map", "map": f"bad{next(self.names)}", "source": v, "target": v}
            else:
                op = {"op": "start", "map": "nosuch"}
            self.send(f"invalid_{kind}", op, expect_error=kind)

        # -- restore into a live cascade: a clone from an active target back onto its source --
        @precondition(
            lambda self: (
                self.can("restore", "start") and bool(self.maps and len(self.maps) < MAX_MAPS)
            )
        )
        @rule(data=st.data(), rate=st.sampled_from(RATES[1:]))
        def restore_into_cascade(self, data: st.DataObject, rate: int) -> None:
            m = data.draw(_newest_first(self.maps), label="map")
            assert self.session is not None
            record_ = self.session.oracle.maps.get(m)
            if record_ is None or record_.state != "copying":
                return
            name = f"m{next(self.names)}"
            op = {
                "op": "create_map",
                "map": name,
                "source": record_.target,
                "target": record_.source,
                "type": "clone",
                "copy_rate": rate,
            }
            if self.send("create_map", op).get("ok"):
                self.maps.append(name)
                self.targets[name] = record_.source
                self.send("restore", {"op": "start", "map": name, "restore": True})

        # -- deep cascades: a new map from a recent volume, started at once -----------------
        @precondition(
            lambda self: (
                self.can(None, "start")
                and bool(len(self.volumes) >= 2 and len(self.maps) < MAX_MAPS)
            )
        )
        @rule(
            data=st.data(),
            kind=st.sampled_from(["snapshot", "clone"]),
            rate=st.sampled_from(RATES),
            incremental=st.booleans(),
        )
        def start_new_map(
            self, data: st.DataObject, kind: str, rate: int, incremental: bool
        ) -> None:
            sources = [
                v
                for v in self.volumes
                if v
                in {
                    self.session.oracle.maps[m].source
                    for m in self.maps
                    if m in self.session.oracle.maps
                }
            ]
            if sources and data.draw(st.booleans(), label="another target of a source"):
                source = data.draw(_newest_first(sources), label="source")
            else:
                source = data.draw(_newest_first(self.volumes), label="source")
            target = self.pick_target(data, source)
            name = f"m{next(self.names)}"
            op = {
                "op": "create_map",
                "map": name,
                "source": source,
                "target": target,
                "type": kind,
                "copy_rate": 0 if kind == "snapshot" else max(rate, 10),
            }
            if incremental and kind == "clone" and "incremental" not in self.features:
                pass  # swarm: incremental clones only in sequences that have them
            elif incremental and kind == "clone":
                op["incremental"] = True
            if self.send("create_map", op).get("ok"):
                self.maps.append(name)
                self.targets[name] = target
                self.send("start", {"op": "start", "map": name})

        def teardown(self) -> None:
            if self.session is not None:
                record.log = self.session.log

    return CascadeMachine
