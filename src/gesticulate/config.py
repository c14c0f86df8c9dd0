"""Typed configs reject keys they do not know (STYLE.md rule 4): a typo in an option, or a
checkpoint written by another version, fails loudly instead of being ignored."""

from __future__ import annotations

from dataclasses import fields

from gesticulate.errors import GesticulateError, OptionError


def checked(cls, d: dict, *, what: str, error: type[GesticulateError] = OptionError,
            hint: str = "") -> dict:
    """``d`` unchanged when every key is a field of dataclass ``cls``; else ``error``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise error(f"unknown {what} {unknown}; known: {sorted(known)}" + (f"; {hint}" if hint else ""))
    return d
