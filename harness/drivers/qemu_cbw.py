"""`qemu-cbw`: QEMU's copy-before-write filter — the textbook FlashCopy data path.

The only engine here that moves data the way a storage array does: a target is a qcow2 node
that reads through its source's data node, and the source's export goes through a
`copy-before-write` filter that, before any write reaches the source, copies the old clusters
into the target. Several targets of one source are filters stacked on the source; a start from
a target puts a filter on the target. This is QEMU's "fleecing" building block, driven here as
a writable point-in-time copy — whether it keeps every image under every sequence is for the
harness to say (`docs/engines.md`).

A filter cannot be taken out of a chain while the source is live, so this driver refuses
(`bad_state`, changing nothing) to start a map onto a volume that anything reads through or
that a filter still copies into, and to delete such a volume (`volume_in_use`). QEMU itself
refuses a filter on a node that another filter copies into (a permission conflict between the
filter's `file` and the other's `target`), so there are no cascades of cascades: a start from
a target is refused too. There is no background copy (a target keeps reading through its
source; `copy`/`settle` change nothing).
"""

from __future__ import annotations

from .image_engine import ImageEngine, Mapping, Refused
from .qsd import StorageDaemon


class QemuCbw(ImageEngine):
    """The vocabulary on copy-before-write filters in a qemu-storage-daemon."""

    name = "qemu-cbw"
    version = "qemu-storage-daemon 7.x: copy-before-write filter"

    def __init__(self) -> None:
        super().__init__()
        self.qsd = StorageDaemon("cascadecheck-cbw-")
        self._empty()

    def _empty(self) -> None:
        self.data: dict[str, str] = {}  # volume -> its qcow2 data node
        self.entry: dict[str, str] = {}  # volume -> the node its export writes through
        self.nbytes: dict[str, int] = {}
        self.read_through: set[str] = set()  # data nodes a target reads through
        self.copied_into: set[str] = set()  # data nodes a filter copies into

    def _export(self, volume: str) -> None:
        """(Re)export the volume's entry node and connect to it."""
        self.qsd.expose(volume, self.entry[volume])

    def _pinned(self, volume: str) -> str | None:
        """Why the volume's data node can be neither replaced nor deleted, if it cannot."""
        node = self.data[volume]
        if node in self.read_through or self.entry[volume] != node:
            return f"volume {volume!r} has a copy-before-write filter or is read through"
        if node in self.copied_into:
            return f"a copy-before-write filter still copies into {volume!r}"
        return None

    # -- primitives ---------------------------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        self.data[volume] = self.entry[volume] = self.qsd.new_node(nbytes)
        self.nbytes[volume] = nbytes
        self._export(volume)

    def _drop(self, volume: str) -> None:
        why = self._pinned(volume)
        if why is not None:
            raise Refused("volume_in_use", why)
        self.qsd.hide(volume)
        self.qsd.delete_node(self.data.pop(volume))
        del self.entry[volume], self.nbytes[volume]

    def _start(self, pairs: list[tuple[str, str]]) -> None:
        """For each map: a new target node reading through the source's data node, and a
        copy-before-write filter into it on top of the source's export. (One after another:
        the driver serialises all I/O, so no write falls between them.)"""
        for source, target in pairs:
            why = self._pinned(target)
            if why is not None:
                raise Refused("bad_state", why)
            if self.data[source] in self.copied_into:  # QEMU: a permission conflict
                raise Refused("bad_state", f"{source!r} is a filter's target: no filter on it")
        for source, target in pairs:
            node = self.qsd.new_node(self.nbytes[target], backing=self.data[source])
            self.qsd.hide(target)
            self.qsd.delete_node(self.data[target])
            self.data[target] = self.entry[target] = node
            self.qsd.hide(source)
            cbw = f"cbw-{node}"
            self.qsd.cmd(
                "blockdev-add",
                driver="copy-before-write",
                **{"node-name": cbw},
                file=self.entry[source],
                target=node,
            )
            self.entry[source] = cbw
            self.read_through.add(self.data[source])
            self.copied_into.add(node)
            self._export(source)
            self._export(target)

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        self.qsd.connection(volume).write(offset, raw)

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        return self.qsd.connection(volume).read(offset, length)

    def _startable(self, m: Mapping, name: str) -> None:
        if m.active:
            raise Refused("bad_state", f"map {name!r} was started: its filter stays in place")

    def _wipe(self) -> None:
        """A new daemon: filters cannot be unstacked from a live chain one by one."""
        self.qsd.close()
        self.qsd = StorageDaemon("cascadecheck-cbw-")
        self._empty()

    def _shutdown(self) -> None:
        self.qsd.close()
