"""Learning is real: a small MotionDiT trained briefly on synthetic data with a known
audio → motion relation lowers its val loss well below the start, follows the audio better
than with another clip's audio, and joins its windows with no seam.

One model is trained for the whole module (~300 steps of a small config on 1 CPU thread).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from gesticulate.data.synthetic import make_synthetic_dataset
from gesticulate.models.motion_dit import MotionDiT
from gesticulate.motion.diffusion import Conditions, sample_motion, stitch_steps
from gesticulate.skeleton.normalize import NormStats
from gesticulate.train.data import load_clips
from gesticulate.train.motion import train

pytestmark = pytest.mark.slow
MODEL = dict(window=48, prev_frames=8, patch_frames=2, width=96, depth=3, num_heads=4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("learn")
    data = make_synthetic_dataset(root / "syn", num_speakers=5, clips_per_speaker=3, seconds=6.0, seed=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ckpt = train(data, output=root / "run", preset="tiny", steps=300, batch_size=16, lr=1e-3,
                     warmup_steps=20, val_every=150, checkpoint_every=300, progress=False,
                     metric_clips=2, model=MODEL)
    finally:
        torch.set_num_threads(threads)
    return data, ckpt, list(csv.DictReader(open(root / "run" / "log.csv")))


def test_val_loss_falls_well_below_its_start(run):
    _, _, rows = run
    start, end = float(rows[0]["val_loss"]), float(rows[-1]["val_loss"])
    assert int(rows[0]["step"]) == 0 and end < 0.8 * start


def test_samples_follow_their_audio_better_than_shuffled_audio(run):
    _, _, rows = run
    last = rows[-1]
    assert float(last["onset_corr"]) > float(last["onset_corr_shuffled"]) + 0.15
    # Samples move about as much as the data does (not frozen, not jittering wildly).
    assert 0.5 < float(last["wrist_speed"]) / float(last["wrist_speed_gt"]) < 2.0


def test_joint_velocity_at_window_borders_is_no_larger_than_inside(run):
    data, ckpt, _ = run
    model = MotionDiT.from_pretrained(ckpt)
    stats = NormStats.load(ckpt / "stats.npz")
    clips = load_clips(data, split="val", stats=stats, fps=25.0, styles={},
                       phones=model.config.phones)
    # 60 s of the val speaker's audio: 37 window borders per sample.
    audio = np.resize(np.concatenate([c.audio for c in clips]), (1500, clips[0].audio.shape[1]))
    cond = Conditions(torch.from_numpy(clips[0].motion[0]), torch.from_numpy(clips[0].visible[0]))
    cfg = model.config
    speed = lambda z: np.linalg.norm(np.diff(stats.denormalize(z), axis=0), axis=-1).mean(1)  # noqa: E731
    b = stitch_steps(len(audio), cfg.window, cfg.prev_frames)
    border, inside, same_frames_unstitched = [], [], []
    for seed in range(2):
        v = speed(sample_motion(model, audio, cond, seed=seed, num_steps=10))
        border.extend(v[b])
        inside.extend(np.delete(v, b))
        # Control for the audio: the same frames sampled with the windows half a stride later,
        # so that they lie inside a window (strokes fall where the audio has onsets, and a
        # border on an onset is fast for that reason alone).
        shift = (cfg.window - cfg.prev_frames) // 2
        late = speed(sample_motion(model, np.concatenate([audio[:shift], audio]), cond, seed=seed,
                                   num_steps=10))[shift:]
        same_frames_unstitched.extend(late[b])
    assert len(border) >= 140
    assert np.mean(border) <= 1.3 * np.mean(inside)
    assert np.mean(border) <= 1.2 * np.mean(same_frames_unstitched)
