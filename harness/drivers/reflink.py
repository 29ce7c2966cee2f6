"""`reflink-btrfs`, `reflink-xfs`: whole-file reflink clones on a loop-mounted file system.

The kernel's extent-refcount copy-on-write (btrfs and XFS, two independent implementations)
behind the vocabulary. Every volume is a file on a file system the driver makes in a loop file
and mounts in its own temporary directory; starting S->T is `ioctl(T, FICLONE, S)`: T shares
every extent of S and the kernel copies an extent only when either file is written. There are
no chains, so a clone's background copy has nothing to do (a start is complete at once) and any
volume can be deleted independently.

Reads bypass the page cache (`O_DIRECT`, into page-aligned buffers, over whole 4 KiB sectors):
the kernel first writes back the dirty pages of the range, then reads the disk, so what a
volume reads is the file system's on-disk extent, shared or not — a bad copy of a shared
extent could not hide in the cache.

Needs root, a loop device (`/dev/loop-control`) and permission to mount; where any is missing
the driver is unavailable and says why.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

from .image_engine import ImageEngine

FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h
SECTOR = 4096  # O_DIRECT alignment used for reads (a multiple of any logical block size)


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


class LoopMount:
    """A file system made in a loop file and mounted in a private directory."""

    def __init__(self, fstype: str, mkfs: list[str], megabytes: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"cascadecheck-{fstype}-"))
        self.image = self.dir / "fs.img"
        self.mount = self.dir / "mnt"
        self.mount.mkdir()
        self.loop: str | None = None
        self.mounted = False
        try:
            with open(self.image, "wb") as f:
                f.truncate(megabytes << 20)
            _run(*mkfs, str(self.image))
            self.loop = _run("losetup", "--find", "--show", str(self.image))
            _run("mount", "-t", fstype, self.loop, str(self.mount))
            self.mounted = True
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Unmount, detach the loop device, remove the directory."""
        if self.mounted:
            subprocess.run(["umount", str(self.mount)], capture_output=True)
            self.mounted = False
        if self.loop is not None:
            subprocess.run(["losetup", "-d", self.loop], capture_output=True)
            self.loop = None
        shutil.rmtree(self.dir, ignore_errors=True)


class Reflink(ImageEngine):
    """The vocabulary on reflink clones of files."""

    fstype: ClassVar[str] = "?"
    mkfs: ClassVar[list[str]] = []
    package: ClassVar[str] = "?"
    megabytes: ClassVar[int] = 300  # XFS refuses smaller file systems

    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise RuntimeError("needs root to set up a loop device and mount it")
        if not Path("/dev/loop-control").exists():
            raise RuntimeError("needs loop devices (/dev/loop-control is missing)")
        missing = [t for t in (self.mkfs[0], "losetup", "mount") if shutil.which(t) is None]
        if missing:
            raise RuntimeError(f"needs {', '.join(missing)} (apt-get install {self.package})")
        super().__init__()
        self.fs = LoopMount(self.fstype, self.mkfs, self.megabytes)
        self.fds: dict[str, int] = {}  # read-write, through the page cache
        self.direct: dict[str, int] = {}  # read-only, O_DIRECT

    def _path(self, volume: str) -> Path:
        return self.fs.mount / f"v{volume.encode().hex()}"  # any name is a safe file name

    def _make(self, volume: str, nbytes: int) -> None:
        fd = os.open(self._path(volume), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(fd, nbytes)
        self.fds[volume] = fd
        self.direct[volume] = os.open(self._path(volume), os.O_RDONLY | os.O_DIRECT)

    def _drop(self, volume: str) -> None:
        os.close(self.fds.pop(volume))
        os.close(self.direct.pop(volume))
        self._path(volume).unlink()

    def _start(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Each target shares its source's extents (FICLONE replaces its whole content)."""
        for source, target in pairs:
            fcntl.ioctl(self.fds[target], FICLONE, self.fds[source])
        return set()

    def _write(self, volume: str, offset: int, raw: bytes) -> None:
        if os.pwrite(self.fds[volume], raw, offset) != len(raw):
            raise RuntimeError(f"short write to {volume}")

    def _read(self, volume: str, offset: int, length: int) -> bytes:
        """From the disk: whole aligned sectors into an aligned buffer, then the range."""
        start = offset - offset % SECTOR
        end = -(-(offset + length) // SECTOR) * SECTOR
        with mmap.mmap(-1, end - start) as buf:  # page-aligned, as O_DIRECT needs
            got = os.preadv(self.direct[volume], [buf], start)
            return bytes(buf[offset - start : min(got, offset - start + length)])

    def _shutdown(self) -> None:
        for fd in (*self.fds.values(), *self.direct.values()):
            os.close(fd)
        self.fds.clear()
        self.direct.clear()
        self.fs.close()


class ReflinkBtrfs(Reflink):
    """Reflink clones on btrfs."""

    name = "reflink-btrfs"
    version = "btrfs FICLONE"
    fstype = "btrfs"
    mkfs: ClassVar[list[str]] = ["mkfs.btrfs", "-q", "-f"]
    package = "btrfs-progs"


class ReflinkXfs(Reflink):
    """Reflink clones on XFS."""

    name = "reflink-xfs"
    version = "xfs FICLONE"
    fstype = "xfs"
    mkfs: ClassVar[list[str]] = ["mkfs.xfs", "-q", "-f", "-m", "reflink=1"]
    package = "xfsprogs"
