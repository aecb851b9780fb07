"""Atomic file writes: a failure never leaves a half-written file or destroys an old one.

A file is written to a temporary sibling named ``.NAME.asnflux-PID.tmp`` and renamed over
the target. The new file gets the permissions a plain ``open()`` would give it (0666 less
the umask), or keeps those of the regular file it replaces. Symlinks, FIFOs, devices and
folders at the target are refused, not replaced. Temporaries left by a killed process
(whose PID no longer runs) are removed by the next write to the same folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

from ._errors import DataError

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_writable"]

_TMP = re.compile(r"^\..+\.asnflux-(\d+)\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            m = _TMP.match(entry.name)
            if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def check_writable(path: str | Path) -> Path:
    """Check that ``path`` can be written as a regular file, before any work is done.

    Raises
    ------
    DataError
        If the folder is missing or not writable, the name is too long, or something other
        than a regular file (folder, symlink, FIFO, device) is at the path.
    """
    target = Path(path)
    if str(target) == "" or target.name in ("", ".", ".."):
        raise DataError(f"cannot write {str(target)!r}: not a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"cannot write {target}: folder {folder} does not exist")
    try:
        max_name = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        max_name = 255
    if len(os.fsencode(target.name)) + 24 > max_name:
        raise DataError(f"cannot write {target}: file name longer than {max_name - 24} bytes")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = (
            "a symbolic link"
            if stat.S_ISLNK(st.st_mode)
            else "a folder"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device or socket"
        )
        raise DataError(f"cannot write {target}: it is {kind}, not a regular file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"cannot write {target}: folder {folder} is not writable")
    return target


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    Raises
    ------
    DataError
        If the path cannot be written (see :func:`check_writable`) or the write fails; the
        message names the path.
    """
    target = check_writable(path)
    folder = target.parent if str(target.parent) else Path(".")
    _clean_stale(folder)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    tmp = folder / f".{target.name}.asnflux-{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = "file name too long" if exc.errno == errno.ENAMETOOLONG else exc.strerror
        raise DataError(f"cannot write {target}: {reason}") from None
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
