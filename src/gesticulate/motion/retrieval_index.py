"""The motion library of the ``retrieval`` generator: a dataset's train clips as a rig-motion index.

Every train clip becomes, frame by frame, (a) an audio descriptor (onset, loudness, its rise,
voice activity and four mel bands) and (b) the *motion parameters* of a simple 2D rig relative
to that clip's own mean pose: the neck's displacement, each bone's change of angle and of
length, and the head's similarity transform. Parameters are speaker-free (angles, length
ratios, shoulder-width units), so motion of any library speaker can be replayed on the photo's
own body by forward kinematics (:mod:`gesticulate.motion.retrieval`) and the photo keeps its
body shape. Clips at another frame rate are resampled to the library's rate.

The index is built once per dataset and kept in memory; it is also written into the dataset
folder as ``retrieval_index.npz`` (plain arrays, no pickle) when the folder is writable, and
reused while the manifest is unchanged.
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gesticulate.audio.features import AudioFeatures, num_frames
from gesticulate.errors import InputError
from gesticulate.metrics.beats import derivative
from gesticulate.motion.kinematics import wrap_angle
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.normalize import CONFIDENCE_THRESHOLD

INDEX_NAME = "retrieval_index.npz"
INDEX_VERSION = 4   # 4: a flipped hand interpolated (_hands_on_forearms, HAND_FLIP)
NECK = -1                                   # the virtual root: mid-shoulder point
# Rig bones (parent, child), parents first; NECK is the root. Each bone's angle and length
# change is a motion parameter; hands hang off the body wrists.
BONES: tuple[tuple[int, int], ...] = (
    (NECK, L.LEFT_SHOULDER), (NECK, L.RIGHT_SHOULDER),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.LEFT_WRIST, L.LEFT_HAND_START), *L.LEFT_HAND_BONES,
    (L.RIGHT_WRIST, L.RIGHT_HAND_START), *L.RIGHT_HAND_BONES,
)
HEAD = np.array(list(range(0, 5)) + list(range(L.FACE_START, L.FACE_START + 68)))
NUM_BONES = len(BONES)
# Each hand's root bone (its wrist → middle knuckle), its forearm's bone, and per bone the root
# bone of the hand it lies in (-1 outside the hands; the root itself included).
HAND_ROOT = {start: BONES.index((start, start + L.HAND_MIDDLE[0]))
             for start in (L.LEFT_HAND_START, L.RIGHT_HAND_START)}
FOREARM = {L.LEFT_HAND_START: BONES.index((L.LEFT_ELBOW, L.LEFT_WRIST)),
           L.RIGHT_HAND_START: BONES.index((L.RIGHT_ELBOW, L.RIGHT_WRIST))}
FINGER_ROOT = np.array([next((HAND_ROOT[st] for st in HAND_ROOT if st <= c < st + 21), -1)
                        for _, c in BONES])
# Parameter vector layout per frame.
P_TORSO = slice(0, 2)                                # neck displacement (shoulder widths)
P_ANGLE = slice(2, 2 + NUM_BONES)                    # bone angle change (radians)
P_LOGLEN = slice(2 + NUM_BONES, 2 + 2 * NUM_BONES)   # log of bone length ratio
P_HEAD = slice(2 + 2 * NUM_BONES, 6 + 2 * NUM_BONES)  # head rotation (rad), log scale, offset xy
NUM_PARAMS = 6 + 2 * NUM_BONES
ANGLE_CHANNELS = np.r_[np.arange(P_ANGLE.start, P_ANGLE.stop), P_HEAD.start]
DESCRIPTOR_NAMES = ("onset", "rms", "rms_rise", "vad", "mel_low", "mel_mid_low", "mel_mid_high",
                    "mel_high")
_MIN_SEEN = 0.2      # a point seen in fewer of a clip's frames counts as never seen


def audio_descriptor(features: AudioFeatures) -> np.ndarray:
    """Per-frame audio descriptor ``(T, 8)`` (:data:`DESCRIPTOR_NAMES`), not yet z-scored.

    Onset strength and loudness carry the beat (gesture strokes land on stressed syllables);
    four mel bands (dB / 80 + 1) tell voiced, fricative and silent frames apart for any
    ``n_mels``.
    """
    rms = np.asarray(features.rms, np.float64)
    rise = np.clip(np.diff(rms, prepend=rms[:1]), 0.0, None)
    mel = np.asarray(features.log_mel, np.float64) / 80.0 + 1.0
    if mel.ndim != 2 or mel.shape[1] < 4:
        bands = np.repeat(rms[:, None], 4, axis=1)
    else:
        bands = np.stack([b.mean(axis=1) for b in np.array_split(mel, 4, axis=1)], axis=1)
    cols = [np.asarray(features.onset, np.float64), rms, rise,
            np.asarray(features.vad, np.float64)]
    return np.concatenate([np.stack(cols, axis=1), bands], axis=1).astype(np.float32)


def resample_rows(a: np.ndarray, n: int) -> np.ndarray:
    """Linear resampling of rows ``(T, ...)`` → ``(n, ...)``, same start and end time."""
    a = np.asarray(a)
    if len(a) == n:
        return a.copy()
    flat = a.reshape(len(a), -1)
    src = np.linspace(0.0, 1.0, len(a)) if len(a) > 1 else np.zeros(1)
    dst = np.linspace(0.0, 1.0, n)
    if len(a) == 1:
        return np.repeat(a, n, axis=0)
    out = np.stack([np.interp(dst, src, flat[:, i]) for i in range(flat.shape[1])], axis=1)
    return out.reshape(n, *a.shape[1:]).astype(a.dtype)


def _fill(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values (T, ...)`` over frames where ``valid (T,)`` is False."""
    if valid.all() or not valid.any():
        return values
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(t, t[valid], flat[valid, i]) for i in range(flat.shape[1])], 1)
    return out.reshape(values.shape)


