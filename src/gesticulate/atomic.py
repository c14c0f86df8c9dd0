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
from typing import Callable, Iterable, Iterator

from gesticulate.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(path: str | os.PathLike, *, overwrite: bool = True,
                 inputs: dict | None = None) -> Path:
    """Fail early, before any work, when ``path`` (a file or folder to create) cannot be written,
    or names one of ``inputs`` (what the command reads, by name: ``{"audio": path, ...}``;
    entries that are no path are skipped): written, it would destroy that input
    (``generate --audio talk.mp4 --output talk.mp4`` replaced the user's video)."""
    path = Path(path)
    for name, given in (inputs or {}).items():
        if isinstance(given, (str, os.PathLike)) and same_file(path, given):
            raise OutputError(f"output {path} is the {name} this command reads; writing it would "
                              f"destroy your {name}: give the output another name")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"output folder {parent} does not exist; create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}: permission denied; choose a folder you can write to")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; remove it or choose another output name")
    return path


def holds(*names: str) -> Callable[[Path], bool]:
    """A ``previous`` test for :func:`atomic_dir`: the folder has all of these files."""
    return lambda folder: all((folder / n).exists() for n in names)


# Files an operating system leaves in any folder it shows: a folder holding only these is empty.
OS_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def is_empty(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but :data:`OS_CLUTTER`."""
    return all(p.name in OS_CLUTTER for p in folder.iterdir())


def check_folder_output(path: str | os.PathLike, *, previous: Callable[[Path], bool] | None = None,
                        what: str = "output", inputs: Iterable | None = None) -> Path:
    """Refuse, before any work, a folder output ``path`` whose replacement would delete what
    the user has there (:func:`atomic_dir` replaces the whole folder): the current folder or
    one holding it, a file, a folder with things in it unless ``previous(path)`` says it is
    this writer's own earlier ``what``, and a folder that holds one of ``inputs`` (the paths
    the command reads: a report folder over the clip it reenacts)."""
    path = Path(path)
    try:
        here = Path.cwd().resolve()
    except OSError:             # the working folder was deleted: it cannot be the output
        here = None
    if here is not None and (path.resolve() == here or path.resolve() in here.parents):
        raise OutputError(f"output {path} is the current folder (or holds it); give a new folder "
                          f"for the {what}, such as {path / what.replace(' ', '-')}")
    if not (path.exists() or path.is_symlink()):
        return path
    if not path.is_dir():
        raise OutputError(f"output {path} is a file (or a broken link); give a folder for the "
                          f"{what}")
    for given in inputs or ():
        if isinstance(given, (str, os.PathLike)) and Path(given).exists() \
                and path.resolve() in (Path(given).resolve(), *Path(given).resolve().parents):
            raise OutputError(f"output {path} holds {given}, which this command reads; give a "
                              f"new folder for the {what}")
    if not is_empty(path) and not (previous is not None and previous(path)):
        raise OutputError(f"output {path} is a folder with other things in it, which writing "
                          f"the {what} there would delete; choose a new folder (an earlier "
                          f"{what} there is replaced)")
    return path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file (through links and ``..`` too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:         # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


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
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True,
               previous: Callable[[Path], bool] | None = None, what: str = "output",
               inputs: Iterable | None = None) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it replaces ``path``.

    An existing ``path`` is replaced only when ``overwrite`` is true, and only after the new
    folder is complete, and only when it is an empty folder or ``previous(path)`` says it is
    this writer's own earlier ``what`` (a report, an export): replacing a folder replaces all
    it holds, and ``gesticulate reenact clip.mp4 --output mine`` deleted the user's files in
    ``mine``. Anything else there (a file, a folder of other things, the current folder, a
    folder holding one of ``inputs``) is refused before any work
    (:func:`check_folder_output`).
    """
    path = check_folder_output(check_output(path, overwrite=overwrite), previous=previous,
                               what=what, inputs=inputs)
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
