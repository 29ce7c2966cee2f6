"""Incremental maps on qemu-live: QEMU's dirty bitmaps record what changed, QEMU copies it.

The specification's incremental map (S->T) records, per grain, whether S or T was written since
the map's last start; `status.difference` is that share of grains, and a restart copies only
those grains (`shared/semantics.md` §7). QEMU has this machinery for incremental backup (its
`docs/interop/bitmaps.rst`): a dirty bitmap on a node records every write to the node, bitmaps
merge across nodes (`block-dirty-bitmap-merge`), a backup job copies only what a bitmap marks
(`blockdev-backup` with `sync: bitmap`), and an NBD export publishes a bitmap's extents (the
`qemu:dirty-bitmap:NAME` meta context).

How the driver uses it:

- each incremental map has one bitmap name; from the map's start the bitmap sits on the top
  node of its source and on the top node of its target (a volume's writes all go to its top).
  When a start freezes a volume under a new top, its bitmaps move up: added on the new top,
  the old one merged in, then removed. So the bitmap on a volume's top always holds every
  write to the volume since the map's start;
- block jobs do not mark bitmaps (a stream's copy-on-read writes leave data unchanged; checked
  on QEMU 7.2 by `tests/test_engines.py`), so a clone's background copy and the live folding
  of garbage add nothing to a record;
- the difference is the union of the map's two bitmaps, merged into a disabled scratch bitmap
  and read back as extents over a read-only NBD export, counted in grains;
- until its first start, and after a start onto its source replaced the source's image
  wholesale, a map has no record: everything differs (100 %) and a restart copies everything.

Bitmaps have a granularity of one vocabulary block (1 KiB): a grain is several blocks and its
size need not be a power of two, so grains are counted from extents, not from QEMU's byte count.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from .nbd_client import MAX_REQUEST, load_nbd
from .qsd import StorageDaemon


@dataclass
class Record:
    """One incremental map's record of change: its bitmap's name, or None when it has no
    record (everything differs)."""

    source: str
    target: str
    bitmap: str | None = None


class DirtyBitmaps:
    """Every incremental map's record, kept as QEMU bitmaps on its volumes' top nodes."""

    def __init__(self, qsd: StorageDaemon, top: Callable[[str], str], granularity: int) -> None:
        self.qsd = qsd
        self.top = top  # a volume's current top node
        self.granularity = granularity
        self.records: dict[str, Record] = {}  # map name -> record
        self.ids = itertools.count(1)

    # -- QMP -----------------------------------------------------------------------------------
    def _add(self, node: str, name: str) -> None:
        self.qsd.cmd("block-dirty-bitmap-add", node=node, name=name, granularity=self.granularity)

    def _remove(self, node: str, name: str) -> None:
        self.qsd.cmd("block-dirty-bitmap-remove", node=node, name=name)

    def _merge(self, node: str, name: str, sources: list[tuple[str, str]]) -> None:
        bitmaps = [{"node": n, "name": b} for n, b in sources]
        self.qsd.cmd("block-dirty-bitmap-merge", node=node, target=name, bitmaps=bitmaps)

    def _name(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    # -- a map's record through its life --------------------------------------------------------
    def recording(self, volume: str) -> list[Record]:
        """The maps with a record whose source or target is the volume."""
        return [r for r in self.records.values() if r.bitmap and volume in (r.source, r.target)]

    def onto(self, target: str) -> str | None:
        """The incremental map whose target the volume is, if any."""
        return next((n for n, r in self.records.items() if r.target == target), None)

    def create(self, name: str, source: str, target: str) -> None:
        """A new incremental map: no record yet, so its first start copies everything."""
        self.records[name] = Record(source, target)

    def forget(self, name: str) -> None:
        """The map is deleted: its bitmaps go with it."""
        record = self.records.pop(name, None)
        if record is not None:
            self._drop(record)

    def _drop(self, record: Record) -> None:
        """The record ends: both bitmaps are removed (everything differs from now on)."""
        if record.bitmap is not None:
            for volume in (record.source, record.target):
                self._remove(self.top(volume), record.bitmap)
            record.bitmap = None

    def moved(self, volume: str, old: str) -> None:
        """The volume's top moved up from `old` (frozen under it): every bitmap on `old`
        moves up with what it recorded."""
        for record in self.recording(volume):
            assert record.bitmap is not None
            self._add(self.top(volume), record.bitmap)
            self._merge(self.top(volume), record.bitmap, [(old, record.bitmap)])
            self._remove(old, record.bitmap)

    def replacing(self, volume: str) -> None:
        """A start onto the volume is about to replace its image: maps copying from it lose
        their record."""
        for record in self.recording(volume):
            if record.source == volume:
                self._drop(record)

    def restarting(self, name: str, frozen: str) -> str | None:
        """The map starts (its target not yet replaced): the union of what its source and
        target recorded since its last start, as a new bitmap on `frozen` (its source's
        frozen node) for the copy to use — or None with no record (copy everything). Its
        record ends here; `begin` opens the next."""
        record = self.records[name]
        if record.bitmap is None:
            return None
        union = self._name("u")
        self._add(frozen, union)
        self._merge(
            frozen, union, [(self.top(v), record.bitmap) for v in (record.source, record.target)]
        )
        self._drop(record)
        return union

    def empty(self, node: str, bitmap: str) -> bool:
        """No grain is marked in the bitmap (QEMU's count of dirty bytes is 0)."""
        for info in self.qsd.cmd("query-named-block-nodes", flat=True):
            if info["node-name"] == node:
                for b in info.get("dirty-bitmaps", []):
                    if b["name"] == bitmap:
                        return bool(b["count"] == 0)
        raise RuntimeError(f"QEMU lists no bitmap {bitmap} on {node}")

    def begin(self, name: str) -> None:
        """The map has started: record every write to its source and target from now on."""
        record = self.records[name]
        record.bitmap = self._name("d")
        for volume in (record.source, record.target):
            self._add(self.top(volume), record.bitmap)

    def release(self, node: str, union: str) -> None:
        """A copy is done with its union bitmap."""
        self._remove(node, union)

    def clear(self) -> None:
        """Every node is gone (reset): so is every record."""
        self.records.clear()

    # -- the difference -------------------------------------------------------------------------
    def difference(self, name: str, nbytes: int, grain_bytes: int) -> int:
        """Percentage of the map's grains that its source or target changed since its last
        start (rounded down, as the product reports it): 100 with no record."""
        record = self.records[name]
        if record.bitmap is None:
            return 100
        node, scratch = self.top(record.source), self._name("x")
        self._add(node, scratch)
        try:
            sources = [(self.top(v), record.bitmap) for v in (record.source, record.target)]
            self._merge(node, scratch, sources)
            self.qsd.cmd("block-dirty-bitmap-disable", node=node, name=scratch)
            extents = self._extents(node, scratch, nbytes)
        finally:
            self._remove(node, scratch)
        grains: set[int] = set()
        for offset, length in extents:
            grains.update(range(offset // grain_bytes, (offset + length - 1) // grain_bytes + 1))
        return len(grains) * 100 // -(-nbytes // grain_bytes)

    def _extents(self, node: str, bitmap: str, nbytes: int) -> list[tuple[int, int]]:
        """The dirty (offset, length) extents of a disabled bitmap on a node, as QEMU's NBD
        server publishes them."""
        export = self._name("bx")
        context = f"qemu:dirty-bitmap:{bitmap}"
        self.qsd.cmd(
            "block-export-add",
            type="nbd",
            id=export,
            **{"node-name": node},
            name=export,
            writable=False,
            bitmaps=[bitmap],
        )
        nbd = load_nbd()
        handle = nbd.NBD()
        dirty: list[tuple[int, int]] = []
        try:
            handle.set_export_name(export)
            handle.add_meta_context(context)
            handle.connect_unix(self.qsd.nbd_path)
            seen: list[tuple[int, int]] = []  # (length, flags) pairs from the server

            def extent(ctx: str, at: int, entries: list[int], err: object) -> int:
                if ctx == context:
                    seen.extend(zip(entries[::2], entries[1::2], strict=True))
                return 0

            offset = 0
            while offset < nbytes:
                seen.clear()
                handle.block_status(min(MAX_REQUEST, nbytes - offset), offset, extent)
                if not seen:
                    raise RuntimeError(f"NBD export of {node} published no {context}")
                for length, flags in seen:
                    if flags & 1:  # NBD_STATE_DIRTY
                        dirty.append((offset, min(length, nbytes - offset)))
                    offset += length
        finally:
            with contextlib.suppress(nbd.Error):  # never connected: nothing to shut down
                handle.shutdown()
            self.qsd.cmd("block-export-del", id=export)
            self.qsd.wait_event("BLOCK_EXPORT_DELETED", id=export)
        return dirty
