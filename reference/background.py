"""Background copy, cleaning, and the automatic transitions they lead to."""

from __future__ import annotations

from .datapath import DataPath
from .errors import OpError
from .maps import COPYING, IDLE, PREPARED, PREPARING, STOPPED, STOPPING, Map, grains_per_step


class Background(DataPath):
    """Time moves only here: flushes, background copy and cleaning, step by step."""

    def _background_grains(self, m: Map, budget: int) -> int:
        """Copy up to `budget` grains the target lacks, lowest grain first (7.8.1 order)."""
        node = self.node_of(m)
        done = 0
        for grain in range(m.grains):
            if done >= budget:
                break
            if not m.split[grain]:
                self._copy_into(node, grain, "background")
                done += 1
        return done

    def _cleaning_grains(self, m: Map, budget: int) -> int:
        """Copy up to `budget` grains readers need from the map's target, highest grain first."""
        node = self.node_of(m)
        done = 0
        for grain in reversed(range(m.grains)):
            if done >= budget:
                break
            done += self.clean_grain(node, grain)
        return done

    def _cleans_now(self, m: Map) -> bool:
        """Cleaning runs when stopping, or when copying with nothing left to copy and a rate."""
        if m.state == STOPPING:
            return True
        return m.state == COPYING and m.clean_rate > 0 and (m.copy_rate == 0 or m.complete)

    def advance(self, m: Map, grains: int | None) -> int:
        """The `copy` operation: one step of whatever work the map has."""
        if m.state == PREPARING:
            self.set_state(m, PREPARED, "flushed")
            return 0
        if not self.copying_or_stopping(m):
            raise OpError("bad_state", f"map {m.name!r} is {m.state}: nothing to copy or clean")
        done = 0
        if m.state == COPYING and m.copy_rate > 0 and not m.complete:
            done = self._background_grains(m, grains or grains_per_step(m.copy_rate))
        elif self._cleans_now(m):
            done = self._cleaning_grains(m, grains or grains_per_step(m.clean_rate))
        self.auto_transitions()
        return done

    def settle_all(self) -> None:
        """Run every flush, background copy and cleaning to completion."""
        busy = True
        while busy:
            busy = False
            for m in sorted(self.maps.values(), key=lambda x: x.order):
                if m.name not in self.maps:
                    continue  # autodeleted during this pass
                if m.state == PREPARING:
                    self.set_state(m, PREPARED, "flushed")
                    busy = True
                elif m.state == COPYING and m.copy_rate > 0 and not m.complete:
                    busy |= self._background_grains(m, m.grains) > 0
                elif self._cleans_now(m):
                    busy |= self._cleaning_grains(m, m.grains * (len(self.maps) + 1)) > 0
                self.auto_transitions()

    # -- automatic transitions -------------------------------------------------
    def auto_transitions(self) -> None:
        """Completion and the end of stopping, until nothing more moves."""
        moved = True
        while moved:
            moved = False
            for m in sorted((self.maps[n] for n in self.watch), key=lambda x: x.order):
                if m.state not in (COPYING, STOPPING) or (m.state == COPYING and not m.complete):
                    self.watch.discard(m.name)
                elif m.state == COPYING and not self.has_clean_work(m):
                    self.leave_cascade(m, IDLE, "completed")
                    if m.autodelete:
                        self.drop_map(m, "autodelete")
                    moved = True
                elif m.state == STOPPING and not self.has_clean_work(m):
                    self.leave_cascade(m, IDLE if m.complete else STOPPED, "cleaned")
                    moved = True

    def leave_cascade(self, m: Map, state: str, cause: str) -> None:
        """Unlink the map's target position and settle its state."""
        self.topology.remove_target(self.node_of(m))
        self.watch.discard(m.name)
        m.restoring = False
        if state == STOPPED:
            self.image_replaced(m.target)
        self.set_state(m, state, cause)

    def drop_map(self, m: Map, cause: str) -> None:
        """Forget a map that is out of every cascade."""
        self.events.append({"map": m.name, "from": m.state, "to": "deleted", "cause": cause})
        self.watch.discard(m.name)
        self.incremental_from.get(m.source, set()).discard(m.name)
        self.mapping.remove_edge(m.source, m.target)
        del self.target_of[m.target]
        del self.maps[m.name]
