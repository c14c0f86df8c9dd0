"""Per-clip scores of one row of the table: motion metrics on skeletons, video metrics on mp4s.

Every number comes from :mod:`gesticulate.metrics`; this module only decides which metric is
applied to what, with which settings, and names the results (the keys of ``metrics.json``).
A metric that cannot be computed for a clip (too short, nothing seen, no face) is NaN there
and left out of that metric's mean; the count of clips behind every mean is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesticulate.errors import InputError
from gesticulate.metrics.beats import beat_alignment, onset_coupling
from gesticulate.metrics.motion import diversity, l1_divergence, pck
from gesticulate.metrics.sync import lip_sync, mouth_opening
from gesticulate.metrics.video import skeleton_jitter

NAN = float("nan")


@dataclass(frozen=True)
class ScoreSettings:
    """Metric settings recorded in ``metrics.json`` (defaults: the metrics' own defaults)."""

    pck_alpha: float = 0.1            # PCK threshold, fraction of the GT person box
    ba_sigma: float = 0.3             # EMAGE's σ (s)
    ba_min_peak_speed: float = 0.4    # deceleration filter (sw/s), see metrics.beats
    ba_edge_s: float = 2.0            # seconds skipped at each end (clamped to ¼ of the clip)
    max_offset_frames: int = 15       # lip-sync lag search, ± frames
    psnr_stride: int = 5              # every n-th frame for PSNR/SSIM
    identity_stride: int = 10         # every n-th frame for identity similarity


def _ba(motion: np.ndarray, beats_s: np.ndarray, fps: float, s: ScoreSettings,
        joints: str) -> dict:
    r = beat_alignment(motion, beats_s, fps=fps, joints=joints, sigma=s.ba_sigma,
                       edge_s=s.ba_edge_s, min_peak_speed=s.ba_min_peak_speed)
    p = "ba" if joints == "upper_body" else "ba_hands"
    return {p: r.ba, f"{p}_control": r.ba_control,
            f"{p}_motion_beats_per_s": r.motion_beats_per_s,
            **({"audio_beats_per_s": r.audio_beats_per_s} if joints == "upper_body" else {})}


def _lip_sync(mouth: np.ndarray, envelope: np.ndarray, *, fps: float, prefix: str,
              max_offset: int) -> dict:
    t = min(len(mouth), len(envelope))
    keys = (f"{prefix}_offset_frames", f"{prefix}_score", f"{prefix}_score_at_0")
    if np.isfinite(mouth[:t]).sum() < 2 or np.nanstd(mouth[:t]) < 1e-6:
        # A still mouth has no lag; its correlation with the audio is 0 at every lag.
        return {keys[0]: NAN, keys[1]: 0.0, keys[2]: 0.0} if t else dict.fromkeys(keys, NAN)
    try:
        r = lip_sync(mouth[:t], envelope[:t], fps=fps, max_offset_frames=max_offset)
    except InputError:  # clip too short for the lag search
        return dict.fromkeys(keys, NAN)
    return {keys[0]: float(r["lip_sync_offset_frames"]), keys[1]: r["lip_sync_score"],
            keys[2]: r["lip_sync_score_at_0"]}


def motion_scores(motion: np.ndarray, ground_truth: np.ndarray, *, fps: float,
                  audio_beats_s: np.ndarray, envelope: np.ndarray,
                  onset: np.ndarray | None = None,
                  samples: list[np.ndarray] | None = None,
                  settings: ScoreSettings = ScoreSettings()) -> dict[str, float]:
    """Motion metrics of one clip.

    Parameters
    ----------
    motion, ground_truth : np.ndarray, shape (T, 133, 3)
        Pixels of the same frame (the clip's).
    fps : float
    audio_beats_s : np.ndarray, shape (K,)
        Onset times (s) of the clip's *own* audio (EMAGE's audio beats).
    envelope : np.ndarray, shape (T,)
        Voice-band log-RMS per frame (:func:`gesticulate.metrics.sync.audio_envelope`).
    onset : np.ndarray, shape (T,), optional
        Onset strength per frame of the clip's own audio
        (:func:`gesticulate.audio.features.onset_strength`) → ``coupling``; None: NaN.
    samples : list of (T, 133, 3) arrays, optional
        Several samples for the same audio (different seeds) → DIV; None: DIV not computed.

    Returns
    -------
    dict
        ``ba``, ``ba_control``, ``ba_motion_beats_per_s``, ``audio_beats_per_s``, ``ba_hands…``,
        ``coupling`` (wrist–onset, :func:`~gesticulate.metrics.beats.onset_coupling`),
        ``l1div_{body,hands,face}`` (sw), ``div_{body,hands}`` (sw), ``pck_{all,hands,face}``,
        ``skel_lip_sync_{offset_frames,score,score_at_0}``, ``skel_jitter_body`` (sw/s²).
    """
    s = settings
    out: dict[str, float] = {}
    out.update(_ba(motion, audio_beats_s, fps, s, "upper_body"))
    out.update(_ba(motion, audio_beats_s, fps, s, "hands"))
    out["coupling"] = NAN if onset is None else onset_coupling(motion, onset, fps=fps)
    for name, region in (("body", "upper_body"), ("hands", "hands"), ("face", "face")):
        out[f"l1div_{name}"] = l1_divergence(motion, region=region)
    for name, region in (("body", "upper_body"), ("hands", "hands")):
        out[f"div_{name}"] = diversity(samples, region=region) if samples else NAN
    for region in ("all", "hands", "face"):
        out[f"pck_{region}"] = pck(motion, ground_truth, alpha=s.pck_alpha, region=region)
    out.update(_lip_sync(mouth_opening(motion), envelope, fps=fps, prefix="skel_lip_sync",
                         max_offset=s.max_offset_frames))
    out["skel_jitter_body"] = skeleton_jitter(motion, fps=fps, region="upper_body")
    return out


def redetect(path) -> np.ndarray:
    """MediaPipe Holistic skeletons ``(T, 133, 3)`` of every frame of a video (tracking mode)."""
    from gesticulate.skeleton.extract import iter_video_keypoints

    kps = [kp for _, kp in iter_video_keypoints(path)]
    if not kps:
        raise InputError(f"{path} has no decodable frames")
    return np.stack(kps)


def video_scores(path, *, fps: float, ground_truth_video, reference_photo: np.ndarray,
                 envelope: np.ndarray, drive: np.ndarray | None, embedder,
                 settings: ScoreSettings = ScoreSettings()) -> tuple[dict[str, float], np.ndarray]:
    """Video metrics of one clip's video (already at the evaluation size and fps).

    Parameters
    ----------
    path : path of the mp4 scored.
    ground_truth_video : path of the ground-truth mp4 at the same size (PSNR/SSIM).
    reference_photo : RGB ``(H, W, 3)``: the clip's first frame at the same size (identity).
    envelope : per-frame audio envelope of the clip's audio (lip sync).
    drive : ``(T, 133, 3)`` skeleton that drove the render, in the video's pixels, or None
        → ``pck_render`` (does the video show the requested pose? re-detected vs. drive).
    embedder : :class:`gesticulate.metrics.identity.FaceEmbedder` or None (no identity).

    Returns
    -------
    scores : dict
        ``hkc``, ``hkc_detected``, ``hand_detection_rate``, ``hkv``, ``hand_jitter``,
        ``psnr``, ``ssim``, ``id_similarity``, ``id_distance``, ``id_face_rate``,
        ``lip_sync_{offset_frames,score,score_at_0}``, ``jitter_{body,hands}``, ``pck_render``.
    redetected : np.ndarray, shape (T, 133, 3)
        The Holistic skeletons, for a report or for scoring a video-only submission.
    """
    from gesticulate.metrics.identity import identity_similarity
    from gesticulate.metrics.video import detect_hands, hand_metrics, iter_rgb_frames, psnr_ssim

    s = settings
    out: dict[str, float] = {}
    redetected = redetect(path)
    out["jitter_body"] = skeleton_jitter(redetected, fps=fps, region="upper_body")
    out["jitter_hands"] = skeleton_jitter(redetected, fps=fps, region="hands")
    out.update(_lip_sync(mouth_opening(redetected), envelope, fps=fps, prefix="lip_sync",
                         max_offset=s.max_offset_frames))
    out["pck_render"] = pck(redetected, drive, alpha=s.pck_alpha) if drive is not None else NAN
    kp, sc = detect_hands(iter_rgb_frames(path))
    out.update(hand_metrics(kp, sc, fps=fps))
    ps = psnr_ssim(path, ground_truth_video, stride=s.psnr_stride)
    out.update(psnr=ps["psnr"], ssim=ps["ssim"])
    out.update(id_similarity=NAN, id_distance=NAN, id_face_rate=NAN)
    if embedder is not None:
        try:
            idr = identity_similarity(reference_photo, iter_rgb_frames(
                path, stride=s.identity_stride), embedder=embedder)
            out.update(id_similarity=idr.similarity, id_distance=idr.distance,
                       id_face_rate=idr.face_found_rate)
        except InputError:  # no face in the reference photo: identity cannot be judged
            pass
    return out, redetected
