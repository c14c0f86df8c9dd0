"""Sliding windows over a sequence of frames, shared by the two diffusion samplers (stage-1
motion and stage-2 frames), which generate long sequences window after window."""

from __future__ import annotations


def window_starts(num_frames: int, *, window: int, overlap: int) -> list[int]:
    """First frame of each window covering ``num_frames`` frames.

    Windows are ``window`` frames long and each shares ``overlap`` frames with the one before,
    so they start every ``window - overlap`` frames, while frames are left uncovered; the last
    window may run past the end (callers pad it).
    """
    assert 0 <= overlap < window, (window, overlap)
    stride = window - overlap
    return [0] + list(range(stride, max(num_frames - overlap, 1), stride))
