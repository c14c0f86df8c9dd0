"""Target poses for tests, benchmarks and looking at frames, before a motion generator runs:
limbs rotated about their joints, mouth opened, eyes closed, head turned — all keeping the
photo's bone lengths, as retargeted targets do.
"""

from __future__ import annotations

import numpy as np

from gesticulate.skeleton import layout as L

_ARM = {"left": (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HAND_START),
        "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HAND_START)}
_FACE = list(range(L.FACE_START, L.FACE_START + 68)) + [L.NOSE, L.LEFT_EYE, L.RIGHT_EYE,
                                                         L.LEFT_EAR, L.RIGHT_EAR]


def _rotate(kp: np.ndarray, idx, centre: np.ndarray, angle: float) -> None:
    c, s = np.cos(angle), np.sin(angle)
    kp[idx, :2] = (kp[idx, :2] - centre) @ np.array([[c, s], [-s, c]]) + centre


def pose(ref: np.ndarray, *, upper: dict | None = None, fore: dict | None = None,
         mouth: float = 0.0, blink: float = 0.0, head: float = 0.0,
         head_shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A target pose made from the photo's own keypoints.

    Parameters
    ----------
    ref : np.ndarray
        ``(133, 3)`` reference keypoints in pixels.
    upper, fore : dict, optional
        ``{"left": radians, "right": radians}`` rotation of the upper arm about the shoulder
        and of the forearm (with the hand) about the elbow; positive turns clockwise on screen.
    mouth : float
        Inner-lip opening to add, as a fraction of the mouth width.
    blink : float
        0 (as the photo) … 1 (upper lids on the lower lids).
    head : float
        Head roll in radians about the neck; ``head_shift`` moves the face (pixels).

    Returns
    -------
    np.ndarray
        ``(133, 3)`` float32.
    """
    kp = np.asarray(ref, np.float64).copy()
    for side, (s, e, w, h) in _ARM.items():
        hand = list(range(h, h + 21))
        if upper and upper.get(side):
            _rotate(kp, [e, w] + hand, kp[s, :2].copy(), upper[side])
        if fore and fore.get(side):
            _rotate(kp, [w] + hand, kp[e, :2].copy(), fore[side])
    if mouth:
        width = np.linalg.norm(kp[L.MOUTH_RIGHT_CORNER, :2] - kp[L.MOUTH_LEFT_CORNER, :2])
        lower = [L.face(i) for i in (65, 66, 67, 55, 56, 57, 58, 59)] + list(L.JAW[5:12])
        kp[lower, 1] += mouth * width
    if blink:
        for contour in (L.RIGHT_EYE_CONTOUR, L.LEFT_EYE_CONTOUR):
            for a, b in ((1, 5), (2, 4)):
                kp[contour[a], :2] += blink * (kp[contour[b], :2] - kp[contour[a], :2])
    if head:
        pivot = (kp[L.LEFT_SHOULDER, :2] + kp[L.RIGHT_SHOULDER, :2]) / 2 \
            if min(kp[L.LEFT_SHOULDER, 2], kp[L.RIGHT_SHOULDER, 2]) >= 0.3 else kp[L.CHIN, :2]
        _rotate(kp, _FACE, pivot, head)
    kp[_FACE, 0] += head_shift[0]
    kp[_FACE, 1] += head_shift[1]
    return kp.astype(np.float32)


def animate(ref: np.ndarray, frame: int, *, fps: float) -> np.ndarray:
    """Frame ``frame`` of a test clip: forearms swinging, head nodding and turning, mouth
    opening at ~4 Hz (syllables), a blink every 3 s, the upper body swaying by a few pixels."""
    t = frame / fps
    swing = 0.5 * np.sin(2 * np.pi * 0.7 * t)
    blink = max(0.0, 1 - abs((t % 3.0) - 0.15) / 0.1)
    kp = pose(ref, upper={"left": -0.2 * swing, "right": 0.2 * swing},
              fore={"left": -swing, "right": swing},
              mouth=0.12 * max(0.0, np.sin(2 * np.pi * 4 * t)), blink=blink,
              head=0.06 * np.sin(2 * np.pi * 0.4 * t),
              head_shift=(4 * np.sin(2 * np.pi * 0.3 * t), 2 * np.sin(2 * np.pi * 0.5 * t)))
    # The body sways a little (shoulders, arms and face together).
    sway = 3.0 * np.sin(2 * np.pi * 0.25 * t)
    upper_body = list(range(0, 11)) + list(range(L.FACE_START, L.NUM_KEYPOINTS))
    kp[upper_body, 0] += sway
    return kp


def reference_keypoints(image: np.ndarray) -> np.ndarray:
    """``(133, 3)`` keypoints of a photo (:func:`gesticulate.skeleton.extract.extract_image`)."""
    from gesticulate.skeleton.extract import extract_image
    return extract_image(image)
