"""Rules for volumes and data: create and delete volumes, write, read, background time."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .machine import LARGE, MAX_VOLUMES, Base, precondition, rule


class DataRules(Base):
    """Volumes, host writes and reads, `copy` and `settle`."""

    @precondition(lambda self: self.can("volumes", "create_volume"))
    @rule(data=st.data())
    def create_volume(self, data: st.DataObject) -> None:
        """A volume of the sequence's size; or, one time in ten, of any size, at the edges of
        the range one time in four (a large one is deleted at once)."""
        existing = self.volumes
        size = self.size
        other = data.draw(st.integers(0, 4), label="other size?") == 4
        if other or self.record.domain.focused("create_volume.size"):
            size = self.record.domain.integer(
                data, "create_volume", "size", (1, 8), "size", edge_every=3
            )
        if existing and data.draw(st.integers(0, 19), label="existing name?") == 19:
            name = data.draw(st.sampled_from(existing), label="volume")  # refused: exists
        elif len(existing) >= MAX_VOLUMES and size <= LARGE:
            return
        else:
            name = self.fresh(data, "V")
        answer = self.send({"op": "create_volume", "volume": name, "size": size})
        if size > LARGE and answer and answer.get("ok"):  # accepted: that was the point
            self.send({"op": "delete_volume", "volume": name})

    @precondition(lambda self: self.can("volumes", "delete_volume") and len(self.volumes) > 2)
    @rule(data=st.data())
    def delete_volume(self, data: st.DataObject) -> None:
        volume = self.pick(data, self.volumes, "volume", "volume")
        self.send({"op": "delete_volume", "volume": volume})

    # -- host I/O ----------------------------------------------------------------------------
    def _extent(self, data: st.DataObject, op: str, volume: str) -> tuple[int, int]:
        """A block and a length: one block, a few grains, or the whole volume; now and then
        running past the end (refused: out_of_range)."""
        size = self.s.oracle.model.sizes.get(volume, self.size)
        grain = self.s.grain_size
        kind = data.draw(st.integers(0, 9), label=f"{op} extent")
        what = "data" if op == "write" else "count"
        if kind == 9:
            block = data.draw(st.integers(max(0, size - 2), size), label="block past the end")
            self.record.domain.note(f"{op}.block", "past the end")
            self.record.domain.note(f"{op}.{what}", "past the end")
            return block, data.draw(st.integers(1, 3), label="length past the end")
        if kind == 8 and (op == "read" or size <= 64):
            length = size
        elif kind == 7:  # the last block: the edge of the volume
            block, length = size - 1, 1
            self.record.domain.note(f"{op}.block", "last")
            self.record.domain.note(f"{op}.{what}", "one block")
            return block, length
        elif kind >= 6:
            length = 1
        else:
            length = data.draw(st.integers(1, max(1, min(size, 2 * grain + 1))), label="length")
        length = min(length, size)
        block = data.draw(st.integers(0, size - length), label="block")
        where = "first" if block == 0 else "last" if block + length == size else "inside"
        self.record.domain.note(f"{op}.block", where)
        shape = "whole volume" if length == size else "one block" if length == 1 else "range"
        self.record.domain.note(f"{op}.{what}", shape)
        return block, length

    @precondition(lambda self: self.can(None, "write") and bool(self.volumes))
    @rule(data=st.data())
    def write(self, data: st.DataObject) -> None:
        volume = self.pick(data, self.volumes, "volume", "volume")
        block, length = self._extent(data, "write", volume)
        payload = self.record.domain.tokens(data, length)
        self.send({"op": "write", "volume": volume, "block": block, "data": payload})

    @precondition(lambda self: self.can("read", "read") and bool(self.volumes))
    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        volume = self.pick(data, self.volumes, "volume", "volume")
        block, count = self._extent(data, "read", volume)
        self.send({"op": "read", "volume": volume, "block": block, "count": count})

    # -- time ----------------------------------------------------------------------------------
    @precondition(lambda self: self.can("copy", "copy") and bool(self.maps))
    @rule(data=st.data())
    def copy(self, data: st.DataObject) -> None:
        busy = ("preparing", "copying", "stopping")
        op: dict[str, Any] = {"op": "copy", "map": self.pick_map(data, lambda r: r.state in busy)}
        if self.record.hello.supports("copy.grains") and data.draw(st.booleans(), label="grains?"):
            op["grains"] = self.record.domain.integer(data, "copy", "grains", (1, 3))
        self.send(op)

    @precondition(lambda self: self.can("settle", "settle"))
    @rule()
    def settle(self) -> None:
        self.send({"op": "settle"})
