"""Atomic writes: a file is either all there, or the previous one is intact.

Every file noiseclf writes (models, cleaned scrapes, labels, progress, site
memory, corpora) goes through :func:`atomic_write_bytes`, or, for a stream,
into a :func:`new_temp_file` renamed over the target when complete.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from .errors import OutputError

# Test hook: NOISECLF_TEST_SLOW_WRITE=SECONDS makes every atomic write go out
# in 4 KiB chunks with that pause between them, so that a test can kill the
# process while a write is under way. Unset in normal use.
_SLOW_WRITE_ENV = "NOISECLF_TEST_SLOW_WRITE"
_TMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name[:120]}."


# Temporary files seen in each folder, listed once per process: a command
# writing 400 files into one folder would otherwise list it 400 times.
_temps_seen: dict[str, list[str]] = {}


def _remove_stale_temps(path: Path) -> None:
    """Delete temporary files left beside ``path`` by writers that were killed.

    A temporary file is named ``.NAME.PID.RANDOM.tmp``; it is stale when no
    process PID is running (a live writer's file is never touched). The folder
    is listed on this process's first write into it.
    """
    prefix = _temp_prefix(path)
    key = str(path.parent)
    if key not in _temps_seen:
        try:
            _temps_seen[key] = [name for name in os.listdir(path.parent)
                                if name.startswith(".") and name.endswith(_TMP_SUFFIX)]
        except OSError:
            return
    names = _temps_seen[key]
    for name in [n for n in names if n.startswith(prefix)]:
        pid_text = name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # its writer is still running
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, OSError):
            continue
        try:
            (path.parent / name).unlink()
            names.remove(name)
        except OSError:
            pass


def _write_all(fh, data: bytes) -> None:
    delay = os.environ.get(_SLOW_WRITE_ENV)
    if not delay:
        fh.write(data)
        return
    import time

    pause = float(delay)
    view = memoryview(data)
    for i in range(0, len(view), 4096):
        fh.write(view[i:i + 4096])
        fh.flush()
        time.sleep(pause)


def new_temp_file(path: str | Path) -> Path:
    """Create an empty temporary file ``.NAME.PID.RANDOM.tmp`` beside ``path``, for writing it.

    It gets the permissions of the file it will replace, or the usual ones for
    a new file (the umask applies); stale temporary files of killed writers of
    the same path are deleted first. The caller fills it, flushes it to disk,
    and renames it over ``path`` (or deletes it on failure).
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist; create it first")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name inside it")
    _remove_stale_temps(path)
    tmp = parent / f"{_temp_prefix(path)}{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        os.close(fd)
        try:
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            pass
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {parent} ({exc.strerror}); check its permissions or pick another place") from None
    return tmp


def atomic_write_bytes(path: str | Path, data: bytes, sync_folder: bool = True) -> Path:
    """Write ``data`` to ``path`` so that it is either all there or not at all.

    The bytes go to a temporary file (:func:`new_temp_file`) beside ``path``,
    which is flushed to disk and renamed over ``path``. An interrupted or
    killed writer leaves the previous file intact; temporary files left by a
    killed writer are deleted by the next write to the same path.
    ``sync_folder=False`` leaves the folder's own flush (which makes the rename
    survive a power cut) to one :func:`fsync_folder` call after many writes.
    """
    path = Path(path)
    tmp = new_temp_file(path)
    try:
        with open(tmp, "r+b") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: could not be written ({exc.strerror or exc}); the previous file, if any, is unchanged") from None
        raise
    if sync_folder:
        fsync_folder(path.parent)
    return path


def fsync_folder(folder: str | Path) -> None:
    """Flush a folder to disk, so that the renames into it are durable."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
