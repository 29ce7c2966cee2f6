"""`qemu-live`: QEMU's live block layer — one qemu-storage-daemon, QMP for the graph, NBD for I/O.

Every volume is an NBD export of the top node of a qcow2 chain in one `qemu-storage-daemon`;
the nodes form a `FrozenTree`. Starting maps is one QMP `transaction` of `blockdev-snapshot`
actions, one per distinct source, so a group starts at one instant in QEMU itself: each
source's top node is frozen under a new overlay (the source's export and its open NBD
connection follow to the overlay), then each target gets a new node reading through the frozen
one and its export is moved there.

A clone's background copy is a `block-stream` job into the target's top, rate-limited and
with `auto-finalize` off: `copy` starts it and returns; QEMU copies in its own time and then
holds the job *pending*, data copied but the backing link still in place, until the map's next
`copy` (or `settle`) finalizes it — so the host I/O and the map operations between the two
always meet a live job, however fast QEMU copied. Then the map is complete: the target reads
through nothing. (States follow the vocabulary's clock — `copy` and `settle` — never QEMU's
speed, so a sequence replays with the same states, as Hypothesis needs to shrink it.)

Garbage is removed live, as a storage array would: a node nothing reads is deleted, a frozen
node left with one reader is folded into it with `block-stream` onto its own backing while
that reader's export stays connected. QEMU neither deletes nor snapshots a node
under a job ("Node is busy"), so a job finishes at full speed before its node is frozen by a
start, and every job does before any node is deleted or folded.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from .frozen_tree import Delete, FrozenTree
from .image_engine import ImageEngine, Mapping
from .qemu_bitmaps import DirtyBitmaps
from .qsd import CLUSTER, StorageDaemon

# a stream job copies a chunk, then sleeps chunk/speed: at a cluster per second per grain asked
# for, the few-KiB volumes of the vocabulary stream over seconds, while the harness goes on
# writing, reading and starting maps
BYTES_PER_S = CLUSTER


@dataclass
class Refresh:
    """An incremental restart's copy: the target's old top (its image at the restart) takes
    the grains its map recorded as changed from the source's frozen node, then becomes what
    the target's new top reads through instead of the source."""

    old: str  # the target's top before the restart
    node: str  # the target's new top, which reads through `frozen` meanwhile
    frozen: str  # the source's frozen node
    union: str  # the bitmap on `frozen` of the grains to copy
    job: str | None = None  # the running backup job

    @property
    def nodes(self) -> set[str]:
        """The nodes the refresh needs as they are until it is done (kept from garbage
        collection: neither deleted nor folded)."""
        return {self.old, self.node, self.frozen}


