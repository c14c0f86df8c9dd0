"""Synthetic skeletons for the metric tests (no real data)."""

from __future__ import annotations

import numpy as np


def base_pose(*, seed: int = 0) -> np.ndarray:
    """A plausible frontal upper-body pose ``(133, 3)`` in a 512x512 frame, all confident."""
    rng = np.random.default_rng(seed)
    kp = np.zeros((133, 3), np.float32)
    kp[:, 2] = 1.0
    body = {0: (256, 150), 1: (246, 140), 2: (266, 140), 3: (236, 145), 4: (276, 145),
            5: (306, 220), 6: (206, 220), 7: (326, 300), 8: (186, 300), 9: (316, 370),
            10: (196, 370), 11: (290, 400), 12: (222, 400), 13: (290, 480), 14: (222, 480),
            15: (290, 510), 16: (222, 510)}
    for j, xy in body.items():
        kp[j, :2] = xy
    kp[17:23, :2] = [256, 505]
    kp[23:91, :2] = np.array([256, 160]) + rng.uniform(-25, 25, (68, 2))
    kp[91:112, :2] = kp[9, :2] + rng.uniform(-20, 20, (21, 2))
    kp[112:133, :2] = kp[10, :2] + rng.uniform(-20, 20, (21, 2))
    return kp


def still(num_frames: int, *, seed: int = 0) -> np.ndarray:
    return np.repeat(base_pose(seed=seed)[None], num_frames, axis=0)


SHOULDER_WIDTH_PX = 100.0  # of base_pose
