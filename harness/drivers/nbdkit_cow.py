"""`nbdkit-cow`: nbdkit's `cow` filter, a tree of nbdkit processes, spoken to over NBD.

An engine from an independent code base (nbdkit, not QEMU). A new volume is an nbdkit
`memory` server; every node of the `FrozenTree` is one nbdkit process on a unix socket.
Starting S->T freezes S's top process (nothing writes to it again) and starts two `cow`
processes over it, one for S and one for T, each reaching it through nbdkit's `nbd` plugin:
writes land in each cow process's own overlay (in `cow-block-size` blocks of 4 KiB, four
vocabulary blocks of 1 KiB, so most host writes cover part of a block and the filter must
fill the rest), reads of anything not written fall through to the frozen process.

The cow filter has no merge, so a clone's background copy has nothing it can do (the target
keeps reading through its frozen process; `copy`/`settle` report it complete, which changes no
image) and a frozen process is shut down only when nothing reads through it — leaves before
parents, clients before servers, as nbdkit waits for its clients on exit. Every process runs
with `--exit-with-parent`, so none outlives the harness.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

from .frozen_tree import FrozenTree
from .image_engine import ImageEngine
from .nbd_client import Connection, load_nbd

COW_BLOCK = 4096


class NbdkitCow(ImageEngine):
    """The vocabulary on a tree of nbdkit processes."""

    name = "nbdkit-cow"
    version = "nbdkit memory plugin + cow filter"

    def __init__(self) -> None:
        if shutil.which("nbdkit") is None:
            raise RuntimeError("needs nbdkit (apt-get install nbdkit)")
        load_nbd()
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cascadecheck-nbdkit-"))
        self.tree = FrozenTree()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.conns: dict[str, Connection] = {}  # volume -> connection to its top
        self.ids = itertools.count(1)

    # -- processes -------------------------------------------------------------------------
    def _spawn(self, args: list[str], backing: str | None) -> str:
        """Start one nbdkit process; its socket path is the node's name."""
        node = str(self.dir / f"k{next(self.ids)}.sock")
        self.procs[node] = subprocess.Popen(
            ["nbdkit", "-f", "--exit-with-parent", "-U", node, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.tree.add(node, backing)
        return node

    def _overlay(self, frozen: str) -> str:
        return self._spawn(
            ["--filter=cow", "nbd", f"socket={frozen}", f"cow-block-size={COW_BLOCK}"], frozen
        )

    def _stop(self, node: str) -> None:
        proc = self.procs.pop(node)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        Path(node).unlink(missing_ok=True)

    def _connect(self, volume: str) -> None:
        old = self.conns.pop(volume, None)
        if old is not None:
            old.close()
        self.conns[volume] = Connection(self.tree.top[volume])

    def _release(self, nodes: list[str]) -> None:
        """Shut down every process nothing reads through any more (leaves first)."""
        for step in self.tree.collect(nodes, can_fold=False):
            self._stop(step.node)

    # -- primitives --------------------------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        self.tree.retop(volume, self._spawn(["memory", str(nbytes)], None))
        self._connect(volume)

    def _drop(self, volume: str) -> None:
        self.conns.pop(volume).close()
        self._release([self.tree.forget(volume)])

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Freeze each source's top process; source and targets get cow processes over it."""
        released = []
        for source in self.tree.frozen_sources(pairs):
            frozen = self.tree.top[source]
            self.conns.pop(source).close()  # nothing writes to the frozen process again
            self.tree.retop(source, self._overlay(frozen))
            self._connect(source)
            for target in (t for s, t in pairs if s == source):
                self.conns.pop(target).close()
                released.append(self.tree.retop(target, self._overlay(frozen)))
                self._connect(target)
        self._release([r for r in released if r is not None])
        return set()

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        self.conns[volume].write(offset, raw)

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        return self.conns[volume].read(offset, length)

    def _wipe(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()
        for node in self.tree.nodes():  # leaves first: a server waits for its clients
            self._stop(node)
        self.tree = FrozenTree()

    def _shutdown(self) -> None:
        self._wipe()
        shutil.rmtree(self.dir, ignore_errors=True)
