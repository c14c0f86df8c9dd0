"""Face motion on the 68 iBUG points: mouth opening, blinks and head rotation.

Mouth and lids move in the head's own frame (RENDERING.md, "Face"): the lower lip, inner lower
lip and jaw move down with a falloff, the upper lip 20 % as much, upper lids close onto the
lower lids. The head then turns as a rigid 3D body: each point gets a depth from a template
(a frontal face; nose forward, jaw and ears back) and rotates about a pivot behind the face near
the top of the neck, projected orthographically, so yaw and pitch show as parallax of the inner
face, as a real head turn does.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from gesticulate.skeleton import layout as L

# iBUG-68 depth template, in face widths, positive towards the camera.
_JAW_Z = -0.25 + 0.35 * np.sin(np.pi * np.arange(17) / 16.0)
_DEPTH68 = np.concatenate([
    _JAW_Z,
    [0.02, 0.08, 0.12, 0.14, 0.14, 0.14, 0.14, 0.12, 0.08, 0.02],        # brows
    [0.15, 0.20, 0.27, 0.33], [0.20, 0.24, 0.26, 0.24, 0.20],            # nose
    [0.03, 0.08, 0.09, 0.08, 0.08, 0.08] * 2,                             # eyes
    [0.12, 0.17, 0.20, 0.21, 0.20, 0.17, 0.12, 0.16, 0.19, 0.20, 0.19, 0.16],  # outer lips
    [0.13, 0.17, 0.18, 0.17, 0.13, 0.17, 0.18, 0.17],                     # inner lips
])
# Body head points: nose, eyes, ears.
HEAD_BODY = np.array([L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR])
_DEPTH_BODY = np.array([0.33, 0.08, 0.08, -0.35, -0.35])
HEAD_POINTS = np.concatenate([HEAD_BODY, np.arange(L.FACE_START, L.FACE_START + 68)])
HEAD_DEPTH = np.concatenate([_DEPTH_BODY, _DEPTH68])

# Mouth opening: how far each point moves down per unit of opening (iBUG index → weight).
_OPEN_WEIGHTS = {
    # lower outer lip 55–59 and corners 48, 54; lower inner lip 65–67 and inner corners 60, 64
    55: 0.55, 56: 0.85, 57: 1.0, 58: 0.85, 59: 0.55, 48: 0.2, 54: 0.2,
    65: 0.85, 66: 1.0, 67: 0.85, 60: 0.2, 64: 0.2,
    # upper lip rises ~20 % (RENDERING.md: 20–30 %)
    49: -0.08, 50: -0.16, 51: -0.2, 52: -0.16, 53: -0.08, 61: -0.16, 62: -0.2, 63: -0.16,
}
_OPEN_WEIGHTS.update({i: 0.9 * np.cos((i - 8) / 8.0 * np.pi / 2) ** 1.5 for i in range(2, 15)})
MOUTH_INDEX = np.array([L.face(i) for i in _OPEN_WEIGHTS])
MOUTH_WEIGHT = np.array(list(_OPEN_WEIGHTS.values()))
# Blinks: upper-lid points and the lower-lid points they close onto.
UPPER_LID = np.array([L.face(i) for i in (37, 38, 43, 44)])
LOWER_LID = np.array([L.face(i) for i in (41, 40, 47, 46)])
MAX_OPEN = 0.22   # inner-lip gap at full opening, in mouth widths (0.28 read as a dark "O" in renders)


def mouth_curve(rms: np.ndarray, vad: np.ndarray) -> np.ndarray:
    """Mouth opening 0..1 per frame from the loudness envelope, gated by voice activity.

    A light zero-phase smoothing only (never heavy smoothing on the mouth: lip-sync errors
    show beyond +45/−125 ms, ITU-R BT.1359-1).
    """
    voiced = vad > 0.5
    top = np.percentile(rms[voiced], 95) if voiced.sum() > 3 else max(float(rms.max()), 1e-6)
    floor = np.percentile(rms, 10)
    env = np.clip((rms - floor) / max(top - floor, 1e-6), 0.0, 1.0) ** 0.85
    gate = np.clip(gaussian_filter1d(vad.astype(np.float64), 0.7), 0.0, 1.0)
    return np.clip(gaussian_filter1d(env * gate, 0.6), 0.0, 1.0)


def rounded_curve(phones, *, fps: float, num_frames: int) -> np.ndarray:
    """1 during rounded vowels and /w/ (lips pursed: narrower mouth), 0 elsewhere, (T,)."""
    out = np.zeros(num_frames)
    for label, start, end in phones or ():
        if label.upper().rstrip("012") in {"UW", "OW", "AO", "UH", "OY", "W"}:
            out[int(start * fps):max(int(start * fps) + 1, int(np.ceil(end * fps)))] = 1.0
    return gaussian_filter1d(out, 1.0)


def bilabial_curve(phones, *, fps: float, num_frames: int) -> np.ndarray:
    """1 where the lips close (p, b, m), 0 elsewhere, (T,)."""
    out = np.zeros(num_frames)
    for label, start, end in phones or ():
        if label.upper().rstrip("012") in {"P", "B", "M"}:
            out[int(round(start * fps)):max(int(round(start * fps)) + 1, int(round(end * fps)))] = 1.0
    return out


def blink_curve(num_frames: int, *, fps: float, rng: np.random.Generator, speech: np.ndarray,
                rate_speech: float = 22.0, rate_rest: float = 16.0) -> np.ndarray:
    """Eyelid closure 0..1 per frame: blinks of 150–350 ms at a conversational rate.

    Blinks per minute follow ``rate_speech`` while ``speech`` (T,) is near 1 and ``rate_rest``
    in pauses (RENDERING.md: 17/min at rest, ≈ 26/min in conversation). Intervals are
    gamma-distributed with a 0.8 s refractory gap, so blinks never cluster unnaturally.
    """
    T = num_frames
    duration_s = T / fps
    n = int(duration_s * rate_speech / 60.0 * 2) + 4
    gaps = 0.8 + rng.gamma(2.0, 1.0, size=n)           # unit mean 2 s, rescaled below
    dur = rng.uniform(0.15, 0.35, size=n)
    t, times = 1.0 + rng.uniform(0, 1.5), []
    for g, d in zip(gaps, dur):
        if t >= duration_s - 0.2:
            break
        times.append((t, d))
        s = float(np.interp(t * fps, np.arange(T), speech)) if T > 1 else 0.0
        rate = rate_rest + (rate_speech - rate_rest) * s
        t += (g / 2.8) * (60.0 / rate)                    # mean of 0.8 + gamma(2,1) is 2.8
    closure = np.zeros(T)
    frames = np.arange(T) / fps
    for t0, d in times:
        peak = round((t0 + 0.35 * d) * fps) / fps        # peak exactly on a frame
        rise = np.clip((frames - (peak - 0.35 * d)) / (0.35 * d), 0, 1)
        fall = np.clip(((peak + 0.65 * d) - frames) / (0.65 * d), 0, 1)
        c = np.where(frames <= peak, rise, fall)
        closure = np.maximum(closure, 0.5 - 0.5 * np.cos(np.pi * c))
    return closure


def head_frame(ref: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """Pivot ``(2,)``, roll (radians) and face width (pixels) of the photo's head, or None.

    Uses the jaw contour and eye corners when the face is seen, the ears/eyes otherwise.
    """
    face = ref[L.FACE]
    if np.mean(face[:, 2] >= 0.3) > 0.8:
        right_eye = face[36:42, :2].mean(0)
        left_eye = face[42:48, :2].mean(0)
        width = float(np.linalg.norm(face[16, :2] - face[0, :2]))
        centre = face[:, :2].mean(0)
    elif ref[L.LEFT_EYE, 2] >= 0.3 and ref[L.RIGHT_EYE, 2] >= 0.3:
        right_eye, left_eye = ref[L.RIGHT_EYE, :2], ref[L.LEFT_EYE, :2]
        width = 2.2 * float(np.linalg.norm(left_eye - right_eye))
        centre = 0.5 * (left_eye + right_eye)
    else:
        return None
    d = left_eye - right_eye
    # The person's left eye is on the image right in a frontal photo: the eye line points +x.
    roll = float(np.arctan2(d[1], d[0]))
    if width < 4.0:
        return None
    down = np.array([-np.sin(roll), np.cos(roll)])
    return centre + 0.3 * width * down, roll, width


def rotate_head(points: np.ndarray, depth: np.ndarray, *, pivot: np.ndarray, roll0: float,
                width: float, yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Turn head points rigidly in 3D and project them back.

    Parameters
    ----------
    points : np.ndarray, shape (T, N, 2)
        Head points per frame (pixels), already with mouth and lid motion.
    depth : np.ndarray, shape (N,)
        Depth of each point in face widths (template above).
    pivot : np.ndarray, shape (2,)
        Image position of the neck pivot; it lies 0.45 face widths behind the face plane.
    roll0 : float
        The photo's head roll (radians), so yaw/pitch act about the head's own axes.
    width : float
        Face width in pixels.
    yaw, pitch, roll : np.ndarray, shape (T,)
        Rotation in radians; positive pitch nods down, positive yaw turns the face to image right.

    Returns
    -------
    np.ndarray, shape (T, N, 2)
    """
    c0, s0 = np.cos(roll0), np.sin(roll0)
    d = points - pivot
    # Into the upright head frame.
    x = c0 * d[..., 0] + s0 * d[..., 1]
    y = -s0 * d[..., 0] + c0 * d[..., 1]
    z = np.broadcast_to((depth + 0.45) * width, x.shape)
    cy, sy = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    x, z = cy * x + sy * z, -sy * x + cy * z
    cp, sp = np.cos(pitch)[:, None], np.sin(pitch)[:, None]
    y = cp * y + sp * z
    a = roll0 + roll
    ca, sa = np.cos(a)[:, None], np.sin(a)[:, None]
    # Back to the image, with the photo's roll plus the new roll.
    return np.stack([ca * x - sa * y, sa * x + ca * y], axis=-1) + pivot
