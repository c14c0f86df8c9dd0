"""Atomic output folders: written under a hidden temporary name, renamed into place at the end.

A reader never sees a half-written folder under the final name; a failure (or Ctrl-C) removes
the temporary folder and leaves any previous output untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gesticulate.errors import OutputError


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


@contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it replaces ``path``.

    An existing ``path`` (file or folder) is replaced only when ``overwrite`` is true, and only
    after the new folder is complete.
    """
    path = check_output(path, overwrite=overwrite)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        old = None
        if path.exists() or path.is_symlink():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / "x")
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise OutputError(f"could not write {path}: {e.strerror or e}; free some disk space or "
                          "choose another folder") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
