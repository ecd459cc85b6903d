"""One process at a time in a run folder: ``folder/.lock`` holds the pid of the process that works there.

`folder_lock` takes the lock (an exclusive ``fcntl.flock`` on the file, which the operating system drops when
the process ends, however it ends) and writes ``{"pid", "host", "since"}`` into it for the message a second
process gets: `FolderLocked`, one line naming the pid. A lock file left by a process that died is not held by
anyone, so the next process simply takes it (a stale lock is recovered without a manual step).

Where ``flock`` is missing (Windows) or refused (some network file systems), the pid in the file decides: a
live process on this host keeps the folder, a dead one's file is replaced.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".lock"


class FolderLocked(RuntimeError):
    """Another live process works in the folder."""


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _refuse(folder: Path, path: Path, what: str) -> FolderLocked:
    holder = _holder(path)
    who = f"process {holder['pid']}" if "pid" in holder else "another process"
    where = f" on {holder['host']}" if holder.get("host") not in (None, socket.gethostname()) else ""
    since = f" since {holder['since']}" if "since" in holder else ""
    return FolderLocked(f"{folder} is in use: {who}{where} {what} in it{since} (lock file {path}): wait for it to "
                        f"end, or use another folder")


def _take_by_pid(fd: int, path: Path, folder: Path, what: str) -> None:
    holder = _holder(path)
    pid, host = holder.get("pid"), holder.get("host")
    if isinstance(pid, int) and pid != os.getpid() and (host != socket.gethostname() or _alive(pid)):
        raise _refuse(folder, path, what)


@contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "trains") -> Iterator[Path]:
    """Hold ``folder/.lock`` for the ``with`` block (the folder is made if missing, and removed again at the end
    when it was made here and is still empty). ``what`` names the work in the refusal ("trains")."""
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is None:
                _take_by_pid(fd, path, folder, what)
            else:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as err:
                    if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise _refuse(folder, path, what) from None
                    _take_by_pid(fd, path, folder, what)  # no flock on this file system
        except BaseException:
            os.close(fd)
            if made and not any(folder.iterdir()):
                folder.rmdir()
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file while we waited for it: take the new one
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)  # removed while still held: a waiting process then retries on a new file
        os.close(fd)
        if made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
