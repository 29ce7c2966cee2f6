"""Scenes: rules that build, in one generated step, the situations random single operations reach
only rarely — a cascade whose targets depend on each other, stopped in the middle (plain,
forced or split); a flush that fails; a bitmap lost and found again. Every operation of a
scene is an ordinary generated operation, checked in lockstep and removable by shrinking.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from model.machine import accepts

from .machine import MAX_MAPS, MAX_VOLUMES, precondition, rule
from .rules_maps import MapRules


class SceneRules(MapRules):
    """Macro steps towards the rules that matter most."""

    @precondition(
        lambda self: (
            self.can("stop", "stop")
            and self.can(None, "create_map")
            and self.can(None, "start")
            and len(self.maps) <= MAX_MAPS - 3
        )
    )
    @rule(
        data=st.data(),
        count=st.integers(2, 3),
        how=st.sampled_from(["plain", "force", "split", "two"]),
    )
    def cascade_then_stop(self, data: st.DataObject, count: int, how: str) -> None:
        """Targets of one source started in turn with source writes between (each newer target
        holds grains the older ones read through it), then one stopped (plain, forced or
        split), or the two newest at once (cleaning into a target that is stopping too)."""
        source = self.pick(data, self.volumes, "volume", "source")
        kind = "clone" if how == "split" else data.draw(st.sampled_from(["snapshot", "clone"]))
        if not self.record.hello.supports(f"create_map.type={kind}"):
            kind = "clone" if kind == "snapshot" else "snapshot"
        fixed = {"clean_rate": 0} if how == "split" else {}  # no proactive cleaning out
        started = []
        for i in range(count):
            name = self.new_map(data, source, kind, **fixed)
            if name is None:
                return
            answer = self.send({"op": "start", "map": name})
            if answer and answer.get("ok"):
                started.append(name)
            self._write_some(data, source, i)  # each target holds a grain the older lack
        if not started:
            return
        newest = how == "split" or data.draw(st.booleans(), label="newest?")
        victim = started[-1] if newest else started[0]
        if how == "two" and len(started) >= 2:
            self.send({"op": "stop", "map": started[-2]})
            victim = started[-1]
        op = {"op": "stop", "map": victim}
        if how == "split" and self.can(None, "copy") and self.record.hello.supports("stop.split"):
            for _ in range(2 * (self.s.oracle.model.sizes.get(source, 1) + 1)):
                a = self.send({"op": "copy", "map": victim})
                if not a or not a.get("ok") or a.get("progress") == 100:
                    break
            op["split"] = True
        elif how == "force" and self.record.hello.supports("stop.force"):
            op["force"] = True
        answer = self.send(op)
        if answer and answer.get("state") == "stopping":  # cleaning, a step or all of it
            for query in ("dependents", "status"):  # what a user asks of a stopping map
                if self.can(None, query) and data.draw(st.booleans(), label=f"{query}?"):
                    self.send({"op": query, "map": victim})
            after = data.draw(st.sampled_from(["copy", "settle", "nothing"]), label="then")
            if after != "nothing" and self.can(None, after):
                self.send({"op": "copy", "map": victim} if after == "copy" else {"op": after})

    def _snapshots_with_dependents(
        self, data: st.DataObject, count: int = 2, fresh: bool = False
    ) -> list[str]:
        """Snapshots of one source (a new volume, if `fresh`) started in turn, each followed by
        a write to a grain of its own, so each newer target holds a grain the older ones read
        through it."""
        if fresh and len(self.volumes) < MAX_VOLUMES:
            source = self.fresh(data, "V")
            self.send({"op": "create_volume", "volume": source, "size": self.size})
            self._write_some(data, source)
        else:
            source = self.pick(data, self.volumes, "volume", "source")
        started = []
        for i in range(count):
            name = self.new_map(data, source, "snapshot")
            if name is None:
                break
            answer = self.send({"op": "start", "map": name})
            if answer and answer.get("ok"):
                started.append(name)
            self._write_some(data, source, i)
        return started

    @precondition(
        lambda self: (
            self.can("copy", "copy")
            and self.can(None, "create_map")
            and self.can(None, "start")
            and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data(), steps=st.integers(1, 4))
    def clone_in_time(self, data: st.DataObject, steps: int) -> None:
        """A clone, its rate drawn over every band, started and copied step by step — with and
        without `grains` — while the host writes its source and its target."""
        source = self.pick(data, self.volumes, "volume", "source")
        name = self.new_map(data, source, "clone")
        if name is None or not (self.send({"op": "start", "map": name}) or {}).get("ok"):
            return
        for _ in range(steps):
            op: dict[str, Any] = {"op": "copy", "map": name}
            if self.record.hello.supports("copy.grains") and data.draw(st.booleans(), label="n?"):
                op["grains"] = self.record.domain.integer(data, "copy", "grains", (1, 3))
            self.send(op)
            record = self.s.oracle.maps.get(name)
            if record is not None:
                which = data.draw(st.sampled_from(["source", "target", "neither"]), label="write")
                if which != "neither":
                    self._write_some(data, getattr(record, which))

    @precondition(
        lambda self: (
            self.can("prepare", "prepare")
            and self.can(None, "create_map")
            and self.can(None, "start")
            and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data())
    def start_after_prepare(self, data: st.DataObject) -> None:
        """A map prepared (and flushed) first, its source written while it waits, then
        started: the target's point in time is the start, not the prepare. An engine that
        took its copy when preparing conformed (stop 28): no sequence wrote a prepared map's
        source before starting it."""
        source = self.pick(data, self.volumes, "volume", "source")
        name = self.new_map(data, source, None)
        if name is None or not (self.send({"op": "prepare", "map": name}) or {}).get("ok"):
            return
        if data.draw(st.booleans(), label="flushed first?") and self.can(None, "copy"):
            self.send({"op": "copy", "map": name})  # preparing -> prepared
        self._write_some(data, source)
        self.send({"op": "start", "map": name})
        self._write_some(data, source)  # and after: the old data must go to the target

    @precondition(lambda self: self.can("inject", "inject") and self.can(None, "create_map"))
    @rule(data=st.data(), fault=st.sampled_from(["bitmap", "flush", "io"]))
    def fault(self, data: st.DataObject, fault: str) -> None:
        """A bitmap lost while one map stops and another copies, some I/O, then found (or the
        suspended map stopped); a flush that fails after a prepare; an I/O error on a copying
        map."""
        supports = self.record.hello.supports
        if fault == "flush" and self.can(None, "prepare"):
            name = self.pick_map(data, lambda r: accepts("prepare", r.state))
            self.send({"op": "prepare", "map": name})
            if supports("inject.event=flush_failed"):
                self.send({"op": "inject", "map": name, "event": "flush_failed"})
            return
        started = self._snapshots_with_dependents(data)
        if not started:
            return
        if started[0] not in self.s.oracle.maps:
            return
        if fault == "io" and supports("inject.event=io_error"):
            self.send({"op": "inject", "map": started[0], "event": "io_error"})
            return
        if self.can(None, "stop") and data.draw(st.booleans(), label="stop one first?"):
            self.send({"op": "stop", "map": started[-1]})  # stopping: it has cleaning to do
        if supports("inject.event=bitmap_offline") and supports("inject.event=bitmap_online"):
            source = self.s.oracle.maps[started[0]].source
            self.send({"op": "inject", "map": started[0], "event": "bitmap_offline"})
            self._write_some(data, source)  # refused: offline while the bitmap is lost
            if self.can(None, "stop") and data.draw(st.booleans(), label="stop one suspended?"):
                # a stop of a suspended map cannot clean (its bitmap is gone): it stops at
                # once, as a forced stop does, dependents and all (product.md §1.3); the
                # newest has the oldest reading through it
                self.send({"op": "stop", "map": started[-1]})
                self.send({"op": "status", "map": started[0]})
            else:
                self.send({"op": "inject", "map": started[0], "event": "bitmap_online"})
        if self.can(None, "settle"):
            self.send({"op": "settle"})

    @precondition(
        lambda self: (
            self.can("incremental", "create_map")
            and self.can(None, "start")
            and len(self.maps) < MAX_MAPS
        )
    )
    @rule(data=st.data(), how=st.sampled_from(["settle", "stop", "copy"]))
    def incremental_refresh(self, data: st.DataObject, how: str) -> None:
        """A clone — incremental where the implementation supports it — started, copied
        (completely, partly) or stopped, then its source, its target or both written, then
        started again: a restart, and for an incremental map only what changed is copied (a
        change on the target alone must be copied over too). Random operations rarely
        restart a map on an own-pace engine: a 40-sequence qemu-offline campaign tried 3."""
        source = self.pick(data, self.volumes, "volume", "source")
        name = self.new_map(data, source, "clone", incremental=True)
        if name is None or not self.send({"op": "start", "map": name}):
            return
        if how == "copy" and self.can(None, "copy"):
            self.send({"op": "copy", "map": name, "grains": 1})
        elif how == "stop" and self.can(None, "stop"):
            self.send({"op": "stop", "map": name})
        elif self.can(None, "settle"):
            self.send({"op": "settle"})
        record = self.s.oracle.maps.get(name)
        if record is None:
            return
        written = data.draw(st.sampled_from(["source", "target", "both"]), label="write")
        if written != "target":
            self._write_some(data, record.source)
        if written != "source":
            self._write_some(data, record.target)
        if how == "copy" and self.can(None, "stop"):
            self.send({"op": "stop", "map": name})
        self.send({"op": "start", "map": name})
        if data.draw(st.booleans(), label="settle?") and self.can(None, "settle"):
            self.send({"op": "settle"})

    def _restore_group(self, data: st.DataObject) -> str | None:
        """Now and then a new group for a restore, started by `start_group` with restore (a
        group start that is a restore must mark its member restoring as a start does)."""
        if not (
            self.can("groups", "start_group")
            and self.can(None, "create_group")
            and self.record.hello.supports("start_group.restore")
            and data.draw(st.integers(0, 3), label="restore by a group start?") == 3
        ):
            return None
        group = self.fresh(data, "g")
        answer = self.send({"op": "create_group", "group": group})
        return group if answer and answer.get("ok") else None

    @precondition(
        lambda self: (
            self.can("restore", "start")
            and self.can(None, "create_map")
            and len(self.maps) < MAX_MAPS - 2
        )
    )
    @rule(data=st.data())
    def restore_scene(self, data: st.DataObject) -> None:
        """Snapshots of S (and sometimes a clone of S too: a cascade of each type), then a
        clone from one of their targets back onto S started with restore: the old contents of
        S stay what the other targets read — through one frozen head per cascade — and S's
        next writes must first give them their own copy. Sometimes S is copied anew while the
        restore runs, so a write to S has a reader in a cascade S heads as an image as well."""
        if not self.record.hello.supports("start.restore"):
            return
        count = data.draw(st.integers(1, 2), label="snapshots")
        started = self._snapshots_with_dependents(data, count, fresh=True)
        first = self.s.oracle.maps.get(started[0]) if started else None  # (autodeleted?)
        source = first.source if first is not None else None
        if source is not None and data.draw(st.integers(0, 3), label="a clone too?") > 0:
            clone = self.new_map(data, source, "clone")
            if clone is not None and (self.send({"op": "start", "map": clone}) or {}).get("ok"):
                started.append(clone)
        pick = started[0] if started and data.draw(st.booleans(), label="oldest?") else None
        forward = self.s.oracle.maps.get(pick or started[-1]) if started else None
        if forward is None:  # none started, or the newest completed and deleted itself
            return
        group = self._restore_group(data)
        name = self.new_map_onto(data, forward.target, forward.source, group)
        if name is None:
            return
        if group is None:
            self.send({"op": "start", "map": name, "restore": True})
        else:  # a restore started by its group: only the member's status says it restores
            # with a second member, a copy of the restore source: a rule right only for a
            # group of one fails
            self.new_map(data, forward.target, "snapshot", group=group)
            self.send({"op": "start_group", "group": group, "restore": True})
            self.send({"op": "status", "map": name})
        if data.draw(st.integers(0, 3), label="copy the restored volume anew?") > 0:
            anew = self.new_map(data, forward.source, "snapshot")
            if anew is not None:
                self.send({"op": "start", "map": anew})
        if data.draw(st.booleans(), label="copy into it first?") and self.can(None, "copy"):
            # the restore's own copy into S before S is written: each grain the restore
            # source holds of its own must first go to every frozen head's reader lacking it
            for _ in range(data.draw(st.integers(1, 3), label="copies")):
                self.send({"op": "copy", "map": name})
        # its old data, what the others read: first at the grain after those the snapshots
        # were given (none of its readers holds it, where the volume has that many grains)
        for i in range(data.draw(st.integers(1, 2), label="writes to the restored volume")):
            self._write_some(data, forward.source, count if i == 0 else None)
        if data.draw(st.booleans(), label="write the restore source?"):
            self._write_some(data, forward.target)
        then = data.draw(st.sampled_from(["copy", "settle", "nothing"]), label="then")
        if then != "nothing" and self.can(None, then):  # the restore's own background copy
            self.send({"op": "copy", "map": name} if then == "copy" else {"op": "settle"})
