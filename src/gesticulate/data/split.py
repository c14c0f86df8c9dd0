"""Train / val / test split by speaker, never by clip, so no speaker is in two splits.

Speakers are ordered by a hash of their id (deterministic, independent of processing order)
and dealt to val and test first, then the rest to train. With three or more speakers val and
test each get at least one.
"""

from __future__ import annotations

import hashlib

from gesticulate.data.clips import ClipRecord
from gesticulate.errors import OptionError


def _key(speaker: str) -> str:
    return hashlib.sha1(speaker.encode("utf-8")).hexdigest()


def speaker_splits(speakers: list[str], *, val: float = 0.1, test: float = 0.1) -> dict[str, str]:
    """Map each speaker id to ``"train"``, ``"val"`` or ``"test"``.

    Parameters
    ----------
    speakers : list of str
        Speaker ids (duplicates ignored).
    val, test : float
        Fractions of speakers for validation and test.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise OptionError(f"val={val}, test={test}: fractions must be in [0, 1) with a sum below 1")
    order = sorted(set(speakers), key=_key)
    n = len(order)
    n_val, n_test = round(n * val), round(n * test)
    if n >= 3:
        n_val, n_test = max(n_val, 1 if val > 0 else 0), max(n_test, 1 if test > 0 else 0)
    elif n == 2:
        n_val, n_test = (1 if val > 0 else 0), 0
    else:
        n_val = n_test = 0
    out = {}
    for i, s in enumerate(order):
        out[s] = "val" if i < n_val else "test" if i < n_val + n_test else "train"
    return out


def assign_splits(records: list[ClipRecord], *, val: float = 0.1,
                  test: float = 0.1) -> list[ClipRecord]:
    """Set ``split`` on kept records (by speaker); rejected records get None. Returns ``records``."""
    kept = [r for r in records if r.status == "kept"]
    table = speaker_splits([r.speaker_id for r in kept], val=val, test=test)
    for r in records:
        r.split = table[r.speaker_id] if r.status == "kept" else None
    return records
