"""One `qemu-storage-daemon`: its QMP monitor, qcow2 nodes it owns, and NBD exports of them.

Shared by the `qemu-live` and `qemu-cbw` drivers. QMP is spoken through `qemu.qmp` (QEMU's own
client library, from PyPI), NBD through libnbd (`nbd_client`). Every node is added with
`blockdev-add`, so the monitor owns it and it lives until `blockdev-del` — nodes created
implicitly by QEMU vanish behind the driver's back (`shared/engines.md` §3). The daemon runs with
its output sent nowhere and is killed, after a clean `quit`, when the driver closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .nbd_client import Connection, load_nbd

PR_SET_PDEATHSIG = 1
CLUSTER = 2048  # qcow2 cluster: two vocabulary blocks of 1 KiB, so writes cover part of one


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM when the harness dies, however it
    dies (qemu-storage-daemon has no --exit-with-parent of its own)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _kept(event: dict[str, Any]) -> bool:
    """Events the drivers wait for; the rest (job status chatter) are dropped as they come."""
    if event["event"] == "JOB_STATUS_CHANGE":
        return event.get("data", {}).get("status") in ("pending", "null")
    return event["event"] in ("BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED", "BLOCK_EXPORT_DELETED")


def load_qmp() -> Any:
    """QEMU's QMP client class, or RuntimeError naming the package."""
    try:
        from qemu.qmp.legacy import QEMUMonitorProtocol
    except ImportError:
        raise RuntimeError("needs QEMU's QMP library (pip install qemu.qmp)") from None
    return QEMUMonitorProtocol


def require_qsd() -> None:
    """RuntimeError naming what is missing for a storage daemon with NBD exports."""
    missing = [t for t in ("qemu-storage-daemon", "qemu-img") if shutil.which(t) is None]
    if missing:
        raise RuntimeError(
            f"needs {', '.join(missing)} (apt-get install qemu-system-common qemu-utils)"
        )
    load_qmp()
    load_nbd()


STARTUP_SECONDS = 60  # a loaded machine starts a daemon slowly; a dead one fails at once


