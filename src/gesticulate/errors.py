"""One exception family for every problem a user can cause.

A :class:`GesticulateError` carries a message that names what was wrong and what to do about
it. The CLI prints it without a traceback and exits non-zero; ``assert`` stays for programmer
errors only (STYLE.md rule 7).
"""

from __future__ import annotations

import re
from pathlib import Path


class GesticulateError(Exception):
    """A problem with the user's input or options; the message says what to do."""

    exit_code = 2


class InputError(GesticulateError):
    """An input file is missing, unreadable, corrupt or unsuitable (audio, photo, video, npz)."""


class OptionError(GesticulateError):
    """A command-line or API option is out of range or inconsistent."""


class OutputError(GesticulateError):
    """The output cannot be written (missing folder, no permission, disk full)."""


class MissingExtraError(GesticulateError):
    """A command needs an optional extra (``web``, ``eval``, ``ray``) that is not installed;
    the message names the ``pip install 'gesticulate[...]'`` that brings it."""


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")   # two letters at least: C:// is a drive


def refuse_url(path, what: str) -> None:
    """Raise :class:`InputError` when ``path`` is a URL (``scheme://…``): inputs are read from
    files only (nothing is downloaded). Call it on the text the user gave, before ``Path``
    folds ``https://`` into ``https:/`` (a ``Path`` already made can no longer be told apart)."""
    text = str(path)
    if _URL.match(text):
        raise InputError(f"{what} {text[:80]} is a URL; gesticulate reads files only (it never "
                         f"downloads): save the {what} to a file and give its path")


def input_file(path, what: str, *, hint: str = "check the path and the spelling",
               empty: str | None = None) -> Path:
    """The file the user named as ``what`` ("photo", "audio file", ...), as a ``Path``, or
    :class:`InputError` saying what to do: a URL (nothing is downloaded), a missing path, a
    folder, and, when ``empty`` says what to give instead, a 0-byte file. One check for every
    reader, so every input is refused the same way."""
    refuse_url(path, what)
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} not found; {hint}")
    if p.is_dir():
        kind = what.removesuffix(" file")
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise InputError(f"{p} is a folder, not {article} {kind} file; give the path of a file")
    if empty is not None and p.stat().st_size == 0:
        raise InputError(f"{what} {p} is empty (0 bytes); {empty}")
    return p

