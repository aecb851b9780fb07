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
import shutil
import stat
from pathlib import Path
from typing import Any

from ._errors import DataError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "check_dataset_path",
    "check_writable",
    "write_dataset",
]

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
                    if entry.is_dir(follow_symlinks=False):  # a Zarr store being written
                        shutil.rmtree(entry.path)
                    else:
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


def write_dataset(ds: Any, path: str | Path, option: str = "output") -> Path:
    """Write an xarray Dataset as NetCDF (``.nc``: one file) or Zarr (``.zarr``: a directory
    store), atomically: the store is written beside the target under a temporary name and
    renamed into place, so a failure leaves any earlier store as it was. Text variables
    (``status_text``) are left out: ``status`` holds the same codes.

    Raises
    ------
    DataError
        On another suffix, an unwritable path, or a path holding something other than a
        Zarr store (a folder is never replaced unless it is one); the message names
        ``option`` and the path.
    """
    target = check_dataset_path(path, option)
    data = ds.drop_vars([v for v in ("status_text",) if v in ds])
    if target.suffix.lower() == ".nc":
        return atomic_write_bytes(target, bytes(data.to_netcdf(engine="scipy")))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{option} {target}: folder {folder} does not exist")
    if target.is_symlink() or (target.exists() and not _is_zarr_store(target)):
        raise DataError(
            f"{option} {target}: something other than a Zarr store is there; not replaced"
        )
    try:
        import zarr  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency of the package
        raise DataError(f"{option} {target}: writing Zarr needs the 'zarr' package") from None
    _clean_stale(folder)
    tmp = folder / f".{target.name}.asnflux-{os.getpid()}.tmp"
    old = folder / f".{target.name}.asnflux-{os.getpid()}.old.tmp"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        # Zarr format 2 with consolidated metadata: read by every Zarr implementation
        data.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
        if target.exists():
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.rename(old, target)
        raise DataError(f"{option} {target}: cannot write ({exc.strerror or exc})") from None
    return target


def check_dataset_path(path: str | Path, option: str = "output") -> Path:
    """Check, before any work, that ``path`` names a NetCDF file (``.nc``, writable) or a
    Zarr store (``.zarr``)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".nc", ".zarr"):
        raise DataError(
            f"{option} {target}: an ensemble is written as NetCDF (.nc) or Zarr (.zarr)"
        )
    if suffix == ".nc":
        check_writable(target)
    return target


def _is_zarr_store(path: Path) -> bool:
    """A folder that holds a Zarr group (v3 ``zarr.json`` or v2 ``.zgroup``)."""
    return path.is_dir() and ((path / "zarr.json").exists() or (path / ".zgroup").exists())
