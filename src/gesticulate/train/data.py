"""Windows of normalised motion and audio features from a clip dataset, for MotionDiT.

A clip (see :mod:`gesticulate.data.clips`) becomes arrays in the learning space: local
coordinates (neck root, shoulder-width scale, CSG-405) z-scored with the dataset's
statistics, a visibility mask (confidence above 0.7, CSG), the stacked audio features, a
style id (the speaker), a style vector (statistics of the whole clip) and, per window, the
mean wrist speed (EMO2's speed condition, shoulder widths per second).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gesticulate.audio.phones import model_audio
from gesticulate.data.clips import STATS, clip_encoded, clip_phones, iter_clips
from gesticulate.errors import InputError
from gesticulate.models.motion_dit import style_vector
from gesticulate.skeleton.activity import activity_from_local
from gesticulate.skeleton.layout import LEFT_WRIST, RIGHT_WRIST, UPPER_BODY_INDICES
from gesticulate.skeleton.normalize import CONFIDENCE_THRESHOLD, NormStats, to_local
from gesticulate.train.augment import augment_window

WRISTS = [int(np.where(UPPER_BODY_INDICES == k)[0][0]) for k in (LEFT_WRIST, RIGHT_WRIST)]


@dataclass
class ClipArrays:
    """One clip in the learning space; ``T`` frames, ``J`` = 121 local points."""

    clip_id: str
    motion: np.ndarray      # (T, J, 2) float32, z-scored local coordinates
    visible: np.ndarray     # (T, J) float32, 1 where confidence > threshold
    audio: np.ndarray       # (T, A) float32, audio.phones.model_audio()
    onset: np.ndarray       # (T,) float32, onset strength 0..1 (for metrics)
    style_id: int           # 0 = unknown speaker
    style_vec: np.ndarray   # (20,) float32, see models.motion_dit.style_vector
    activity: np.ndarray    # (T, 3) float32, face/lips/hands activity (skeleton.activity)
    activity_seen: np.ndarray  # (T, 3) float32, 1 where that region was seen
    onset_frames: np.ndarray | None = None  # (K,) int64, audio beats (for beat alignment)


def wrist_speed(local: np.ndarray, visible: np.ndarray | None = None, *, fps: float) -> np.ndarray:
    """Per-frame mean speed of both wrists, ``(T-1,)``, in local units (shoulder widths) per s.

    ``local`` is ``(T, J, 2)`` un-normalised local coordinates; where ``visible`` ``(T, J)`` is
    given, steps touching an unseen wrist count as NaN.
    """
    v = np.linalg.norm(np.diff(local[:, WRISTS], axis=0), axis=-1) * fps       # (T-1, 2)
    if visible is not None:
        ok = (visible[1:, WRISTS] > 0) & (visible[:-1, WRISTS] > 0)
        v = np.where(ok, v, np.nan)
    if visible is None:
        return v.mean(1)
    with warnings.catch_warnings():  # frames with no seen wrist give NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(v, axis=1)


def load_stats(root: str | os.PathLike, *, threshold: float = CONFIDENCE_THRESHOLD,
               parts: bool = False) -> NormStats:
    """The dataset's ``stats.npz``, or statistics fitted on its train split when absent or in
    the other representation (``parts``: :func:`gesticulate.skeleton.normalize.to_parts`)."""
    path = Path(root) / STATS
    if path.is_file():
        stats = NormStats.load(path)
        if stats.parts == parts:
            return stats
    locs, confs = [], []
    for clip in iter_clips(root, split="train"):
        loc, conf = to_local(clip.skeleton.keypoints)
        locs.append(loc)
        confs.append(conf)
    if not locs:
        raise InputError(f"dataset {root} has no train clips; build it with `gesticulate build-dataset`")
    return NormStats.fit(locs, confs, threshold=threshold, parts=parts)


def load_clips(root: str | os.PathLike, *, split: str, stats: NormStats, fps: float,
               styles: dict[str, int], threshold: float = CONFIDENCE_THRESHOLD,
               phones: bool = False, encoder=None) -> list[ClipArrays]:
    """All kept clips of ``split`` as :class:`ClipArrays`; clips at another fps are an error.
    With ``phones`` the audio rows go on with the viseme channels of the clip's recognised
    phones, with an ``encoder`` (:class:`gesticulate.audio.encoder.SpeechEncoder`) with its
    features (:func:`gesticulate.audio.phones.model_audio`)."""
    out = []
    for clip in iter_clips(root, split=split):
        if abs(clip.record.fps - fps) > 1e-3:
            raise InputError(f"clip {clip.record.clip_id} is at {clip.record.fps} fps, the model "
                             f"at {fps}; rebuild the dataset with --fps {fps:g}")
        loc, conf = to_local(clip.skeleton.keypoints)
        z = stats.normalize(loc).astype(np.float32)
        vis = stats.visible(conf, threshold).astype(np.float32)
        z = np.where(vis[..., None] > 0, z, 0.0).astype(np.float32)  # unseen points → mean pose
        audio = model_audio(clip.features, clip_phones(clip) if phones else None, phones=phones,
                            encoded=None if encoder is None else clip_encoded(clip, encoder))
        t = min(len(z), len(audio))
        activity, seen = activity_from_local(loc[:t], vis[:t], fps=fps)   # once per clip
        out.append(ClipArrays(clip.record.clip_id, z[:t], vis[:t], audio[:t],
                              clip.features.onset[:t].astype(np.float32),
                              styles.get(clip.record.speaker_id, 0),
                              style_vector(z[:t], vis[:t] > 0), activity,
                              seen.astype(np.float32),
                              np.asarray(clip.features.onset_frames, np.int64)))
    return out


def style_table(root: str | os.PathLike, *, num_styles: int) -> dict[str, int]:
    """Speaker id → style id 1..num_styles-1 for the train split's speakers (0 = unknown)."""
    speakers = sorted({c.record.speaker_id for c in iter_clips(root, split="train")})
    return {s: 1 + i % max(num_styles - 1, 1) for i, s in enumerate(speakers)}


