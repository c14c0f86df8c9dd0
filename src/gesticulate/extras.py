"""Optional extras: the modules that only some commands need, and the message that names the
``pip install 'gesticulate[EXTRA]'`` bringing them (pyproject.toml's optional dependencies).

The core install runs ``generate`` and ``demo``; ``serve`` needs ``[web]``, the identity metric
and the plots of reports need ``[eval]``, ``--engine ray`` needs ``[ray]``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from gesticulate.errors import MissingExtraError


def require(module: str, *, extra: str, what: str) -> ModuleType:
    """Import ``module``; when it (or a module it needs) is not installed, raise
    :class:`MissingExtraError` saying that ``what`` needs ``extra``.

    Only ``ModuleNotFoundError`` is turned into the message: any other ``ImportError`` (a
    broken binary, a bug) propagates as it is.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise MissingExtraError(f"{what} needs the {extra} extra: "
                                f"pip install 'gesticulate[{extra}]'") from None


def pyplot(*, what: str) -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend (files only, no display), from the eval extra."""
    matplotlib = require("matplotlib", extra="eval", what=what)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", extra="eval", what=what)
