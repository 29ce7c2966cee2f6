"""Rules for maps and groups: create and delete, prepare, start, stop, restore, deep cascades."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..core.session import ACTIVE
from .machine import MAX_GROUPS, MAX_MAPS, MAX_VOLUMES, Base, precondition, rule

GROUP_RATES = (10, 50, 90, 30, 70, 20, 60, 100)  # distinct copy rates for up to eight members
GROUP_VOLUMES = MAX_VOLUMES + 6  # a large group makes its members' targets beyond MAX_VOLUMES
# the groups a group operation usually picks: those whose members it would act on
GROUP_PREFER: dict[str, Any] = {
    "start_group": lambda members: bool(members) and all(r.state not in ACTIVE for r in members),
    "stop_group": lambda members: any(r.state in ACTIVE for r in members),
}

IDLE, STOPPED = "idle_or_copied", "stopped"


class MapRules(Base):
    """Maps of both types with every field drawn, their lifecycle, and consistency groups."""

    def pick_target(self, data: st.DataObject, source: str) -> str:
        """A volume that is no map's target yet, usually (sometimes any: a refusal)."""
        taken = {r.target for r in self.s.oracle.maps.values()}
        free = [v for v in self.volumes if v != source and v not in taken]
        if not free and len(self.volumes) < MAX_VOLUMES:
            self._volume_like(data, source)
            free = [v for v in self.volumes if v != source and v not in taken]
        others = [v for v in self.volumes if v != source] or [source]
        taken_one = data.draw(st.integers(0, 11), label="any target?") == 11
        pool = free if free and not taken_one else others
        return data.draw(st.sampled_from(list(reversed(pool))), label="target")

    def map_fields(self, data: st.DataObject, kind: str | None = None) -> dict[str, Any]:
        """Type, rates and flags of a new map, each over its range. The type may be left for
        the implementation to detect from the copy rate."""
        domain = self.record.domain
        fields: dict[str, Any] = {}
        chosen = kind or domain.choice(data, "create_map", "type")
        if kind is not None:
            domain.note("create_map.type", kind)
        clone = chosen == "clone" or (chosen is None and data.draw(st.booleans(), label="clone?"))
        if chosen is not None:
            fields["type"] = chosen
        if self.record.hello.supports("create_map.copy_rate"):
            if clone:
                fields["copy_rate"] = domain.rate(data, "create_map", "copy_rate", positive=True)
            elif chosen is None or data.draw(st.booleans(), label="say rate 0?"):
                fields["copy_rate"] = 0
                domain.note("create_map.copy_rate", "low")
        if "invalid" in self.families and data.draw(st.integers(0, 14), label="mismatch?") == 14:
            fields["copy_rate"] = 0 if clone else 20  # refused: bad_request
        if self.record.hello.supports("create_map.clean_rate") and data.draw(
            st.booleans(), label="clean rate?"
        ):
            fields["clean_rate"] = domain.rate(data, "create_map", "clean_rate", positive=False)
        if "incremental" in self.families:
            incremental = domain.flag(data, "create_map", "incremental")
            if incremental is not None:
                fields["incremental"] = incremental
        autodelete = domain.flag(data, "create_map", "autodelete")
        if autodelete is not None:
            fields["autodelete"] = autodelete
        return fields

    def new_map(
        self,
        data: st.DataObject,
        source: str,
        kind: str | None = None,
        **fixed: Any,
    ) -> str | None:
        """Create a map from `source`; its name if the specification accepted it."""
        name = self.fresh(data, "m")
        op = {"op": "create_map", "map": name, "source": source}
        op["target"] = self.pick_target(data, source)
        op.update(self.map_fields(data, kind))
        op.update({k: v for k, v in fixed.items() if self.record.hello.supports(f"create_map.{k}")})
        groups = self.groups
        if groups and "groups" in self.families and data.draw(st.booleans(), label="grouped?"):
            op["group"] = data.draw(st.sampled_from(list(reversed(groups))), label="group")
        answer = self.send(op)
        return name if answer and answer.get("ok") else None

    def new_map_onto(
        self, data: st.DataObject, source: str, target: str, group: str | None = None
    ) -> str | None:
        """A clone from `source` onto the given `target` (in `group`, if given); its name if
        accepted."""
        name = self.fresh(data, "m")
        op = {"op": "create_map", "map": name, "source": source, "target": target}
        op.update(self.map_fields(data, "clone"))
        if group is not None:
            op["group"] = group
        answer = self.send(op)
        return name if answer and answer.get("ok") else None

    @precondition(
        lambda self: (
            self.can("maps", "create_map") and len(self.volumes) >= 2 and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data())
    def create_map(self, data: st.DataObject) -> None:
        self.new_map(data, self.pick(data, self.volumes, "volume", "source"))

    @precondition(lambda self: self.can("delete", "delete_map") and bool(self.maps))
    @rule(data=st.data())
    def delete_map(self, data: st.DataObject) -> None:
        name = self.pick_map(data, lambda r: r.state in (IDLE, STOPPED))
        op: dict[str, Any] = {"op": "delete_map", "map": name}
        force = self.record.domain.flag(data, "delete_map", "force")
        if force is not None:
            op["force"] = force
        self.send(op)

    # -- prepare, start, stop ---------------------------------------------------------------------
    def _restore_flag(self, data: st.DataObject, op: dict[str, Any]) -> dict[str, Any]:
        if "restore" in self.families:
            restore = self.record.domain.flag(data, op["op"], "restore")
            if restore is not None:
                op["restore"] = restore
        return op

    @precondition(lambda self: self.can("prepare", "prepare") and bool(self.maps))
    @rule(data=st.data())
    def prepare(self, data: st.DataObject) -> None:
        op = {"op": "prepare", "map": self.pick_map(data, lambda r: r.state in (IDLE, STOPPED))}
        self.send(self._restore_flag(data, op))

    @precondition(lambda self: self.can("start", "start") and bool(self.maps))
    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        startable = (IDLE, STOPPED, "prepared")
        op = {"op": "start", "map": self.pick_map(data, lambda r: r.state in startable)}
        self.send(self._restore_flag(data, op))

    @precondition(lambda self: self.can("stop", "stop") and bool(self.maps))
    @rule(data=st.data())
    def stop(self, data: st.DataObject) -> None:
        flags = {f: self.record.domain.flag(data, "stop", f) for f in ("force", "split")}
        if flags["split"]:  # a split needs a complete map still held in its cascade
            name = self.pick_map(data, lambda r: r.state in ACTIVE and self.complete(r.name))
        else:  # a stop matters most for a map others read through
            name = self.pick_map(data, lambda r: r.state in ACTIVE and self.has_dependents(r.name))
        op: dict[str, Any] = {"op": "stop", "map": name}
        op.update({f: v for f, v in flags.items() if v is not None})
        self.send(op)

    def complete(self, name: str) -> bool:
        """The specification's map holds every grain (for steering only)."""
        return self.spec_status(name).get("progress") == 100

    # -- deep cascades and restores ---------------------------------------------------------------
    @precondition(
        lambda self: (
            self.can(None, "start")
            and self.can(None, "create_map")
            and len(self.volumes) >= 2
            and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data(), kind=st.sampled_from(["snapshot", "clone"]))
    def start_new_map(self, data: st.DataObject, kind: str) -> None:
        """A new map from a recent volume (often another target of a source, or a target),
        started at once: this is what builds deep cascades."""
        sources = sorted({r.source for r in self.s.oracle.maps.values()} & set(self.volumes))
        if sources and data.draw(st.booleans(), label="another target of a source?"):
            source = data.draw(st.sampled_from(sources), label="source")
        else:
            source = self.pick(data, self.volumes, "volume", "source")
        if not self.record.hello.supports(f"create_map.type={kind}"):
            kind = "clone" if kind == "snapshot" else "snapshot"
        name = self.new_map(data, source, kind)
        if name is not None:
            self.send({"op": "start", "map": name})

    @precondition(
        lambda self: (
            self.can("restore", "start")
            and self.can(None, "create_map")
            and bool(self.maps)
            and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data())
    def restore_into_cascade(self, data: st.DataObject) -> None:
        """A clone from an active target back onto its source, started with restore."""
        active = [m for m in self.maps if self.s.oracle.maps[m].state == "copying"]
        if not active:
            return
        forward = self.s.oracle.maps[data.draw(st.sampled_from(active), label="forward map")]
        name = self.new_map_onto(data, forward.target, forward.source)
        if name is not None:
            self.record.domain.note("start.restore", "true")
            started = self.send({"op": "start", "map": name, "restore": True})
            if started and started.get("ok") and data.draw(st.booleans(), label="write it?"):
                self._write_some(data, forward.source)  # the restored volume, read by others

    # -- consistency groups ----------------------------------------------------------------------
    @precondition(
        lambda self: (
            self.can("groups", "start_group")
            and self.can(None, "create_map")
            and self.can(None, "create_group")
            and len(self.maps) < MAX_MAPS - 2
        )
    )
    @rule(data=st.data())
    def group_of_maps(self, data: st.DataObject) -> None:
        """Maps from one source (sometimes two), with distinct rates, in a new group started at
        one instant (the copy-rate order of 9,063,894 decides where each target goes): two or
        three, and one time in four five to eight where the sequence has room — an
        order right for the first few members only is wrong for a large group."""
        group = self.fresh(data, "g")
        if not (a := self.send({"op": "create_group", "group": group})) or not a.get("ok"):
            return
        room = max(2, MAX_MAPS - len(self.maps))
        large = room >= 5 and data.draw(st.integers(0, 3), label="a large group?") == 3
        members = data.draw(st.integers(5, min(8, room)) if large else st.integers(2, 3))
        sources = [self.pick(data, self.volumes, "volume", "source")]
        if large and len(self.volumes) >= 2 and data.draw(st.booleans(), label="two sources?"):
            sources.append(
                self.pick(
                    data, [v for v in self.volumes if v != sources[0]], "volume", "second source"
                )
            )
        # snapshots have no copy rate: creation order alone decides, so a large group is
        # mostly of clones, whose distinct rates show the order
        kinds = ["clone", "clone", "clone", "snapshot"] if large else ["clone", "snapshot"]
        kind = data.draw(st.sampled_from(kinds), label="members' type")
        rates = data.draw(st.permutations(GROUP_RATES), label="rates")  # distinct: order shows
        for i in range(members):
            source = sources[i % len(sources)]
            name = self.fresh(data, "m")
            op = {"op": "create_map", "map": name, "source": source, "group": group}
            op["target"] = self._group_target(data, source, large)
            op.update(self.map_fields(data, kind))
            if kind == "clone" and self.record.hello.supports("create_map.copy_rate"):
                op["copy_rate"] = rates[i]
            self.send(op)
        self._group_op(data, "start_group", "restore", group)
        if self.can(None, "cascades"):  # where each member went: the copy-rate order shows
            self.send({"op": "cascades"})
        # a large group holds most of the sequence's maps: stopping it, usually, leaves room
        # for the rest of the sequence (and stops a group with running members)
        stop = data.draw(st.integers(0, 3), label="stop the group?") >= (1 if large else 2)
        if self.can(None, "stop_group") and stop:
            if data.draw(st.booleans(), label="write first?"):  # cleaning to do, maybe
                self._write_some(data, sources[0])
            self._group_op(data, "stop_group", "force", group)

    def _group_target(self, data: st.DataObject, source: str, large: bool) -> str:
        """A member's target: for a large group a new volume (up to `GROUP_VOLUMES` in all, so
        there is one for every member), else as any map's."""
        if large and len(self.volumes) < GROUP_VOLUMES:
            name = self._volume_like(data, source)
            if name is not None:
                return name
        return self.pick_target(data, source)

    def _volume_like(self, data: st.DataObject, source: str) -> str | None:
        """A new volume of the source's size; its name if the specification accepted it."""
        name = self.fresh(data, "V")
        size = self.s.oracle.model.sizes.get(source, self.size)
        answer = self.send({"op": "create_volume", "volume": name, "size": size})
        return name if answer and answer.get("ok") else None

    def _write_some(self, data: st.DataObject, volume: str, index: int | None = None) -> None:
        """A write of part of one grain: the `index`-th (wrapping), or a drawn one."""
        size = self.s.oracle.model.sizes.get(volume, self.size)
        grain = self.s.grain_size
        grains = max(1, -(-size // grain))
        if index is None:
            index = data.draw(st.integers(0, grains - 1), label="grain")
        block = grain * (index % grains)
        length = min(size - block, data.draw(st.integers(1, grain), label="blocks"))
        payload = self.record.domain.tokens(data, length)
        self.send({"op": "write", "volume": volume, "block": block, "data": payload})

    @precondition(lambda self: self.can("groups", "create_group") and len(self.groups) < MAX_GROUPS)
    @rule(data=st.data())
    def create_group(self, data: st.DataObject) -> None:
        self.send({"op": "create_group", "group": self.fresh(data, "g")})

    def _group_op(self, data: st.DataObject, op: str, flag: str, group: str | None = None) -> None:
        """A group operation on the given group, or a drawn one (usually one it acts on)."""
        if group is None:
            group = self.pick_group(data, GROUP_PREFER.get(op))
        request: dict[str, Any] = {"op": op, "group": group}
        if flag != "restore" or "restore" in self.families:
            value = self.record.domain.flag(data, op, flag)
            if value is not None:
                request[flag] = value
        self.send(request)

    @precondition(lambda self: self.can("groups", "start_group") and bool(self.groups))
    @rule(data=st.data())
    def start_group(self, data: st.DataObject) -> None:
        self._group_op(data, "start_group", "restore")

    @precondition(lambda self: self.can("groups", "stop_group") and bool(self.groups))
    @rule(data=st.data())
    def stop_group(self, data: st.DataObject) -> None:
        self._group_op(data, "stop_group", "force")

    @precondition(lambda self: self.can("groups", "delete_group") and bool(self.groups))
    @rule(data=st.data())
    def delete_group(self, data: st.DataObject) -> None:
        self._group_op(data, "delete_group", "force")
