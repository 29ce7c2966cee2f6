"""`qemu-live`: QEMU's live block layer — one qemu-storage-daemon, QMP for the graph, NBD for I/O.

Every volume is an NBD export of the top node of a qcow2 chain in one `qemu-storage-daemon`;
the nodes form a `FrozenTree`. Starting maps is one QMP `transaction` of `blockdev-snapshot`
actions, one per distinct source, so a group starts at one instant in QEMU itself: each
source's top node is frozen under a new overlay (the source's export and its open NBD
connection follow to the overlay), then each target gets a new node reading through the frozen
one and its export is moved there.

A clone's background copy is a `block-stream` job into the target's top (rate-limited by the
map's copy rate; the vocabulary's volumes are a few KiB, so the job ends within milliseconds
and the driver waits for it). Afterwards the target reads through nothing. Garbage is removed
live, as a storage array would: a node nothing reads is deleted, a frozen node left with one
reader is folded into it with `block-stream` onto its own backing, while that reader's export
stays connected.
"""

from __future__ import annotations

from .frozen_tree import Delete, FrozenTree
from .image_engine import ImageEngine
from .nbd_client import Connection
from .qsd import CLUSTER, StorageDaemon

BYTES_PER_GRAIN_PER_S = CLUSTER * 64


class QemuLive(ImageEngine):
    """The vocabulary on a live qemu-storage-daemon."""

    name = "qemu-live"
    version = "qemu-storage-daemon 7.x: blockdev-snapshot, block-stream, NBD exports"

    def __init__(self) -> None:
        super().__init__()
        self.qsd = StorageDaemon("cascadecheck-qsd-")
        self.tree = FrozenTree()
        self.nbytes: dict[str, int] = {}
        self.exports: dict[str, tuple[str, Connection]] = {}  # volume -> export, connection

    # -- plumbing ----------------------------------------------------------------------------
    def _export(self, volume: str) -> None:
        """(Re)export the volume's top node and connect to it."""
        old = self.exports.pop(volume, None)
        if old is not None:
            self.qsd.unexport(*old)
        self.exports[volume] = self.qsd.export(self.tree.top[volume])

    def _collect(self, released: list[str]) -> None:
        """Delete nodes nothing reads; fold a frozen node into its only reader, live."""
        for step in self.tree.collect(released, can_fold=True):
            if not isinstance(step, Delete):
                base = {"base-node": step.base} if step.base else {}
                self.qsd.run_job("block-stream", device=step.child, **base)
            self.qsd.delete_node(step.node)

    # -- primitives ---------------------------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        node = self.qsd.new_node(nbytes)
        self.tree.add(node)
        self.tree.retop(volume, node)
        self.nbytes[volume] = nbytes
        self._export(volume)

    def _drop(self, volume: str) -> None:
        self.qsd.unexport(*self.exports.pop(volume))
        del self.nbytes[volume]
        self._collect([self.tree.forget(volume)])

    def _start(self, pairs: list[tuple[str, str]]) -> None:
        """Freeze every source at one instant (one transaction), then hang the targets on the
        frozen nodes and move their exports there."""
        sources = self.tree.frozen_sources(pairs)
        frozen = {s: self.tree.top[s] for s in sources}
        overlays = {s: self.qsd.new_node(self.nbytes[s]) for s in sources}
        self.qsd.cmd(
            "transaction",
            actions=[
                {"type": "blockdev-snapshot", "data": {"node": frozen[s], "overlay": overlays[s]}}
                for s in sources
            ],
        )
        for s in sources:
            self.tree.add(overlays[s], frozen[s])
            self.tree.retop(s, overlays[s])
        released = []
        for source, target in pairs:
            node = self.qsd.new_node(self.nbytes[target], backing=frozen[source])
            self.tree.add(node, frozen[source])
            released.append(self.tree.retop(target, node))
            self._export(target)
        self._collect([r for r in released if r is not None])

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        self.exports[volume][1].write(offset, raw)

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        return self.exports[volume][1].read(offset, length)

    def _copy(self, target: str, grains: int) -> bool:
        self._stream(target, grains * BYTES_PER_GRAIN_PER_S)
        return True

    def _finish(self, target: str) -> None:
        self._stream(target, 0)

    def _stream(self, target: str, speed: int) -> None:
        """Background copy: stream every cluster the target lacks into its top node; the
        target then reads through nothing, and what it read through may be garbage."""
        top = self.tree.top[target]
        base = self.tree.backing(top)
        if base is None:
            return
        self.qsd.run_job("block-stream", device=top, speed=speed)
        self.tree.graph.remove_edge(base, top)
        self._collect([base])

    def _wipe(self) -> None:
        for volume in list(self.exports):
            self.qsd.unexport(*self.exports.pop(volume))
        for node in self.tree.nodes():  # leaves first: a node in use as backing stays
            self.qsd.delete_node(node)
        self.tree = FrozenTree()
        self.nbytes.clear()

    def _shutdown(self) -> None:
        for _, conn in self.exports.values():
            conn.close()
        self.exports.clear()
        self.qsd.close()
