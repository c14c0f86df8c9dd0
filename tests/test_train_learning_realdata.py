"""Learning is real, on real data: a tiny MotionDiT trained on a BEAT2 motion-capture take with
its own speech (../shared/data/mocap, imported by ``import-poses``; skipped when absent).

One speaker, so the split is by time: the first five 9-second clips train, the last two are
held out (the normalisation statistics are the import's, over all seven). On this take beat
alignment does not tell even the ground truth from another clip's beats (BA 0.58 own vs 0.61;
speech onsets come at ~5 per second), so following the audio is measured by the correlation of
wrist speed with the onset envelope, which does (ground truth 0.09 own vs -0.02).
"""

from __future__ import annotations

import csv
import dataclasses

import pytest
import torch

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def beat2_run(shared_data, tmp_path_factory):
    from gesticulate.data.clips import read_manifest, write_manifest
    from gesticulate.data.importers import import_poses
    from gesticulate.train.motion import train

    root = tmp_path_factory.mktemp("beat2")
    ds = root / "ds"
    import_poses([shared_data / "mocap" / "2_scott_0_1_1.npz"], output=ds, progress=False,
                 report=False)
    rows = sorted(read_manifest(ds), key=lambda r: r.start_s)
    assert len(rows) == 7 and all(r.status == "kept" for r in rows)
    write_manifest(ds, [dataclasses.replace(r, split="val" if i >= 5 else "train")
                        for i, r in enumerate(rows)])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(ds, output=root / "run", preset="tiny", steps=400, batch_size=16, lr=1e-3,
              warmup_steps=20, val_every=200, checkpoint_every=400, progress=False,
              metric_clips=2, model=dict(window=48, prev_frames=8, patch_frames=2, width=96,
                                         depth=3, num_heads=4))
    finally:
        torch.set_num_threads(threads)
    return list(csv.DictReader(open(root / "run" / "log.csv")))


def test_val_loss_on_held_out_speech_falls_well_below_its_start(beat2_run):
    start, end = float(beat2_run[0]["val_loss"]), float(beat2_run[-1]["val_loss"])
    assert end < 0.5 * start


def test_samples_follow_their_own_speech_not_another_clips(beat2_run):
    last = beat2_run[-1]
    assert float(last["onset_corr"]) > float(last["onset_corr_shuffled"]) + 0.05
    # Moving, and not jittering: within 0.5-3x the held-out clips' wrist speed.
    assert 0.5 < float(last["wrist_speed"]) / float(last["wrist_speed_gt"]) < 3.0