class StorageDaemon:
    """A running qemu-storage-daemon with a QMP monitor and an NBD server on unix sockets."""

    def __init__(self, prefix: str) -> None:
        require_qsd()
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.qmp_path = str(self.dir / "qmp.sock")
        self.nbd_path = str(self.dir / "nbd.sock")
        self.ids = itertools.count(1)
        self.volumes: dict[str, tuple[str, Connection]] = {}  # volume -> export, connection
        self.proc = subprocess.Popen(
            [
                "qemu-storage-daemon",
                "--chardev",
                f"socket,path={self.qmp_path},server=on,wait=off,id=mon",
                "--monitor",
                "chardev=mon",
                "--nbd-server",
                f"addr.type=unix,addr.path={self.nbd_path}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not Path(self.nbd_path).exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("qemu-storage-daemon did not start")
            time.sleep(0.005)
        self.pending: list[dict[str, Any]] = []  # events read but not yet asked for
        self.qmp = self._monitor()

    def _monitor(self) -> Any:
        """A QMP connection to the daemon. On a loaded machine the greeting and capabilities
        negotiation can fail ("Negotiation failed", seen once in three suite runs at load 7.5
        on 2 cores): the monitor accepts a new client after the old one is gone, so connecting
        is retried until STARTUP_SECONDS have passed."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            qmp = load_qmp()(self.qmp_path)
            try:
                qmp.connect()
                qmp.settimeout(30)
                return qmp
            except Exception as err:  # qemu.qmp's ConnectError and NegotiationError
                with contextlib.suppress(Exception):
                    qmp.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    why = f"cannot reach qemu-storage-daemon's monitor: {err}"
                    raise RuntimeError(why) from err
                time.sleep(0.5)

    # -- monitor -------------------------------------------------------------------------------
    def cmd(self, command: str, **args: Any) -> Any:
        """A QMP command's return value; RuntimeError with QEMU's words when it fails."""
        answer = self.qmp.cmd_raw(command, args) if args else self.qmp.cmd_raw(command)
        if "error" in answer:
            raise RuntimeError(f"QMP {command}: {answer['error'].get('desc', answer['error'])}")
        return answer.get("return")

    def _pull(self, wait: float) -> dict[str, Any] | None:
        """The next event worth keeping (job endings, export deletions), or None."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            try:
                event = self.qmp.pull_event(wait=left if left > 0 else False)
            except TimeoutError:
                return None
            if event is None or _kept(event):
                return event

    def wait_for(self, *wanted: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        """The first event matching one of (name, data values); the others are kept."""

        def matches(event: dict[str, Any]) -> bool:
            data = event.get("data", {})
            return any(
                event["event"] == name and all(data.get(k) == v for k, v in match.items())
                for name, match in wanted
            )

        deadline = time.monotonic() + 30
        while True:
            for event in self.pending:
                if matches(event):
                    self.pending.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"qemu-storage-daemon sent none of {wanted} within 30 s")
            event = self._pull(max(0.01, left))
            if event is not None:
                self.pending.append(event)

    def wait_event(self, name: str, **match: Any) -> dict[str, Any]:
        """The data of the first event of that name whose data has these values."""
        return self.wait_for((name, match)).get("data", {})

    def start_job(self, command: str, **args: Any) -> str:
        """Start a block job; its id."""
        job = f"j{next(self.ids)}"
        self.cmd(command, **{"job-id": job, **args})
        return job

    def wait_job(self, job: str, pending: bool = False) -> dict[str, Any]:
        """Wait until a job has ended and is gone; its completion data; RuntimeError if it
        failed. A job started with `auto-finalize` off (`pending=True`) waits, its data
        copied, until it is finalized here. (A job still holds its nodes between
        BLOCK_JOB_COMPLETED and its last status change, `null`: a command on them in between
        is refused as busy.)"""
        if pending:
            event = self.wait_for(
                ("JOB_STATUS_CHANGE", {"id": job, "status": "pending"}),
                ("BLOCK_JOB_COMPLETED", {"device": job}),  # it failed before pending
            )
            if event["event"] == "JOB_STATUS_CHANGE":
                self.cmd("job-finalize", id=job)
            else:
                self.pending.append(event)
        data = self.wait_event("BLOCK_JOB_COMPLETED", device=job)
        self.wait_event("JOB_STATUS_CHANGE", id=job, status="null")
        if "error" in data:
            raise RuntimeError(f"block job {job} failed: {data['error']}")
        return data

    def cancel_job(self, job: str) -> None:
        """Stop a job where it is, running or pending (`block-job-cancel`): what it copied
        stays, and its node reads through what it read through before; wait until it is
        gone."""
        self.cmd("block-job-cancel", device=job, force=True)
        event = self.wait_for(
            ("BLOCK_JOB_CANCELLED", {"device": job}),
            ("BLOCK_JOB_COMPLETED", {"device": job}),  # it ended as the cancel came
        )
        self.wait_event("JOB_STATUS_CHANGE", id=job, status="null")
        if "error" in event.get("data", {}):
            raise RuntimeError(f"block job {job} failed: {event['data']['error']}")

    def run_job(self, command: str, **args: Any) -> None:
        """Start a block job and wait until it has completed."""
        self.wait_job(self.start_job(command, **args))

    # -- nodes ---------------------------------------------------------------------------------
    def new_node(self, nbytes: int, backing: str | None = None) -> str:
        """A new, empty qcow2 file added as a node that reads through `backing` (or nothing)."""
        node = f"n{next(self.ids)}"
        path = str(self.dir / f"{node}.qcow2")
        options = ["-q", "-f", "qcow2", "-o", f"cluster_size={CLUSTER}"]
        done = subprocess.run(
            ["qemu-img", "create", *options, path, str(nbytes)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"qemu-img create: {done.stderr.strip()}")
        self.cmd(
            "blockdev-add",
            driver="qcow2",
            **{"node-name": node},
            file={"driver": "file", "filename": path},
            backing=backing,
        )
        return node

    def rebase(self, node: str, backing: str, read_only: bool) -> None:
        """The node reads through `backing` from now on, live (`blockdev-reopen`: every
        option of the node is given again, with the new backing; a frozen node stays
        read-only)."""
        self.cmd(
            "blockdev-reopen",
            options=[
                {
                    "driver": "qcow2",
                    "node-name": node,
                    "file": {"driver": "file", "filename": str(self.dir / f"{node}.qcow2")},
                    "backing": backing,
                    "read-only": read_only,
                }
            ],
        )

    def delete_node(self, node: str) -> None:
        """Remove a node nothing uses any more, and its file."""
        self.cmd("blockdev-del", **{"node-name": node})
        (self.dir / f"{node}.qcow2").unlink(missing_ok=True)

    # -- exports -------------------------------------------------------------------------------
    def export(self, node: str) -> tuple[str, Connection]:
        """A writable NBD export of a node, and a connection to it."""
        export = f"e{next(self.ids)}"
        self.cmd(
            "block-export-add",
            type="nbd",
            id=export,
            **{"node-name": node},
            name=export,
            writable=True,
        )
        return export, Connection(self.nbd_path, export)

    def unexport(self, export: str, conn: Connection) -> None:
        """Disconnect, then remove the export once QEMU says it is gone."""
        conn.close()
        self.cmd("block-export-del", id=export)
        self.wait_event("BLOCK_EXPORT_DELETED", id=export)

    # -- volumes: one export and one connection each --------------------------------------------
    def expose(self, volume: str, node: str) -> None:
        """The volume's export, (re)pointed at `node`, and a fresh connection to it."""
        self.hide(volume)
        self.volumes[volume] = self.export(node)

    def hide(self, volume: str) -> None:
        """Remove the volume's export, if it has one."""
        old = self.volumes.pop(volume, None)
        if old is not None:
            self.unexport(*old)

    def connection(self, volume: str) -> Connection:
        """The connection to the volume's export."""
        return self.volumes[volume][1]

    def close(self) -> None:
        """Quit the daemon (kill it if it does not go) and remove its files."""
        for _, conn in self.volumes.values():
            conn.close()
        self.volumes.clear()
        if getattr(self, "qmp", None) is not None:
            try:
                self.qmp.cmd_raw("quit")
                self.qmp.close()
            except Exception:  # the daemon is already gone
                pass
            self.qmp = None
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