def motion_params(pts: np.ndarray, conf: np.ndarray, *,
                  threshold: float = CONFIDENCE_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Rig parameters ``(T, NUM_PARAMS)`` of one clip, relative to the clip's mean pose.

    Parameters
    ----------
    pts : np.ndarray, shape (T, 133, 2)
        Keypoints in any consistent unit (pixels of the clip's crop).
    conf : np.ndarray, shape (T, 133)
        Confidences; points at or below ``threshold`` are unseen, and every parameter is
        interpolated in time over the frames where it is unseen (CSG-405's 0.7 mask).

    Returns
    -------
    params : np.ndarray, shape (T, NUM_PARAMS), float32
        See ``P_TORSO``, ``P_ANGLE``, ``P_LOGLEN``, ``P_HEAD``; lengths are in the clip's median
        shoulder widths. A bone rarely seen in the clip follows its parent's rotation.
    arms_seen : np.ndarray, shape (T,), bool
        Both elbows and wrists seen: frames whose arm motion is real, not interpolated.
    """
    T = len(pts)
    ok = conf > threshold
    shoulders = ok[:, L.LEFT_SHOULDER] & ok[:, L.RIGHT_SHOULDER]
    if shoulders.mean() < _MIN_SEEN:
        raise InputError("a library clip shows no shoulders; rebuild the dataset with "
                         "`gesticulate build-dataset` (its QC keeps upper-body clips only)")
    neck = _fill(L.neck(pts), shoulders)
    sw = float(np.median(L.shoulder_width(pts)[shoulders]))
    params = np.zeros((T, NUM_PARAMS), np.float64)
    params[:, P_TORSO] = (neck - neck.mean(axis=0)) / sw
    for b, (p, c) in enumerate(BONES):
        seen = ok[:, c] & (shoulders if p == NECK else ok[:, p])
        if seen.mean() < _MIN_SEEN:   # never really seen: turn with the parent bone
            parent = [i for i, (_, cc) in enumerate(BONES) if cc == p]
            if parent:
                params[:, P_ANGLE.start + b] = params[:, P_ANGLE.start + parent[0]]
            continue
        vec = pts[:, c] - (neck if p == NECK else pts[:, p])
        ang = np.unwrap(np.arctan2(vec[seen, 1], vec[seen, 0]))
        ang = np.interp(np.arange(T), np.flatnonzero(seen), ang)
        mean = np.angle(np.exp(1j * ang[seen]).mean())
        ang -= mean + 2 * np.pi * np.round((np.median(ang) - mean) / (2 * np.pi))
        length = np.linalg.norm(vec, axis=1)
        typical = float(np.median(length[seen]))
        ratio = (np.interp(np.arange(T), np.flatnonzero(seen), length[seen]) / typical
                 if typical > 1e-9 else np.ones(T))      # a bone of no length keeps its own
        params[:, P_ANGLE.start + b] = ang
        params[:, P_LOGLEN.start + b] = np.log(np.maximum(ratio, 1e-3))
    _hands_on_forearms(params[:, P_ANGLE])
    params[:, P_HEAD] = _head_params(pts, ok, neck, sw)
    arms = ok[:, [L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST]].all(axis=1)
    return params.astype(np.float32), arms


# A hand's turn on its forearm (from the clip's mean) past this is the tracker's flip, not a
# wrist's bend. The shared clips' hands (the dataset's train clips): 3.0 % and 7.4 % of the
# left- and right-hand frames past 90 degrees, 0.7 % and 7.4 % past 120, 0.3 % and 7.4 % past
# 150: un_speech_female's right hand behind her lectern, read upside down, and
# hbr_speaker12's left, spun through 310 degrees in a frame. Kept (wrapped to half a turn),
# the replayed hand swung through the turn retrieval_rig.WRIST_RANGE squeezed it to, up to
# 0.5 shoulder widths in a frame, wherever the library's window started or ended in one.
HAND_FLIP = np.deg2rad(120.0)


def _hands_on_forearms(angles: np.ndarray) -> None:
    """In place on bone angle changes ``(T, NUM_BONES)``: each hand's root bone within half a
    turn of its forearm's, each finger bone within half a turn of its hand's root, and a hand
    the tracker flipped (turned past :data:`HAND_FLIP` on its forearm) interpolated between
    the frames around it. Unwrapped over the clip, a hand the tracker flipped or spun for a
    while (short bones, noisy directions) kept whole turns: 1 % of the shared clips' left-hand
    frames had the hand's root 335 degrees or more from its mean, which a gain or a blend
    between two clips then spun through (a generated desk speaker's left hand turned 134-180
    degrees from her forearm, and MediaPipe lost it)."""
    for start, root in HAND_ROOT.items():
        fore = angles[:, FOREARM[start]]
        bend = wrap_angle(angles[:, root] - fore)
        fingers = np.flatnonzero((FINGER_ROOT == root) & (np.arange(NUM_BONES) != root))
        own = wrap_angle(angles[:, fingers] - angles[:, root, None])
        # A hand turned past what a wrist bends is the tracker's flip: the hand as it is on
        # either side of it, interpolated (each finger the short way round).
        ok = np.abs(bend) <= HAND_FLIP
        if ok.any() and not ok.all():
            own[ok] = np.unwrap(own[ok], axis=0)
            filled = _fill(np.column_stack([bend, own]), ok)
            bend, own = filled[:, 0], wrap_angle(filled[:, 1:])
        angles[:, root] = fore + bend
        angles[:, fingers] = angles[:, root, None] + own


def _head_params(pts, ok, neck, sw) -> np.ndarray:
    """Head similarity per frame ``(T, 4)``: rotation, log scale, offset from the neck (xy).

    Least-squares 2D similarity (complex numbers: ``w ≈ a·m``) from the clip's mean head shape
    to each frame's head points, over the points seen in both.
    """
    T = len(pts)
    z = pts[:, HEAD, 0] + 1j * pts[:, HEAD, 1]                     # (T, H)
    v = ok[:, HEAD].astype(np.float64)
    keep = v.mean(axis=0) >= _MIN_SEEN
    v *= keep[None]
    out = np.zeros((T, 4))
    good = v.sum(axis=1) >= 3
    if good.sum() < 2:
        return out
    mean = (z * v).sum(0) / np.maximum(v.sum(0), 1)                 # (H,) mean head shape
    cw = (z * v).sum(1) / np.maximum(v.sum(1), 1)                   # (T,) frame centroid
    cm = (mean[None] * v).sum(1) / np.maximum(v.sum(1), 1)          # (T,) mean's centroid
    w, m = z - cw[:, None], mean[None] - cm[:, None]
    a = (v * np.conj(m) * w).sum(1) / np.maximum((v * np.abs(m) ** 2).sum(1), 1e-9)
    a = np.where(good, a, 1.0)
    neck_c = neck[:, 0] + 1j * neck[:, 1]
    off = (cw - neck_c) - (cm - neck_c.mean())
    out[:, 0] = np.unwrap(np.angle(a))
    out[:, 1] = np.log(np.maximum(np.abs(a), 1e-3))
    out[:, 2], out[:, 3] = off.real / sw, off.imag / sw
    out = _fill(out, good)
    out[:, 2:] -= out[:, 2:].mean(axis=0)
    return out


@dataclass
class Library:
    """All train clips of a dataset as one frame-indexed motion library at ``fps``.

    Attributes
    ----------
    fps : float
        Frame rate of every row (the train clips' median rate).
    params : np.ndarray, shape (N, NUM_PARAMS), float32
        Rig parameters per library frame (:func:`motion_params`).
    audio : np.ndarray, shape (N, 8), float32
        Audio descriptor per frame, z-scored with ``audio_mean`` / ``audio_std``.
    audio_mean, audio_std : np.ndarray, shape (8,)
    energy : np.ndarray, shape (N,), float32
        Mean wrist speed in shoulder widths per second (over 0.2 s).
    arms_seen : np.ndarray, shape (N,), bool
    clip_start : np.ndarray, shape (C + 1,), int64
        Row offsets of the clips: clip ``c`` is rows ``clip_start[c]:clip_start[c + 1]``.
    speakers : np.ndarray, shape (C,), str
        Speaker id of each clip (the manifest's ``speaker_id``).
    """

    fps: float
    params: np.ndarray
    audio: np.ndarray
    audio_mean: np.ndarray
    audio_std: np.ndarray
    energy: np.ndarray
    arms_seen: np.ndarray
    clip_start: np.ndarray
    speakers: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.params)

    def describe(self, features: AudioFeatures) -> np.ndarray:
        """z-scored audio descriptor ``(T, 8)`` of ``features`` (library statistics)."""
        return (audio_descriptor(features) - self.audio_mean) / self.audio_std

    def save(self, path: str | os.PathLike, *, signature: str) -> None:
        """Write atomically as plain arrays (no pickle)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, version=INDEX_VERSION, signature=signature, fps=self.fps,
                     params=self.params, audio=self.audio, audio_mean=self.audio_mean,
                     audio_std=self.audio_std, energy=self.energy, arms_seen=self.arms_seen,
                     clip_start=self.clip_start, speakers=self.speakers)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike, *, signature: str) -> "Library | None":
        """The saved library, or None when missing, stale or unreadable."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != INDEX_VERSION or str(z["signature"]) != signature:
                    return None
                return cls(float(z["fps"]), z["params"], z["audio"], z["audio_mean"],
                           z["audio_std"], z["energy"], z["arms_seen"], z["clip_start"],
                           z["speakers"])
        except (OSError, KeyError, ValueError):
            return None


# Libraries kept in memory by this process, most recently used last: resolved dataset folder →
# (signature, library). A dataset whose manifest changed replaces its old entry, and past
# CACHE_SIZE folders the least recently used goes, so a long-lived web worker holds at most
# CACHE_SIZE libraries whatever it is asked for.
CACHE_SIZE = 2
_CACHE: OrderedDict[str, tuple[str, Library]] = OrderedDict()


def dataset_signature(root: Path) -> str:
    """Changes whenever the manifest (and so the set of clips) changes."""
    st = (root / "manifest.jsonl").stat()
    return f"v{INDEX_VERSION}:{st.st_size}:{st.st_mtime_ns}"


def load_library(root: str | os.PathLike, *, progress: bool = False) -> Library:
    """The motion library of dataset ``root``: from memory (the ``CACHE_SIZE`` last used),
    from ``retrieval_index.npz`` or built.

    Raises
    ------
    InputError
        When ``root`` is not a dataset folder or has no usable train clips.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset folder {root} does not exist; pass --checkpoint the folder "
                         "written by `gesticulate build-dataset`")
    if not (root / "manifest.jsonl").is_file():
        raise InputError(f"{root} has no manifest.jsonl, so it is not a dataset; build one with "
                         "`gesticulate build-dataset` and pass its folder as --checkpoint")
    sig = dataset_signature(root)
    key = str(root.resolve())
    if key in _CACHE and _CACHE[key][0] == sig:
        _CACHE.move_to_end(key)
        return _CACHE[key][1]
    lib = Library.load(root / INDEX_NAME, signature=sig)
    if lib is None:
        lib = build_library(root, progress=progress)
        try:
            lib.save(root / INDEX_NAME, signature=sig)
        except OSError:
            pass   # a read-only dataset: the in-memory index still serves this process
    _CACHE[key] = (sig, lib)
    _CACHE.move_to_end(key)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return lib


def build_library(root: str | os.PathLike, *, progress: bool = False) -> Library:
    """Read every kept train clip of ``root`` and index it (see :class:`Library`)."""
    from tqdm.auto import tqdm

    from gesticulate.data.clips import iter_clips

    clips = list(tqdm(iter_clips(root, split="train"), desc="retrieval index", unit="clip",
                      disable=not progress))
    if not clips:
        raise InputError(f"dataset {root} has no train clips; build it with "
                         "`gesticulate build-dataset` from videos of people speaking")
    fps = float(np.median([c.skeleton.fps for c in clips]))
    params, audio, energy, arms, starts, speakers = [], [], [], [], [0], []
    for clip in clips:
        kp = clip.skeleton.keypoints
        n = min(len(kp), clip.features.num_frames)
        if n < 2:
            continue
        try:
            p, a = motion_params(kp[:n, :, :2].astype(np.float64), kp[:n, :, 2])
        except InputError:
            continue
        desc = audio_descriptor(clip.features)[:n]
        m = num_frames(n / clip.skeleton.fps, fps)
        p, desc = resample_rows(p, m), resample_rows(desc, m)
        a = resample_rows(a.astype(np.float32), m) > 0.5
        params.append(p), audio.append(desc), arms.append(a)
        energy.append(_wrist_speed(kp[:n], m, fps=fps))
        starts.append(starts[-1] + m)
        speakers.append(str(clip.record.speaker_id))
    if not params:
        raise InputError(f"dataset {root} has no usable train clips (none shows both shoulders); "
                         "rebuild it from upper-body videos")
    audio = np.concatenate(audio)
    mean, std = audio.mean(0), np.maximum(audio.std(0), 1e-3)
    return Library(fps, np.concatenate(params), ((audio - mean) / std).astype(np.float32),
                   mean.astype(np.float32), std.astype(np.float32),
                   np.concatenate(energy).astype(np.float32), np.concatenate(arms),
                   np.asarray(starts, np.int64), np.asarray(speakers, dtype=str))


def _wrist_speed(kp: np.ndarray, m: int, *, fps: float) -> np.ndarray:
    """Mean wrist speed ``(m,)`` in shoulder widths per second at ``fps``."""
    ok = kp[:, [L.LEFT_WRIST, L.RIGHT_WRIST], 2] > CONFIDENCE_THRESHOLD
    sw = float(np.median(L.shoulder_width(kp))) or 1.0
    w = np.stack([_fill(kp[:, j, :2].astype(np.float64), ok[:, i])
                  for i, j in enumerate((L.LEFT_WRIST, L.RIGHT_WRIST))], axis=1)
    w = resample_rows(w, m) / sw
    # Over 0.2 s, as the gesture metrics measure it: frame differences would read the
    # tracker's jitter (~0.3 sw/s on a still hand) as energy.
    v = np.stack([np.linalg.norm(derivative(w[:, i], fps=fps, smooth_s=0.2), axis=1)
                  for i in range(2)], axis=1).mean(axis=1)
    return v.astype(np.float32)
