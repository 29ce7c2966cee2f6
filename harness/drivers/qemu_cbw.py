"""`qemu-cbw`: QEMU's copy-before-write filter — the textbook FlashCopy data path, wired as QEMU
intends it.

QEMU's filter (`block/copy-before-write.c`) sits above a node and, before a write passes
through it, copies the old data of the written range into its *target*, a temporary image (the
"reverse delta" of image fleecing). The target is not meant to be written by anyone else: the
filter keeps no record of writes made to it directly and would later copy old data over them.
QEMU reads the snapshot through a `snapshot-access` node on the filter (since 7.1), and a
writable point-in-time copy is an *overlay* on that node, which the host writes:

    source volume:  export -> cbw(T2) -> cbw(T1) -> source data node
    target volume:  export -> overlay -> snapshot-access -> cbw(T) (the snapshot of the source)

Several targets of one source are filters stacked on the source. A clone's background copy is
a `block-stream` job into its overlay, which then reads through nothing. A filter cannot be
taken out of a live chain, so nodes that anything still uses stay in the daemon until the next
`reset` (a new daemon).

QEMU documents snapshot-access for fleecing exports; using it as an overlay's backing node is
this driver's choice. With one snapshot layer under an overlay, streaming works; through two
(a start from a target, or a restore onto a volume whose targets read it) the stream did not
copy the lower layer's data in our runs (QEMU 7.2, `tests/test_engines.py`), so the driver
declares those two shapes unsupported instead of building such chains.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .image_engine import ImageEngine
from .qsd import StorageDaemon

TWO_LAYERS = (
    "an overlay would read through two snapshot-access layers, and streaming such an overlay "
    "did not copy the lower layer's data (QEMU 7.2; snapshot-access is documented for "
    "fleecing exports, not as a backing node)"
)


class QemuCbw(ImageEngine):
    """The vocabulary on copy-before-write filters in a qemu-storage-daemon."""

    name = "qemu-cbw"
    version = "qemu-storage-daemon 7.x: copy-before-write filter, snapshot-access, overlays"
    limits: ClassVar[dict[str, str]] = {
        "cascade_from_target": TWO_LAYERS,
        "start.restore": TWO_LAYERS,
        "start_group.restore": TWO_LAYERS,
    }

    def __init__(self) -> None:
        super().__init__()
        self.qsd = StorageDaemon("cascadecheck-cbw-")
        self._empty()

    def _empty(self) -> None:
        self.top: dict[str, str] = {}  # volume -> the node its writes land in
        self.entry: dict[str, str] = {}  # volume -> the node its export writes through
        self.nbytes: dict[str, int] = {}
        self.used: set[str] = set()  # nodes something else in the daemon uses

    def _export(self, volume: str) -> None:
        """(Re)export the volume's entry node and connect to it."""
        self.qsd.expose(volume, self.entry[volume])

    def _let_go(self, volume: str) -> None:
        """The volume no longer writes through its nodes: delete them unless used."""
        self.qsd.hide(volume)
        if self.entry[volume] not in self.used and self.entry[volume] == self.top[volume]:
            self.qsd.delete_node(self.top[volume])

    def _node(self, driver: str, prefix: str, **options: Any) -> str:
        node = f"{prefix}{len(self.used)}-{id(options) % 100000}"
        self.qsd.cmd("blockdev-add", driver=driver, **{"node-name": node}, **options)
        return node

    # -- primitives ---------------------------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        self.top[volume] = self.entry[volume] = self.qsd.new_node(nbytes)
        self.nbytes[volume] = nbytes
        self._export(volume)

    def _drop(self, volume: str) -> None:
        self._let_go(volume)
        del self.top[volume], self.entry[volume], self.nbytes[volume]

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """For each map: a copy-before-write filter on the source's entry into a new temporary
        image, QEMU's snapshot-access node on the filter, and the target's new overlay on it.
        (One after another: the driver serialises all I/O, so no write falls between them.)"""
        for source, target in pairs:
            nbytes = self.nbytes[target]
            delta = self.qsd.new_node(nbytes)
            self.qsd.hide(source)
            cbw = self._node("copy-before-write", "cbw", file=self.entry[source], target=delta)
            snap = self._node("snapshot-access", "snap", file=cbw)
            overlay = self.qsd.new_node(nbytes, backing=snap)
            self.used.update({self.entry[source], delta, cbw, snap})
            self.entry[source] = cbw
            self._export(source)
            self._let_go(target)
            self.top[target] = self.entry[target] = overlay
            self._export(target)
        return set()

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        self.qsd.connection(volume).write(offset, raw)

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        return self.qsd.connection(volume).read(offset, length)

    def _finish(self, target: str) -> None:
        """A clone's background copy: stream everything into the target's overlay, which then
        reads through nothing."""
        self.qsd.run_job("block-stream", device=self.top[target])

    def _wipe(self) -> None:
        """A new daemon: filters cannot be unstacked from a live chain one by one."""
        self.qsd.close()
        self.qsd = StorageDaemon("cascadecheck-cbw-")
        self._empty()

    def _shutdown(self) -> None:
        self.qsd.close()
