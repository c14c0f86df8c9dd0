"""gesticulate evaluate: baselines, submission matching, and the report on a tiny synthetic set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import InputError, OptionError, OutputError
from gesticulate.evaluate import baselines
from gesticulate.evaluate.generated import conform_skeleton, match_generated
from gesticulate.skeleton.sequence import SkeletonSequence


def _features(t: int, onsets) -> AudioFeatures:
    ramp = np.arange(t, dtype=np.float32)
    return AudioFeatures(fps=25.0, sr=16000, duration_s=t / 25.0,
                         log_mel=np.repeat(ramp[:, None], 4, axis=1), onset=ramp, rms=ramp,
                         pitch_hz=ramp, vad=ramp, onset_frames=np.asarray(onsets, np.int64))


def test_fit_features_loops_and_cuts():
    f = _features(10, [2, 7])
    long = baselines.fit_features(f, 25)
    assert long.num_frames == 25 and long.log_mel.shape == (25, 4)
    assert np.array_equal(long.rms[:12], np.r_[np.arange(10), 0, 1])
    assert long.onset_frames.tolist() == [2, 7, 12, 17, 22] and long.duration_s == 1.0
    short = baselines.fit_features(f, 6)
    assert short.num_frames == 6 and short.onset_frames.tolist() == [2]
    rolled = baselines.roll_features(f, 5)
    assert rolled.rms[5] == 0 and rolled.onset_frames.tolist() == [2, 7]


def test_shuffled_features_take_another_clip():
    a, b = _features(10, [1]), _features(4, [3])
    got, how = baselines.shuffled_features([a, b], 0)
    assert got.num_frames == 10 and got.onset_frames.tolist() == [3, 7] and "clip 1" in how
    own, how = baselines.shuffled_features([a], 0)
    assert own.onset_frames.tolist() == [6] and "shifted" in how


def test_mean_pose_is_still_at_the_seen_mean():
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, (8, 133, 3)).astype(np.float32)
    kp[..., 2] = 0.9
    kp[:4, 5, 2] = 0.0                     # point 5 seen only in the last 4 frames
    kp[:, 7, 2] = 0.1                      # point 7 never seen
    still = baselines.mean_pose_motion(SkeletonSequence(kp, 25.0, (100, 100))).keypoints
    assert still.shape == kp.shape and np.all(still == still[0])
    assert np.allclose(still[0, 0, :2], kp[:, 0, :2].mean(0), atol=1e-4)
    assert np.allclose(still[0, 5, :2], kp[4:, 5, :2].mean(0), atol=1e-4)
    assert still[0, 7, 2] == 0 and still[0, 0, 2] == pytest.approx(0.9)


def test_match_generated_by_clip_id(tmp_path):
    for name in ("spk0_001.mp4", "peer_spk0_001_seed0.npz", "spk0_0011.npz", "spk1_000_x.npz",
                 "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    subs = match_generated(tmp_path, ["spk0_001", "spk1_000", "spk9_000"])
    assert subs["spk0_001"].video.name == "spk0_001.mp4"
    assert subs["spk0_001"].skeleton.name == "spk0_0011.npz"     # shortest containing name
    assert subs["spk1_000"].skeleton.name == "spk1_000_x.npz" and subs["spk1_000"].video is None
    assert "spk9_000" not in subs
    with pytest.raises(InputError, match="named after a clip"):
        match_generated(tmp_path, ["other"])
    with pytest.raises(InputError, match="not a folder"):
        match_generated(tmp_path / "missing", ["spk0_001"])


def test_conform_skeleton_scales_and_resamples():
    kp = np.zeros((50, 133, 3), np.float32)
    kp[:, :, 0] = np.arange(50)[:, None]              # x = frame index at 50 fps
    kp[:, :, 1] = 10.0
    seq = SkeletonSequence(kp, 50.0, (200, 100))
    out = conform_skeleton(seq, fps=25.0, image_size=(400, 400), num_frames=30)
    assert out.shape == (30, 133, 3)
    assert out[1, 0, 0] == pytest.approx(2 * 2.0)      # frame 1 at 25 fps = frame 2 at 50 fps
    assert out[0, 0, 1] == pytest.approx(40.0)         # y scaled ×4
    assert out[-1, 0, 0] == pytest.approx(49 * 2.0)    # held on the last frame


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from gesticulate.data.synthetic import make_synthetic_dataset

    root = tmp_path_factory.mktemp("ds")
    return make_synthetic_dataset(root, num_speakers=3, clips_per_speaker=2, seconds=3.0)


@pytest.fixture(scope="module")
def report(synthetic, tmp_path_factory):
    from gesticulate.evaluate import evaluate

    out = tmp_path_factory.mktemp("rep") / "report"
    return out, evaluate(synthetic, output=out, generators=["procedural"], fgd_steps=20,
                         progress=False)


def _row(result, name):
    return next(r for r in result["rows"] if r["name"] == name)


def test_report_rows_and_known_answers(report):
    out, result = report
    names = [r["name"] for r in result["rows"]]
    assert names[:2] == ["ground_truth", "procedural"]
    assert "shuffled_audio (procedural)" in names and "mean_pose" in names
    gt, proc, still = _row(result, "ground_truth"), _row(result, "procedural"), _row(result, "mean_pose")
    assert gt["num_clips"] == 2 and gt["fgd"] == pytest.approx(0.0, abs=1e-6)
    assert gt["aggregate"]["pck_all"]["mean"] == 1.0
    assert gt["aggregate"]["l1div_body"]["mean"] > 0.01
    assert still["aggregate"]["l1div_body"]["mean"] == 0 and still["aggregate"]["ba"]["mean"] == 0
    assert still["aggregate"]["coupling"]["mean"] == 0
    assert np.isfinite(proc["aggregate"]["coupling"]["mean"])
    assert "wrist–onset coupling" in (out / "metrics.md").read_text()
    assert still["fgd"] > 0 and proc["fgd"] > 0
    assert proc["aggregate"]["div_body"]["mean"] > 0 and proc["aggregate"]["div_body"]["n"] == 2
    assert "div_body" not in gt["aggregate"] or gt["aggregate"]["div_body"]["n"] == 0
    # Skeleton lip motion follows the clip's own audio better than another clip's audio.
    shuf = _row(result, "shuffled_audio (procedural)")
    assert (proc["aggregate"]["skel_lip_sync_score"]["mean"]
            > shuf["aggregate"]["skel_lip_sync_score"]["mean"])
    assert result["settings"]["split"] == "test" and not result["settings"]["video"]
    assert len(result["fgd_encoder"]["hash"]) == 16 and result["fgd_encoder"]["source"] == "trained"


def test_report_files(report):
    out, result = report
    on_disk = json.loads((out / "metrics.json").read_text())   # strict JSON: NaN written as null
    assert on_disk == result
    md = (out / "metrics.md").read_text()
    assert result["fgd_encoder"]["hash"] in md and "| ground_truth | 2 |" in md
    assert "## Video" not in md                                 # motion-only dataset
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 1 + 4 + 2  # distributions, timelines, frames
    assert (out / "fgd_encoder" / "model.safetensors").is_file()
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no temporaries left


def test_generated_folder_and_cached_encoder(report, synthetic, tmp_path):
    from gesticulate.data.clips import iter_clips
    from gesticulate.evaluate import evaluate

    out, first = report
    sub = tmp_path / "peer"
    sub.mkdir()
    clip = next(iter_clips(synthetic, split="test"))
    clip.skeleton.save(sub / f"{clip.record.clip_id}.npz")        # the ground truth itself
    result = evaluate(synthetic, output=out, generators=["procedural"], generated=sub,
                      baselines=False, fgd_steps=20, progress=False)
    assert result["fgd_encoder"]["source"] == "cached"
    assert result["fgd_encoder"]["hash"] == first["fgd_encoder"]["hash"]
    row = _row(result, "generated:peer")
    assert row["num_clips"] == 1 and row["aggregate"]["pck_all"]["mean"] == 1.0
    assert [r["name"] for r in result["rows"]] == ["ground_truth", "procedural", "generated:peer"]


def test_bad_options(synthetic, tmp_path):
    from gesticulate.evaluate import evaluate

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(OutputError, match="other things in it"):
        evaluate(synthetic, output=tmp_path / "mine", progress=False)
    assert (tmp_path / "mine" / "thesis.tex").is_file()
    with pytest.raises(OptionError, match="split"):
        evaluate(synthetic, split="dev", output=tmp_path / "r", progress=False)
    with pytest.raises(OptionError, match="diffusion:RUN"):
        evaluate(synthetic, generators=["diffusion"], output=tmp_path / "r", progress=False)
    with pytest.raises(OptionError, match="num-samples"):
        evaluate(synthetic, num_samples=1, output=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_train_fgd_wrapper(synthetic, tmp_path):
    from gesticulate.evaluate import train_fgd
    from gesticulate.metrics.fgd import FGDEncoder

    enc = train_fgd(synthetic, output=tmp_path / "enc", steps=3, seed=1, progress=False,
                    config={"hidden": 32, "latent": 8})
    assert FGDEncoder.from_pretrained(tmp_path / "enc").hash == enc.hash
    with pytest.raises(OptionError, match="steps"):
        train_fgd(synthetic, output=tmp_path / "e2", steps=0)
    one = SkeletonSequence.load(sorted((synthetic / "clips").glob("*/skeleton.npz"))[0])
    feats = enc.features([one])
    assert feats.shape[1] == 8 and np.isfinite(feats).all()


def test_figures_and_table_accept_missing_values():
    from gesticulate.evaluate import figures
    from gesticulate.evaluate.table import VIDEO_COLUMNS, aggregate, markdown_table

    per_clip = {"a": {"ba": 0.5, "lip_sync_offset_frames": None, "hkc": 0.9},
                "b": {"ba": None, "lip_sync_offset_frames": None, "hkc": 0.7}}
    agg = aggregate({k: {m: (np.nan if v is None else v) for m, v in s.items()}
                     for k, s in per_clip.items()})
    assert agg["ba"] == {"mean": 0.5, "std": 0.0, "n": 1} and agg["lip_sync_offset_frames"]["n"] == 0
    row = {"name": "x", "num_clips": 2, "fgd": None, "per_clip": per_clip,
           "aggregate": {k: {m: (None if isinstance(v, float) and np.isnan(v) else v)
                             for m, v in a.items()} for k, a in agg.items()}}
    assert figures.distributions([row]).startswith(b"\x89PNG")
    md = markdown_table([row], VIDEO_COLUMNS)
    assert "0.800 ± 0.100" in md and "offset" not in md          # an all-missing column is dropped
