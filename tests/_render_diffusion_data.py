"""Helpers for the diffusion-renderer tests: a tiny model config and a synthetic video dataset."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from gesticulate.data.clips import ClipRecord, write_clip, write_manifest
from gesticulate.audio.io import AUDIO_SR as SR
from gesticulate.data.synthetic import audio_features, gesture_motion, speech_onsets, synth_audio
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.sequence import SkeletonSequence

# A model small enough for CPU tests: 32 px, two levels, attention at 16x16.
SMALL = dict(image_size=32, block_channels=(16, 32), attention_levels=(False, True), num_heads=2,
             norm_groups=4, num_frames=3, motion_frames=1, max_frames=16, audio_token_dim=16)


def randomized(model: torch.nn.Module, *, scale: float = 0.05, seed: int = 0) -> torch.nn.Module:
    """Fill the zero-initialised parameters with noise, so no path of the model is a no-op."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * scale)
    return model.eval()


def draw_person(kp: np.ndarray, *, size: int) -> np.ndarray:
    """A drawn figure for a skeleton ``(133, 3)``: torso, head, arms and hands on a backdrop."""
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = (70, 90, 120)
    img[size // 2:] = (90, 80, 60)                          # a "desk" so the frame has structure
    p = lambda i: tuple(int(v) for v in kp[i, :2])          # noqa: E731
    t = max(1, size // 16)
    cv2.fillConvexPoly(img, np.array([p(L.LEFT_SHOULDER), p(L.RIGHT_SHOULDER), p(L.RIGHT_HIP),
                                      p(L.LEFT_HIP)], np.int32), (200, 60, 60))
    cv2.circle(img, p(L.NOSE), max(2, size // 9), (230, 190, 160), -1)
    for a, b in ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
                 (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST)):
        cv2.line(img, p(a), p(b), (60, 160, 200), t)
    for w in (L.LEFT_WRIST, L.RIGHT_WRIST):
        cv2.circle(img, p(w), t + 1, (230, 190, 160), -1)
    return img


def make_video_dataset(root, *, num_clips: int = 2, frames: int = 12, size: int = 32,
                       fps: float = 25.0, seed: int = 0) -> Path:
    """A dataset in the clip format with ``video.mp4`` per clip (drawn moving figures)."""
    from gesticulate.video import VideoWriter

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    style = {"direction": np.array([0.3, -0.95], np.float32), "amplitude": 0.4,
             "hand_gain": (0.8, 1.0), "rest_offset": np.zeros(2, np.float32)}
    records = []
    for c in range(num_clips):
        onsets, strengths = speech_onsets(frames, rng, fps=fps)
        feats = audio_features(onsets, strengths, frames, rng, fps=fps)
        kp = gesture_motion(onsets, strengths, feats.rms, style, rng, num_frames=frames, size=size)
        kp[..., 2] = np.where(kp[..., 2] > 0.5, kp[..., 2], 0.9)    # hands seen in the drawings
        audio = synth_audio(feats, rng)
        tmp = Path(tempfile.mkdtemp()) / "v.mp4"
        with VideoWriter(tmp, fps=fps, size=(size, size), audio=audio, sr=SR) as w:
            for k in kp:
                w.write(draw_person(k, size=size))
        clip_id = f"clip{c:03d}"
        write_clip(root, clip_id, skeleton=SkeletonSequence(kp, fps, (size, size)), features=feats,
                   audio=audio, sr=SR, video_path=tmp)
        records.append(ClipRecord(clip_id=clip_id, source="synthetic", start_s=0.0,
                                  end_s=frames / fps, fps=fps, num_frames=frames,
                                  speaker_id="spk0", split="val" if c == num_clips - 1 and num_clips > 1 else "train"))
    write_manifest(root, records)
    return root
