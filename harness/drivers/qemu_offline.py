"""`qemu-offline`: QEMU's qcow2 backing chains, driven with `qemu-img` and one `qemu-io`.

A real, independently written point-in-time-copy engine behind the vocabulary. Every volume is
the top file of a qcow2 backing chain. Starting S->T freezes S's top file (it becomes a shared,
read-only backing node) and gives S and T each a new empty overlay on it: both read as S did at
that instant, both stay writable (redirect-on-write, the "frozen node" layout of
`shared/engines.md` §2). A clone's background copy is `qemu-img rebase -b ""`, which copies
every cluster the target does not hold from its backing chain into the target. The frozen
files form a `FrozenTree`: a file nothing reads any more is deleted, and a frozen file with one
reader left is folded into it (safe `qemu-img rebase` onto the file's own backing).

Blocks of the vocabulary are 64-byte regions; a token is stored as its UTF-8 bytes padded with
zeros ("" is all zeros) and read back with `read -v` hex dumps. One `qemu-io` process serves
every volume over a pipe (`close`, `open`, operation), never a process per operation; it is
closed before every `qemu-img` mutation, because an open image holds a write lock on its chain.

Supports what `ImageEngine` keeps (volumes, maps of both types, start — restore needs nothing
special —, writes, reads, `copy`/`settle` as the clone's background copy, deletes, map
states). qcow2 chains have no stopping, cleaning or cascade internals.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .frozen_tree import Delete, FrozenTree
from .image_engine import ImageEngine

PROMPT = "qemu-io> "
# 4 KiB clusters = 4 vocabulary blocks of 1 KiB: a volume spans clusters, and most writes
# cover part of one, so qcow2's copy-up of the rest of a cluster is exercised
CREATE = ("-q", "-f", "qcow2", "-o", "cluster_size=4096")
HEX = re.compile(r"^[0-9a-f]{8}:  ((?:[0-9a-f]{2} ){1,16})")


class QemuIo:
    """One long-lived qemu-io process, fed over a pipe, answering until its prompt."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["qemu-io"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=0,
        )
        self.current: str | None = None
        self._until_prompt()

    def _until_prompt(self) -> str:
        assert self.proc.stdout is not None
        out = []
        while True:
            ch = self.proc.stdout.read(1)
            if ch == "":
                raise RuntimeError(f"qemu-io exited: {''.join(out)[-300:]}")
            out.append(ch)
            if ch == " " and "".join(out[-len(PROMPT) :]) == PROMPT:
                return "".join(out[: -len(PROMPT)])

    def command(self, line: str) -> str:
        """Run one command and return what it printed."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._until_prompt()

    def use(self, path: str | None) -> None:
        """Open this image (closing the previous one), or close everything."""
        if self.current == path:
            return
        if self.current is not None:
            self.command("close")
            self.current = None
        if path is not None:
            out = self.command(f"open -o driver=qcow2 {path}")
            if out.strip():
                raise RuntimeError(f"qemu-io cannot open {path}: {out.strip()}")
            self.current = path

    def close(self) -> None:
        """Quit the process."""
        if self.proc.poll() is None:
            try:
                self.use(None)
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)


class QemuOffline(ImageEngine):
    """The vocabulary on qcow2 backing chains: one file per node of a `FrozenTree`."""

    name = "qemu-offline"
    version = "qcow2 via qemu-img/qemu-io 7.x"
    max_blocks = 1024  # reads parse qemu-io hex dumps: a 1 MiB volume is 65,536 lines

    def __init__(self) -> None:
        missing = [t for t in ("qemu-img", "qemu-io") if shutil.which(t) is None]
        if missing:
            raise RuntimeError(f"needs {', '.join(missing)} (apt-get install qemu-utils)")
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cascadecheck-qemu-"))
        self.io = QemuIo()
        self.files = 0
        self.tree = FrozenTree()

    # -- plumbing -----------------------------------------------------------------------------
    def _file(self) -> str:
        self.files += 1
        return str(self.dir / f"n{self.files}.qcow2")

    def _img(self, *args: str) -> None:
        self.io.use(None)  # an open image locks its chain
        done = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"qemu-img {' '.join(args)}: {done.stderr.strip()}")

    def _overlay(self, backing: str) -> str:
        path = self._file()
        self._img("create", *CREATE, "-b", backing, "-F", "qcow2", path)
        self.tree.add(path, backing)
        return path

    def _collect(self, released: list[str]) -> None:
        """Remove files nothing reads any more; fold a frozen file into its only reader with a
        safe rebase (the reader copies what it lacks, then reads through the file's backing)."""
        for step in self.tree.collect(released, can_fold=True):
            if not isinstance(step, Delete):
                base = ["-b", step.base, "-F", "qcow2"] if step.base else ["-b", ""]
                self._img("rebase", "-q", "-f", "qcow2", *base, step.child)
            Path(step.node).unlink()

    # -- primitives ---------------------------------------------------------------------------
    def _make(self, volume: str, nbytes: int) -> None:
        path = self._file()
        self._img("create", *CREATE, path, str(nbytes))
        self.tree.add(path)
        self.tree.retop(volume, path)

    def _drop(self, volume: str) -> None:
        self.io.use(None)
        self._collect([self.tree.forget(volume)])

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Freeze each source's top file; source and targets get new overlays on it."""
        released = []
        for source in self.tree.frozen_sources(pairs):
            frozen = self.tree.top[source]
            self.tree.retop(source, self._overlay(frozen))
            for target in (t for s, t in pairs if s == source):
                released.append(self.tree.retop(target, self._overlay(frozen)))
        self._collect([r for r in released if r is not None])
        return set()

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        payload = self.dir / "payload.bin"
        payload.write_bytes(raw)
        self.io.use(self.tree.top[volume])
        out = self.io.command(f"write -s {payload} {offset} {len(raw)}")
        if "wrote" not in out:
            raise RuntimeError(f"qemu-io write failed: {out.strip()}")

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        self.io.use(self.tree.top[volume])
        out = self.io.command(f"read -v {offset} {length}")
        raw = bytearray()
        for line in out.splitlines():
            match = HEX.match(line)
            if match:
                raw += bytes.fromhex(match.group(1).replace(" ", ""))
        return bytes(raw)

    def _finish(self, target: str) -> None:
        """A clone's background copy, all at once: the target takes every cluster it lacks
        (`rebase -b ""`); the nodes it read through may become garbage."""
        top = self.tree.top[target]
        base = self.tree.backing(top)
        if base is None:
            return
        self._img("rebase", "-q", "-f", "qcow2", "-b", "", top)
        self.tree.graph.remove_edge(base, top)
        self._collect([base])

    def _wipe(self) -> None:
        self.io.use(None)
        for path in self.dir.glob("*.qcow2"):
            path.unlink()
        self.tree = FrozenTree()

    def _shutdown(self) -> None:
        """Stop qemu-io and remove every file."""
        self.io.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __del__(self) -> None:
        if hasattr(self, "io"):
            self.close()