class QemuLive(ImageEngine):
    """The vocabulary on a live qemu-storage-daemon."""

    name = "qemu-live"
    version = (
        "qemu-storage-daemon 7.x: blockdev-snapshot, block-stream, dirty bitmaps, "
        "blockdev-backup, NBD exports"
    )
    records_changes = True

    def __init__(self) -> None:
        super().__init__()
        self.qsd = StorageDaemon("cascadecheck-qsd-")
        self.tree = FrozenTree()
        self.nbytes: dict[str, int] = {}
        self.jobs: dict[str, str] = {}  # running stream job -> the node it streams into
        self.streams: dict[str, str] = {}  # running stream job -> the clone target it copies
        self.copied: set[str] = set()  # targets whose stream ended since they were started
        self.bitmaps = DirtyBitmaps(self.qsd, lambda volume: self.tree.top[volume], self.block)
        self.refresh: dict[str, Refresh] = {}  # target -> its incremental copy, until done

    # -- plumbing ----------------------------------------------------------------------------
    def _export(self, volume: str) -> None:
        """(Re)export the volume's top node and connect to it."""
        self.qsd.expose(volume, self.tree.top[volume])

    def _collect(self, released: list[str]) -> None:
        """Delete nodes nothing reads; fold a frozen node into its only reader, live. A job
        that holds a node this may delete or fold (the released nodes and what they read
        through) finishes first; the others run on."""
        self._drain({n for node in released for n in self.tree.below(node)})
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
        self.qsd.hide(volume)
        del self.nbytes[volume]
        self._collect([self.tree.forget(volume)])

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Freeze every source at one instant (one transaction), then hang the targets on the
        frozen nodes and move their exports there. An incremental map whose record is empty
        leaves its target as it is: it holds its source's image already. The targets whose
        copy is complete at once."""
        sources = self.tree.frozen_sources(pairs)
        frozen = {s: self.tree.top[s] for s in sources}
        # QEMU refuses to snapshot, or hang a new reader on, a node a job holds: finish those
        self._drain(set(frozen.values()))
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
            self.bitmaps.moved(s, frozen[s])
        released, done = [], set()
        for source, target in pairs:
            self.bitmaps.replacing(target)
            name = self.bitmaps.onto(target)
            union = None if name is None else self.bitmaps.restarting(name, frozen[source])
            if union is not None and self.bitmaps.empty(frozen[source], union):
                self.bitmaps.release(frozen[source], union)
                self.bitmaps.begin(name)
                done.add(target)
                if target not in self.qsd.volumes:  # it was stopped: online again
                    self._export(target)
                continue
            node = self.qsd.new_node(self.nbytes[target], backing=frozen[source])
            self.tree.add(node, frozen[source])
            old = self.tree.retop(target, node)
            self._export(target)
            if union is not None and old is not None:
                self.refresh[target] = Refresh(old, node, frozen[source], union)
                self._keep_refreshing()
            else:
                released.append(old)
            if name is not None:
                self.bitmaps.begin(name)
        self._collect([r for r in released if r is not None])  # may end a job on an old top
        self.copied.difference_update(t for _, t in pairs)  # their new images are not copied
        return done

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        self.qsd.connection(volume).write(offset, raw)

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        return self.qsd.connection(volume).read(offset, length)

    def _copy(self, target: str, grains: int) -> bool:
        """The first `copy` starts the target's stream job and returns while it runs (or waits
        pending); the next one finalizes it. (So a map's state never depends on how fast QEMU
        was, and host I/O between the two `copy` steps always meets a live job.) An
        incremental restart's copy runs the same way, as a backup job of the changed grains."""
        refresh = self.refresh.get(target)
        if refresh is not None and refresh.job is None:
            self._backup(refresh, grains * BYTES_PER_S)
            return False
        if refresh is not None:
            self._finish(target)
            return True
        top = self.tree.top[target]
        started = target in self.streams.values() or target in self.copied
        if self.tree.backing(top) is not None and not started:
            self._stream(target, grains * BYTES_PER_S)
            return False
        self._finish(target)
        return True

    def _stream(self, target: str, speed: int) -> None:
        """A stream job into the target's top that, once its data is copied, waits (pending)
        to be finalized: the backing link is dropped only when the driver says so. Jobs that
        hold any node of the same chain finish first (QEMU: "Node is busy")."""
        top = self.tree.top[target]
        self._drain(set(self.tree.below(top)))
        job = self.qsd.start_job(
            "block-stream", device=top, speed=speed, **{"auto-finalize": False}
        )
        self.jobs[job], self.streams[job] = top, target

    def _backup(self, refresh: Refresh, speed: int) -> None:
        """Copy the recorded grains from the source's frozen node into the target's old top
        (QEMU's `blockdev-backup`, `sync: bitmap`); the job waits pending when done. Jobs
        on either chain finish first (QEMU: "Node is busy")."""
        self._drain(set(self.tree.below(refresh.frozen)) | set(self.tree.below(refresh.old)))
        refresh.job = self.qsd.start_job(
            "blockdev-backup",
            device=refresh.frozen,
            target=refresh.old,
            sync="bitmap",
            bitmap=refresh.union,
            speed=speed,
            **{"bitmap-mode": "never", "auto-finalize": False},
        )

    def _keep_refreshing(self) -> None:
        """Keep from garbage collection the nodes of every refresh still running — not only
        drop an ended one's: two maps of one source restarted together share its frozen
        node, and the first to finish must not let it be folded under the other."""
        self.tree.kept = set().union(*(r.nodes for r in self.refresh.values()))

    @property
    def refreshing(self) -> dict[str, str]:
        """Each running backup job, and the target it refreshes."""
        return {r.job: t for t, r in self.refresh.items() if r.job is not None}

    def _finish(self, target: str) -> None:
        """Run the target's background copy to the end, at full speed."""
        refresh = self.refresh.get(target)
        if refresh is not None:
            if refresh.job is None:
                self._backup(refresh, 0)
            self._drain({refresh.old})
            return
        top = self.tree.top[target]
        if self.tree.backing(top) is not None and top not in self.jobs.values():
            self._stream(target, 0)
        self._drain({top})  # this target's job; others on the chain run on

    def _progress(self, target: str) -> int:
        """Offset over length of the target's running stream or backup job
        (`query-block-jobs`)."""
        refreshing = self.refreshing
        for job in self.qsd.cmd("query-block-jobs"):
            mine = {self.streams.get(job["device"]), refreshing.get(job["device"])}
            if target in mine and job["len"]:
                return min(99, 100 * job["offset"] // job["len"])
        return 0

    # -- background jobs ----------------------------------------------------------------------
    def _drain(self, nodes: set[str] | None = None) -> None:
        """Finish (at full speed) and finalize every job that holds one of these nodes
        (default: every job), before the graph changes under it. A stream job holds its node
        and every node that node reads through."""
        while todo := [
            j for j in [*self.jobs, *self.refreshing] if nodes is None or nodes & self._holds(j)
        ]:
            job = todo[0]
            with contextlib.suppress(RuntimeError):  # pending already: no speed to set
                self.qsd.cmd("block-job-set-speed", device=job, speed=0)
            data = self.qsd.wait_job(job, pending=True)
            if job in self.refreshing:
                self._refreshed(job, data)
            else:
                self._ended(job, data)

    def _holds(self, job: str) -> set[str]:
        """The nodes a job holds: a stream, its node and all it reads through; a backup, both
        chains it copies between and the target's top that reads through one of them."""
        if job in self.jobs:
            return set(self.tree.below(self.jobs[job]))
        refresh = self.refresh[self.refreshing[job]]
        return {refresh.node, *self.tree.below(refresh.frozen)} | set(self.tree.below(refresh.old))

    def _refreshed(self, job: str, data: dict[str, Any]) -> None:
        """An incremental copy ended: the target's old top now holds the source's image at the
        restart, so the node that read it through the source's frozen node reads it through
        the old top instead (`blockdev-reopen`; the same data, so whatever reads through that
        node — it may be frozen by now — sees no change) and the target depends on the
        source no more."""
        target = self.refreshing[job]
        refresh = self.refresh.pop(target)
        self.copied.add(target)
        if "error" in data:
            raise RuntimeError(f"blockdev-backup into {refresh.old} failed: {data['error']}")
        self._drain({refresh.node})  # QEMU reopens no node a job holds
        frozen = refresh.node not in self.tree.top.values()
        self.qsd.rebase(refresh.node, refresh.old, read_only=frozen)
        self.tree.graph.remove_edge(refresh.frozen, refresh.node)
        self.tree.graph.add_edge(refresh.old, refresh.node)
        self._keep_refreshing()
        self.bitmaps.release(refresh.frozen, refresh.union)
        self._collect([refresh.frozen, refresh.node])

    def _ended(self, job: str, data: dict[str, Any]) -> None:
        """A stream job ended: its node reads through nothing now (what it read through may
        be garbage)."""
        node = self.jobs.pop(job)
        self.copied.add(self.streams.pop(job))
        if "error" in data:
            raise RuntimeError(f"block-stream into {node} failed: {data['error']}")
        base = self.tree.backing(node)
        if base is not None:
            self.tree.graph.remove_edge(base, node)
            self._collect([base])

    def _halt(self, target: str) -> None:
        """The target's map stopped: its stream or backup job is cancelled where it is
        (`block-job-cancel`: what it copied stays, the rest still reads through the frozen
        node), an unfinished refresh is dropped (the target's new top reads through the
        source's frozen node, as after any start; its old top is garbage), maps copying from
        the target lose their record (its image is gone), and its export is removed: QEMU
        serves no I/O to an offline volume."""
        released = []
        refresh = self.refresh.pop(target, None)
        if refresh is not None:
            if refresh.job is not None:
                self.qsd.cancel_job(refresh.job)
            self._keep_refreshing()
            self.bitmaps.release(refresh.frozen, refresh.union)
            released.append(refresh.old)
        for job in [j for j, t in self.streams.items() if t == target]:
            self.qsd.cancel_job(job)
            del self.jobs[job], self.streams[job]
        self.copied.discard(target)
        self.bitmaps.replacing(target)
        self.qsd.hide(target)
        self._collect(released)

    def _revive(self, target: str) -> None:
        """A stopped map was deleted with force: the target's top is exported again, with
        what it holds (maps copying from it lose their record once more)."""
        self.bitmaps.replacing(target)
        self._export(target)

    def _wipe(self) -> None:
        self._drain()
        for volume in list(self.qsd.volumes):
            self.qsd.hide(volume)
        for node in self.tree.nodes():  # leaves first: a node in use as backing stays
            self.qsd.delete_node(node)
        self.tree = FrozenTree()
        self.nbytes.clear()
        self.copied.clear()
        self.bitmaps.clear()
        self.refresh.clear()

    # -- incremental maps ---------------------------------------------------------------------
    def _recorded(self, name: str, m: Mapping) -> None:
        self.bitmaps.create(name, m.source, m.target)

    def _unrecorded(self, name: str) -> None:
        self.bitmaps.forget(name)

    def _difference(self, name: str, m: Mapping) -> int:
        return self.bitmaps.difference(name, self.nbytes[m.source], self.grain_size * self.block)

    def _shutdown(self) -> None:
        self.qsd.close()
