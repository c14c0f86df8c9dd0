"""Atomic outputs: written under a hidden temporary name beside the target, renamed into place
at the end.

A reader never sees a half-written file or folder under the final name; a failure (or Ctrl-C)
removes the temporary and leaves any previous output untouched. Everything that writes a user-
visible output goes through :func:`atomic_file` or :func:`atomic_dir`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gesticulate.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Fail early, before any work, when ``path`` (a file or folder to create) cannot be written."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"output folder {parent} does not exist; create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}: permission denied; choose a folder you can write to")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; remove it or choose another output name")
    return path


def _disk_error(path: Path, e: OSError) -> OutputError:
    return OutputError(f"could not write {path}: {e.strerror or e}; free some disk space or "
                       "choose another folder")


@contextmanager
def atomic_file(path: str | os.PathLike, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; on success it replaces ``path``.

    The file gets the permissions a plain ``open(path, "w")`` would give (0666 less the umask),
    not ``mkstemp``'s 0600. ``suffix`` keeps an extension that a writer insists on
    (``np.savez`` appends ``.npz`` otherwise).
    """
    path = check_output(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name inside it")
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as e:
        raise _disk_error(path, e) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        raise _disk_error(path, e) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it replaces ``path``.

    An existing ``path`` (file or folder) is replaced only when ``overwrite`` is true, and only
    after the new folder is complete.
    """
    path = check_output(path, overwrite=overwrite)
    try:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as e:
        raise _disk_error(path, e) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        old = None
        if path.exists() or path.is_symlink():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / "x")
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise _disk_error(path, e) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