class WindowDataset(torch.utils.data.Dataset):
    """Fixed-length windows over clips; ``dataset[i]`` is a dict of tensors (see :meth:`window`).

    Indexing walks windows at ``stride`` frames (validation, evaluation); :meth:`sample`
    draws random crops (training). Clips shorter than ``window`` are padded with unseen frames.
    """

    def __init__(self, clips: list[ClipArrays], *, window: int, stats: NormStats, fps: float,
                 stride: int | None = None, augment: bool = False):
        if not clips:
            raise InputError("no clips for this split; check the dataset's manifest splits")
        self.clips, self.window, self.stats, self.fps = clips, window, stats, fps
        self.augment = augment        # random scale, rotation and flip of sampled crops
        stride = stride or window
        self.index = [(c, s) for c, clip in enumerate(clips)
                      for s in range(0, max(len(clip.motion) - window, 0) + 1, stride)]
        lengths = np.array([len(c.motion) for c in clips], np.float64)
        self.weights = lengths / lengths.sum()

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c, s = self.index[i]
        return self.window_at(c, s, ref_frame=0)

    def window_at(self, c: int, start: int, *, ref_frame: int) -> dict[str, torch.Tensor]:
        """Window ``[start, start + window)`` of clip ``c``; the reference is frame ``ref_frame``.

        Keys: motion (W, J, 2), visible (W, J), audio (W, A), reference (J, 2),
        reference_mask (J,), style_id (), style_vec (20,), speed () in shoulder widths/s
        (NaN when the wrists are never seen), activity (W, 3) and activity_seen (W, 3): the
        face, lips and hands activity (:mod:`gesticulate.skeleton.activity`, measured once on
        the whole clip; the mask head's targets; augmentation keeps them: a flip leaves them,
        its ±10 % scale is within their noise) and where each region was seen (padding: not).
        """
        clip, w = self.clips[c], self.window
        n = min(w, len(clip.motion) - start)
        pad = lambda a: np.concatenate([a[start:start + n], np.zeros((w - n,) + a.shape[1:], a.dtype)])  # noqa: E731
        motion, visible, audio = pad(clip.motion), pad(clip.visible), pad(clip.audio)
        activity, seen = pad(clip.activity), pad(clip.activity_seen)
        local = self.stats.denormalize(motion)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            speed = np.nanmean(wrist_speed(local, visible, fps=self.fps))
        return {"motion": torch.from_numpy(motion), "visible": torch.from_numpy(visible),
                "audio": torch.from_numpy(audio),
                "reference": torch.from_numpy(clip.motion[ref_frame]),
                "reference_mask": torch.from_numpy(clip.visible[ref_frame]),
                "style_id": torch.tensor(clip.style_id), "style_vec": torch.from_numpy(clip.style_vec),
                "speed": torch.tensor(float(speed), dtype=torch.float32),
                "activity": torch.from_numpy(activity),
                "activity_seen": torch.from_numpy(seen)}

    def sample(self, rng: np.random.Generator, batch_size: int) -> dict[str, torch.Tensor]:
        """A batch of random crops (clips weighted by length, random reference frame), each
        augmented (:mod:`gesticulate.train.augment`) when the dataset was made with
        ``augment=True``."""
        items = []
        for c in rng.choice(len(self.clips), size=batch_size, p=self.weights):
            t = len(self.clips[c].motion)
            start = int(rng.integers(0, max(t - self.window, 0) + 1))
            item = self.window_at(int(c), start, ref_frame=int(rng.integers(0, t)))
            if self.augment:
                item = augment_window(item, rng, self.stats)
            items.append(item)
        return collate(items)


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack a list of window dicts into a batch dict (leading dimension B)."""
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}
