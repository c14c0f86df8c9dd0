"""The on-disk dataset format every stage reads and writes.

::

    DIR/
      manifest.jsonl        one JSON object per clip, kept or rejected (see ClipRecord)
      stats.npz             NormStats (mean, std of local coordinates) over the train split
      clips/<clip_id>/
        skeleton.npz        SkeletonSequence (T, 133, 3) in the clip's (cropped) pixel frame
        features.npz        AudioFeatures fields at the clip's fps
        audio.wav           16 kHz mono
        phones.json         recognised phones [[phone, start_s, end_s], ...] (written the
                            first time a model that hears phones reads the clip)
        encoder-<key>.npy   a speech encoder's features per frame (audio.encoder; written the
                            first time a model trained with that encoder reads the clip)
        video.mp4           optional: the cropped video

A clip folder is complete only when it exists under its final name: writers build it in a
temporary sibling folder and rename it (atomic on one filesystem).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from gesticulate.atomic import atomic_dir, holds
from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import InputError
from gesticulate.skeleton.sequence import SkeletonSequence

MANIFEST = "manifest.jsonl"
STATS = "stats.npz"
SPLITS = ("train", "val", "test")


@dataclass
class ClipRecord:
    """One manifest row."""

    clip_id: str
    source: str                      # path or name of the source video
    start_s: float
    end_s: float
    fps: float
    num_frames: int
    speaker_id: str                  # speaker or source id; splits never share one
    status: str = "kept"             # "kept" or "rejected"
    reason: str = ""                 # why it was rejected ("" when kept)
    split: str | None = None         # "train" / "val" / "test" for kept clips
    qc: dict = field(default_factory=dict)  # QC scores: name -> float
    crop: list | None = None         # speaker crop [x0, y0, side] in source pixels (kept clips)


def clip_dir(root: str | os.PathLike, clip_id: str) -> Path:
    return Path(root) / "clips" / clip_id


def features_to_npz(features: AudioFeatures) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in asdict(features).items()}


def features_from_npz(z) -> AudioFeatures:
    f = {k: z[k] for k in z.files}
    return AudioFeatures(fps=float(f.pop("fps")), sr=int(f.pop("sr")),
                         duration_s=float(f.pop("duration_s")), **f)


def write_clip(root: str | os.PathLike, clip_id: str, *, skeleton: SkeletonSequence,
               features: AudioFeatures, audio: np.ndarray, sr: int,
               video_path: str | os.PathLike | None = None) -> Path:
    """Write one clip folder atomically; an existing complete clip is replaced."""
    import soundfile as sf

    final = clip_dir(root, clip_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(final, previous=holds("skeleton.npz"), what="clip") as tmp:
        skeleton.save(tmp / "skeleton.npz")
        np.savez(tmp / "features.npz", **features_to_npz(features))
        sf.write(tmp / "audio.wav", np.asarray(audio, dtype=np.float32), sr, subtype="PCM_16")
        if video_path is not None:
            shutil.move(str(video_path), tmp / "video.mp4")
    return final


@dataclass
class Clip:
    """A clip read back: its record, skeleton, features and the path of its audio."""

    record: ClipRecord
    skeleton: SkeletonSequence
    features: AudioFeatures
    audio_path: Path
    video_path: Path | None


def read_manifest(root: str | os.PathLike) -> list[ClipRecord]:
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise InputError(f"{root} has no {MANIFEST}; build a dataset with `gesticulate build-dataset`")
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(ClipRecord(**json.loads(line)))
    return rows


def write_manifest(root: str | os.PathLike, records: list[ClipRecord]) -> Path:
    """Write the whole manifest atomically, rows sorted by clip id (order-independent builds)."""
    path = Path(root) / MANIFEST
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".manifest.")
    with os.fdopen(fd, "w") as f:
        for r in sorted(records, key=lambda r: r.clip_id):
            f.write(json.dumps(asdict(r), sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read_clip(root: str | os.PathLike, record: ClipRecord) -> Clip:
    d = clip_dir(root, record.clip_id)
    with np.load(d / "features.npz", allow_pickle=False) as z:
        features = features_from_npz(z)
    video = d / "video.mp4"
    return Clip(record, SkeletonSequence.load(d / "skeleton.npz"), features, d / "audio.wav",
                video if video.exists() else None)


def iter_clips(root: str | os.PathLike, *, split: str | None = None) -> Iterator[Clip]:
    """Kept clips of ``split`` (all kept clips when None), in manifest order."""
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    for r in read_manifest(root):
        if r.status == "kept" and (split is None or r.split == split):
            yield read_clip(root, r)


PHONES_NAME = "phones.json"


def clip_phones(clip: Clip) -> list[tuple[str, float, float]] | None:
    """The phones spoken in ``clip`` (:func:`gesticulate.audio.phones.recognize_phones` on its
    audio), recognised once and kept in the clip's folder; None when none were recognised.
    A read-only dataset is recognised again each time (about 2 % of the audio's length)."""
    path = clip.audio_path.parent / PHONES_NAME
    if path.is_file():
        rows = json.loads(path.read_text())
        return [(str(p), float(a), float(b)) for p, a, b in rows] if rows else None
    from gesticulate.audio.io import AUDIO_SR, load_audio
    from gesticulate.audio.phones import recognize_phones
    phones = recognize_phones(load_audio(clip.audio_path, sr=AUDIO_SR), sr=AUDIO_SR)
    if phones is not None:             # a failed recognition is tried again next time
        _keep(path, lambda tmp: tmp.write_text(json.dumps([list(p) for p in phones])))
    return phones


def _keep(path: Path, write) -> None:
    """Write ``path`` atomically with ``write(tmp)``; a dataset the user cannot write to
    (read-only, full disk) keeps the result in memory only."""
    from gesticulate.atomic import atomic_file
    from gesticulate.errors import OutputError
    try:
        with atomic_file(path, suffix=path.suffix) as tmp:
            write(tmp)
    except (OutputError, OSError):
        pass


def clip_encoded(clip: Clip, encoder) -> np.ndarray:
    """The speech encoder's features of ``clip``, ``(T, encoder.dim)`` at the clip's frame
    rate (:class:`gesticulate.audio.encoder.SpeechEncoder`), computed once and kept in the
    clip's folder under the encoder's key."""
    path = clip.audio_path.parent / f"encoder-{encoder.key}.npy"
    if path.is_file():
        rows = np.load(path)
        if rows.shape == (clip.features.num_frames, encoder.dim):
            return rows
    from gesticulate.audio.io import AUDIO_SR, load_audio
    rows = encoder(load_audio(clip.audio_path, sr=AUDIO_SR), AUDIO_SR, fps=clip.record.fps,
                   num_frames=clip.features.num_frames)
    _keep(path, lambda tmp: np.save(tmp, rows))
    return rows

