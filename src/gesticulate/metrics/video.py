"""Video metrics on frames: hands re-detected (HKC, HKV), PSNR/SSIM, temporal jitter.

* **HKC / HKV** (CyberHost): hands are re-detected on the generated frames with MediaPipe Hands
  (0.10.21 ``solutions``, ``model_complexity=1``, tracking mode). HKC is the mean hand
  confidence (MediaPipe's handedness score) over frames and the two hands, a hand not found
  counting 0, so blurred or melted hands lower it; ``hkc_detected`` averages found hands only.
  HKV is the temporal variance of the hand keypoints (in units of the frame's longer side),
  averaged over keypoints, x/y and hands: richer hand motion, higher HKV.
* **PSNR / SSIM** against ground-truth frames (scikit-image), per frame then averaged.
* **Jitter**: mean acceleration magnitude of re-detected keypoints; measured the same way on
  ground truth it gives the floor that real motion plus detector noise reach.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from gesticulate.errors import InputError
from gesticulate.metrics._local import MIN_CONFIDENCE, local_region

PSNR_CAP_DB = 100.0  # identical frames give PSNR = inf; capped so reports stay valid JSON


def iter_rgb_frames(path, *, max_frames: int | None = None, stride: int = 1) -> Iterator[np.ndarray]:
    """RGB uint8 ``(H, W, 3)`` frames of a video (:func:`gesticulate.video.iter_frames`), every
    ``stride``-th one, at most ``max_frames`` of them."""
    from gesticulate.video import iter_frames

    n = 0
    for i, frame in enumerate(iter_frames(path)):
        if max_frames is not None and n >= max_frames:
            break
        if i % stride == 0:
            n += 1
            yield frame


def detect_hands(frames: Iterable[np.ndarray], *, progress: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Re-detect hands with MediaPipe Hands on RGB frames.

    Returns
    -------
    keypoints : np.ndarray, shape (T, 2, 21, 2)
        x, y in units of the frame's longer side (0..1), NaN where the hand is not found.
        Slot 0 is the person's left hand, slot 1 the right (MediaPipe labels hands as in a
        mirrored selfie, so its "Right" is the person's left in an ordinary video).
    scores : np.ndarray, shape (T, 2)
        Handedness confidence, 0 where the hand is not found.
    """
    import mediapipe as mp
    from tqdm import tqdm

    kps, scores = [], []
    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2,
                                  model_complexity=1, min_detection_confidence=0.5) as hands:
        for img in tqdm(frames, desc="detect hands", disable=not progress, unit="frame"):
            h, w = img.shape[:2]
            k, s = np.full((2, 21, 2), np.nan), np.zeros(2)
            res = hands.process(np.ascontiguousarray(img))
            for lm, hd in zip(res.multi_hand_landmarks or [], res.multi_handedness or []):
                c = hd.classification[0]
                slot = 0 if c.label == "Right" else 1
                if s[slot] > 0:  # both labelled alike: the second takes the free slot
                    slot = 1 - slot
                k[slot] = [(p.x * w / max(h, w), p.y * h / max(h, w)) for p in lm.landmark]
                s[slot] = c.score
            kps.append(k)
            scores.append(s)
    if not kps:
        raise InputError("the video has no frames")
    return np.stack(kps), np.stack(scores)


def _acceleration(x: np.ndarray, *, fps: float) -> np.ndarray:
    """|second difference| · fps² of ``(T, ..., 2)`` tracks, NaN where a frame is missing."""
    a = x[2:] - 2 * x[1:-1] + x[:-2]
    return np.linalg.norm(a, axis=-1) * fps ** 2


def hand_metrics(keypoints: np.ndarray, scores: np.ndarray, *, fps: float) -> dict[str, float]:
    """HKC, HKV and hand jitter from :func:`detect_hands` output.

    Returns ``hkc`` (0..1), ``hkc_detected`` (0..1, NaN if no hand found), ``hand_detection_rate``
    (0..1), ``hkv`` (frame-side² units, NaN if no hand found in 2 frames) and ``hand_jitter``
    (mean acceleration, frame sides per s², over frames where the hand is found 3 times in a
    row).
    """
    found = scores > 0
    var = [np.nanvar(keypoints[:, s], axis=0).mean() for s in range(2) if found[:, s].sum() >= 2]
    acc = _acceleration(keypoints, fps=fps)  # (T-2, 2, 21)
    nan = float("nan")
    return {"hkc": float(scores.mean()),
            "hkc_detected": float(scores[found].mean()) if found.any() else nan,
            "hand_detection_rate": float(found.mean()),
            "hkv": float(np.mean(var)) if var else nan,
            "hand_jitter": float(np.nanmean(acc)) if np.isfinite(acc).any() else nan}


def video_hand_metrics(path, *, fps: float | None = None, max_frames: int | None = None,
                       progress: bool = False) -> dict[str, float]:
    """:func:`hand_metrics` of a video file (hands re-detected on every frame)."""
    if fps is None:
        from gesticulate.video import probe_video

        fps = probe_video(path).fps
    kp, sc = detect_hands(iter_rgb_frames(path, max_frames=max_frames), progress=progress)
    return hand_metrics(kp, sc, fps=fps)


def skeleton_jitter(keypoints, *, fps: float, region: str = "upper_body",
                    min_confidence: float = MIN_CONFIDENCE) -> float:
    """Mean acceleration magnitude of a (re-detected) skeleton, in shoulder widths per s².

    Counted over points seen (confidence ≥ ``min_confidence``) in three consecutive frames.
    Real motion contributes too; compare with the ground truth detected the same way.
    """
    xy, conf = local_region(keypoints, region)
    seen = conf >= min_confidence
    ok = seen[2:] & seen[1:-1] & seen[:-2]
    if not ok.any():
        return float("nan")
    return float(_acceleration(xy, fps=fps)[ok].mean())


def psnr_ssim(generated, reference, *, max_frames: int | None = None, stride: int = 1,
              progress: bool = False) -> dict[str, float]:
    """Mean PSNR (dB, capped at 100) and SSIM of generated frames against ground truth.

    Parameters
    ----------
    generated, reference : path or iterable of RGB uint8 frames
        Compared frame by frame up to the shorter one; a generated frame of another size is
        resized to the reference size (area interpolation).
    max_frames, stride : which frames of video files are compared.
    """
    import cv2
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    from tqdm import tqdm

    def frames(x):
        if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
            return iter_rgb_frames(x, max_frames=max_frames, stride=stride)
        return iter(x)

    psnrs, ssims = [], []
    for g, r in tqdm(zip(frames(generated), frames(reference)), desc="PSNR/SSIM",
                     disable=not progress, unit="frame"):
        if g.shape != r.shape:
            g = cv2.resize(g, (r.shape[1], r.shape[0]), interpolation=cv2.INTER_AREA)
        with np.errstate(divide="ignore"):  # identical frames: inf, capped
            psnrs.append(min(peak_signal_noise_ratio(r, g, data_range=255), PSNR_CAP_DB))
        ssims.append(structural_similarity(r, g, channel_axis=2, data_range=255))
    if not psnrs:
        raise InputError("no frames to compare; check that both videos can be decoded")
    return {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims)),
            "num_frames": len(psnrs)}
