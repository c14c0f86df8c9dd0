"""Align a skeleton sequence to a reference photo's skeleton by a linear map (CSG).

Pose-to-video models paint the person where the pose map says; a motion generated or
extracted in another frame (another camera, another crop, another body size) must first be
moved onto the photo's person, or the video comes out with a floating, shrunken or stretched
body — the most common failure users of the peers report. Democratizing-CSG's renderer
(``ge_kp2kpvideo.py``) fits a scale and an offset between the first generated frame's head
and torso points (nose, neck, shoulders, hips, eyes, ears) and the same points of the
reference photo, and applies them to every frame. We do the same, by least squares over the
points that are confident in both, with three variants:

``"uniform"`` (default) one scale for x and y, fitted on x and y together, plus an offset
``"per_axis"``          a scale and an offset per axis (stretches the body when the aspect
                        of the source and target bodies differ; use with care)
``"csg"``               CSG's exact recipe: the scale fitted on y alone (``np.polyfit``),
                        used for x too, the x offset the mean residual
"""

from __future__ import annotations

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

MODES = ("uniform", "per_axis", "csg")
ANCHORS = ("first", "mean")
# The head and torso points CSG aligns on (its OpenPose ids 0, 1, 2, 5, 8, 11, 14–17); the
# neck (OpenPose id 1) is appended by _anchor_points.
ALIGN_POINTS = (L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR,
                L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)


def _anchor_points(kp: np.ndarray) -> np.ndarray:
    """(…, 133, 3) → the alignment points (…, 10, 3): ALIGN_POINTS and the neck."""
    kp = np.asarray(kp, dtype=np.float64)
    neck = 0.5 * (kp[..., L.LEFT_SHOULDER, :] + kp[..., L.RIGHT_SHOULDER, :])
    neck[..., 2] = np.minimum(kp[..., L.LEFT_SHOULDER, 2], kp[..., L.RIGHT_SHOULDER, 2])
    return np.concatenate([kp[..., ALIGN_POINTS, :], neck[..., None, :]], axis=-2)


def source_pose(keypoints: np.ndarray, *, anchor: str = "first",
                threshold: float = 0.3) -> np.ndarray:
    """The pose ``(133, 3)`` of a sequence ``(T, 133, 3)`` that is matched to the reference.

    ``"first"``: the first frame (CSG). ``"mean"``: per point, the mean position over the
    frames where it is confident, with confidence 1 if it is confident in at least half of
    the frames, else 0 (so rarely seen points stay out of the fit).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if anchor == "first":
        return kp[0]
    if anchor != "mean":
        raise OptionError(f"alignment anchor {anchor!r} is unknown; use one of {ANCHORS}")
    seen = kp[..., 2] > threshold  # (T, 133)
    n = seen.sum(axis=0)
    mean = (kp[..., :2] * seen[..., None]).sum(axis=0) / np.maximum(n, 1)[:, None]
    frac = n / len(kp)
    return np.concatenate([mean, np.where(frac >= 0.5, 1.0, 0.0)[:, None]], axis=1)


def fit_alignment(source_kp: np.ndarray, reference_kp: np.ndarray, *, mode: str = "uniform",
                  threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``reference ≈ scale * source + offset`` on the confident shared head/torso points.

    Parameters
    ----------
    source_kp, reference_kp : (133, 3) keypoints, each in its own pixel frame.
    mode : {"uniform", "per_axis", "csg"} (module docstring).
    threshold : a point is used when its confidence is above this in both.

    Returns
    -------
    scale, offset : np.ndarray, shape (2,)
        Per-axis scale (equal for "uniform" and "csg") and offset in reference pixels.
    """
    if mode not in MODES:
        raise OptionError(f"alignment mode {mode!r} is unknown; use one of {MODES}")
    src, ref = _anchor_points(source_kp), _anchor_points(reference_kp)
    use = (src[:, 2] > threshold) & (ref[:, 2] > threshold)
    p, q = src[use, :2], ref[use, :2]
    spread = p.std(axis=0) if len(p) else np.zeros(2)
    if len(p) < 2 or spread.max() < 1e-6 or (mode != "uniform" and spread.min() < 1e-6):
        raise InputError(f"only {len(p)} head/shoulder points are confidently visible in both "
                         "the motion and the reference photo, too few to align them; use a "
                         "photo that shows the head and both shoulders")
    pc, qc = p - p.mean(axis=0), q - q.mean(axis=0)
    if mode == "uniform":
        s = float((pc * qc).sum() / (pc ** 2).sum())
        scale = np.array([s, s])
    elif mode == "per_axis":
        scale = (pc * qc).sum(axis=0) / (pc ** 2).sum(axis=0)
    else:  # CSG: y fitted by a line, the same scale used for x
        s = float((pc[:, 1] * qc[:, 1]).sum() / (pc[:, 1] ** 2).sum())
        scale = np.array([s, s])
    if not (scale > 0).all():
        raise InputError("the motion's pose and the reference photo's pose do not match "
                         f"(fitted scale {scale.round(3).tolist()}); check that the photo "
                         "shows one upright person facing the camera")
    offset = q.mean(axis=0) - scale * p.mean(axis=0)
    return scale, offset


def apply_alignment(keypoints: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``scale * xy + offset`` on keypoints ``(..., 133, 3)``; confidence unchanged."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    out[..., :2] = out[..., :2] * np.asarray(scale, np.float32) + np.asarray(offset, np.float32)
    return out


def align_to_reference(seq: SkeletonSequence, reference_kp: np.ndarray, *,
                       image_size: tuple[int, int], mode: str = "uniform",
                       anchor: str = "first", threshold: float = 0.3) -> SkeletonSequence:
    """Move and scale ``seq`` onto the person of a reference photo.

    Parameters
    ----------
    seq : the motion, keypoints (T, 133, 3) in any pixel frame.
    reference_kp : (133, 3) skeleton of the reference photo, in its pixels.
    image_size : (w, h) of the reference photo: the frame of the result.
    mode : "uniform" | "per_axis" | "csg" (module docstring).
    anchor : "first" (the first frame, as CSG) or "mean" (the mean pose) of ``seq`` is matched.
    threshold : confidence above which a point takes part in the fit.

    Returns
    -------
    SkeletonSequence in the photo's frame, same fps and confidences.
    """
    ref = np.asarray(reference_kp, dtype=np.float64)
    if ref.shape != (L.NUM_KEYPOINTS, 3):
        raise InputError(f"the reference skeleton has shape {ref.shape}; expected (133, 3)")
    src = source_pose(seq.keypoints, anchor=anchor, threshold=threshold)
    scale, offset = fit_alignment(src, ref, mode=mode, threshold=threshold)
    return SkeletonSequence(apply_alignment(seq.keypoints, scale, offset), seq.fps, image_size,
                            seq.confidence_source)
