"""A synthetic co-speech dataset with a KNOWN audio → motion relation, in the clip format.

For tests, and for training when no real data is at hand. Speech is a train of syllables
(onsets at random times, with pauses); every onset of strength ``a`` triggers a beat
gesture: both wrists (with their hands, the elbows half as far) move along the speaker's
gesture direction by ``a · amplitude`` shoulder widths, a raised-cosine stroke and
retraction starting at the onset. The mouth opens with the loudness (RMS), the head nods a
little on strong onsets. So wrist speed follows the onset envelope with a short lag, and a
model that learned the data must show it; a model fed another clip's audio must not.

Hands drop out (confidence 0.2, coordinates jittered) in random stretches, which exercises
the confidence masks (CSG's 0.7 threshold). Each speaker has their own gesture direction,
amplitude and rest pose (a style); splits are by speaker.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gesticulate.audio.features import AudioFeatures
from gesticulate.audio.io import AUDIO_SR
from gesticulate.data.clips import STATS, ClipRecord, write_clip, write_manifest
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.normalize import NormStats, to_local
from gesticulate.skeleton.sequence import SkeletonSequence

N_MELS = 80
STROKE_FRAMES = 10       # length of one beat gesture (stroke + retraction), frames at 25 fps


def template_pose(*, size: int = 512) -> np.ndarray:
    """A frontal upper-body rest pose ``(133, 3)`` in pixels of a ``size`` square frame."""
    kp = np.zeros((L.NUM_KEYPOINTS, 3), np.float32)
    sw = 0.3 * size                       # shoulder width, pixels
    neck = np.array([0.5 * size, 0.62 * size])
    put = lambda i, dx, dy: kp.__setitem__(i, (*(neck + sw * np.array([dx, dy])), 0.95))  # noqa: E731
    put(L.NOSE, 0, -0.55); put(L.LEFT_EYE, 0.09, -0.65); put(L.RIGHT_EYE, -0.09, -0.65)
    put(L.LEFT_EAR, 0.2, -0.6); put(L.RIGHT_EAR, -0.2, -0.6)
    put(L.LEFT_SHOULDER, 0.5, 0); put(L.RIGHT_SHOULDER, -0.5, 0)
    put(L.LEFT_ELBOW, 0.6, 0.55); put(L.RIGHT_ELBOW, -0.6, 0.55)
    put(L.LEFT_WRIST, 0.35, 0.95); put(L.RIGHT_WRIST, -0.35, 0.95)
    put(L.LEFT_HIP, 0.35, 1.4); put(L.RIGHT_HIP, -0.35, 1.4)
    for i in range(13, 23):               # legs and feet, below the frame
        put(i, 0.3 * (1 if i % 2 else -1), 2.2)
    ang = np.linspace(0, 2 * np.pi, 68, endpoint=False)  # face: points on an ellipse
    for i, a in enumerate(ang):
        put(L.face(i), 0.22 * np.cos(a), -0.55 + 0.28 * np.sin(a))
    for i in range(48, 68):               # lips: a small ellipse under the nose
        a = 2 * np.pi * (i - 48) / 20
        put(L.face(i), 0.08 * np.cos(a), -0.4 + 0.03 * np.sin(a))
    for start, wrist in ((L.LEFT_HAND_START, L.LEFT_WRIST), (L.RIGHT_HAND_START, L.RIGHT_WRIST)):
        w = kp[wrist, :2]
        kp[start] = (*w, 0.95)
        for f, finger in enumerate(L.HAND_FINGERS):
            for k, j in enumerate(finger):
                off = np.array([(f - 2) * 0.03, 0.04 * (k + 1)]) * sw
                kp[start + j] = (*(w + off), 0.95)
    return kp


def speech_onsets(num_frames: int, rng: np.random.Generator, *, fps: float = 25.0):
    """Onset frames and strengths of a syllable train with pauses."""
    frames, strengths, t = [], [], int(rng.integers(0, 10))
    while t < num_frames:
        frames.append(t)
        strengths.append(rng.uniform(0.4, 1.0))
        t += int(rng.integers(4, 9))                     # 3–6 syllables per second
        if rng.random() < 0.12:
            t += int(rng.integers(int(0.6 * fps), int(1.5 * fps)))  # a pause
    return np.array(frames, np.int64), np.array(strengths, np.float32)


def audio_features(onsets, strengths, num_frames: int, rng, *, fps: float = 25.0) -> AudioFeatures:
    """Per-frame features consistent with the onset train (the "audio" side of the relation)."""
    t = np.arange(num_frames)
    onset = np.zeros(num_frames, np.float32)
    rms = np.zeros(num_frames, np.float32)
    for f, a in zip(onsets, strengths):
        d = t - f
        onset += np.where(d >= 0, a * np.exp(-np.maximum(d, 0) / 1.5), 0)
        rms += np.where((d >= 0) & (d < 6), a * np.sin(np.pi * (d + 0.5) / 6), 0)
    onset /= max(onset.max(), 1e-6)
    rms = np.clip(rms, 0, None) / max(rms.max(), 1e-6)
    vad = (rms > 0.05).astype(np.float32)
    pitch = np.where(vad > 0, 120 + 60 * rms, 0).astype(np.float32)
    profile = np.exp(-np.linspace(0, 3, N_MELS))[None]   # energy falls with mel band
    mel = 10 * np.log10(1e-8 + (rms[:, None] ** 2) * profile) + rng.normal(0, 1.0, (num_frames, N_MELS))
    mel = np.clip(mel, -80, 0).astype(np.float32)
    return AudioFeatures(fps=fps, sr=AUDIO_SR, duration_s=num_frames / fps, log_mel=mel,
                         onset=onset, rms=rms, pitch_hz=pitch, vad=vad,
                         onset_frames=onsets.astype(np.int64))


def gesture_motion(onsets, strengths, rms, style: dict, rng, *, num_frames: int,
                   size: int = 512) -> np.ndarray:
    """Pixel keypoints ``(T, 133, 3)`` whose wrists beat on the onsets (the known relation)."""
    base = template_pose(size=size)
    sw = float(L.shoulder_width(base))
    base[:, :2] += style["rest_offset"] * sw
    kp = np.repeat(base[None], num_frames, 0)
    stroke = np.zeros(num_frames, np.float32)                 # 0..~1 gesture displacement
    bump = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(STROKE_FRAMES) / STROKE_FRAMES)
    for f, a in zip(onsets, strengths):
        n = min(STROKE_FRAMES, num_frames - f)
        stroke[f:f + n] = np.maximum(stroke[f:f + n], a * bump[:n])
    disp = stroke[:, None] * style["amplitude"] * sw * style["direction"][None]  # (T, 2) pixels
    for side, (wrist, elbow, hand) in enumerate(((L.LEFT_WRIST, L.LEFT_ELBOW, L.LEFT_HAND),
                                                 (L.RIGHT_WRIST, L.RIGHT_ELBOW, L.RIGHT_HAND))):
        gain = style["hand_gain"][side] * np.array([1 if side else -1, 1])  # mirrored x
        kp[:, wrist, :2] += disp * gain
        kp[:, hand, :2] += (disp * gain)[:, None]
        kp[:, elbow, :2] += 0.5 * disp * gain
    nod = np.convolve(stroke, np.ones(3) / 3, mode="same") * 0.04 * sw
    head = np.r_[0:5, 23:91]
    kp[:, head, 1] += nod[:, None]
    lower = list(range(L.face(56), L.face(60))) + list(range(L.face(64), L.face(68)))
    kp[:, lower, 1] += (rms * 0.06 * sw)[:, None]             # mouth opens with loudness
    kp[:, :, :2] += rng.normal(0, 0.004 * sw, kp[:, :, :2].shape)
    drop = np.zeros(num_frames, bool)                         # hand dropouts (masked in loss)
    for _ in range(rng.integers(0, 3)):
        s = int(rng.integers(0, num_frames))
        drop[s:s + int(rng.integers(5, 20))] = True
    kp[drop, L.HANDS, :2] += rng.normal(0, 0.3 * sw, (int(drop.sum()), 42, 2))
    kp[drop, L.HANDS, 2] = 0.2
    return kp


def synth_audio(features: AudioFeatures, rng) -> np.ndarray:
    """A waveform whose loudness follows ``features.rms``: voiced buzz plus noise, 16 kHz."""
    n = int(features.duration_s * AUDIO_SR)
    t = np.arange(n) / AUDIO_SR * features.fps  # sample times in frames
    env = np.interp(t, np.arange(features.num_frames), features.rms)
    f0 = np.interp(t, np.arange(features.num_frames),
                   np.maximum(features.pitch_hz, 100))
    phase = 2 * np.pi * np.cumsum(f0) / AUDIO_SR
    y = env * (0.3 * np.sign(np.sin(phase)) * 0.5 + 0.1 * rng.normal(size=n))
    return y.astype(np.float32)


def make_synthetic_dataset(root: str | os.PathLike, *, num_speakers: int = 6,
                           clips_per_speaker: int = 4, seconds: float = 8.0, fps: float = 25.0,
                           seed: int = 0, size: int = 512) -> Path:
    """Write a synthetic dataset to ``root``: clips, manifest.jsonl and stats.npz.

    Speakers ``spk0 ..`` go to train except the last two: one val, one test. Returns ``root``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    num_frames = int(round(seconds * fps))
    records, locals_, confs = [], [], []
    for s in range(num_speakers):
        ang = rng.uniform(-np.pi * 0.9, -np.pi * 0.1)        # gestures go up and outwards
        style = {"direction": np.array([np.cos(ang), np.sin(ang)], np.float32),
                 "amplitude": rng.uniform(0.25, 0.45), "hand_gain": (rng.uniform(0.4, 1.0), 1.0),
                 "rest_offset": rng.normal(0, 0.05, 2).astype(np.float32)}
        split = "val" if s == num_speakers - 2 else "test" if s == num_speakers - 1 else "train"
        for c in range(clips_per_speaker):
            onsets, strengths = speech_onsets(num_frames, rng, fps=fps)
            feats = audio_features(onsets, strengths, num_frames, rng, fps=fps)
            kp = gesture_motion(onsets, strengths, feats.rms, style, rng, num_frames=num_frames, size=size)
            clip_id = f"spk{s}_{c:03d}"
            write_clip(root, clip_id, skeleton=SkeletonSequence(kp, fps, (size, size)),
                       features=feats, audio=synth_audio(feats, rng), sr=AUDIO_SR)
            records.append(ClipRecord(clip_id=clip_id, source=f"synthetic/spk{s}", start_s=0.0,
                                      end_s=seconds, fps=fps, num_frames=num_frames,
                                      speaker_id=f"spk{s}", split=split))
            if split == "train":
                loc, conf = to_local(kp)
                locals_.append(loc)
                confs.append(conf)
    write_manifest(root, records)
    NormStats.fit(locals_, confs).save(root / STATS)
    return root
