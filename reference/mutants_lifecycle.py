"""Seeded mutants of the reference engine's lifecycle, queries and refusals: each breaks one rule,
usually under one condition. They exist to show the harness catches what its first mutants
(`mutants.py`, the data path) could not: wrong answers to queries, wrong refusal codes, valid
operations refused, background copy and cleaning that never finish, splits, autodelete,
restarts, group starts, injected events and a lazy copy-on-read implementation.
"""

from __future__ import annotations

from typing import Any

from .engine import Engine
from .errors import OpError
from .maps import COPYING, IDLE, PREPARED, PREPARING, STOPPED, STOPPING, SUSPENDED, Map


class StatusProgressRoundsUp(Engine):
    """`status` rounds progress up instead of down (wrong only when the grains held are not a
    whole percentage of the map)."""

    def status(self, name: str) -> dict[str, Any]:
        out = super().status(name)
        m = self.map(name)
        out["progress"] = -(-m.split_count * 100 // m.grains)
        return out


class CascadesListedBackwards(Engine):
    """`cascades` lists a cascade of three or more volumes from its last target to its head."""

    def cascade_list(self) -> list[dict[str, Any]]:
        out = super().cascade_list()
        for c in out:
            if len(c["volumes"]) >= 3:
                c["volumes"] = list(reversed(c["volumes"]))
        return out


class DifferenceNeverReported(Engine):
    """`status` of an incremental map reports no difference, whatever changed."""

    def status(self, name: str) -> dict[str, Any]:
        return {**super().status(name), "difference": 0}


class DeleteStoppedWrongCode(Engine):
    """Deleting a stopped map without force is refused as `volume_in_use`, not `bad_state`."""

    def delete_map(self, name: str, force: bool) -> None:
        m = self.map(name)
        if m.state == STOPPED and not force:
            raise OpError("volume_in_use", f"the target of {name!r} is offline")
        super().delete_map(name, force)


class RefusesRestartOfACopy(Engine):
    """A map that completed its copy cannot be started again (refused `bad_state`)."""

    def start(self, name: str, restore: bool) -> None:
        m = self.map(name)
        if m.state == IDLE and m.started_once:
            raise OpError("bad_state", f"map {name!r} already copied")
        super().start(name, restore)
        m.started_once = True


class StopOfIdleRefused(Engine):
    """Stopping an idle map is refused instead of being the no-op SVC 4.2.0 made it."""

    def stop(self, name: str, force: bool, split: bool) -> None:
        if self.map(name).state == IDLE and not split:
            raise OpError("bad_state", f"map {name!r} is not running")
        super().stop(name, force, split)


class BackgroundCopyStopsShort(Engine):
    """Background copy never copies a map's last grain, so a clone never completes."""

    def _background_grains(self, m: Map, budget: int) -> int:
        if m.grains > 1:
            last = m.split[m.grains - 1]
            m.split[m.grains - 1] = 1
            m.split_count += 1 - last
            try:
                return super()._background_grains(m, budget)
            finally:
                m.split[m.grains - 1] = last
                m.split_count -= 1 - last
        return super()._background_grains(m, budget)


class CleanRateZeroNeverCleans(Engine):
    """A map stopping with clean rate 0 never cleans (the product cleans it at 50)."""

    def _cleaning_grains(self, m: Map, budget: int) -> int:
        if m.clean_rate == 0 and m.state == STOPPING:
            return 0
        return super()._cleaning_grains(m, budget)


class CleaningSkipsStoppingReaders(Engine):
    """Cleaning does not copy into a reader whose own map is stopping too (several targets
    stopping at once), so whatever reads through that reader loses the grain."""

    def clean_targets(self, node: int, grain: int) -> list[int]:
        out = super().clean_targets(node, grain)
        return [r for r in out if self.maps[self._map_at(r)].state != STOPPING]


class SplitTakesTargetOffline(Engine):
    """`stop -split` leaves the map `stopped` (its target offline) instead of idle_or_copied."""

    def _stop(self, m: Map, force: bool, split: bool) -> None:
        super()._stop(m, force, split)
        if split and m.state == IDLE:
            self.set_state(m, STOPPED, "split")


class AutodeleteForgotten(Engine):
    """A map created with autodelete stays after its copy completes."""

    def drop_map(self, m: Map, cause: str) -> None:
        if cause != "autodelete":
            super().drop_map(m, cause)


class GroupStartIgnoresRates(Engine):
    """A group start inserts its members in creation order, not slowest first (wrong only when
    members of one source have different copy rates)."""

    def insertion_order(self, members: list[Map]) -> list[Map]:
        return sorted(members, key=lambda x: x.order)  # the bug: rates ignored


class FlushFailureIgnored(Engine):
    """An injected flush failure is accepted but the map stays preparing."""

    def inject(self, name: str, event: str) -> None:
        if event == "flush_failed" and self.map(name).state == PREPARING:
            return
        super().inject(name, event)


class BitmapReturnsToCopying(Engine):
    """When its bitmap comes back, a suspended map resumes copying even if it was stopping."""

    def inject(self, name: str, event: str) -> None:
        super().inject(name, event)
        if event == "bitmap_online":
            for m in self.linked_maps(self.map(name).source):
                if m.state == STOPPING:
                    self.set_state(m, COPYING, "bitmap_online")


class PreparedTargetReadable(Engine):
    """Host I/O to the target of a prepared map is accepted (the product refuses it)."""

    def offline_reason(self, volume: str) -> str | None:
        m = self.maps.get(self.target_of.get(volume, ""))
        if m is not None and m.state == PREPARED:
            return None
        return super().offline_reason(volume)


class LazyFill(Engine):
    """Copy on read: a partial write to a target lacking the grain marks it held at once but
    fills the rest of the grain from upstream only when the grain is next read (or copied
    from). Right whenever the grain is read straight after the write; wrong when the data
    upstream changes first. It exposes no internals, as a black box would not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[tuple[str, int], set[int]] = {}  # pending fill -> blocks written since

    def _hello(self, f: dict[str, Any]) -> dict[str, Any]:
        return {**super()._hello(f), "exposes": ["images", "states"]}

    def _reset(self, f: dict[str, Any]) -> dict[str, Any]:
        self.lazy = {}
        return super()._reset(f)

    def _copy_into(self, node: int, grain: int, kind: str) -> None:
        volume = self.topology.graph.nodes[node]["volume"]
        if kind == "fill":
            self.lazy[(volume, grain)] = set()
            m = self.maps[self._map_at(node)]
            m.set_split(grain)
            self.notice(m)
            return
        self._materialize(self.topology.holder(node, grain, self.is_split), grain)
        super()._copy_into(node, grain, kind)

    def _materialize(self, volume: str, grain: int) -> None:
        written = self.lazy.pop((volume, grain), None)
        node = self.topology.primary.get(volume)
        above = self.topology.parent(node) if node is not None else None
        if written is None or above is None:
            return
        holder = self.topology.holder(above, grain, self.is_split)
        lo, hi = self.grain_bounds(volume, grain)
        for b in range(lo, hi):
            if b not in written:
                self.phys[volume][b] = self.phys[holder][b]

    def _host_write_grain(self, volume: str, grain: int, blocks: dict[int, str]) -> None:
        super()._host_write_grain(volume, grain, blocks)
        if (volume, grain) in self.lazy:
            self.lazy[(volume, grain)].update(blocks)

    def read_blocks(self, volume: str, block: int, count: int) -> list[str]:
        if count > 0 and block + count <= len(self.phys.get(volume, [])):
            for g in range(block // self.grain_size, (block + count - 1) // self.grain_size + 1):
                if self.offline_reason(volume) is None:
                    self._materialize(self.topology.image_holder(volume, g, self.is_split), g)
        return super().read_blocks(volume, block, count)


class GroupRestoreNotMarked(Engine):
    """A group of two or more started with restore does not mark its restoring member
    restoring (its status says false, and a restore onto a volume it restores is not
    refused). Written outside the seeded set (stop 28): it conformed, since no sequence
    started a restore by a group of more than one."""

    def _start_maps(self, members: list[Map]) -> None:
        super()._start_maps(members)
        if len(members) > 1:
            for m in members:
                m.restoring = False


class ForceStopTakesDirectDependentsOnly(Engine):
    """A forced stop takes the maps reading the stopped map's own grains, not the dependents
    of those through other grains (the closure). Written outside the seeded set (stop 28):
    found only by the campaign, after 25 s."""

    def dependents_of(self, m: Map) -> list[str]:
        return sorted(self.direct_dependents(m), key=lambda n: self.maps[n].order)


class OneRateBandHalved(Engine):
    """Copy and clean rates 41-50 move 8 grains a step instead of the table's 16. Written
    outside the seeded set (stop 28): it conformed, since only four of the fifteen bands were
    checked exactly and volumes of at most 24 grains show no band above 51-60."""

    def advance(self, m: Map, grains: int | None) -> int:
        rate = m.copy_rate if m.state == COPYING and not m.complete else m.clean_rate
        if grains is None and 41 <= rate <= 50:
            grains = 8
        return super().advance(m, grains)


class CopiedAtPrepare(Engine):
    """A prepared map's target takes its source as it was when prepared, not when started.
    Written outside the seeded set (stop 28): it conformed, since no sequence wrote a
    prepared map's source before starting it."""

    def prepare(self, name: str, restore: bool) -> None:
        super().prepare(name, restore)
        m = self.map(name)
        self.at_prepare[name] = list(self.read_blocks(m.source, 0, len(self.volume(m.source))))

    def _start_maps(self, members: list[Map]) -> None:
        prepared = {m.name for m in members if m.state == PREPARED}
        super()._start_maps(members)
        for m in members:
            taken = self.at_prepare.pop(m.name, None)
            if m.name in prepared and taken is not None:
                self.phys[m.target][:] = taken
                for grain in range(m.grains):
                    m.set_split(grain)

    @property
    def at_prepare(self) -> dict[str, list[str]]:
        return self.__dict__.setdefault("_at_prepare", {})


class TargetWritesUnrecorded(Engine):
    """An incremental map records the grains its source changes but not those its target
    does, so a refresh leaves the target's own writes in place. Written outside the seeded
    set (stop 28): the campaign found it after about 4 s; the scenario
    `incremental-refresh-after-target-write` finds it at once."""

    def _record_difference(self, volume: str, grain: int) -> None:
        for name in self.incremental_from.get(volume, ()):
            self.maps[name].record_difference(grain)


class SecondRestoreAccepted(Engine):
    """A restore is accepted while another map of its linked set is restoring (the product
    allows one at a time: `restore_in_progress`)."""

    def _check_startable(self, m: Map, restore: bool) -> None:
        try:
            super()._check_startable(m, restore)
        except OpError as err:  # the last of the checks: nothing after it is skipped
            if err.code != "restore_in_progress":
                raise


class SuspendedStopCleans(Engine):
    """A stop of a suspended map goes stopping and cleans, as from copying (with its bitmap
    lost it cannot: it stops at once, dependents and all)."""

    def _stop(self, m: Map, force: bool, split: bool) -> None:
        if m.state == SUSPENDED and not force and not split:
            self.set_state(m, STOPPING, "stop")
            return
        super()._stop(m, force, split)


class ForcedStopLosesCompleteImage(Engine):
    """A forced stop of a complete copy takes its target offline, as if it were incomplete."""

    def force_stop(self, m: Map, cause: str) -> None:
        victims = [m] + [self.maps[n] for n in self.dependents_of(m)]
        for v in victims:
            self.topology.remove_target(self.node_of(v))
            v.restoring = False
        for v in victims:
            self.image_replaced(v.target)
            self.set_state(v, STOPPED, cause if v is m else "dependent")


class GroupOpenWhileStopping(Engine):
    """A group takes new members while one of them is still stopping (only copying members
    close it)."""

    def _check_group_open(self, name: str) -> None:
        if any(m.state == STOPPING for m in self.group(name)):
            return
        super()._check_group_open(name)


class ForcedStopKeepsRestoring(Engine):
    """A restore stopped by force is still reported restoring."""

    def force_stop(self, m: Map, cause: str) -> None:
        restoring = {x.name for x in self.maps.values() if x.restoring}
        super().force_stop(m, cause)
        for name in restoring:
            if self.maps[name].state == STOPPED:
                self.maps[name].restoring = True


class StoppingCompleteOffline(Engine):
    """The target of a stopping map is offline even when its copy is complete (it stays
    online: only an incomplete stopping target is offline)."""

    def offline_reason(self, volume: str) -> str | None:
        m = self.maps.get(self.target_of.get(volume, ""))
        if m is not None and m.state == STOPPING:
            return f"target of {m.name}, stopping"
        return super().offline_reason(volume)


class ForcedStopAutodeletes(Engine):
    """A forced stop of a complete autodelete map deletes it, as a completion would (only
    the automatic completion deletes)."""

    def force_stop(self, m: Map, cause: str) -> None:
        super().force_stop(m, cause)
        if m.autodelete and m.state == IDLE and m.name in self.maps:
            self.drop_map(m, "autodelete")


LIFECYCLE_MUTANTS: tuple[type[Engine], ...] = (
    StatusProgressRoundsUp,
    CascadesListedBackwards,
    DifferenceNeverReported,
    DeleteStoppedWrongCode,
    RefusesRestartOfACopy,
    StopOfIdleRefused,
    BackgroundCopyStopsShort,
    CleanRateZeroNeverCleans,
    CleaningSkipsStoppingReaders,
    SplitTakesTargetOffline,
    AutodeleteForgotten,
    GroupStartIgnoresRates,
    FlushFailureIgnored,
    BitmapReturnsToCopying,
    PreparedTargetReadable,
    LazyFill,
    GroupRestoreNotMarked,
    ForceStopTakesDirectDependentsOnly,
    OneRateBandHalved,
    CopiedAtPrepare,
    TargetWritesUnrecorded,
    SecondRestoreAccepted,
    SuspendedStopCleans,
    ForcedStopLosesCompleteImage,
    GroupOpenWhileStopping,
    ForcedStopKeepsRestoring,
    StoppingCompleteOffline,
    ForcedStopAutodeletes,
)
