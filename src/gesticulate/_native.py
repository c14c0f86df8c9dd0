"""Quieting native libraries: MediaPipe's C++ side logs TensorFlow Lite and absl lines straight
to file descriptor 2 while it loads and first runs its graphs, which is noise to a user."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for the duration of the block (Python's own stderr too)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
