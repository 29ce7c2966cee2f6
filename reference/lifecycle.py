"""Creating and deleting things, and the mapping state machine's commanded transitions.

Every command first checks everything it needs and only then changes state, so a
refused command leaves the engine exactly as it was.
"""

from __future__ import annotations

from typing import Any

from .background import Background
from .errors import OpError
from .maps import (
    COPYING,
    DEFAULT_RATE,
    IDLE,
    IN_CASCADE,
    PREPARED,
    PREPARING,
    STOPPED,
    STOPPING,
    SUSPENDED,
    Map,
)

MAX_MAPS_PER_SOURCE = 256
MAX_MAPS_PER_TREE = 256
STARTABLE = (IDLE, STOPPED, PREPARED)


class Lifecycle(Background):
    """create/delete, prepare/start/stop for maps and groups, and injected faults."""

    # -- volumes -------------------------------------------------------------
    def create_volume(self, name: str, size: int) -> None:
        """A new volume of never-written blocks."""
        if name in self.phys:
            raise OpError("exists", f"volume {name!r} exists")
        self.phys[name] = [""] * size

    def delete_volume(self, name: str) -> None:
        """Delete a volume that no map and no cascade uses."""
        self.volume(name)
        users = [m.name for m in self.maps.values() if name in (m.source, m.target)]
        if users:
            raise OpError("volume_in_use", f"volume {name!r} is in maps {', '.join(users)}")
        if self.topology.nodes_of(name):
            raise OpError("volume_in_use", f"volume {name!r} heads a cascade others read")
        del self.phys[name]
        if name in self.mapping:
            self.mapping.remove_node(name)

    # -- maps ----------------------------------------------------------------
    def create_map(self, f: dict[str, Any]) -> Map:
        """A new idle map, after every product refusal has been checked."""
        name, source, target = f["map"], f["source"], f["target"]
        if name in self.maps:
            raise OpError("exists", f"map {name!r} exists")
        src, tgt = self.volume(source), self.volume(target)
        if source == target:
            raise OpError("same_volume", "source and target are the same volume")
        if len(src) != len(tgt):
            raise OpError(
                "size_mismatch", f"{source!r} has {len(src)} blocks, {target!r} {len(tgt)}"
            )
        if target in self.target_of:
            raise OpError(
                "already_target", f"{target!r} is the target of {self.target_of[target]!r}"
            )
        map_type, copy_rate, clean_rate = self._map_kind(f)
        group = f.get("group")
        if group is not None:
            self._check_group_open(group)
        self._check_limits(source, target)
        m = Map(
            name=name,
            source=source,
            target=target,
            type=map_type,
            copy_rate=copy_rate,
            clean_rate=clean_rate,
            incremental=f.get("incremental", False),
            autodelete=f.get("autodelete", False),
            group=group,
            grains=self.grains_of(source),
            order=next(self._order),
        )
        self.maps[name] = m
        if m.incremental:
            self.incremental_from.setdefault(source, set()).add(name)
        self.target_of[target] = name
        self.mapping.add_edge(source, target, map=name)
        return m

    @staticmethod
    def _map_kind(f: dict[str, Any]) -> tuple[str, int, int]:
        """Type, copy rate and clean rate; the type is detected from the rate when absent."""
        map_type = f.get("type")
        rate = f.get("copy_rate")
        if map_type is None:
            map_type = "snapshot" if rate == 0 else "clone"
        if rate is None:
            rate = 0 if map_type == "snapshot" else DEFAULT_RATE
        if map_type == "snapshot" and rate > 0:
            raise OpError("bad_request", "a snapshot copies only changed data: copy_rate must be 0")
        if map_type == "clone" and rate == 0:
            raise OpError("bad_request", "a clone is a full copy: copy_rate must be 1-150")
        clean = f.get("clean_rate", 0 if map_type == "snapshot" else DEFAULT_RATE)
        return map_type, rate, clean

    def _check_limits(self, source: str, target: str) -> None:
        if len(self.maps_from(source)) >= MAX_MAPS_PER_SOURCE:
            raise OpError("limit", f"{source!r} is already the source of 256 maps")
        tree = {m.name for v in (source, target) for m in self.linked_maps(v)}
        if len(tree) + 1 > MAX_MAPS_PER_TREE:
            raise OpError("limit", "the connected tree of maps would exceed 256")

    def delete_map(self, name: str, force: bool) -> None:
        """Delete an idle map, or a stopped one with force (its target comes back online)."""
        m = self.map(name)
        if m.state == STOPPED and not force:
            raise OpError("bad_state", f"map {name!r} is stopped: deleting it needs force")
        if m.state not in (IDLE, STOPPED):
            raise OpError("bad_state", f"map {name!r} is {m.state}: stop it first")
        if m.state == STOPPED:
            self.image_replaced(m.target)  # back online with whatever it physically holds
        self.drop_map(m, "deleted")

    # -- prepare and start -------------------------------------------------------
    def _check_not_member(self, m: Map) -> None:
        if m.group is not None:
            raise OpError("group_member", f"map {m.name!r} is in group {m.group!r}: use the group")

    def is_restore(self, m: Map) -> bool:
        """Restore rule: a start onto a volume that is the source of another active map (in a
        cascade: copying, stopping or suspended) is a restore (product.md §4)."""
        return any(x.state in IN_CASCADE for x in self.maps_from(m.target) if x is not m)

    def _check_startable(self, m: Map, restore: bool) -> None:
        """The checks prepare and start share: state, source online, restore rules."""
        if m.state not in STARTABLE:
            raise OpError("bad_state", f"map {m.name!r} is {m.state}")
        self.require_online(m.source)
        if self.is_restore(m):
            if not restore:
                raise OpError(
                    "restore_required",
                    f"{m.target!r} is the source of active maps: starting {m.name!r} needs restore",
                )
            others = [x.name for x in self.linked_maps(m.target) if x.restoring and x is not m]
            if others:
                raise OpError("restore_in_progress", f"map {others[0]!r} is already restoring")

    def prepare(self, name: str, restore: bool) -> None:
        """idle_or_copied or stopped -> preparing; the target's cached contents are discarded."""
        m = self.map(name)
        self._check_not_member(m)
        if m.state == PREPARED:
            raise OpError("bad_state", f"map {name!r} is already prepared")
        self._check_startable(m, restore)
        m.restore_ok = restore
        self.image_replaced(m.target)  # preparing discards the target's contents
        self.set_state(m, PREPARING, "prepare")

    def start(self, name: str, restore: bool) -> None:
        """Start one map (preparing it first when needed)."""
        m = self.map(name)
        self._check_not_member(m)
        self._check_startable(m, restore or m.restore_ok)
        self._start_maps([m])

    def insertion_order(self, members: list[Map]) -> list[Map]:
        """Group start rule: members are inserted slowest copy rate first, ties in creation
        order (so the fastest sits next to its source)."""
        return sorted(members, key=lambda x: (x.copy_rate, x.order))

    def _start_maps(self, members: list[Map]) -> None:
        """Insert every target at one instant, in `insertion_order`."""
        for m in members:
            if m.state != PREPARED:
                self.set_state(m, PREPARING, "prepare")
                self.set_state(m, PREPARED, "flushed")
        for m in self.insertion_order(members):
            m.restoring = self.is_restore(m)
            self.image_replaced(m.target)
            m.reset_bits()
            self.topology.insert_target(m.source, m.target, m.name, self.cascade_type_for(m))
            m.restore_ok = False
            self.set_state(m, COPYING, "start")

    # -- stop ------------------------------------------------------------------
    def stop(self, name: str, force: bool, split: bool) -> None:
        """Stop one map: cleaning first unless forced; split cuts a complete map out."""
        m = self.map(name)
        self._check_not_member(m)
        self._check_stoppable(m, force, split)
        self._stop(m, force, split)

    def _check_stoppable(self, m: Map, force: bool, split: bool) -> None:
        if force and split:
            raise OpError("bad_request", "force and split are alternatives")
        if m.state in (PREPARING, STOPPED):
            raise OpError("bad_state", f"map {m.name!r} is {m.state}")
        if split and m.state != IDLE and not (m.state in IN_CASCADE and m.complete):
            raise OpError("bad_state", f"split needs progress 100; {m.name!r} is at {m.progress}")
        if split and m.state == SUSPENDED:
            raise OpError("bad_state", f"map {m.name!r} is suspended")

    def _stop(self, m: Map, force: bool, split: bool) -> None:
        if m.state == IDLE:
            return  # stopping an idle map is a no-op (SVC 4.2.0 and later)
        if m.state == PREPARED:
            self.image_replaced(m.target)
            self.set_state(m, STOPPED, "stop")
        elif split:
            self.topology.split_at(self.node_of(m))
            m.restoring = False
            self.set_state(m, IDLE, "split")
        elif force or m.state == SUSPENDED:
            self.force_stop(m, "forced")
        else:
            self.set_state(m, STOPPING, "stop")

    def force_stop(self, m: Map, cause: str) -> None:
        """Stop at once without cleaning; every dependent map is stopped with it."""
        victims = [m] + [self.maps[n] for n in self.dependents_of(m)]
        for v in victims:
            self.topology.remove_target(self.node_of(v))
            v.restoring = False
        for v in victims:
            if not v.complete:
                self.image_replaced(v.target)
            self.set_state(v, IDLE if v.complete else STOPPED, cause if v is m else "dependent")

    # -- groups -----------------------------------------------------------------
    def create_group(self, name: str) -> None:
        """A new, empty consistency group."""
        if name in self.groups:
            raise OpError("exists", f"group {name!r} exists")
        self.groups.add(name)

    def _check_group_open(self, name: str) -> None:
        """Membership may change only while no member is active."""
        members = self.group(name)
        busy = [m.name for m in members if m.state not in (IDLE, STOPPED)]
        if busy:
            raise OpError("bad_state", f"group {name!r} is active ({busy[0]} is not idle)")

    def delete_group(self, name: str, force: bool) -> None:
        """Delete a group; with force its members become stand-alone maps."""
        members = self.group(name)
        if members and not force:
            raise OpError("group_in_use", f"group {name!r} has {len(members)} maps")
        for m in members:
            m.group = None
        self.groups.discard(name)

    def start_group(self, name: str, restore: bool) -> None:
        """Start every member at one instant."""
        members = self.group(name)
        if not members:
            raise OpError("bad_state", f"group {name!r} is empty")
        for m in members:
            self._check_startable(m, restore or m.restore_ok)
        targets = {m.target for m in members}
        for m in members:
            if m.source in targets:
                raise OpError(
                    "bad_request",
                    f"group {name!r}: {m.name!r} copies {m.source!r}, which another member targets",
                )
        self._start_maps(members)

    def stop_group(self, name: str, force: bool) -> None:
        """Stop every member that is running."""
        members = self.group(name)
        running = [m for m in members if m.state not in (IDLE, STOPPED)]
        if not running:
            raise OpError("bad_state", f"group {name!r} has no running maps")
        for m in running:
            self._check_stoppable(m, force, False)
        for m in running:
            if m.name in self.maps and m.state not in (IDLE, STOPPED):
                self._stop(m, force, False)

    # -- injected faults ---------------------------------------------------------
    def inject(self, name: str, event: str) -> None:
        """Product events no command causes: flush failure, bitmap loss and return, I/O error."""
        m = self.map(name)
        wanted = {
            "flush_failed": (PREPARING,),
            "bitmap_offline": (COPYING, STOPPING),
            "bitmap_online": (SUSPENDED,),
            "io_error": (COPYING, STOPPING),
        }[event]
        if m.state not in wanted:
            raise OpError("bad_state", f"{event} cannot happen to a {m.state} map")
        if event == "flush_failed":
            self.image_replaced(m.target)
            self.set_state(m, STOPPED, event)
        elif event == "io_error":
            self.force_stop(m, event)
        elif event == "bitmap_offline":
            for x in self.linked_maps(m.source):
                if x.state in (COPYING, STOPPING):
                    x.suspended_from = x.state
                    self.set_state(x, SUSPENDED, event)
        else:
            for x in self.linked_maps(m.source):
                if x.state == SUSPENDED:
                    self.set_state(x, x.suspended_from or COPYING, event)
                    x.suspended_from = None
